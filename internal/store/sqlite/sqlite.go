// Package sqlite is the embedded default store: one SQLite file in the data
// directory, WAL mode, through the pure-Go modernc.org/sqlite driver (no cgo).
// Migrations are embedded and applied at open, in one transaction.
//
// Writes go through a single connection that begins IMMEDIATE transactions,
// so read-modify-write sequences are serialised; reads use a separate pool
// and see the last committed state. Several processes (the server and a CLI
// creating a token) may share the file: SQLite's locks and the busy timeout
// serialise them.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of store.Store.
type Store struct {
	write *sql.DB
	read  *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file and brings its schema up
// to date.
func Open(ctx context.Context, file string) (*Store, error) {
	dsn := func(txlock string, queryOnly bool) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(15000)", "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", txlock)
		if queryOnly {
			q.Set("_query_only", "1")
		}
		return "file:" + file + "?" + q.Encode()
	}
	write, err := sql.Open("sqlite", dsn("immediate", false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	write.SetMaxOpenConns(1)
	// The driver ignores sql.TxOptions.ReadOnly, so View's connections are
	// made query-only: a write inside View fails instead of committing.
	read, err := sql.Open("sqlite", dsn("deferred", true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	read.SetMaxOpenConns(4)
	s := &Store{write: write, read: read}
	if err := s.migrateRetrying(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate %s: %w", file, err)
	}
	return s, nil
}

// migrateRetrying retries while another process holds the database: on a
// brand-new file, switching it to WAL answers SQLITE_BUSY at once instead of
// waiting out the busy timeout, so two processes opening a new data
// directory together would otherwise race.
func (s *Store) migrateRetrying(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.migrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

func (s *Store) Close() error {
	return errors.Join(s.write.Close(), s.read.Close())
}

func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return runTx(ctx, s.write, nil, fn)
}

func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return runTx(ctx, s.read, &sql.TxOptions{ReadOnly: true}, fn)
}

func runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(store.Tx) error) error {
	sqlTx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&tx{tx: sqlTx}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// migrate applies every embedded migration newer than the database, in
// order, in one transaction: a failure leaves the schema as it was.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return runTx(ctx, s.write, nil, func(t store.Tx) error {
		sqlTx := t.(*tx).tx
		if _, err := sqlTx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			return err
		}
		var current int
		if err := sqlTx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return err
		}
		if current > len(names) {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d): use a newer airlock", current, len(names))
		}
		for i, name := range names {
			version := i + 1
			if n, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0]); err != nil || n != version {
				return fmt.Errorf("migration %s is out of sequence: want number %04d", name, version)
			}
			if version <= current {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := sqlTx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if _, err := sqlTx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, version, path.Base(name)); err != nil {
				return err
			}
		}
		return nil
	})
}
