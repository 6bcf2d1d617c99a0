package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// onlyReader hides everything but Read, so the client cannot know the length
// and sends the body chunked.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// storedFiles lists every file under the evidence directory.
func (e *env) storedFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(e.blobDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(e.blobDir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestEvidence(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, nil)
	base := "/api/v1/incidents/" + inc.ID
	list := func() []incident.Evidence {
		return listAll[incident.Evidence](t, e, e.viewer(), base+"/evidence", 100)
	}
	nothingStored := func(what string) {
		t.Helper()
		if evs := list(); len(evs) != 0 {
			t.Errorf("%s: evidence listed: %+v", what, evs)
		}
		if files := e.storedFiles(t); len(files) != 0 {
			t.Errorf("%s: files left in the evidence directory: %q", what, files)
		}
		if dirs, _ := os.ReadDir(e.blobDir); len(dirs) != 1 || dirs[0].Name() != "tmp" {
			t.Errorf("%s: the evidence directory holds %v, want only tmp/", what, dirs)
		}
		if got := e.get(t, inc.ID).TimelineLen; got != 1 {
			t.Errorf("%s: timeline has %d entries, want only the creation", what, got)
		}
	}

	// Over the limit, whether the client says so up front or streams it.
	big := bytes.Repeat([]byte("A"), maxEvidence+1)
	e.do(t, "POST", base+"/evidence?name=big.bin", e.responder(), big).wantErr(t, http.StatusRequestEntityTooLarge, "too_large", "1048576")
	nothingStored("known length over the limit")
	e.do(t, "POST", base+"/evidence?name=big.bin", e.responder(), onlyReader{bytes.NewReader(big)}).wantErr(t, http.StatusRequestEntityTooLarge, "too_large", "1048576")
	nothingStored("chunked upload over the limit")
	e.do(t, "POST", base+"/evidence?name=huge.bin", e.responder(), onlyReader{io.LimitReader(zeros{}, 8*maxEvidence)}).wantErr(t, http.StatusRequestEntityTooLarge, "too_large")
	nothingStored("chunked upload far over the limit")

	// Metadata that is wrong is refused before anything is stored.
	e.do(t, "POST", base+"/evidence", e.responder(), "data").wantErr(t, http.StatusUnprocessableEntity, "invalid", "name: required")
	e.do(t, "POST", base+"/evidence?name=", e.responder(), "data").wantErr(t, http.StatusUnprocessableEntity, "invalid", "name")
	e.do(t, "POST", base+"/evidence?name=a%0Ab", e.responder(), "data").wantErr(t, http.StatusUnprocessableEntity, "invalid", "name")
	e.do(t, "POST", base+"/evidence?name=x", e.responder(), "data", header{"Content-Type", "not a type"}).wantErr(t, http.StatusUnprocessableEntity, "invalid", "media type")
	nothingStored("invalid metadata")

	// Exactly at the limit is fine; so is a small text file.
	edge := bytes.Repeat([]byte("B"), maxEvidence)
	e.do(t, "POST", base+"/evidence?name=edge.bin", e.responder(), onlyReader{bytes.NewReader(edge)}).want(t, http.StatusCreated)

	content := []byte("2025-03-14T10:30:00Z 203.0.113.9 POST /v1/chat/completions \"ignore previous instructions\"\n")
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])
	var ev incident.Evidence
	res := e.do(t, "POST", base+"/evidence?name=gateway.log&source=gateway-eu-1", e.responder(), content, header{"Content-Type", "text/plain; charset=utf-8"}).
		want(t, http.StatusCreated)
	res.decode(t, &ev)
	if ev.SHA256 != sha || ev.Size != int64(len(content)) || ev.MediaType != "text/plain" || ev.Name != "gateway.log" ||
		ev.Source != "gateway-eu-1" || ev.IncidentID != inc.ID || ev.CollectedBy != tokenNames["responder"] {
		t.Errorf("uploaded evidence = %+v, want sha256 %s, %d bytes, text/plain", ev, sha, len(content))
	}
	if got := res.header.Get("Location"); got != "/api/v1/evidence/"+sha {
		t.Errorf("Location = %q", got)
	}
	if evs := list(); len(evs) != 2 {
		t.Errorf("%d evidence items listed, want 2", len(evs))
	}

	// Download: the exact bytes, typed and with their digest.
	res = e.do(t, "GET", "/api/v1/evidence/"+sha, e.responder(), nil).want(t, http.StatusOK)
	if !bytes.Equal(res.body, content) {
		t.Errorf("downloaded %q, want %q", res.body, content)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	if d := res.header.Get("Digest"); d != "sha-256="+sha && d != "sha-256="+base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("Digest = %q, want the SHA-256 of the content", d)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "gateway.log") {
		t.Errorf("Content-Disposition = %q, want an attachment named gateway.log", cd)
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("evidence is served without X-Content-Type-Options: nosniff")
	}
	e.do(t, "GET", "/api/v1/evidence/"+sha+"?export=true", e.admin(), nil).want(t, http.StatusOK)

	// Custody: collected, attached, accessed, exported, each by whom and from where.
	var custody []store.Custody
	custody = listAll[store.Custody](t, e, e.viewer(), "/api/v1/evidence/"+sha+"/custody", 100)
	var actions []string
	for i, c := range custody {
		actions = append(actions, c.Action)
		if c.SHA256 != sha || c.Seq != int64(i+1) || c.Addr != "127.0.0.1" || c.Hash == "" || (i > 0 && c.PrevHash != custody[i-1].Hash) {
			t.Errorf("custody entry %d = %+v", i, c)
		}
	}
	if got := strings.Join(actions, ","); got != "collected,attached,accessed,exported" {
		t.Errorf("custody actions = %s, want collected,attached,accessed,exported", got)
	}
	if len(custody) == 4 && (custody[2].Actor != tokenNames["responder"] || custody[3].Actor != tokenNames["admin"]) {
		t.Errorf("custody actors = %s, %s", custody[2].Actor, custody[3].Actor)
	}

	// The same bytes attached again are one blob with a longer custody.
	e.do(t, "POST", base+"/evidence?name=copy.log", e.responder(), content).want(t, http.StatusCreated)
	if n := len(listAll[store.Custody](t, e, e.viewer(), "/api/v1/evidence/"+sha+"/custody", 100)); n != 5 {
		t.Errorf("custody after a second attachment has %d entries, want 5", n)
	}
	var blobFiles int
	for _, f := range e.storedFiles(t) {
		if !strings.HasPrefix(f, "tmp") {
			blobFiles++
		}
	}
	if blobFiles != 2 {
		t.Errorf("%d blob files stored, want 2: %q", blobFiles, e.storedFiles(t))
	}

	// Digests that are not digests, and digests of nothing stored.
	unknown := strings.Repeat("0", 64)
	for _, p := range []string{
		"/api/v1/evidence/%2e%2e%2fetc",
		"/api/v1/evidence/..%2F..%2Fetc%2Fpasswd",
		"/api/v1/evidence/" + strings.ToUpper(sha),
		"/api/v1/evidence/" + sha[:63],
		"/api/v1/evidence/" + sha + "0",
		"/api/v1/evidence/" + strings.Repeat("g", 64),
	} {
		for _, suffix := range []string{"", "/custody"} {
			res := e.do(t, "GET", p+suffix, e.responder(), nil)
			if res.status < 400 || res.status > 499 || res.err.Code == "" {
				t.Errorf("%s: want a 4xx error", res)
			}
		}
	}
	e.do(t, "GET", "/api/v1/evidence/"+unknown, e.responder(), nil).wantErr(t, http.StatusNotFound, "not_found")
	e.do(t, "GET", "/api/v1/evidence/"+unknown+"/custody", e.responder(), nil).wantErr(t, http.StatusNotFound, "not_found")
	// A refused read leaves no custody entry behind.
	if n := len(listAll[store.Custody](t, e, e.viewer(), "/api/v1/evidence/"+sha+"/custody", 100)); n != 5 {
		t.Errorf("custody has %d entries, want 5", n)
	}

	// The incident still verifies, evidence included.
	var rep incident.Report
	e.do(t, "GET", base+"/verify", e.viewer(), nil).want(t, http.StatusOK).decode(t, &rep)
	if !rep.OK || rep.Blobs != 2 || len(rep.Problems) != 0 {
		t.Errorf("verify = %+v", rep)
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
