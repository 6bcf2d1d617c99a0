package intel

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// prefixTable finds every CIDR prefix that holds an address.
//
// Two CIDR prefixes are either disjoint or one holds the other, so the
// prefixes form a forest. Sorted by first address (the holder before what
// it holds), each prefix keeps a link to the nearest one holding it. A
// lookup finds by binary search the last prefix starting at or before the
// address; every prefix holding the address is that one or above it, and
// once one holds it so do all above. So a lookup is one binary search and
// a walk up at most the nesting depth (33 for IPv4, 129 for IPv6, a
// handful in real feeds), whatever the number of prefixes.
type prefixTable struct {
	v4, v6 []prefixEntry
}

type prefixEntry struct {
	first, last u128  // the first and last address held
	parent      int32 // the nearest entry holding this one, -1 if none
	ind         int32
}

// u128 is an address as a number; IPv4 addresses use lo only.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// lastOf returns the last address of a masked prefix.
func lastOf(p netip.Prefix) u128 {
	first := toU128(p.Addr())
	width := 128
	if p.Addr().Is4() {
		width = 32
	}
	host := width - p.Bits() // bits of the host part
	switch {
	case host == 0:
		return first
	case host < 64:
		first.lo |= 1<<host - 1
	case host == 64:
		first.lo = ^uint64(0)
	default:
		first.lo = ^uint64(0)
		first.hi |= 1<<(host-64) - 1
	}
	return first
}

// add records p (masked, IPv4 unmapped) for indicator i; seal must be
// called before lookups.
func (t *prefixTable) add(p netip.Prefix, i int32) {
	e := prefixEntry{first: toU128(p.Addr()), last: lastOf(p), ind: i, parent: -1}
	if p.Addr().Is4() {
		t.v4 = append(t.v4, e)
	} else {
		t.v6 = append(t.v6, e)
	}
}

func (t *prefixTable) seal() {
	seal(t.v4)
	seal(t.v6)
}

func seal(es []prefixEntry) {
	slices.SortFunc(es, func(a, b prefixEntry) int {
		switch {
		case a.first != b.first:
			if a.first.less(b.first) {
				return -1
			}
			return 1
		case a.last != b.last: // the wider first: it holds the other
			if b.last.less(a.last) {
				return -1
			}
			return 1
		}
		return 0
	})
	var stack []int32 // the chain of entries holding the current one
	for i := range es {
		for len(stack) > 0 && es[stack[len(stack)-1]].last.less(es[i].first) {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			es[i].parent = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
}

// match calls fn for each prefix holding a, most specific first; a must be
// valid, unmapped and without a zone.
func (t *prefixTable) match(a netip.Addr, fn func(int32)) {
	es := t.v6
	if a.Is4() {
		es = t.v4
	}
	if len(es) == 0 {
		return
	}
	x := toU128(a)
	// The number of entries starting at or before x.
	n, _ := slices.BinarySearchFunc(es, x, func(e prefixEntry, x u128) int {
		if x.less(e.first) {
			return 1
		}
		return -1
	})
	i := int32(n - 1)
	for i >= 0 && es[i].last.less(x) {
		i = es[i].parent
	}
	for ; i >= 0; i = es[i].parent {
		fn(es[i].ind)
	}
}
