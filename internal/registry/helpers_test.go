package registry

import (
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

// Pickles written opcode by opcode; nothing here is ever unpickled.
var (
	// {'a': 1}: EMPTY_DICT, BINPUT 0, MARK, BINUNICODE 'a', BININT1 1, SETITEMS, STOP.
	benignPickle = []byte("\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01u.")
	// os.system('id'): GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP.
	maliciousPickle = []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.")
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "airlock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// bus collects published events.
type bus struct {
	mu     sync.Mutex
	events []event.Event
}

func (b *bus) Publish(e event.Event) {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.mu.Unlock()
}

func (b *bus) actions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.events {
		out = append(out, e.Attrs["action"])
	}
	return out
}

// writeModel makes a model folder from name → content.
func writeModel(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// flipByte changes one byte of a file in place.
func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a folder of regular files (one level deep is enough for
// the signed samples).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(in)
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), b)
	}
	return dst
}

// corpus is the model-transparency folder of the shared data.
func corpus(t *testing.T) string {
	const rel = "models/model-transparency"
	return filepath.Join(testcorpus.Root(t, rel), rel)
}
