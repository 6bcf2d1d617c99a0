package detect

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestSimHashMatchesCounting: the bit-sliced accumulator agrees with
// counting each bit position plainly, and Mix64 is a bijection on samples.
func TestSimHashMatchesCounting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 17, 1000, 70000} {
		var s SimHash
		var counts [64]int
		for range n {
			x := Mix64(r.Uint64())
			s.Add(x)
			if n <= 1<<16-1 {
				for j := range 64 {
					counts[j] += int(x >> j & 1)
				}
			}
		}
		if n > 1<<16-1 {
			if s.n != 1<<16-1 {
				t.Errorf("n = %d after %d adds, want the cap", s.n, n)
			}
			continue
		}
		var want uint64
		for j := range 64 {
			if counts[j] > n/2 {
				want |= 1 << j
			}
		}
		if got := s.Sum(); got != want {
			t.Errorf("%d features: Sum %016x, want %016x (%d bits differ)", n, got, want, bits.OnesCount64(got^want))
		}
	}
	seen := map[uint64]bool{}
	for i := range uint64(10000) {
		if seen[Mix64(i)] {
			t.Fatalf("Mix64 collides at %d", i)
		}
		seen[Mix64(i)] = true
	}
}
