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

// TestSimHashAddManyMatchesAdd: adding features in batches of any length,
// in any split, leaves the accumulator exactly as adding them one by one,
// up to and past the cap.
func TestSimHashAddManyMatchesAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(name string, xs []uint64, split func() int) {
		t.Helper()
		var one, many SimHash
		for _, x := range xs {
			one.Add(x)
		}
		for rest := xs; len(rest) > 0; {
			k := min(split(), len(rest))
			many.AddMany(rest[:k])
			rest = rest[k:]
		}
		if many != one {
			t.Fatalf("%s, %d features: AddMany left %+v, Add %+v", name, len(xs), many, one)
		}
	}
	for _, n := range []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 1000} {
		for range 50 {
			xs := make([]uint64, n)
			for i := range xs {
				switch r.IntN(4) {
				case 0:
					xs[i] = ^uint64(0) // every counter's carry ripples far
				case 1:
					xs[i] = 0
				default:
					xs[i] = Mix64(r.Uint64())
				}
			}
			check("all at once", xs, func() int { return n })
			check("by sixteen", xs, func() int { return 16 })
			check("random splits", xs, func() int { return r.IntN(40) })
			check("empty batches", xs, func() int { return r.IntN(2) })
		}
	}
	// Across the cap: the batch that reaches it is cut where Add would
	// stop counting.
	xs := make([]uint64, 1<<16+100)
	for i := range xs {
		xs[i] = Mix64(r.Uint64()) | uint64(i&1)*^uint64(0)
	}
	for _, size := range []int{1, 7, 16, 50, 1000, len(xs)} {
		check("past the cap", xs, func() int { return size })
	}
	var s SimHash
	s.AddMany(xs)
	if s.n != 1<<16-1 {
		t.Errorf("n = %d after AddMany of %d, want the cap", s.n, len(xs))
	}
}
