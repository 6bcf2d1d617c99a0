package redact

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Finding is one redacted span: the bytes s[Start:End] of the input.
type Finding struct {
	Rule       string
	Class      Class
	Start, End int
}

// Redactor finds and redacts with a fixed set of rules. It is immutable and
// safe for concurrent use.
type Redactor struct {
	hot     [256]uint8   // hotAnchor or hotDigit for bytes some keyword is looked for by
	anchors [256][]entry // for each such byte, the keywords it anchors

	// What a stream must hold back at the end of its buffer for triggers
	// that have not fully arrived. A keyword whose anchor byte has arrived
	// is held by the scan itself; prefixes[k] lists the k-byte prefixes of
	// keywords that end before their anchor byte ("gh" of "ghp_").
	prefixes     [maxPrefix + 1][]string
	prefixFirst  [maxPrefix + 1][256]bool
	email        bool // a beforeAt rule: the trailing local part
	sign         bool // leadSign: a trailing "+" or "("
	letters      bool // leadLetters: trailing capitals
	lettersSpace bool // leadLettersSpace: trailing capitals and a space

	maxMatch int
}

// maxPrefix bounds how far into a keyword its anchor byte may be.
const maxPrefix = 8

const (
	hotAnchor = 1 + iota // the byte anchors keywords
	hotDigit             // the byte anchors only number rules
)

// entry is a keyword found by the byte at off in it.
type entry struct {
	kw   string
	off  int
	rule *compiledRule
}

// New returns a Redactor with the rules of the given classes, or with every
// rule when none is given.
func New(classes ...Class) *Redactor {
	r := &Redactor{}
	for _, c := range compiled {
		if len(classes) == 0 || slices.Contains(classes, c.Class) {
			r.add(c)
		}
	}
	return r
}

func (r *Redactor) add(c *compiledRule) {
	for _, kw := range c.Keywords {
		off := anchorOffset(kw)
		b := kw[off]
		switch {
		case c.start == atNumber && len(kw) == 1 && isDigit(b) && r.hot[b] != hotAnchor:
			r.hot[b] = hotDigit
		default:
			r.hot[b] = hotAnchor
		}
		r.anchors[b] = append(r.anchors[b], entry{kw: kw, off: off, rule: c})
		for k := 1; k <= off; k++ {
			if k > maxPrefix {
				panic("redact: keyword " + kw + " is anchored too far in")
			}
			if !slices.Contains(r.prefixes[k], kw[:k]) {
				r.prefixes[k] = append(r.prefixes[k], kw[:k])
				r.prefixFirst[k][kw[0]] = true
			}
		}
	}
	r.email = r.email || c.start == beforeAt
	r.sign = r.sign || c.lead == leadSign
	r.letters = r.letters || c.lead == leadLetters || c.lead == leadLettersSpace
	r.lettersSpace = r.lettersSpace || c.lead == leadLettersSpace
	// A stream's hold-back: a window from a pending match's start, plus up to
	// three bytes of a UTF-8 sequence it will not split.
	r.maxMatch = max(r.maxMatch, c.window+utf8.UTFMax-1)
}

// MaxMatchLen is the most text any rule reads to decide one match: the
// longest match plus the byte or two after it that show where it ends. It
// bounds, in bytes, what a Stream holds back.
func (r *Redactor) MaxMatchLen() int { return r.maxMatch }

// Find returns the findings in s, sorted and without overlaps, each one
// accepted by its rule's validator (a 16-digit number that fails the Luhn
// check is not a card). Where two
// candidates overlap, the one that starts first wins; at the same start, the
// rule that comes first in the table (secrets before personal data, specific
// before generic), then the longer match.
func (r *Redactor) Find(s string) []Finding {
	st := scanState{eof: true}
	r.scan(s, 0, &st)
	if len(st.cands) == 0 {
		return nil
	}
	sortCands(st.cands)
	out := make([]Finding, 0, len(st.cands))
	cur := 0
	for _, c := range st.cands {
		if c.start >= cur {
			out = append(out, c.finding())
			cur = c.end
		}
	}
	return out
}

// Redact returns s with every finding replaced by "[REDACTED:<rule id>]",
// and the findings (offsets in s). When nothing is found it returns s itself
// and allocates nothing.
func (r *Redactor) Redact(s string) (string, []Finding) {
	fs := r.Find(s)
	if len(fs) == 0 {
		return s, nil
	}
	return replace(s, fs), fs
}

func replace(s string, fs []Finding) string {
	n := len(s)
	for _, f := range fs {
		n += len("[REDACTED:]") + len(f.Rule) - (f.End - f.Start)
	}
	var b strings.Builder
	b.Grow(n)
	at := 0
	for _, f := range fs {
		b.WriteString(s[at:f.Start])
		b.WriteString("[REDACTED:")
		b.WriteString(f.Rule)
		b.WriteByte(']')
		at = f.End
	}
	b.WriteString(s[at:])
	return b.String()
}

// cand is a validated match, in the coordinates of the whole input.
type cand struct {
	start, end int
	rule       *compiledRule
}

func (c cand) finding() Finding {
	return Finding{Rule: c.rule.ID, Class: c.rule.Class, Start: c.start, End: c.end}
}

func sortCands(cs []cand) {
	slices.SortFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.rule.order, b.rule.order), cmp.Compare(b.end, a.end))
	})
}

// pend is a trigger whose match depends on text not yet seen.
type pend struct {
	start int // whole-input offset where the match would begin
	rule  *compiledRule
}

// redo is a keyword cut by the end of the buffer, to look at again.
type redo struct {
	at int // whole-input offset of the anchor byte
	e  *entry
}

// scanState collects what one pass over a buffer finds. Offsets stored in it
// are in the coordinates of the whole input: buffer offset + base.
type scanState struct {
	eof     bool // no text follows the buffer
	base    int
	cands   []cand
	pending []pend
	redo    []redo
	low     int // smallest start among pending and redo, when any
	held    bool

	// The key name before the separator at keyAt-1, read once for all the
	// assignment rules.
	key   keyName
	keyAt int
}

func (st *scanState) hold(at int) {
	if !st.held || at < st.low {
		st.low, st.held = at, true
	}
}

// scan looks for keywords whose anchor byte is in s[from:]. Most bytes are
// not anchors; the loop tests four at a time.
func (r *Redactor) scan(s string, from int, st *scanState) {
	hot := &r.hot
	i := from
	for ; i+4 <= len(s); i += 4 {
		if hot[s[i]]|hot[s[i+1]]|hot[s[i+2]]|hot[s[i+3]] == 0 {
			continue
		}
		for k := i; k < i+4; k++ {
			if hot[s[k]] != 0 {
				r.anchor(s, k, st)
			}
		}
	}
	for ; i < len(s); i++ {
		if hot[s[i]] != 0 {
			r.anchor(s, i, st)
		}
	}
}

// anchor tries the keywords anchored by the byte s[i].
func (r *Redactor) anchor(s string, i int, st *scanState) {
	c := s[i]
	es := r.anchors[c]
	if r.hot[c] != hotDigit {
		for k := range es {
			r.trigger(s, i, &es[k], st)
		}
		return
	}
	if i > 0 && isDigit(s[i-1]) {
		return // number rules start only at the first digit of a group
	}
	// Count the number's digits once for all the number rules; most numbers
	// in prose are too short for any of them.
	digits, open := countDigits(s[i:min(len(s), i+maxNumberLen)])
	open = open && !st.eof && i+maxNumberLen > len(s)
	for k := range es {
		if es[k].rule.minDigits <= digits || open {
			r.trigger(s, i, &es[k], st)
		}
	}
}

// trigger handles one possible keyword occurrence, found by its anchor byte
// at s[i].
func (r *Redactor) trigger(s string, i int, e *entry, st *scanState) {
	p := i - e.off
	if p < 0 {
		return
	}
	kw := e.kw
	if p+len(kw) > len(s) {
		if !st.eof && s[p:] == kw[:len(s)-p] {
			st.redo = append(st.redo, redo{at: st.base + i, e: e})
			st.hold(st.base + p)
		}
		return
	}
	if len(kw) > 1 && s[p:p+len(kw)] != kw {
		return
	}
	start, ok := e.rule.begin(s, p, st)
	if ok {
		st.evaluate(e.rule, s, start)
	}
}

func (st *scanState) evaluate(c *compiledRule, s string, start int) {
	a, b, ok, more := c.match(s, start, st.eof)
	switch {
	case more:
		st.pending = append(st.pending, pend{start: st.base + start, rule: c})
		st.hold(st.base + start)
	case ok:
		st.cands = append(st.cands, cand{start: st.base + a, end: st.base + b, rule: c})
	}
}

// begin returns where a match for the keyword at s[p] would begin, or false
// if the context rules one out. It reads only bytes before p (and s[p]).
func (c *compiledRule) begin(s string, p int, st *scanState) (int, bool) {
	switch c.start {
	case beforeAt:
		n := 0
		for n <= 64 && n < p && isLocal(s[p-1-n]) {
			n++
		}
		if n == 0 || n > 64 {
			return 0, false
		}
		return p - n, true
	case afterKey:
		if s[p] == '=' && p > 0 && strings.IndexByte(":=!<>", s[p-1]) >= 0 {
			return 0, false // part of ":=", "==", "!=", "<=", ">="
		}
		if st.keyAt != p+1 {
			st.key, st.keyAt = readKeyName(s, p), p+1
		}
		if !st.key.endsWith(c.keys) {
			return 0, false
		}
		return p, true
	case atNumber:
		if p > 0 && isDigit(s[p-1]) {
			return 0, false // not the first digit of its group
		}
		start := p
		switch c.lead {
		case leadSign:
			if p > 0 && (s[p-1] == '+' || s[p-1] == '(') {
				start = p - 1
			}
		case leadLetters, leadLettersSpace:
			switch {
			case p >= 2 && isUpper(s[p-2]) && isUpper(s[p-1]):
				start = p - 2
			case c.lead == leadLettersSpace && p >= 3 && s[p-1] == ' ' && isUpper(s[p-3]) && isUpper(s[p-2]):
				start = p - 3
			default:
				return 0, false
			}
		}
		return start, leftOK(c.left, s, start)
	}
	return p, leftOK(c.left, s, p)
}

// match decides the match that begins at s[start]: the finding s[a:b], or
// more=true if text after s could change the answer (only when !eof). It
// reads only s[start:start+window], which is what lets a stream reach the
// same decision as the whole text.
func (c *compiledRule) match(s string, start int, eof bool) (a, b int, ok, more bool) {
	end := start + c.window
	final := eof || end <= len(s)
	end = min(end, len(s))
	t := s[start:end]
	if c.minDigits > 0 {
		if n, open := countDigits(t); n < c.minDigits {
			return 0, 0, false, open && !final
		}
	}
	if c.scan != nil {
		n, ok, more := c.scan(t, final, c.Validate)
		if !ok {
			return 0, 0, false, more
		}
		return start, start + n, true, false
	}
	rd := readers.Get().(*windowReader)
	*rd = windowReader{s: t}
	m := c.re.FindReaderSubmatchIndex(rd)
	hitEnd := rd.hitEnd
	*rd = windowReader{}
	readers.Put(rd)
	if hitEnd && !final {
		return 0, 0, false, true
	}
	if m == nil {
		return 0, 0, false, false
	}
	if ok, more := rightOK(c.right, t, m[1], final); !ok {
		return 0, 0, false, more
	}
	a, b = m[2*c.secret], m[2*c.secret+1]
	if a < 0 {
		return 0, 0, false, false
	}
	if c.Validate != nil && !c.Validate(t[a:b]) {
		return 0, 0, false, false
	}
	return start + a, start + b, true, false
}

// windowReader feeds a regular expression one rune at a time and records
// whether it asked for more than there is. A match computed without reaching
// the end depends only on the runes read, so it cannot change when more text
// arrives; that is how a stream knows a match is decided.
type windowReader struct {
	s      string
	i      int
	hitEnd bool
}

// readers saves an allocation per regular expression run: most runs, on
// digits that turn out to be a year or a version, find nothing.
var readers = sync.Pool{New: func() any { return new(windowReader) }}

func (w *windowReader) ReadRune() (rune, int, error) {
	if w.i >= len(w.s) {
		w.hitEnd = true
		return 0, 0, io.EOF
	}
	if c := w.s[w.i]; c < utf8.RuneSelf {
		w.i++
		return rune(c), 1, nil
	}
	r, n := utf8.DecodeRuneInString(w.s[w.i:])
	w.i += n
	return r, n, nil
}

// tailHold is the earliest offset in s where a match could begin whose
// keyword has not fully arrived: a keyword cut by the end of s, the local
// part of an email whose "@" is still to come, the "+" or capitals before a
// number still to come. len(s) means nothing needs holding.
func (r *Redactor) tailHold(s string) int {
	n := len(s)
	h := n
longest:
	for k := min(maxPrefix, n); k >= 1; k-- {
		if !r.prefixFirst[k][s[n-k]] {
			continue
		}
		for _, pre := range r.prefixes[k] {
			if pre == s[n-k:] {
				h = n - k
				break longest
			}
		}
	}
	if r.email {
		k := 0
		for k <= 64 && k < n && isLocal(s[n-1-k]) {
			k++
		}
		if k > 0 && k <= 64 {
			h = min(h, n-k)
		}
	}
	if n >= 1 {
		last := s[n-1]
		if r.sign && (last == '+' || last == '(') {
			h = min(h, n-1)
		}
		if r.letters && isUpper(last) {
			h = min(h, n-1)
			if n >= 2 && isUpper(s[n-2]) {
				h = min(h, n-2)
			}
		}
		if r.lettersSpace && last == ' ' && n >= 3 && isUpper(s[n-3]) && isUpper(s[n-2]) {
			h = min(h, n-3)
		}
	}
	return h
}
