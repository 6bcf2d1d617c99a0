package intel

import (
	"slices"
	"strings"
)

// literalSet finds every occurrence of a set of byte strings in one pass
// over the text (Aho–Corasick), however many strings there are. The nodes
// nearest the root, where the search spends most of its time, get a DFA row
// over byte classes: one table lookup per byte. Small sets fit in the DFA
// entirely; in larger ones the deeper nodes follow the trie and its failure
// links, still linear in the text.
//
// The trie is built from the sorted patterns, so each node's children are
// created in byte order and stored once, in one array (no per-node slices
// or maps): a hundred thousand signatures build in a few tens of
// milliseconds.
type literalSet struct {
	patterns []string

	first []int32 // node → its first edge; len(nodes)+1 entries
	edgeB []byte  // edges sorted by node, then byte
	edgeN []int32
	root  [256]int32 // the root's child for each byte, 0 if none

	fail []int32
	own  []int32 // node → pattern ending exactly here, -1 if none
	dict []int32 // node → nearest proper suffix node with its own pattern, 0 if none
	term []int32 // node → itself if it has its own pattern, else dict; 0 if none

	class  [256]uint8 // byte → class; bytes in no pattern share class 0
	nclass int32
	row    []int32 // node → its DFA row, -1 if it has none
	delta  []int32 // DFA rows: delta[row*nclass+class] is the next node
}

// maxDFAEntries bounds the DFA table (4 bytes each).
const maxDFAEntries = 1 << 20

// newLiteralSet builds the matcher; patterns must be distinct and
// non-empty.
func newLiteralSet(patterns []string) *literalSet { return buildLiteralSet(patterns, maxDFAEntries) }

// buildLiteralSet builds the matcher with a DFA of at most dfaLimit entries.
func buildLiteralSet(patterns []string, dfaLimit int64) *literalSet {
	m := &literalSet{patterns: patterns}
	order := make([]int32, len(patterns))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(patterns[a], patterns[b]) })

	type rawEdge struct {
		parent, child int32
		b             byte
	}
	var edges []rawEdge
	m.own = []int32{-1}
	path := []int32{0} // nodes along the previous pattern
	prev := ""
	for _, pi := range order {
		p := patterns[pi]
		l := commonPrefix(prev, p)
		path = path[:l+1]
		n := path[l]
		for j := l; j < len(p); j++ {
			child := int32(len(m.own))
			m.own = append(m.own, -1)
			edges = append(edges, rawEdge{n, child, p[j]})
			path = append(path, child)
			n = child
		}
		if m.own[n] < 0 {
			m.own[n] = pi
		}
		prev = p
	}
	nodes := len(m.own)

	// Edges by parent; a stable placement keeps each node's in byte order.
	m.first = make([]int32, nodes+1)
	for _, e := range edges {
		m.first[e.parent+1]++
	}
	for n := 1; n <= nodes; n++ {
		m.first[n] += m.first[n-1]
	}
	m.edgeB = make([]byte, len(edges))
	m.edgeN = make([]int32, len(edges))
	next := slices.Clone(m.first[:nodes])
	for _, e := range edges {
		i := next[e.parent]
		next[e.parent]++
		m.edgeB[i], m.edgeN[i] = e.b, e.child
		if e.parent == 0 {
			m.root[e.b] = e.child
		}
	}
	edges = nil

	// Failure links, breadth first so that a node's link is known before
	// its children's.
	m.fail = make([]int32, nodes)
	m.dict = make([]int32, nodes)
	m.term = make([]int32, nodes)
	queue := make([]int32, 0, nodes)
	queue = append(queue, 0)
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		for i := m.first[u]; i < m.first[u+1]; i++ {
			b, v := m.edgeB[i], m.edgeN[i]
			if u != 0 {
				m.fail[v] = m.next(m.fail[u], b)
			}
			f := m.fail[v]
			if m.own[f] >= 0 {
				m.dict[v] = f
			} else {
				m.dict[v] = m.dict[f]
			}
			if m.own[v] >= 0 {
				m.term[v] = v
			} else {
				m.term[v] = m.dict[v]
			}
			queue = append(queue, v)
		}
	}

	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 {
				m.nclass++
				m.class[p[i]] = uint8(m.nclass)
			}
		}
	}
	m.nclass++
	m.buildDFA(queue[:min(int64(nodes), max(dfaLimit/int64(m.nclass), 1))])
	return m
}

// buildDFA gives rows to the nodes in order, the first nodes breadth
// first: the row of a node's failure link, which is shallower, is complete
// before the node copies from it. The root always has a row.
func (m *literalSet) buildDFA(order []int32) {
	k := m.nclass
	m.row = make([]int32, len(m.own))
	for i := range m.row {
		m.row[i] = -1
	}
	m.delta = make([]int32, int32(len(order))*k)
	for r, n := range order {
		m.row[n] = int32(r)
		row := m.delta[int32(r)*k : int32(r+1)*k]
		if n != 0 {
			f := m.row[m.fail[n]]
			copy(row, m.delta[f*k:(f+1)*k])
		}
		for i := m.first[n]; i < m.first[n+1]; i++ {
			row[m.class[m.edgeB[i]]] = m.edgeN[i]
		}
	}
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// child returns n's child for byte b, or -1.
func (m *literalSet) child(n int32, b byte) int32 {
	lo, hi := m.first[n], m.first[n+1]
	if hi-lo <= 8 {
		for i := lo; i < hi; i++ {
			if m.edgeB[i] == b {
				return m.edgeN[i]
			}
		}
		return -1
	}
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		if m.edgeB[mid] < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < m.first[n+1] && m.edgeB[lo] == b {
		return m.edgeN[lo]
	}
	return -1
}

// next is the trie's transition, following failure links; used while
// building, before the DFA rows exist.
func (m *literalSet) next(n int32, b byte) int32 {
	for n != 0 {
		if c := m.child(n, b); c >= 0 {
			return c
		}
		n = m.fail[n]
	}
	return m.root[b]
}

// step is the automaton's transition: the DFA row where there is one, else
// the trie, falling back along failure links to a node with a row.
func (m *literalSet) step(n int32, b byte) int32 {
	for {
		if r := m.row[n]; r >= 0 {
			return m.delta[r*m.nclass+int32(m.class[b])]
		}
		if c := m.child(n, b); c >= 0 {
			return c
		}
		n = m.fail[n]
	}
}

// each calls fn for every occurrence of a pattern in text, with the
// pattern's index and where the occurrence ends.
func (m *literalSet) each(text string, fn func(pattern int32, end int)) {
	n := int32(0)
	for i := 0; i < len(text); i++ {
		n = m.step(n, text[i])
		for d := m.term[n]; d != 0; d = m.dict[d] {
			fn(m.own[d], i+1)
		}
	}
}
