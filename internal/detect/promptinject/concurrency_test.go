package promptinject

import (
	"sync"
	"testing"
)

// TestConcurrentScore scores the same texts from several goroutines and
// compares with one goroutine: the pooled scratch must not leak between
// calls.
func TestConcurrentScore(t *testing.T) {
	d := Default()
	texts := append(append([]string{payloadAttack, "", "hello"}, probeEveryday...), probeBenignOther...)
	want := make([]float64, len(texts))
	for i, s := range texts {
		want[i] = d.Score(s).Score
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 3 * len(texts) {
				i := (k + g*7) % len(texts)
				if got := d.Score(texts[i]).Score; got != want[i] {
					t.Errorf("%q: %v concurrently, %v alone", texts[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
}
