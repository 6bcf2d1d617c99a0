package detect

import "time"

// State is per-entity state with bounded memory: at most maxEntries entries,
// and an entry not touched for ttl is forgotten. When the state is full a
// new entry takes the place of one not used lately, chosen by the CLOCK
// algorithm (an approximation of least recently used): a hand sweeps the
// slots in order, each use of an entry marks it, and the hand clears a
// mark it passes and takes the first unmarked entry. A use costs a store to
// the entry itself, where a list ordered by use would touch two other
// entries, scattered over memory, on every use. Under a flood of distinct
// keys the state stays at its maximum, and its memory with it; an entry
// used again since the hand last passed it outlives the flood's one-off
// keys.
//
// Values live in fixed-size chunks that never move, so a *V returned by Get
// or GetOrCreate stays valid until that entry is evicted; callers use it
// within one Observe call and do not keep it. A State is not safe for
// concurrent use: a detector owns it and the engine calls the detector from
// one goroutine.
type State[K comparable, V any] struct {
	max   int
	ttl   int64 // nanoseconds; 0 means no age limit
	index map[K]int32
	// slots are allocated in chunks as the state grows, up to max.
	chunks [][]slot[K, V]
	used   int32   // slots handed out so far
	free   []int32 // slots released by age or Delete
	// hand is the next slot the clock looks at for eviction, sweep the
	// next slot looked at for an aged-out entry: apart, so that sweeping
	// does not hurry the clock.
	hand, sweep int32
	evicted     uint64
}

type slot[K comparable, V any] struct {
	key  K
	val  V
	seen int64 // unix nanoseconds of the last touch
	live bool  // holds an entry (false: free)
	used bool  // touched since the hand last passed
}

const chunkBits = 9 // 512 entries per chunk

// expireBudget bounds how many slots one insertion sweeps for aged-out
// entries, so that no single event pays for a long idle period; the sweep
// goes round all slots as insertions go on, so aged entries do not
// accumulate while new ones arrive.
const expireBudget = 8

// NewState returns an empty State. maxEntries below 1 is taken as 1; ttl of
// zero or less disables eviction by age.
func NewState[K comparable, V any](maxEntries int, ttl time.Duration) *State[K, V] {
	if maxEntries < 1 {
		maxEntries = 1
	}
	if maxEntries > 1<<30 {
		maxEntries = 1 << 30
	}
	return &State[K, V]{
		max:   maxEntries,
		ttl:   max(int64(ttl), 0),
		index: make(map[K]int32),
	}
}

// Len is the number of entries held.
func (s *State[K, V]) Len() int { return len(s.index) }

// Max is the most entries the state will hold.
func (s *State[K, V]) Max() int { return s.max }

// Evicted counts entries removed by age or to make room.
func (s *State[K, V]) Evicted() uint64 { return s.evicted }

func (s *State[K, V]) at(i int32) *slot[K, V] {
	return &s.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

// Get returns k's value and marks it used, or false when k is absent or has
// aged out (an aged-out entry is removed).
func (s *State[K, V]) Get(k K, now time.Time) (*V, bool) {
	i, ok := s.index[k]
	if !ok {
		return nil, false
	}
	e := s.at(i)
	t := now.UnixNano()
	if s.expired(e, t) {
		s.remove(i, e)
		s.evicted++
		return nil, false
	}
	touch(e, t)
	return &e.val, true
}

// GetOrCreate returns k's value, creating it with mk when k is absent or has
// aged out. Creating may evict an entry not used lately.
func (s *State[K, V]) GetOrCreate(k K, now time.Time, mk func() V) *V {
	t := now.UnixNano()
	if i, ok := s.index[k]; ok {
		e := s.at(i)
		if s.expired(e, t) {
			e.val = mk()
			s.evicted++
		}
		touch(e, t)
		return &e.val
	}
	v := mk() // before any change, so that a panicking mk leaves s intact
	s.expire(t)
	var i int32
	if len(s.index) >= s.max {
		i = s.victim(t)
		s.remove(i, s.at(i))
		s.evicted++
	}
	i = s.alloc()
	e := s.at(i)
	// A new entry starts unmarked: a key used once is the first to go
	// when room is needed, before one that came back.
	e.key, e.val, e.seen, e.live, e.used = k, v, t, true, false
	s.index[k] = i
	return &e.val
}

// Delete forgets k.
func (s *State[K, V]) Delete(k K) {
	if i, ok := s.index[k]; ok {
		s.remove(i, s.at(i))
	}
}

// Range calls f for each entry, in no set order, until f returns false. f
// must not change the state.
func (s *State[K, V]) Range(f func(k K, v *V) bool) {
	for i := int32(0); i < s.used; i++ {
		if e := s.at(i); e.live && !f(e.key, &e.val) {
			return
		}
	}
}

func touch[K comparable, V any](e *slot[K, V], t int64) {
	if t > e.seen {
		e.seen = t
	}
	e.used = true
}

func (s *State[K, V]) expired(e *slot[K, V], t int64) bool {
	return s.ttl > 0 && t-e.seen > s.ttl
}

// advance moves a hand on by one slot and returns the slot it was at.
func (s *State[K, V]) advance(hand *int32) int32 {
	i := *hand
	if *hand++; *hand >= s.used {
		*hand = 0
	}
	return i
}

// expire removes the aged-out entries among the next expireBudget slots.
func (s *State[K, V]) expire(t int64) {
	if s.ttl == 0 || len(s.index) == 0 {
		return
	}
	for range min(expireBudget, int(s.used)) {
		i := s.advance(&s.sweep)
		if e := s.at(i); e.live && s.expired(e, t) {
			s.remove(i, e)
			s.evicted++
		}
	}
}

// victim returns the entry to evict from a full state: the first the hand
// finds aged out or unmarked, clearing the marks it passes. Within two
// turns of the clock it finds one, since it unmarks every entry in the
// first.
func (s *State[K, V]) victim(t int64) int32 {
	for {
		i := s.advance(&s.hand)
		e := s.at(i)
		if !e.live {
			continue
		}
		if !e.used || s.expired(e, t) {
			return i
		}
		e.used = false
	}
}

func (s *State[K, V]) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	// With no free slot every slot handed out is live, so used < max and
	// the new slot fits in the chunk, which is cut short only at max.
	i := s.used
	if int(i)>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]slot[K, V], min(1<<chunkBits, s.max-int(i))))
	}
	s.used++
	return i
}

func (s *State[K, V]) remove(i int32, e *slot[K, V]) {
	delete(s.index, e.key)
	var zk K
	var zv V
	e.key, e.val, e.live, e.used = zk, zv, false, false // release what the entry referenced
	s.free = append(s.free, i)
}
