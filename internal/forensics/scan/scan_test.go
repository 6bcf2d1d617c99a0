package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestScanFolder(t *testing.T) {
	dir := t.TempDir()
	evil := newPickle(2).global("os", "system").call1("id").stop()
	writeFile(t, filepath.Join(dir, "a", "model.bin"), evil)
	writeFile(t, filepath.Join(dir, "b", "weights.txt"), torchStateDict().stop())
	writeFile(t, filepath.Join(dir, "README.md"), []byte("# a model\n"))
	if err := os.Symlink(filepath.Join(dir, "a", "model.bin"), filepath.Join(dir, "link.pt")); err != nil {
		t.Log("no symlinks:", err)
	}
	var calls int
	var lastDone, lastTotal int64
	rep, err := Scan(context.Background(), dir, Options{Progress: func(done, total int64) {
		calls++
		if done < lastDone || done > total {
			t.Errorf("progress %d of %d after %d", done, total, lastDone)
		}
		lastDone, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Verdict{}
	for _, f := range rep.Files {
		rel, _ := filepath.Rel(dir, f.Path)
		got[rel] = f.Verdict
		want := sha256.Sum256(mustRead(t, f.Path))
		if f.SHA256 != hex.EncodeToString(want[:]) {
			t.Errorf("%s: sha256 %s", rel, f.SHA256)
		}
	}
	want := map[string]Verdict{"a/model.bin": VerdictDangerous, "b/weights.txt": VerdictClean, "README.md": VerdictClean}
	for p, v := range want {
		if got[p] != v {
			t.Errorf("%s: %s, want %s (all: %v)", p, got[p], v, got)
		}
	}
	if _, ok := got["link.pt"]; ok && got["link.pt"] != VerdictDangerous {
		t.Errorf("symlink to a file is followed: %s", got["link.pt"])
	}
	if calls == 0 || lastDone != lastTotal {
		t.Errorf("progress: %d calls, %d of %d", calls, lastDone, lastTotal)
	}
	// A link to the folder is scanned as the folder.
	link := filepath.Join(t.TempDir(), "snapshot")
	if err := os.Symlink(dir, link); err == nil {
		viaLink, err := Scan(context.Background(), link, Options{})
		if err != nil || len(viaLink.Files) != len(rep.Files) {
			t.Errorf("through a link: %d files, %v", len(viaLink.Files), err)
		}
	}
	if ExitCode(rep) != 1 {
		t.Errorf("exit code %d", ExitCode(rep))
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScanMissingPathAndCancel(t *testing.T) {
	if _, err := Scan(context.Background(), filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
		t.Error("missing path: no error")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.pkl"), torchStateDict().stop())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestScanGzipAndTar(t *testing.T) {
	evil := newPickle(2).global("subprocess", "run").call1("id").stop()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, f := range []struct {
		name string
		data []byte
	}{{"model/README", []byte("hi")}, {"model/pickle", evil}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	tw.Close()
	format, v, fs := verdictOfData(t, tb.Bytes())
	if format != fmtTar || v != VerdictDangerous {
		t.Fatalf("tar: %s %s:%s", format, v, dump(fs))
	}
	// The offset of a member of a tar on disk is its offset in the file.
	for _, f := range fs {
		if f.Rule == "pickle-denied-global" && f.Offset != int64(bytes.Index(tb.Bytes(), []byte("csubprocess"))) {
			t.Errorf("tar offset %d", f.Offset)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tb.Bytes())
	zw.Close()
	format, v, fs = verdictOfData(t, gz.Bytes())
	if format != fmtGzip || v != VerdictDangerous {
		t.Fatalf("tar.gz: %s %s:%s", format, v, dump(fs))
	}
	// A gzip bomb stops at the budget.
	var bomb bytes.Buffer
	zw = gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	_, fs = scanData(t, bomb.Bytes(), Options{MaxTotalBytes: 1 << 16})
	if !hasFinding(fs, "archive-bomb", SeverityError, "budget") {
		t.Fatalf("gzip bomb:%s", dump(fs))
	}
}

func TestScanSafetensors(t *testing.T) {
	var buf bytes.Buffer
	err := tensors.WriteSafetensors(&buf, map[string]string{"format": "pt"}, []tensors.TensorData{
		{Name: "a", DType: "F32", Shape: []uint64{2}, Data: make([]byte, 8)},
		{Name: "b", DType: "U8", Shape: []uint64{4}, Data: make([]byte, 4)},
	})
	if err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if format, v, fs := verdictOfData(t, good); format != fmtSafetensors || v != VerdictClean {
		t.Fatalf("valid: %s %s:%s", format, v, dump(fs))
	}
	// Overlapping offsets: the second tensor claims the first one's bytes.
	bad := bytes.Replace(good, []byte(`[8,12]`), []byte(`[4,8]`), 1)
	if bytes.Equal(bad, good) {
		t.Fatalf("fixture: no offsets in %s", good)
	}
	if format, v, fs := verdictOfData(t, bad); format != fmtSafetensors || v != VerdictError {
		t.Fatalf("overlap: %s %s:%s", format, v, dump(fs))
	}
	// A header length past the end of the file is not safetensors at all.
	huge := append([]byte{}, good...)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	if format, _, _ := verdictOfData(t, huge); format == fmtSafetensors {
		t.Fatal("header length past the end taken for safetensors")
	}
}

func TestScanGGUFChatTemplate(t *testing.T) {
	gguf := func(template string) []byte {
		var buf bytes.Buffer
		err := tensors.WriteGGUF(&buf, []tensors.KV{
			{Key: "general.architecture", Type: tensors.TypeString, Value: "llama"},
			{Key: "tokenizer.chat_template", Type: tensors.TypeString, Value: template},
		}, []tensors.TensorData{{Name: "w", DType: "F32", Shape: []uint64{4}, Data: make([]byte, 16)}})
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	benign := "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
	if format, v, fs := verdictOfData(t, gguf(benign)); format != fmtGGUF || v != VerdictClean {
		t.Fatalf("benign: %s %s:%s", format, v, dump(fs))
	}
	evil := "{{ ''.__class__.__mro__[1].__subclasses__()[40]('id').read() }}"
	if _, v, fs := verdictOfData(t, gguf(evil)); v != VerdictDangerous || !hasFinding(fs, "gguf-chat-template", SeverityDangerous, "") {
		t.Fatalf("ssti: %s:%s", v, dump(fs))
	}
	// Counts that the file cannot hold.
	data := gguf(benign)
	binary.LittleEndian.PutUint64(data[8:], 1<<60)
	if _, v, fs := verdictOfData(t, data); v != VerdictError {
		t.Fatalf("huge count: %s:%s", v, dump(fs))
	}
}

func TestExitCode(t *testing.T) {
	rep := func(vs ...Verdict) Report {
		var r Report
		for _, v := range vs {
			r.Files = append(r.Files, FileReport{Verdict: v})
		}
		return r
	}
	tests := []struct {
		r    Report
		want int
	}{
		{rep(), 0},
		{rep(VerdictClean), 0},
		{rep(VerdictClean, VerdictSuspicious), 0},
		{rep(VerdictError, VerdictSuspicious), 2},
		{rep(VerdictError, VerdictDangerous), 1},
		{rep(VerdictDangerous), 1},
	}
	for _, tc := range tests {
		if got := ExitCode(tc.r); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.r.Files, got, tc.want)
		}
	}
	strict := rep(VerdictSuspicious)
	strict.failOnSuspicious = true
	if ExitCode(strict) != 1 {
		t.Error("FailOnSuspicious does not fail")
	}
}
