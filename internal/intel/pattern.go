package intel

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A STIX pattern is taken only when it says "any of these values": one or
// more observations joined by OR, each one or more equality comparisons
// joined by OR, with parentheses for grouping. Everything else in STIX
// patterning (AND, FOLLOWEDBY, NOT, other operators, qualifiers) describes
// a situation that a single value cannot match, and is refused.

// comparison is one "path = 'value'" of a pattern.
type comparison struct {
	path  string
	value string
}

// Bounds on a pattern.
const (
	maxPatternBytes = 64 << 10
	maxPatternDepth = 32
)

// stixPaths maps the object paths Airlock takes to indicator types.
var stixPaths = []struct {
	path string
	typ  Type
}{
	{"ipv4-addr:value", TypeIP},
	{"ipv6-addr:value", TypeIP},
	{"file:hashes.'SHA-256'", TypeModelHash},
	{"domain-name:value", TypeDomain},
	{"url:value", TypeURL},
	{"x-airlock-api-key:hash", TypeAPIKeyHash},
	{"x-airlock-prompt:signature", TypePromptSignature},
}

// comparisonType returns the indicator type of c, checking that an address
// is of the family its path names.
func comparisonType(c comparison) (Type, error) {
	for _, p := range stixPaths {
		if c.path != p.path {
			continue
		}
		if p.typ != TypeIP {
			return p.typ, nil
		}
		t, addr := TypeIP, c.value
		if a, _, ok := strings.Cut(c.value, "/"); ok {
			t, addr = TypeCIDR, a
		}
		if v4 := !strings.Contains(addr, ":"); v4 != strings.HasPrefix(c.path, "ipv4") {
			return t, fmt.Errorf("%s holds %q, an address of the other family", c.path, clip(c.value))
		}
		return t, nil
	}
	if strings.HasPrefix(c.path, "file:hashes.") {
		return "", fmt.Errorf("%s: only SHA-256 file hashes are supported (file:hashes.'SHA-256')", clip(c.path))
	}
	paths := make([]string, 0, len(stixPaths))
	for _, p := range stixPaths {
		if !slices.Contains(paths, p.path) {
			paths = append(paths, p.path)
		}
	}
	return "", fmt.Errorf("object path %s is not supported (supported: %s)", clip(c.path), strings.Join(paths, ", "))
}

// Token kinds.
const (
	tokEOF = iota
	tokLBracket
	tokRBracket
	tokLParen
	tokRParen
	tokOp     // =, !=, <, <=, >, >=
	tokString // a quoted string, unescaped
	tokWord   // an object path, keyword, number or literal prefix
	tokComma  // in IN lists, which are refused
)

type token struct {
	kind int
	text string
	pos  int // byte offset in the pattern, for errors
}

// parsePattern returns the comparisons of a pattern that is an OR of
// equality comparisons, or why it is not.
func parsePattern(s string) ([]comparison, error) {
	if len(s) > maxPatternBytes {
		return nil, fmt.Errorf("pattern is %d bytes, more than %d", len(s), maxPatternBytes)
	}
	toks, err := lexPattern(s)
	if err != nil {
		return nil, err
	}
	p := &patternParser{toks: toks}
	if err := p.observations(0); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "OR or the end of the pattern")
	}
	if len(p.out) == 0 {
		return nil, fmt.Errorf("pattern is empty")
	}
	return p.out, nil
}

type patternParser struct {
	toks []token
	i    int
	out  []comparison
}

func (p *patternParser) peek() token { return p.toks[p.i] }

func (p *patternParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// observations parses observation expressions joined by OR.
func (p *patternParser) observations(depth int) error {
	for {
		if err := p.observation(depth); err != nil {
			return err
		}
		if !p.joiner() {
			return nil
		}
		if err := p.onlyOR(); err != nil {
			return err
		}
	}
}

// observation parses "[ comparisons ]" or "( observations )", refusing a
// qualifier after it.
func (p *patternParser) observation(depth int) error {
	if depth > maxPatternDepth {
		return fmt.Errorf("pattern nests deeper than %d", maxPatternDepth)
	}
	switch t := p.next(); t.kind {
	case tokLParen:
		if err := p.observations(depth + 1); err != nil {
			return err
		}
		if err := p.expect(tokRParen, ")"); err != nil {
			return err
		}
	case tokLBracket:
		if err := p.comparisons(depth + 1); err != nil {
			return err
		}
		if err := p.expect(tokRBracket, "]"); err != nil {
			return err
		}
	default:
		return p.unexpected(t, "[ or (")
	}
	if t := p.peek(); t.kind == tokWord {
		switch kw := strings.ToUpper(t.text); kw {
		case "WITHIN", "REPEATS", "START", "STOP":
			return fmt.Errorf("qualifier %s is not supported: an indicator is one value, with no time or count condition", kw)
		}
	}
	return nil
}

// comparisons parses comparisons joined by OR, inside brackets.
func (p *patternParser) comparisons(depth int) error {
	for {
		if err := p.comparison(depth); err != nil {
			return err
		}
		if !p.joiner() {
			return nil
		}
		if err := p.onlyOR(); err != nil {
			return err
		}
	}
}

func (p *patternParser) comparison(depth int) error {
	if depth > maxPatternDepth {
		return fmt.Errorf("pattern nests deeper than %d", maxPatternDepth)
	}
	t := p.next()
	switch {
	case t.kind == tokLParen:
		if err := p.comparisons(depth + 1); err != nil {
			return err
		}
		return p.expect(tokRParen, ")")
	case t.kind != tokWord:
		return p.unexpected(t, "an object path such as ipv4-addr:value")
	case strings.EqualFold(t.text, "NOT"):
		return fmt.Errorf("NOT is not supported: an indicator is a value to match, not one to exclude")
	case strings.EqualFold(t.text, "EXISTS"):
		return fmt.Errorf("EXISTS is not supported: an indicator needs a value")
	case !strings.Contains(t.text, ":"):
		return p.unexpected(t, "an object path such as ipv4-addr:value")
	}
	path := t.text
	op := p.next()
	switch {
	case op.kind == tokWord && strings.EqualFold(op.text, "NOT"):
		return fmt.Errorf("NOT is not supported: an indicator is a value to match, not one to exclude")
	case op.kind == tokWord && isKeyword(op.text):
		return fmt.Errorf("operator %s is not supported: only = (equality)", strings.ToUpper(op.text))
	case op.kind == tokOp && op.text != "=":
		return fmt.Errorf("operator %s is not supported: only = (equality)", op.text)
	case op.kind != tokOp:
		return p.unexpected(op, "=")
	}
	v := p.next()
	if v.kind != tokString {
		return p.unexpected(v, "a quoted string such as '198.51.100.7'")
	}
	p.out = append(p.out, comparison{path: path, value: v.text})
	return nil
}

// joiner consumes OR, AND or FOLLOWEDBY and reports whether there was one;
// the caller refuses all but OR.
func (p *patternParser) joiner() bool {
	t := p.peek()
	if t.kind != tokWord {
		return false
	}
	switch strings.ToUpper(t.text) {
	case "OR", "AND", "FOLLOWEDBY":
		p.i++
		return true
	}
	return false
}

func (p *patternParser) onlyOR() error {
	switch kw := strings.ToUpper(p.toks[p.i-1].text); kw {
	case "AND":
		return fmt.Errorf("AND is not supported: an indicator must match on one value (join values with OR)")
	case "FOLLOWEDBY":
		return fmt.Errorf("FOLLOWEDBY is not supported: an indicator must match on one value (join values with OR)")
	}
	return nil
}

func (p *patternParser) expect(kind int, what string) error {
	if t := p.next(); t.kind != kind {
		return p.unexpected(t, what)
	}
	return nil
}

func (p *patternParser) unexpected(t token, want string) error {
	if t.kind == tokEOF {
		return fmt.Errorf("pattern ends where %s was expected", want)
	}
	text := t.text
	if t.kind == tokString {
		text = "'" + text + "'"
	}
	return fmt.Errorf("pattern has %q at offset %d where %s was expected", clip(text), t.pos, want)
}

func isKeyword(w string) bool {
	switch strings.ToUpper(w) {
	case "LIKE", "MATCHES", "IN", "ISSUBSET", "ISSUPERSET", "EXISTS", "AND", "OR", "NOT", "FOLLOWEDBY",
		"WITHIN", "REPEATS", "START", "STOP":
		return true
	}
	return false
}

// lexPattern splits a pattern into tokens, ending with tokEOF.
func lexPattern(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '[':
			toks = append(toks, token{tokLBracket, "[", i})
			i++
		case c == ']':
			toks = append(toks, token{tokRBracket, "]", i})
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			i++
			if i < len(s) && s[i] == '=' {
				i++
			}
			op := s[start:i]
			if op == "!" {
				return nil, fmt.Errorf("pattern has '!' at offset %d where != was expected", start)
			}
			toks = append(toks, token{tokOp, op, start})
		case c == '\'':
			v, n, err := lexString(s[i:])
			if err != nil {
				return nil, fmt.Errorf("pattern at offset %d: %v", start, err)
			}
			toks = append(toks, token{tokString, v, start})
			i += n
		case isWordByte(c):
			for i < len(s) {
				if isWordByte(s[i]) || s[i] == ':' || s[i] == '.' {
					i++
					continue
				}
				// A quoted path segment: file:hashes.'SHA-256'.
				if s[i] == '\'' && s[i-1] == '.' && strings.Contains(s[start:i], ":") {
					_, n, err := lexString(s[i:])
					if err != nil {
						return nil, fmt.Errorf("pattern at offset %d: %v", i, err)
					}
					i += n
					continue
				}
				break
			}
			toks = append(toks, token{tokWord, s[start:i], start})
		default:
			return nil, fmt.Errorf("pattern has %q at offset %d, which STIX patterning does not allow there", firstRune(s[i:]), i)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// lexString reads the quoted string at the start of s, returning its value
// and length. STIX strings escape only the quote and the backslash.
func lexString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\') {
				i++
				b.WriteByte(s[i])
				continue
			}
			return "", 0, fmt.Errorf("invalid escape in a string: only \\' and \\\\ are allowed")
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

func firstRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return string(r)
}
