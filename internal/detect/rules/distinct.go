package rules

// distinctSet holds the values a count_distinct group has seen, as hashes,
// each with when it was last seen: at most the rule's threshold of them.
// Values that have left the window stay until the set is full, and are
// counted in the meantime only as the set's length (see add).
//
// A short set is searched by scanning it; a longer one also keeps an
// index, so that a busy group's new value, the usual case, costs a probe
// or two rather than a pass over thousands of values.
type distinctSet struct {
	vals []distinctValue
	// index is an open-addressed table over vals by hash: a position in
	// vals plus one, 0 for an empty cell. Nil while vals is short.
	index []int32
	// oldest is at most the earliest seen in vals: when it is inside the
	// window every value is, and they need not be counted one by one.
	oldest int64
}

type distinctValue struct {
	h    uint64
	seen int64
}

// scanMax is the most values kept without an index.
const scanMax = 16

// add records h seen at now and returns the count the rule compares with
// its threshold: for a value seen before, the values seen within the
// window; for a new one, how many values the set holds, pruned of those
// past the window only when it is full.
func (s *distinctSet) add(h uint64, now, window int64, threshold int) int {
	if i := s.find(h); i >= 0 {
		s.vals[i].seen = now
		s.oldest = min(s.oldest, now)
		return s.live(now, window)
	}
	if len(s.vals) >= threshold {
		s.prune(now, window)
		if len(s.vals) >= threshold {
			return len(s.vals) // already at the threshold; no need to keep more
		}
	}
	s.insert(distinctValue{h: h, seen: now})
	if len(s.vals) >= threshold {
		s.prune(now, window)
	}
	return len(s.vals)
}

// find returns the position of h in vals, or -1.
func (s *distinctSet) find(h uint64) int {
	if s.index == nil {
		for i := range s.vals {
			if s.vals[i].h == h {
				return i
			}
		}
		return -1
	}
	mask := uint64(len(s.index) - 1)
	for j := cell(h) & mask; ; j = (j + 1) & mask {
		p := s.index[j]
		if p == 0 {
			return -1
		}
		if s.vals[p-1].h == h {
			return int(p - 1)
		}
	}
}

func cell(h uint64) uint64 { return h ^ h>>32 }

func (s *distinctSet) insert(v distinctValue) {
	if len(s.vals) == 0 {
		s.oldest = v.seen
	}
	s.oldest = min(s.oldest, v.seen)
	s.vals = append(s.vals, v)
	switch n := len(s.vals); {
	case n <= scanMax:
	case 2*n > len(s.index):
		s.reindex()
	default:
		s.place(int32(n - 1))
	}
}

// place enters vals[i] in the index.
func (s *distinctSet) place(i int32) {
	mask := uint64(len(s.index) - 1)
	j := cell(s.vals[i].h) & mask
	for s.index[j] != 0 {
		j = (j + 1) & mask
	}
	s.index[j] = i + 1
}

// reindex builds the index for vals afresh, at most half full, or drops
// it when vals is short.
func (s *distinctSet) reindex() {
	if len(s.vals) <= scanMax {
		s.index = nil
		return
	}
	size := 4 * scanMax
	for size < 2*len(s.vals) {
		size *= 2
	}
	if len(s.index) == size {
		clear(s.index)
	} else {
		s.index = make([]int32, size)
	}
	for i := range s.vals {
		s.place(int32(i))
	}
}

// live counts the values seen within the window.
func (s *distinctSet) live(now, window int64) int {
	if len(s.vals) == 0 || s.oldest > now-window {
		return len(s.vals)
	}
	n, oldest := 0, s.vals[0].seen
	for _, v := range s.vals {
		if v.seen > now-window {
			n++
		}
		oldest = min(oldest, v.seen)
	}
	s.oldest = oldest
	return n
}

// prune forgets the values past the window.
func (s *distinctSet) prune(now, window int64) {
	if len(s.vals) == 0 || s.oldest > now-window {
		return
	}
	kept := s.vals[:0]
	for _, v := range s.vals {
		if v.seen > now-window {
			if len(kept) == 0 {
				s.oldest = v.seen
			}
			s.oldest = min(s.oldest, v.seen)
			kept = append(kept, v)
		}
	}
	if len(kept) == len(s.vals) {
		return
	}
	clear(s.vals[len(kept):])
	s.vals = kept
	s.reindex()
}
