package incident_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// blobFiles lists every file under the evidence directory, relative to it.
func (e *env) blobFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(e.blobDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(e.blobDir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) storedBlobs(t *testing.T) []*store.Blob {
	t.Helper()
	var out []*store.Blob
	if err := e.st.View(e.ctx, func(tx store.Tx) (err error) {
		out, err = tx.ListBlobs(e.ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) custodyActions(t *testing.T, sha string) []string {
	t.Helper()
	cs, err := e.svc.Custody(e.ctx, sha)
	if err != nil {
		t.Fatalf("Custody: %v", err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Action)
	}
	return out
}

// slowReader hands out its content a few bytes at a time, as a network
// upload does.
type slowReader struct{ b []byte }

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestAttachEvidence(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID
	content := bytes.Repeat([]byte("POST /v1/chat/completions {\"messages\":[...]}\n"), 1000)
	want := sum(content)

	at := e.clock.Advance(time.Minute)
	ev, err := e.svc.AttachEvidence(e.ctx, alice, id,
		incident.EvidenceInput{Name: "requests.log", MediaType: "Text/Plain; charset=UTF-8", Source: "gateway", MaxBytes: int64(len(content))},
		&slowReader{b: content})
	if err != nil {
		t.Fatalf("AttachEvidence: %v", err)
	}
	if ev.SHA256 != want || ev.Size != int64(len(content)) || ev.MediaType != "text/plain" || ev.Name != "requests.log" ||
		ev.Source != "gateway" || ev.IncidentID != id || ev.CollectedBy != alice.Name || !ev.CollectedAt.Equal(at) || ev.ID == "" {
		t.Errorf("evidence = %+v; want sha %s size %d media text/plain", ev, want, len(content))
	}

	path := filepath.Join(e.blobDir, want[:2], want[2:])
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("blob file: %v", err)
	}
	if !bytes.Equal(onDisk, content) {
		t.Error("blob file differs from the upload")
	}
	if got := e.blobs.Path(want); got != path {
		t.Errorf("Path = %s, want %s", got, path)
	}
	if files := e.blobFiles(t); !slices.Equal(files, []string{want[:2] + "/" + want[2:]}) {
		t.Errorf("evidence dir holds %v, want only the blob", files)
	}

	evs, err := e.svc.Evidence(e.ctx, id)
	if err != nil || len(evs) != 1 || evs[0].ID != ev.ID || evs[0].SHA256 != want {
		t.Errorf("Evidence = %+v, %v", evs, err)
	}
	tl := e.timeline(t, id)
	last := tl[len(tl)-1]
	var body map[string]any
	json.Unmarshal(last.Body, &body)
	if last.Kind != incident.KindEvidenceAttached || body["sha256"] != want || body["evidence"] != ev.ID || body["name"] != "requests.log" {
		t.Errorf("last entry %s %s", last.Kind, last.Body)
	}
	if got := e.custodyActions(t, want); !slices.Equal(got, []string{incident.CustodyCollected, incident.CustodyAttached}) {
		t.Errorf("custody = %v", got)
	}
	e.verifyOK(t, id)
}

func TestAttachEvidenceLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		max     int64
		size    int
		tooBig  bool
		comment string
	}{
		{"exactly at the limit", 64, 64, false, ""},
		{"one byte over", 64, 65, true, ""},
		{"far over", 1024, 1 << 20, true, ""},
		{"empty file, no room", 0, 0, false, ""},
		{"no limit", math.MaxInt64, 4096, false, "max+1 must not overflow into a zero-length read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.create(t, basic()).ID
			content := bytes.Repeat([]byte{'x'}, tc.size)
			ev, err := e.svc.AttachEvidence(e.ctx, alice, id, incident.EvidenceInput{Name: "f", MaxBytes: tc.max}, bytes.NewReader(content))
			if !tc.tooBig {
				if err != nil {
					t.Fatalf("AttachEvidence: %v", err)
				}
				if ev.Size != int64(tc.size) || ev.SHA256 != sum(content) {
					t.Errorf("stored %d bytes with sha %s; want %d bytes, %s (%s)", ev.Size, ev.SHA256, tc.size, sum(content), tc.comment)
				}
				if ev.MediaType != "application/octet-stream" {
					t.Errorf("MediaType = %q, want the default", ev.MediaType)
				}
				e.verifyOK(t, id)
				return
			}
			if !errors.Is(err, incident.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if ev != nil {
				t.Error("returned evidence with an error")
			}
			if files := e.blobFiles(t); len(files) != 0 {
				t.Errorf("files left behind: %v", files)
			}
			tmp, err := os.ReadDir(filepath.Join(e.blobDir, "tmp"))
			if err != nil || len(tmp) != 0 {
				t.Errorf("tmp dir: %v entries, %v", len(tmp), err)
			}
			if evs, _ := e.svc.Evidence(e.ctx, id); len(evs) != 0 {
				t.Errorf("evidence records: %+v", evs)
			}
			if bs := e.storedBlobs(t); len(bs) != 0 {
				t.Errorf("blob records: %+v", bs)
			}
			if n := len(e.timeline(t, id)); n != 1 {
				t.Errorf("timeline has %d entries, want only the created one", n)
			}
			if n := len(e.audit(t)); n != 1 {
				t.Errorf("audit has %d entries, want only the create", n)
			}
			e.verifyOK(t, id)
		})
	}
}

func TestAttachEvidenceRefused(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID
	for _, tc := range []struct {
		name string
		in   incident.EvidenceInput
		want []string
	}{
		{"no name", incident.EvidenceInput{MaxBytes: 10}, []string{"name: required"}},
		{"multi-line name", incident.EvidenceInput{Name: "a\nb", MaxBytes: 10}, []string{"name: must be one line"}},
		{"control character in source", incident.EvidenceInput{Name: "a", Source: "x\x00", MaxBytes: 10}, []string{"source: contains control characters"}},
		{"bad media type", incident.EvidenceInput{Name: "a", MediaType: "text/", MaxBytes: 10}, []string{"media type"}},
		{"all at once", incident.EvidenceInput{Name: "", Source: "\xff", MediaType: ";;", MaxBytes: 10}, []string{"name:", "source:", "media type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.AttachEvidence(e.ctx, alice, id, tc.in, strings.NewReader("data"))
			containsAll(t, "problems", asValidation(t, err), tc.want)
		})
	}
	if files := e.blobFiles(t); len(files) != 0 {
		t.Errorf("files stored by refused uploads: %v", files)
	}

	// An unknown incident is refused before the upload is read.
	r := &countingReader{r: strings.NewReader("secret")}
	_, err := e.svc.AttachEvidence(e.ctx, alice, "01900000-0000-7000-8000-000000000000", incident.EvidenceInput{Name: "a", MaxBytes: 10}, r)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: err = %v, want store.ErrNotFound", err)
	}
	if r.n != 0 {
		t.Errorf("read %d bytes of an upload for an unknown incident", r.n)
	}
	if files := e.blobFiles(t); len(files) != 0 {
		t.Errorf("files stored: %v", files)
	}
	if bs := e.storedBlobs(t); len(bs) != 0 {
		t.Errorf("blob records: %+v", bs)
	}
	if n := len(e.audit(t)); n != 1 {
		t.Errorf("audit has %d entries, want only the create", n)
	}
	e.verifyOK(t, id)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestSameContentTwice(t *testing.T) {
	e := newEnv(t)
	a := e.create(t, basic()).ID
	b := e.create(t, basic()).ID
	content := []byte("the same model card, twice")

	e.clock.Advance(time.Minute)
	ev1 := e.attach(t, a, "card.md", content)
	e.clock.Advance(time.Minute)
	ev2 := e.attach(t, b, "model-card.md", content)

	if ev1.SHA256 != ev2.SHA256 || ev1.ID == ev2.ID {
		t.Errorf("evidence %s/%s and %s/%s", ev1.ID, ev1.SHA256, ev2.ID, ev2.SHA256)
	}
	if files := e.blobFiles(t); len(files) != 1 {
		t.Errorf("evidence dir holds %v, want one blob", files)
	}
	if bs := e.storedBlobs(t); len(bs) != 1 || bs[0].SHA256 != sum(content) || bs[0].Size != int64(len(content)) || bs[0].CustodyLen != 3 {
		t.Errorf("blob records = %+v", bs)
	}
	for _, id := range []string{a, b} {
		if evs, err := e.svc.Evidence(e.ctx, id); err != nil || len(evs) != 1 {
			t.Errorf("incident %s has %d evidence records (%v), want 1", id, len(evs), err)
		}
	}
	cs, err := e.svc.Custody(e.ctx, ev1.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Action+"@"+c.IncidentID)
	}
	want := []string{"collected@" + a, "attached@" + a, "attached@" + b}
	if !slices.Equal(got, want) {
		t.Errorf("custody = %v, want %v", got, want)
	}
	if cs[0].Detail != "gateway" || cs[1].Detail != "card.md" || cs[2].Detail != "model-card.md" || cs[2].Addr != alice.Addr || cs[2].Actor != alice.Name {
		t.Errorf("custody details = %+v %+v %+v", cs[0], cs[1], cs[2])
	}
	prev := ""
	for i, c := range cs {
		if c.Seq != int64(i+1) || c.PrevHash != prev {
			t.Errorf("custody %d: seq %d prev %.8s, want %d %.8s", i, c.Seq, c.PrevHash, i+1, prev)
		}
		prev = c.Hash
	}
	r, err := e.svc.VerifyAll(e.ctx)
	if err != nil || !r.OK || r.Incidents != 2 || r.Blobs != 1 {
		t.Errorf("VerifyAll = %+v, %v", r, err)
	}
}

func TestOpenEvidence(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID
	content := []byte("weights.safetensors header")
	ev := e.attach(t, id, "header.bin", content)

	at := e.clock.Advance(time.Minute)
	f, err := e.svc.OpenEvidence(e.ctx, bob, ev.SHA256, incident.CustodyAccessed)
	if err != nil {
		t.Fatalf("OpenEvidence: %v", err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("read %q, %v; want %q", got, err, content)
	}
	if f.Blob.SHA256 != ev.SHA256 || f.Blob.Size != int64(len(content)) || len(f.Attachments) != 1 || f.Attachments[0].ID != ev.ID {
		t.Errorf("Blob = %+v, Attachments = %+v", f.Blob, f.Attachments)
	}
	cs, err := e.svc.Custody(e.ctx, ev.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	last := cs[len(cs)-1]
	if len(cs) != 3 || last.Action != incident.CustodyAccessed || last.Actor != bob.Name || last.Addr != bob.Addr || !last.At.Equal(at) {
		t.Errorf("custody = %d entries, last %+v", len(cs), last)
	}

	f, err = e.svc.OpenEvidence(e.ctx, bob, ev.SHA256, incident.CustodyExported)
	if err != nil {
		t.Fatalf("OpenEvidence exported: %v", err)
	}
	f.Close()
	if got := e.custodyActions(t, ev.SHA256); !slices.Equal(got, []string{"collected", "attached", "accessed", "exported"}) {
		t.Errorf("custody = %v", got)
	}
	e.verifyOK(t, id)

	auditBefore := len(e.audit(t))
	custodyBefore := len(e.custodyActions(t, ev.SHA256))
	for _, tc := range []struct {
		name, sha, action string
	}{
		{"path traversal", "../../etc/passwd", incident.CustodyAccessed},
		{"traversal padded to 64", "../../../../../../../../../../../../../../../../../../etc/passwd00", incident.CustodyAccessed},
		{"upper case", strings.ToUpper(ev.SHA256), incident.CustodyAccessed},
		{"short", ev.SHA256[:63], incident.CustodyAccessed},
		{"long", ev.SHA256 + "0", incident.CustodyAccessed},
		{"empty", "", incident.CustodyAccessed},
		{"not hex", strings.Repeat("g", 64), incident.CustodyAccessed},
		{"trailing newline", ev.SHA256[:63] + "\n", incident.CustodyAccessed},
		{"unknown action", ev.SHA256, "deleted"},
		{"collected is not an access", ev.SHA256, incident.CustodyCollected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := e.svc.OpenEvidence(e.ctx, bob, tc.sha, tc.action)
			if f != nil {
				f.Close()
				t.Error("returned a file with an error")
			}
			asValidation(t, err)
		})
	}
	if n := len(e.audit(t)); n != auditBefore {
		t.Errorf("refused opens wrote %d audit entries", n-auditBefore)
	}
	if n := len(e.custodyActions(t, ev.SHA256)); n != custodyBefore {
		t.Errorf("refused opens wrote %d custody entries", n-custodyBefore)
	}

	unknown := sum([]byte("never stored"))
	if _, err := e.svc.OpenEvidence(e.ctx, bob, unknown, incident.CustodyAccessed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown digest: err = %v, want store.ErrNotFound", err)
	}
	if _, err := e.svc.Custody(e.ctx, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Custody of an unknown digest: err = %v, want store.ErrNotFound", err)
	}
	for _, bad := range []string{"../../etc/passwd", strings.ToUpper(ev.SHA256)} {
		if f, err := e.blobs.Open(bad); err == nil {
			f.Close()
			t.Errorf("Blobs.Open(%q) succeeded", bad)
		}
	}
	if !incident.ValidDigest(ev.SHA256) || incident.ValidDigest(strings.ToUpper(ev.SHA256)) {
		t.Error("ValidDigest disagrees with the digests it produces")
	}
}

func TestOpenBlobsRemovesTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evidence")
	if _, err := incident.OpenBlobs(dir); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, "tmp", "upload-123")
	if err := os.WriteFile(left, []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A fresh temporary may be another process's upload in progress.
	inFlight := filepath.Join(dir, "tmp", "upload-456")
	if err := os.WriteFile(inFlight, []byte("still coming"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(left, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := incident.OpenBlobs(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary left by a crash survived reopening: %v", err)
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("a fresh temporary (an upload in progress elsewhere) was removed: %v", err)
	}
}
