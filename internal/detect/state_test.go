package detect

import (
	"runtime"
	"strconv"
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
	if len(keys) != 4 || keys[0] != 10 {
		t.Errorf("range gave %v, want 4 keys, most recent (10) first", keys)
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
