package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

// The data directory's layout.
const (
	dbFile         = "airlock.db"
	evidenceDir    = "evidence"
	adminTokenFile = "admin.token" // written once, 0600, on first start
	apiAddrFile    = "api.addr"    // where the running server listens
)

// defaultDataDir is used when --data is not given.
func defaultDataDir() string {
	if d := os.Getenv("AIRLOCK_DATA"); d != "" {
		return d
	}
	return "airlock-data"
}

// dataDir is an opened data directory: the store and the evidence blobs.
type dataDir struct {
	path  string
	store *sqlite.Store
	blobs *incident.Blobs
}

// openDataDir opens dir. With create false a missing directory is an error
// rather than a new empty one (verify must not invent what it checks).
func openDataDir(ctx context.Context, dir string, create bool) (*dataDir, error) {
	if dir == "" {
		return nil, usageError("--data is required")
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); errors.Is(err, os.ErrNotExist) && !create {
		return nil, fmt.Errorf("%s is not an airlock data directory (no %s)", dir, dbFile)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, dbFile))
	if err != nil {
		return nil, err
	}
	blobs, err := incident.OpenBlobs(filepath.Join(dir, evidenceDir))
	if err != nil {
		st.Close()
		return nil, err
	}
	return &dataDir{path: dir, store: st, blobs: blobs}, nil
}

func (d *dataDir) service() *incident.Service { return incident.NewService(d.store, d.blobs) }

func (d *dataDir) Close() error { return d.store.Close() }
