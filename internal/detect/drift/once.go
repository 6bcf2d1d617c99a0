package drift

import "time"

// outputKey names an answer of a version: both hashed.
type outputKey struct{ version, output uint64 }

// onceTable remembers the answers given once, with the hash of the prompt
// that got each. Most answers are given once: their prompts' tokens are
// not read for them, and they cost a slot in a table, not a cluster. When
// another prompt gets an answer the table holds, the answer gets a
// cluster, whose candidates are that second prompt's rare tokens. The
// table is direct-mapped: a newer answer takes an older one's slot.
//
// Each slot also marks which of the answers that fall in it may have a
// cluster, one bit of a 64-bit mask each (chosen by other bits of the
// answer's hash than the slot), so that the clusters are not looked up
// for an answer without one, which is most of them: the mask is read with
// the slot. A mark is set when a cluster is made and never cleared alone;
// every time as many clusters were made as there may be, the masks are
// cleared and marked again from the clusters held (Detector.marked). So
// every cluster held is marked, and at most twice as many answers as there
// may be clusters are, in 64 bits for each of at least as many slots: an
// answer without a cluster is looked up in at most one case in 64.
type onceTable struct {
	slots  []onceSlot
	ttl    int64
	used   int // slots holding an answer
	marked int // clusters marked since the masks were last made afresh
}

type onceSlot struct {
	k        outputKey
	prompt   uint64
	seen     int64  // unix nanoseconds
	clusters uint64 // marks of the answers falling here that may have a cluster
}

// newOnceTable returns a table of twice as many slots as clusters, at
// least, in a power of two.
func newOnceTable(clusters int, ttl time.Duration) onceTable {
	n := 1
	for n < 2*clusters {
		n <<= 1
	}
	return onceTable{slots: make([]onceSlot, n), ttl: max(int64(ttl), 0)}
}

// slot returns the slot of the answer k and its mark in the slot's mask.
func (t *onceTable) slot(k outputKey) (*onceSlot, uint64) {
	m := mix(k.version ^ k.output)
	return &t.slots[m&uint64(len(t.slots)-1)], 1 << (m >> 58)
}

// again reports whether a prompt other than the one whose hash is prompt
// got the answer k, whose slot is s, before (and forgets it, as its
// cluster takes over); otherwise it remembers that this prompt got k.
func (t *onceTable) again(s *onceSlot, k outputKey, prompt uint64, now time.Time) bool {
	ns := now.UnixNano()
	if s.k == k && s.seen != 0 && (t.ttl == 0 || ns-s.seen <= t.ttl) {
		if s.prompt != prompt {
			s.k, s.prompt, s.seen = outputKey{}, 0, 0
			t.used--
			return true
		}
		s.seen = max(s.seen, ns)
		return false
	}
	if s.seen == 0 {
		t.used++
	}
	s.k, s.prompt, s.seen = k, prompt, max(ns, 1)
	return false
}

// marked records that the answer whose slot and mark these are got a
// cluster. When as many were marked as there may be clusters, the masks
// are made afresh from the clusters held, so that those evicted or
// expired since do not stay marked.
func (d *Detector) marked(s *onceSlot, mark uint64) {
	s.clusters |= mark
	t := &d.once
	t.marked++
	if t.marked < d.outputs.Max() {
		return
	}
	t.marked = 0
	for i := range t.slots {
		t.slots[i].clusters = 0
	}
	d.outputs.Range(func(k outputKey, _ *cluster) bool {
		s, mark := t.slot(k)
		s.clusters |= mark
		return true
	})
}
