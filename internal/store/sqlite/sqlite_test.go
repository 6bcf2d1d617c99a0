package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
	"github.com/airlock-ir/airlock/internal/store/storetest"
)

func open(t *testing.T, file string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), file)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "airlock.db"))
	})
}

// raw opens the file with the bare driver, as an operator's sqlite3 shell would.
func raw(t *testing.T, file string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type migration struct {
	version int
	name    string
}

func applied(t *testing.T, file string) []migration {
	t.Helper()
	rows, err := raw(t, file).QueryContext(t.Context(), `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.version, &m.name); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	file := filepath.Join(t.TempDir(), "airlock.db")
	s, err := sqlite.Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	inc := &store.Incident{ID: "0190a1b2-0000-7000-8000-000000000001", Title: "kept", Type: "jailbreak", Severity: event.SeverityHigh, Phase: "detection", CreatedAt: time.Now().UTC()}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := applied(t, file)
	if len(before) == 0 {
		t.Fatal("no migration recorded after the first open")
	}
	for i, m := range before {
		if m.version != i+1 {
			t.Errorf("migration %d recorded as version %d", i+1, m.version)
		}
	}

	for range 2 {
		s := open(t, file)
		var got *store.Incident
		err := s.View(t.Context(), func(tx store.Tx) (err error) {
			got, err = tx.GetIncident(t.Context(), inc.ID)
			return err
		})
		if err != nil || got.Title != "kept" {
			t.Fatalf("after reopening: %+v, %v", got, err)
		}
		if after := applied(t, file); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("reopening changed the applied migrations: %v, was %v", after, before)
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	file := filepath.Join(t.TempDir(), "airlock.db")
	s, err := sqlite.Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	known := len(applied(t, file))
	future := known + 7
	if _, err := raw(t, file).ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, future, fmt.Sprintf("%04d_future.sql", future)); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(t.Context(), file)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database from a newer binary")
	}
	for _, want := range []string{"newer", fmt.Sprint(future)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if got := len(applied(t, file)); got != known+1 {
		t.Errorf("the refused open changed schema_migrations: %d rows, want %d", got, known+1)
	}
}

func TestWAL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "airlock.db")
	open(t, file)
	var mode string
	if err := raw(t, file).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// The server and a CLI process (creating a token, say) share the file: both
// must be able to write without "database is locked".
func TestTwoStoresShareAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "airlock.db")
	stores := []*sqlite.Store{open(t, file), open(t, file)}

	const perWorker = 20
	var wg sync.WaitGroup
	errs := make(chan error, 64*perWorker)
	for si, s := range stores {
		for w := range 3 {
			wg.Go(func() {
				for i := range perWorker {
					err := s.Update(t.Context(), func(tx store.Tx) error {
						return tx.AppendAudit(t.Context(), &store.AuditEntry{At: time.Now().UTC(), Actor: fmt.Sprintf("store%d", si), Action: "write", Target: fmt.Sprint(w, "/", i)})
					})
					if err != nil {
						errs <- fmt.Errorf("store %d writer %d, write %d: %w", si, w, i, err)
					}
					err = s.View(t.Context(), func(tx store.Tx) error {
						_, _, err := tx.ListAudit(t.Context(), store.AuditFilter{Limit: 5})
						return err
					})
					if err != nil {
						errs <- fmt.Errorf("store %d reader %d, read %d: %w", si, w, i, err)
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Each sees everything both wrote.
	for si, s := range stores {
		n := 0
		err := s.View(t.Context(), func(tx store.Tx) error {
			f := store.AuditFilter{Limit: 500}
			for {
				page, next, err := tx.ListAudit(t.Context(), f)
				if err != nil {
					return err
				}
				n += len(page)
				if next == "" {
					return nil
				}
				f.Cursor = next
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := len(stores) * 3 * perWorker; n != want {
			t.Errorf("store %d sees %d audit entries, want %d", si, n, want)
		}
	}
}

// TestConcurrentFreshOpen opens a brand-new file from several stores at once,
// as a server and a CLI started together on a new data directory would.
func TestConcurrentFreshOpen(t *testing.T) {
	for round := 0; round < 10; round++ {
		file := filepath.Join(t.TempDir(), "airlock.db")
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() {
				s, err := sqlite.Open(context.Background(), file)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
