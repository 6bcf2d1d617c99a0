package detect

import "time"

// State is per-entity state with bounded memory: at most maxEntries entries,
// the least recently used evicted first, and an entry not touched for ttl is
// forgotten. Under a flood of distinct keys it stays at its maximum, and
// its memory with it.
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
	// head is the most recently used entry, tail the least; -1 when empty.
	head, tail int32
	evicted    uint64
}

type slot[K comparable, V any] struct {
	key        K
	val        V
	seen       int64 // unix nanoseconds of the last touch
	prev, next int32
}

const chunkBits = 9 // 512 entries per chunk

// expireBudget bounds how many aged-out entries one call removes, so that
// no single event pays for a long idle period; each insertion removes up to
// this many, which outpaces insertion, so aged entries do not accumulate.
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
		head:  -1,
		tail:  -1,
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
		s.remove(i)
		s.evicted++
		return nil, false
	}
	s.touch(i, e, t)
	return &e.val, true
}

// GetOrCreate returns k's value, creating it with mk when k is absent or has
// aged out. Creating may evict the least recently used entry.
func (s *State[K, V]) GetOrCreate(k K, now time.Time, mk func() V) *V {
	t := now.UnixNano()
	if i, ok := s.index[k]; ok {
		e := s.at(i)
		if s.expired(e, t) {
			e.val = mk()
			s.evicted++
		}
		s.touch(i, e, t)
		return &e.val
	}
	v := mk() // before any change, so that a panicking mk leaves s intact
	s.expire(t)
	if len(s.index) >= s.max {
		s.remove(s.tail)
		s.evicted++
	}
	i := s.alloc()
	e := s.at(i)
	e.key, e.val, e.seen = k, v, t
	s.index[k] = i
	s.pushFront(i, e)
	return &e.val
}

// Delete forgets k.
func (s *State[K, V]) Delete(k K) {
	if i, ok := s.index[k]; ok {
		s.remove(i)
	}
}

// Range calls f for each entry, most recently used first, until f returns
// false. f must not change the state.
func (s *State[K, V]) Range(f func(k K, v *V) bool) {
	for i := s.head; i >= 0; {
		e := s.at(i)
		if !f(e.key, &e.val) {
			return
		}
		i = e.next
	}
}

func (s *State[K, V]) expired(e *slot[K, V], t int64) bool {
	return s.ttl > 0 && t-e.seen > s.ttl
}

// expire removes up to expireBudget aged-out entries from the cold end.
func (s *State[K, V]) expire(t int64) {
	if s.ttl == 0 {
		return
	}
	for n := 0; n < expireBudget && s.tail >= 0; n++ {
		e := s.at(s.tail)
		if !s.expired(e, t) {
			return
		}
		s.remove(s.tail)
		s.evicted++
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

func (s *State[K, V]) touch(i int32, e *slot[K, V], t int64) {
	if t > e.seen {
		e.seen = t
	}
	if s.head == i {
		return
	}
	s.unlink(i, e)
	s.pushFront(i, e)
}

func (s *State[K, V]) pushFront(i int32, e *slot[K, V]) {
	e.prev, e.next = -1, s.head
	if s.head >= 0 {
		s.at(s.head).prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

func (s *State[K, V]) unlink(i int32, e *slot[K, V]) {
	if e.prev >= 0 {
		s.at(e.prev).next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.at(e.next).prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *State[K, V]) remove(i int32) {
	e := s.at(i)
	s.unlink(i, e)
	delete(s.index, e.key)
	var zk K
	var zv V
	e.key, e.val = zk, zv // release what the entry referenced
	s.free = append(s.free, i)
}
