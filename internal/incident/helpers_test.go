package incident_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

// fakeClock is a clock that moves only when told to. It is safe for
// concurrent use because the service reads it from many goroutines in the
// concurrency tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d and returns the new time as the service
// stores it (UTC, microseconds).
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return c.Stored()
}

// Stored is the current time as the service stores it.
func (c *fakeClock) Stored() time.Time { return c.Now().UTC().Truncate(time.Microsecond) }

// The clock starts in a zone other than UTC and with nanoseconds, so that the
// tests also check that what is stored is normalised.
var clockStart = time.Date(2025, 3, 14, 10, 30, 0, 123456789, time.FixedZone("CET", 3600))

var (
	alice = incident.Actor{Name: "alice", Role: "responder", Addr: "192.0.2.10"}
	bob   = incident.Actor{Name: "bob", Role: "admin", Addr: "198.51.100.7"}
)

// env is one service over a fresh SQLite store and blob directory.
type env struct {
	ctx      context.Context
	dir      string
	dbPath   string
	blobDir  string
	st       *sqlite.Store
	blobs    *incident.Blobs
	svc      *incident.Service
	clock    *fakeClock
	maxBytes int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{
		ctx:      ctx,
		dir:      dir,
		dbPath:   filepath.Join(dir, "airlock.db"),
		blobDir:  filepath.Join(dir, "evidence"),
		clock:    &fakeClock{t: clockStart},
		maxBytes: 1 << 20,
	}
	st, err := sqlite.Open(ctx, e.dbPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	if e.blobs, err = incident.OpenBlobs(e.blobDir); err != nil {
		t.Fatalf("open blobs: %v", err)
	}
	e.svc = incident.NewService(st, e.blobs, incident.WithClock(e.clock.Now))
	return e
}

// basic is a valid incident with no owner.
func basic() incident.NewIncident {
	return incident.NewIncident{
		Title:    "Jailbreak attempts against the support assistant",
		Type:     "jailbreak",
		Severity: event.SeverityHigh,
		Entities: []event.Entity{{Kind: event.EntityAPIKey, Value: "k_3f9a"}},
	}
}

func (e *env) create(t *testing.T, in incident.NewIncident) *incident.Incident {
	t.Helper()
	inc, err := e.svc.Create(e.ctx, alice, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return inc
}

func (e *env) get(t *testing.T, id string) *incident.Incident {
	t.Helper()
	inc, err := e.svc.Get(e.ctx, id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return inc
}

func (e *env) update(t *testing.T, id string, p incident.Patch) *incident.Incident {
	t.Helper()
	inc, err := e.svc.Update(e.ctx, alice, id, 0, p)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return inc
}

func (e *env) append(t *testing.T, id string, en incident.Entry) *incident.TimelineEntry {
	t.Helper()
	te, err := e.svc.Append(e.ctx, alice, id, en)
	if err != nil {
		t.Fatalf("Append %+v: %v", en, err)
	}
	return te
}

func (e *env) attach(t *testing.T, id, name string, content []byte) *incident.Evidence {
	t.Helper()
	ev, err := e.svc.AttachEvidence(e.ctx, alice, id,
		incident.EvidenceInput{Name: name, MediaType: "text/plain", Source: "gateway", MaxBytes: e.maxBytes},
		strings.NewReader(string(content)))
	if err != nil {
		t.Fatalf("AttachEvidence: %v", err)
	}
	return ev
}

func (e *env) timeline(t *testing.T, id string) []*incident.TimelineEntry {
	t.Helper()
	es, err := e.svc.Timeline(e.ctx, id, 0, 0)
	if err != nil {
		t.Fatalf("Timeline: %v", err)
	}
	return es
}

func (e *env) audit(t *testing.T) []*store.AuditEntry {
	t.Helper()
	var out []*store.AuditEntry
	err := e.st.View(e.ctx, func(tx store.Tx) error {
		cursor := ""
		for {
			page, next, err := tx.ListAudit(e.ctx, store.AuditFilter{Limit: 500, Cursor: cursor})
			if err != nil {
				return err
			}
			out = append(out, page...)
			if next == "" {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	return out
}

func (e *env) listIncidents(t *testing.T) []*incident.Incident {
	t.Helper()
	incs, _, err := e.svc.List(e.ctx, store.IncidentFilter{Limit: 500})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return incs
}

// raw opens the database file behind the store's back, as someone tampering
// with it would.
func (e *env) raw(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("raw open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// verifyOK asserts that both Verify(id) and VerifyAll find nothing wrong.
func (e *env) verifyOK(t *testing.T, id string) {
	t.Helper()
	r, err := e.svc.Verify(e.ctx, id)
	if err != nil {
		t.Fatalf("Verify %s: %v", id, err)
	}
	if !r.OK || len(r.Problems) != 0 {
		t.Fatalf("Verify %s: ok=%v, problems:\n%s", id, r.OK, problemList(r.Problems))
	}
	all, err := e.svc.VerifyAll(e.ctx)
	if err != nil {
		t.Fatalf("VerifyAll: %v", err)
	}
	if !all.OK || len(all.Problems) != 0 {
		t.Fatalf("VerifyAll: ok=%v, problems:\n%s", all.OK, problemList(all.Problems))
	}
}

func problemList(ps []incident.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\t" + p.String() + "\n")
	}
	return b.String()
}

// asValidation asserts err is a *ValidationError and returns its problems.
func asValidation(t *testing.T, err error) []string {
	t.Helper()
	var ve *incident.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *incident.ValidationError", err, err)
	}
	return ve.Problems
}

// asCriteria asserts err is a *CriteriaError and returns it.
func asCriteria(t *testing.T, err error) *incident.CriteriaError {
	t.Helper()
	var ce *incident.CriteriaError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *incident.CriteriaError", err, err)
	}
	return ce
}

// containsAll asserts that every want is a substring of some entry of got.
func containsAll(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("%s: no entry mentions %q; got:\n\t%s", what, w, strings.Join(got, "\n\t"))
		}
	}
}

func ptr[T any](v T) *T { return &v }

func timeEq(got *time.Time, want time.Time) bool { return got != nil && got.Equal(want) }

func fmtOpt(t *time.Time) string {
	if t == nil {
		return "<nil>"
	}
	return t.Format(time.RFC3339Nano)
}
