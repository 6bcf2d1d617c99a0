package promptinject

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// dataDir finds ../shared/data beside the module root (the folder holding
// go.mod), or AIRLOCK_DATA if set. A test that needs it skips when it is
// missing, and fails under CI=true, where the data must be present.
func dataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("AIRLOCK_DATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			if _, err := os.Stat(filepath.Join(d, "promptinject")); err == nil {
				return d
			}
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	msg := "corpus not found: expected ../shared/data/promptinject beside the module root (or set AIRLOCK_DATA)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

var corpusOnce struct {
	sync.Once
	ex  []Example
	err error
}

// corpus loads the corpora once per test binary.
func corpus(t testing.TB) []Example {
	t.Helper()
	dir := dataDir(t)
	corpusOnce.Do(func() { corpusOnce.ex, corpusOnce.err = LoadCorpus(dir) })
	if corpusOnce.err != nil {
		t.Fatal(corpusOnce.err)
	}
	return corpusOnce.ex
}
