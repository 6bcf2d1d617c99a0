package policy

import (
	"sync"
	"testing"
)

func version(t testing.TB, v int64) *Snapshot {
	t.Helper()
	s, err := Compile(Policy{Version: v, Actions: []Action{act(KindBlock, Target{User: "u"}, Params{})}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHolderMonotonic(t *testing.T) {
	h := NewHolder(nil)
	if h.Load() != Empty() {
		t.Fatal("NewHolder(nil) does not hold Empty()")
	}
	v2, v3 := version(t, 2), version(t, 3)
	steps := []struct {
		s    *Snapshot
		want bool
		now  int64
	}{
		{nil, false, 0},
		{Empty(), false, 0},
		{v2, true, 2},
		{v2, false, 2},
		{version(t, 2), false, 2},
		{version(t, 1), false, 2},
		{v3, true, 3},
		{v2, false, 3},
	}
	for i, st := range steps {
		if got := h.Store(st.s); got != st.want {
			t.Errorf("step %d: Store = %v, want %v", i, got, st.want)
		}
		if got := h.Load().Version(); got != st.now {
			t.Errorf("step %d: version %d, want %d", i, got, st.now)
		}
	}
	if h.Load() != v3 {
		t.Error("Load does not return the stored snapshot")
	}
	var zero Holder
	if zero.Load() != Empty() || !zero.Store(v2) || zero.Load() != v2 {
		t.Error("the zero Holder is not usable")
	}
}

func TestHolderConcurrent(t *testing.T) {
	const writers, versions = 4, 200
	snaps := make([]*Snapshot, versions+1)
	for v := 1; v <= versions; v++ {
		snaps[v] = version(t, int64(v))
	}
	h := NewHolder(snaps[1])
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 { // readers: the version they see never goes down
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Load()
				if s.Version() < last {
					t.Errorf("version went back from %d to %d", last, s.Version())
					return
				}
				last = s.Version()
				_ = s.Evaluate(Request{User: "u"})
			}
		}()
	}
	var ww sync.WaitGroup
	for w := range writers { // writers store every version, in different orders
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := range versions {
				v := 1 + (i*(w+1)+w)%versions
				h.Store(snaps[v])
			}
		}()
	}
	ww.Wait()
	h.Store(snaps[versions])
	close(stop)
	wg.Wait()
	if h.Load().Version() != versions {
		t.Errorf("final version %d, want %d", h.Load().Version(), versions)
	}
}
