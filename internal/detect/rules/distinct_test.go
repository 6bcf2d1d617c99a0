package rules

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refDistinct is the plain form of distinctSet.add: a list scanned in full.
type refDistinct struct{ vals []distinctValue }

func (g *refDistinct) add(h uint64, now, window int64, threshold int) int {
	for i := range g.vals {
		if g.vals[i].h == h {
			g.vals[i].seen = now
			return g.live(now, window)
		}
	}
	if len(g.vals) >= threshold {
		g.prune(now, window)
		if len(g.vals) >= threshold {
			return len(g.vals)
		}
	}
	g.vals = append(g.vals, distinctValue{h: h, seen: now})
	if len(g.vals) >= threshold {
		g.prune(now, window)
	}
	return len(g.vals)
}

func (g *refDistinct) live(now, window int64) int {
	n := 0
	for _, v := range g.vals {
		if v.seen > now-window {
			n++
		}
	}
	return n
}

func (g *refDistinct) prune(now, window int64) {
	g.vals = slices.DeleteFunc(g.vals, func(v distinctValue) bool { return v.seen <= now-window })
}

// TestDistinctSetMatchesScan: the indexed set counts exactly as a scan of
// every value does, with values repeating, time going backwards now and
// then, and sets small and large.
func TestDistinctSetMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 100 {
		threshold := 1 + rng.IntN(1500)
		if trial%3 == 0 {
			threshold = 1 + rng.IntN(40)
		}
		values := uint64(1 + rng.IntN(4*threshold))
		window := int64(1 + rng.IntN(1000))
		var s distinctSet
		var ref refDistinct
		now := int64(rng.IntN(1000)) - 500
		for i := range 5000 {
			now += int64(rng.IntN(int(window)/20 + 2))
			if rng.IntN(50) == 0 {
				now -= int64(rng.IntN(int(window) * 2)) // out of order
			}
			h := rng.Uint64N(values) * 0x9E3779B97F4A7C15 // spread, with 0 among them
			got, want := s.add(h, now, window, threshold), ref.add(h, now, window, threshold)
			if got != want {
				t.Fatalf("trial %d step %d (threshold %d, window %d): %d, want %d", trial, i, threshold, window, got, want)
			}
		}
	}
}
