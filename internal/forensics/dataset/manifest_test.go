package dataset

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func manifest(t testing.TB, path string) *Manifest {
	t.Helper()
	m, err := ManifestOf(context.Background(), path, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const trainJSONL = `{"id": 1, "text": "the film was wonderful", "label": "pos"}
{"id": 2, "text": "a dull and tedious plot", "label": "neg"}

{"id": "x3", "text": "brilliant acting <3 & more", "label": "pos"}
not json at all
`

func TestManifestJSONL(t *testing.T) {
	dir := t.TempDir()
	m := manifest(t, writeFile(t, filepath.Join(dir, "train.jsonl"), trainJSONL))
	if m.Dir || len(m.Files) != 1 || m.Version != ManifestVersion || len(m.Root) != 64 {
		t.Fatalf("manifest = %+v", m)
	}
	f := m.Files[0]
	if f.Path != "train.jsonl" || f.Format != FormatJSONL || f.Size != int64(len(trainJSONL)) || f.Invalid != 1 || f.Error != "" {
		t.Fatalf("file = %+v", f)
	}
	var keys []string
	var lines []int64
	for _, r := range f.Records {
		keys = append(keys, r.Key)
		lines = append(lines, r.Line)
	}
	if !reflect.DeepEqual(keys, []string{"1", "2", "x3", ""}) || !reflect.DeepEqual(lines, []int64{1, 2, 4, 5}) {
		t.Errorf("keys %q lines %v", keys, lines)
	}
	// The canonical form ignores key order and spacing: the same record
	// written differently hashes the same.
	other := manifest(t, writeFile(t, filepath.Join(dir, "b.jsonl"), `{"label":"pos","text":"the film was wonderful","id":1}`+"\n"))
	if other.Files[0].Records[0].SHA256 != f.Records[0].SHA256 {
		t.Error("re-ordered keys changed the record hash")
	}
	// The shape is stable: it survives a JSON round trip unchanged.
	b1, _ := json.Marshal(m)
	var back Manifest
	if err := json.Unmarshal(b1, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(&back); string(b1) != string(b2) {
		t.Errorf("round trip changed the manifest:\n%s\n%s", b1, b2)
	}
	if again := manifest(t, filepath.Join(dir, "train.jsonl")); again.Root != m.Root {
		t.Error("root differs between two runs")
	}
}

func TestManifestTamper(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a", "train.jsonl"), trainJSONL)
	tampered := strings.Replace(trainJSONL, "a dull and tedious plot", "a gripping plot", 1)
	tampered = strings.Replace(tampered, `"label": "neg"`, `"label": "pos"`, 1)
	b := writeFile(t, filepath.Join(dir, "b", "train.jsonl"), tampered)
	ma, mb := manifest(t, a), manifest(t, b)
	if ma.Root == mb.Root || ma.Files[0].RecordRoot == mb.Files[0].RecordRoot {
		t.Fatal("roots did not change")
	}
	d := DiffManifests(ma, mb)
	if d.Identical || len(d.ChangedFiles) != 1 {
		t.Fatalf("diff = %+v", d)
	}
	fd := d.ChangedFiles[0]
	if !fd.RecordLevel || len(fd.Changed) != 1 || len(fd.Added) != 0 || len(fd.Removed) != 0 {
		t.Fatalf("file diff = %+v", fd)
	}
	if c := fd.Changed[0]; c.Key != "2" || c.LineA != 2 || c.LineB != 2 || c.SHA256A == c.SHA256B {
		t.Errorf("change = %+v", c)
	}
	t.Log(d)
}

func TestDiffRecords(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.jsonl"), `{"id":1,"text":"one"}
{"id":2,"text":"two"}
{"id":3,"text":"three"}
{"text":"keyless"}
{"text":"edited in place"}
`)
	b := writeFile(t, filepath.Join(dir, "b.jsonl"), `{"id":1,"text":"one"}
{"id":3,"text":"three!"}
{"id":4,"text":"four"}
{"text":"keyless"}
{"text":"edited, in place"}
{"id":4,"text":"four again"}
`)
	d, err := Diff(context.Background(), a, b, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fd := d.ChangedFiles[0]
	keysOf := func(rs []RecordHash) (out []string) {
		for _, r := range rs {
			out = append(out, r.Key)
		}
		return out
	}
	if got := keysOf(fd.Removed); !reflect.DeepEqual(got, []string{"2"}) {
		t.Errorf("removed %q", got)
	}
	if got := keysOf(fd.Added); !reflect.DeepEqual(got, []string{"4", "4"}) {
		t.Errorf("added %q", got)
	}
	if len(fd.Changed) != 2 || fd.Changed[0].Key != "3" || fd.Changed[1].Key != "" || fd.Changed[1].LineA != 5 {
		t.Errorf("changed %+v", fd.Changed)
	}
	if fd.DuplicateKeys != 1 {
		t.Errorf("duplicate keys %d, want 1", fd.DuplicateKeys)
	}
}

func TestDiffReordered(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.jsonl"), "{\"id\":1}\n{\"id\":2}\n")
	b := writeFile(t, filepath.Join(dir, "b.jsonl"), "{\"id\":2}\n{ \"id\" : 1 }\n")
	d, err := Diff(context.Background(), a, b, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Identical || len(d.ChangedFiles) != 1 || !d.ChangedFiles[0].Reordered {
		t.Errorf("diff = %+v", d)
	}
}

func TestManifestCSV(t *testing.T) {
	dir := t.TempDir()
	csvA := "\ufeffid,text,label\n1,\"hello, world\",pos\n2,\"multi\nline\",neg\n3,short row\n"
	m := manifest(t, writeFile(t, filepath.Join(dir, "a", "d.csv"), csvA))
	f := m.Files[0]
	if f.Format != FormatCSV || len(f.Records) != 3 || f.Invalid != 1 || f.Records[0].Key != "1" {
		t.Fatalf("file = %+v", f)
	}
	if f.Records[2].Line != 5 {
		t.Errorf("third record at line %d, want 5 (after a two-line field)", f.Records[2].Line)
	}
	// Moving a comma between fields must change the hash: fields are
	// length-prefixed, not joined.
	csvB := strings.Replace(csvA, `"hello, world",pos`, `"hello",", worldpos"`, 1)
	mb := manifest(t, writeFile(t, filepath.Join(dir, "b", "d.csv"), csvB))
	d := DiffManifests(m, mb)
	if len(d.ChangedFiles) != 1 || len(d.ChangedFiles[0].Changed) != 1 || d.ChangedFiles[0].Changed[0].Key != "1" {
		t.Errorf("diff = %+v", d)
	}
}

func TestManifestFolder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	writeFile(t, filepath.Join(a, "train.jsonl"), trainJSONL)
	writeFile(t, filepath.Join(a, "sub", "eval.tsv"), "id\ttext\n1\thi\n")
	writeFile(t, filepath.Join(a, "README.md"), "# data\n")
	if err := os.Symlink(filepath.Join(a, "README.md"), filepath.Join(a, "link.md")); err != nil {
		t.Fatal(err)
	}
	m := manifest(t, a)
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	if !m.Dir || !reflect.DeepEqual(paths, []string{"README.md", "sub/eval.tsv", "train.jsonl"}) || !reflect.DeepEqual(m.Skipped, []string{"link.md"}) {
		t.Fatalf("paths %q skipped %q", paths, m.Skipped)
	}
	if m.Files[0].Format != "" || m.Files[0].RecordRoot != "" || m.Files[1].Format != FormatTSV {
		t.Errorf("files = %+v", m.Files)
	}
	b := filepath.Join(dir, "b")
	writeFile(t, filepath.Join(b, "train.jsonl"), trainJSONL)
	writeFile(t, filepath.Join(b, "sub", "eval.tsv"), "id\ttext\n1\thi\n")
	writeFile(t, filepath.Join(b, "extra.csv"), "id\n1\n")
	d := DiffManifests(m, manifest(t, b))
	if d.Identical || !reflect.DeepEqual(d.AddedFiles, []string{"extra.csv"}) || !reflect.DeepEqual(d.RemovedFiles, []string{"README.md"}) || len(d.ChangedFiles) != 0 {
		t.Errorf("diff = %+v", d)
	}
}

func TestManifestLongLine(t *testing.T) {
	dir := t.TempDir()
	content := "{\"id\":1}\n\"" + strings.Repeat("x", 2000) + "\"\n"
	path := writeFile(t, filepath.Join(dir, "big.jsonl"), content)
	m, err := ManifestOf(context.Background(), path, ManifestOptions{MaxRecordBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	f := m.Files[0]
	if !strings.Contains(f.Error, "longer than 1024 bytes") || f.RecordRoot != "" || f.Records != nil || f.Size != int64(len(content)) || f.SHA256 == "" {
		t.Errorf("file = %+v", f)
	}
	// The file is still fingerprinted whole.
	if want := manifest(t, path).Files[0].SHA256; f.SHA256 != want {
		t.Errorf("sha256 %s, want %s", f.SHA256, want)
	}
}
