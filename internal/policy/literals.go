package policy

import "slices"

// literalSet finds the first occurrence of any of a set of byte strings in
// one pass over the text (Aho-Corasick). Small sets are compiled to a DFA
// over byte classes, one table lookup per byte; sets too big for that keep
// the trie with failure links, which is slower but linear in the text and
// small in memory.
type literalSet struct {
	patterns []string

	// trie with failure links
	root  [256]int32 // child of the root for each byte, 0 if none
	edges []edge     // children of every node, sorted by node then byte
	first []int32    // node → index of its first edge; len(nodes)+1 entries
	fail  []int32
	out   []int32 // node → pattern ending here or at a suffix, -1 if none
	own   []int32 // node → pattern ending exactly here, -1 if none
	dict  []int32 // node → nearest proper suffix node with its own pattern, 0 if none

	// DFA, when small enough: delta[node*nclass+class[b]]
	class  [256]uint8
	nclass int
	delta  []int32
}

type edge struct {
	b    byte
	node int32
}

// maxDFAEntries bounds the DFA table (4 bytes each).
const maxDFAEntries = 1 << 20

func newLiteralSet(patterns []string) *literalSet {
	m := &literalSet{patterns: patterns}
	// Build the trie with per-node child lists.
	children := [][]edge{nil}
	out := []int32{-1}
	for pi, p := range patterns {
		n := int32(0)
		for i := 0; i < len(p); i++ {
			c := p[i]
			next := int32(-1)
			for _, e := range children[n] {
				if e.b == c {
					next = e.node
					break
				}
			}
			if next < 0 {
				next = int32(len(children))
				children = append(children, nil)
				out = append(out, -1)
				children[n] = append(children[n], edge{c, next})
			}
			n = next
		}
		if out[n] < 0 {
			out[n] = int32(pi)
		}
	}
	nodes := len(children)
	m.first = make([]int32, nodes+1)
	for n, cs := range children {
		slices.SortFunc(cs, func(a, b edge) int { return int(a.b) - int(b.b) })
		m.first[n] = int32(len(m.edges))
		m.edges = append(m.edges, cs...)
	}
	m.first[nodes] = int32(len(m.edges))
	for _, e := range children[0] {
		m.root[e.b] = e.node
	}

	// Failure links, breadth first so that a node's link is known before
	// its children's.
	m.fail = make([]int32, nodes)
	m.own = slices.Clone(out)
	m.out = out
	m.dict = make([]int32, nodes)
	queue := make([]int32, 0, nodes)
	for _, e := range children[0] {
		queue = append(queue, e.node)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range children[n] {
			f := m.fail[n]
			for f != 0 && m.child(f, e.b) < 0 {
				f = m.fail[f]
			}
			g := m.root[e.b]
			if f != 0 {
				g = m.child(f, e.b)
			}
			if g == e.node {
				g = 0
			}
			m.fail[e.node] = g
			if m.out[e.node] < 0 {
				m.out[e.node] = m.out[g]
			}
			if m.own[g] >= 0 {
				m.dict[e.node] = g
			} else {
				m.dict[e.node] = m.dict[g]
			}
			queue = append(queue, e.node)
		}
	}

	// Byte classes: bytes that occur in no pattern share class 0.
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 {
				m.nclass++
				m.class[p[i]] = uint8(m.nclass)
			}
		}
	}
	m.nclass++
	if nodes*m.nclass <= maxDFAEntries {
		m.buildDFA(nodes)
	}
	return m
}

func (m *literalSet) buildDFA(nodes int) {
	k := m.nclass
	m.delta = make([]int32, nodes*k) // class 0, bytes in no pattern, leads to the root
	var rep [256]byte                // the byte of each class but 0
	for b := range 256 {
		rep[m.class[b]] = byte(b)
	}
	// Breadth first again: the row of a node's failure link, which is
	// shallower, is complete before the node copies from it.
	queue := []int32{0}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		row := m.delta[int(n)*k : int(n+1)*k]
		for c := 1; c < k; c++ {
			child := m.root[rep[c]]
			if n != 0 {
				child = max(m.child(n, rep[c]), 0)
			}
			switch {
			case child > 0:
				row[c] = child
				queue = append(queue, child)
			case n != 0:
				row[c] = m.delta[int(m.fail[n])*k+c]
			}
		}
	}
}

// child returns n's child for byte b, or -1.
func (m *literalSet) child(n int32, b byte) int32 {
	es := m.edges[m.first[n]:m.first[n+1]]
	if len(es) <= 8 {
		for _, e := range es {
			if e.b == b {
				return e.node
			}
		}
		return -1
	}
	lo, hi := 0, len(es)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if es[mid].b < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(es) && es[lo].b == b {
		return es[lo].node
	}
	return -1
}

// find returns the pattern that ends first in text and where it ends.
func (m *literalSet) find(text string) (pattern int, end int, ok bool) {
	if m.delta != nil {
		k, n := int32(m.nclass), int32(0)
		for i := 0; i < len(text); i++ {
			n = m.delta[n*k+int32(m.class[text[i]])]
			if p := m.out[n]; p >= 0 {
				return int(p), i + 1, true
			}
		}
		return 0, 0, false
	}
	n := int32(0)
	for i := 0; i < len(text); i++ {
		n = m.next(n, text[i])
		if p := m.out[n]; p >= 0 {
			return int(p), i + 1, true
		}
	}
	return 0, 0, false
}

// mark sets seen[p] for every pattern p that occurs in text.
func (m *literalSet) mark(text string, seen []bool) {
	n := int32(0)
	for i := 0; i < len(text); i++ {
		if m.delta != nil {
			n = m.delta[n*int32(m.nclass)+int32(m.class[text[i]])]
		} else {
			n = m.next(n, text[i])
		}
		if m.out[n] < 0 {
			continue
		}
		for d := n; d != 0; d = m.dict[d] {
			if p := m.own[d]; p >= 0 {
				seen[p] = true
			}
		}
	}
}

// next is the trie's transition, following failure links.
func (m *literalSet) next(n int32, b byte) int32 {
	for {
		if n == 0 {
			return m.root[b]
		}
		if c := m.child(n, b); c >= 0 {
			return c
		}
		n = m.fail[n]
	}
}
