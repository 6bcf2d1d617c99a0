// Package testcorpus finds the public datasets tests read: the data folder
// beside the module root (../shared/data from the folder holding go.mod),
// or the one AIRLOCK_DATA names. It is for tests only.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Find returns the data folder that holds rel, or "" if none does.
func Find(rel string) string {
	var candidates []string
	if d := os.Getenv("AIRLOCK_DATA"); d != "" {
		candidates = append(candidates, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(dir, "..", "shared", "data"))
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, rel)); err == nil {
			return d
		}
	}
	return ""
}

// Root returns the data folder that holds rel. Without one the test is
// skipped with a message saying what it needs, except under CI=true, where
// the data must be present and the test fails.
func Root(t testing.TB, rel string) string {
	t.Helper()
	if d := Find(rel); d != "" {
		return d
	}
	msg := "corpus not found: expected ../shared/data/" + filepath.ToSlash(rel) + " beside the module root (or set AIRLOCK_DATA)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
