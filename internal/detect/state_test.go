package detect

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestStateLRU(t *testing.T) {
	s := NewState[string, int](3, 0)
	n := 0
	mk := func() int { n++; return n }
	for _, k := range []string{"a", "b", "c"} {
		s.GetOrCreate(k, t0, mk)
	}
	if _, ok := s.Get("a", t0); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	s.GetOrCreate("d", t0, mk) // evicts b, the least recently used
	if _, ok := s.Get("b", t0); ok {
		t.Error("b should have been evicted")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := s.Get(k, t0); !ok {
			t.Errorf("%s missing", k)
		}
	}
	if s.Len() != 3 || s.Evicted() != 1 {
		t.Errorf("len %d evicted %d, want 3 and 1", s.Len(), s.Evicted())
	}
	*s.GetOrCreate("a", t0, mk) = 42
	if v, _ := s.Get("a", t0); *v != 42 {
		t.Errorf("a = %d, want the value written through the pointer", *v)
	}
}

func TestStateTTL(t *testing.T) {
	s := NewState[string, int](100, time.Minute)
	s.GetOrCreate("old", t0, func() int { return 1 })
	s.GetOrCreate("kept", t0, func() int { return 2 })
	s.Get("kept", t0.Add(50*time.Second)) // touched: its age restarts
	later := t0.Add(90 * time.Second)
	if _, ok := s.Get("old", later); ok {
		t.Error("old survived its TTL")
	}
	if v, ok := s.Get("kept", later); !ok || *v != 2 {
		t.Errorf("kept = %v, %v; touching should have renewed it", v, ok)
	}
	// An aged-out entry is re-created, not resurrected.
	v := s.GetOrCreate("kept", later.Add(2*time.Minute), func() int { return 7 })
	if *v != 7 {
		t.Errorf("aged-out entry kept its value %d", *v)
	}
	// Insertions sweep aged entries from the cold end.
	for i := range 20 {
		s.GetOrCreate(strconv.Itoa(i), t0, func() int { return i })
	}
	s.GetOrCreate("new", t0.Add(time.Hour), func() int { return 0 })
	s.GetOrCreate("new2", t0.Add(time.Hour), func() int { return 0 })
	s.GetOrCreate("new3", t0.Add(time.Hour), func() int { return 0 })
	if s.Len() > 6 {
		t.Errorf("len %d after sweeping; aged entries are piling up", s.Len())
	}
}

func TestStateDeleteAndReuse(t *testing.T) {
	s := NewState[int, string](4, 0)
	for i := range 4 {
		s.GetOrCreate(i, t0, func() string { return strconv.Itoa(i) })
	}
	s.Delete(1)
	s.Delete(99)
	s.GetOrCreate(10, t0, func() string { return "ten" })
	if s.Len() != 4 || s.Evicted() != 0 {
		t.Errorf("len %d evicted %d: a deleted slot should be reused without eviction", s.Len(), s.Evicted())
	}
	var keys []int
	s.Range(func(k int, v *string) bool { keys = append(keys, k); return true })
	slices.Sort(keys)
	if !slices.Equal(keys, []int{0, 2, 3, 10}) {
		t.Errorf("range gave %v, want 0 2 3 10", keys)
	}
}

// An entry in use keeps its place through a flood of keys each seen once,
// and the flood's keys are what make room for one another.
func TestStateKeepsEntriesInUse(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Hour} {
		s := NewState[string, int](100, ttl)
		for i := range 100 {
			s.GetOrCreate("old-"+strconv.Itoa(i), t0, func() int { return i })
		}
		*s.GetOrCreate("busy", t0, func() int { return 0 }) = 7 // evicts an old one
		for i := range 10_000 {
			s.GetOrCreate("flood-"+strconv.Itoa(i), t0, func() int { return i })
			if i%50 == 0 {
				if _, ok := s.Get("busy", t0); !ok {
					t.Fatalf("ttl %v: the busy entry was evicted after %d one-off keys", ttl, i)
				}
			}
		}
		if v, ok := s.Get("busy", t0); !ok || *v != 7 {
			t.Errorf("ttl %v: busy = %v, %v; want 7 kept", ttl, v, ok)
		}
		old := 0
		s.Range(func(k string, _ *int) bool {
			if strings.HasPrefix(k, "old-") {
				old++
			}
			return true
		})
		if old != 0 || s.Len() != 100 || s.Evicted() != 10_001 {
			t.Errorf("ttl %v: %d old entries left, len %d, evicted %d; want 0, 100, 10001", ttl, old, s.Len(), s.Evicted())
		}
	}
}

// A marked entry is spared once, then evicted if unused by the time the
// hand comes round again.
func TestStateClockSecondChance(t *testing.T) {
	s := NewState[string, int](3, 0)
	for _, k := range []string{"a", "b", "c"} {
		s.GetOrCreate(k, t0, func() int { return 0 })
	}
	s.Get("a", t0)
	s.Get("b", t0)
	s.Get("c", t0)
	s.GetOrCreate("d", t0, func() int { return 0 }) // all marked: a full turn unmarks them, then a goes
	if _, ok := s.Get("a", t0); ok {
		t.Error("a survived though every entry was used and it was the oldest")
	}
	for _, k := range []string{"b", "c", "d"} {
		if _, ok := s.Get(k, t0); !ok {
			t.Errorf("%s missing", k)
		}
	}
}

// A million distinct callers: the state stays at its maximum and the heap
// stays flat.
func TestStateFloodOfDistinctKeys(t *testing.T) {
	const maxEntries = 10_000
	type val struct{ counts [8]uint64 }
	s := NewState[string, val](maxEntries, time.Hour)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var before uint64
	for i := range 1_000_000 {
		if i == 100_000 {
			before = heap()
		}
		v := s.GetOrCreate("caller-"+strconv.Itoa(i), t0.Add(time.Duration(i)*time.Millisecond), func() val { return val{} })
		v.counts[0]++
	}
	after := heap()
	if s.Len() != maxEntries {
		t.Errorf("len %d, want %d", s.Len(), maxEntries)
	}
	if after > before+4<<20 {
		t.Errorf("heap grew from %d to %d bytes over 900,000 more distinct keys", before, after)
	}
}

func BenchmarkStateGetOrCreate(b *testing.B) {
	s := NewState[string, [4]float64](100_000, time.Hour)
	keys := make([]string, 200_000)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	i := 0
	for b.Loop() {
		s.GetOrCreate(keys[i%len(keys)], t0, func() [4]float64 { return [4]float64{} })
		i++
	}
}

// BenchmarkStateSkewedHits: 100,000 callers drawn with a skew (a few busy,
// most not), every one already held, each touch a write to its value: the
// detectors' usual case.
func BenchmarkStateSkewedHits(b *testing.B) {
	type series struct{ v [24]float64 }
	s := NewState[string, series](200_000, time.Hour)
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "kh_" + strconv.Itoa(1_000_000+i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	order := make([]int, 1<<20)
	for i := range order {
		u := r.Float64()
		order[i] = int(float64(len(keys)) * u * u * u)
	}
	i := 0
	for b.Loop() {
		v := s.GetOrCreate(keys[order[i&(1<<20-1)]], t0, func() series { return series{} })
		v.v[0]++
		i++
	}
}
