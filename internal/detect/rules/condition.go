package rules

import (
	"fmt"
	"strings"
)

// A condition combines named selections with and, or, not and
// parentheses; "not" binds tightest, then "and", then "or":
//
//	harvest and not (internal or allowlisted)

type nodeKind uint8

const (
	nodeSel nodeKind = iota
	nodeAnd
	nodeOr
	nodeNot
)

type node struct {
	kind nodeKind
	sel  int // index of the selection, for nodeSel
	kids []*node
}

// eval evaluates the condition, evaluating each selection at most once per
// event through sel.
func (n *node) eval(sel func(int) bool) bool {
	switch n.kind {
	case nodeSel:
		return sel(n.sel)
	case nodeNot:
		return !n.kids[0].eval(sel)
	case nodeAnd:
		for _, k := range n.kids {
			if !k.eval(sel) {
				return false
			}
		}
		return true
	default:
		for _, k := range n.kids {
			if k.eval(sel) {
				return true
			}
		}
		return false
	}
}

const (
	maxCondition = 2000 // bytes
	maxDepth     = 32
)

type condParser struct {
	toks  []string
	pos   int
	names map[string]int
	used  map[string]bool
	depth int
}

// parseCondition parses s over the selections in names and reports which
// were used.
func parseCondition(s string, names map[string]int) (*node, map[string]bool, error) {
	if len(s) > maxCondition {
		return nil, nil, fmt.Errorf("longer than %d bytes", maxCondition)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, nil, err
	}
	if len(toks) == 0 {
		return nil, nil, fmt.Errorf("empty")
	}
	p := &condParser{toks: toks, names: names, used: map[string]bool{}}
	n, err := p.or()
	if err != nil {
		return nil, nil, err
	}
	if p.pos < len(p.toks) {
		return nil, nil, fmt.Errorf("unexpected %q after a complete condition", p.toks[p.pos])
	}
	return n, p.used, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		case isIdent(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at offset %d (use and, or, not, parentheses and selection names)", c, i)
		}
	}
	return toks, nil
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) or() (*node, error) {
	return p.list(nodeOr, "or", p.and)
}

func (p *condParser) and() (*node, error) {
	return p.list(nodeAnd, "and", p.not)
}

func (p *condParser) list(kind nodeKind, op string, next func() (*node, error)) (*node, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for strings.EqualFold(p.peek(), op) {
		p.pos++
		n, err := next()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &node{kind: kind, kids: kids}, nil
}

func (p *condParser) not() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, fmt.Errorf("nested more than %d deep", maxDepth)
	}
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("ends where a selection name was expected")
	case strings.EqualFold(t, "not"):
		p.pos++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeNot, kids: []*node{n}}, nil
	case t == "(":
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case t == ")" || strings.EqualFold(t, "and") || strings.EqualFold(t, "or"):
		return nil, fmt.Errorf("unexpected %q where a selection name was expected", t)
	}
	i, ok := p.names[t]
	if !ok {
		return nil, fmt.Errorf("unknown selection %q", t)
	}
	p.pos++
	p.used[t] = true
	return &node{kind: nodeSel, sel: i}, nil
}
