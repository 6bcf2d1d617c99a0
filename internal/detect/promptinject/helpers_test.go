package promptinject

import (
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"sync"
	"testing"
)

// dataDir is the shared data folder holding the prompt corpora.
func dataDir(t testing.TB) string { return testcorpus.Root(t, "promptinject") }

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
