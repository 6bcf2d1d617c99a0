package intel

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Set is a collection of indicators, indexed for matching. It is immutable
// once built and safe for concurrent use. The indicators it returns share
// their Labels and ATLAS slices with the set and must not be modified.
type Set struct {
	inds    []Indicator
	skipped int

	exact    map[netip.Addr]int32 // IPv6 addresses
	exact4   map[uint32]int32     // IPv4 addresses, as numbers
	seen4    *[1 << 12]uint64     // a bit per ipv4Hash of the addresses in exact4
	prefixes *prefixTable
	keys     map[string]int32
	models   map[string]int32
	domains  map[string]int32
	urls     map[string]int32

	literals *literalSet // folded signatures and their space-free forms
	litInds  [][]int32   // literal pattern → indicators
	regexes  []regexSignature
	screen   *screen // clears prompts that cannot hold a literal signature; nil without signatures
}

type regexSignature struct {
	re  *regexp.Regexp
	ind int32
}

// Hit is an indicator found in an event.
type Hit struct {
	Indicator Indicator
	Field     string // FieldIP, FieldAPIKeyHash or FieldPrompt
	Excerpt   string // what matched: the address, the key hash, or the folded text (at most MaxExcerpt bytes)
}

// The event fields a Hit may name.
const (
	FieldIP         = "ip"
	FieldAPIKeyHash = "api_key_hash"
	FieldPrompt     = "prompt"
)

// MaxExcerpt bounds a hit's excerpt of a prompt.
const MaxExcerpt = 128

// minCompact is the shortest space-free form of a signature that is also
// matched: "ignore previous" is also found as "ignoreprevious", which is how
// textnorm.Despace joins "i g n o r e p r e v i o u s". The same rule as the
// policy's prompt filters.
const minCompact = 8

// NewSet indexes indicators. Each is put in canonical form first (see
// Normalize); those that do not validate are left out and counted by
// Skipped. Indicators with the same type and value are merged into one:
// the first one's id, the highest severity and confidence, the union of
// sources (comma-separated), labels and ATLAS techniques, the first
// non-empty description, and a validity window covering all of theirs.
func NewSet(list []Indicator) *Set {
	s := &Set{
		exact:    make(map[netip.Addr]int32),
		exact4:   make(map[uint32]int32),
		seen4:    new([1 << 12]uint64),
		prefixes: &prefixTable{},
		keys:     make(map[string]int32),
		models:   make(map[string]int32),
		domains:  make(map[string]int32),
		urls:     make(map[string]int32),
	}
	type key struct {
		t Type
		v string
	}
	index := make(map[key]int32, len(list))
	s.inds = make([]Indicator, 0, len(list))
	sources := make([][]string, 0, len(list))
	for _, ind := range list {
		ind, err := Normalize(ind)
		if err != nil {
			s.skipped++
			continue
		}
		k := key{ind.Type, ind.Value}
		if i, ok := index[k]; ok {
			merge(&s.inds[i], ind)
			if ind.Source != "" && !slices.Contains(sources[i], ind.Source) {
				sources[i] = append(sources[i], ind.Source)
			}
			continue
		}
		index[k] = int32(len(s.inds))
		ind.Labels = slices.Clone(ind.Labels)
		ind.ATLAS = slices.Clone(ind.ATLAS)
		s.inds = append(s.inds, ind)
		var src []string
		if ind.Source != "" {
			src = []string{ind.Source}
		}
		sources = append(sources, src)
	}

	var patterns []string
	patternIndex := make(map[string]int32)
	addLiteral := func(p string, i int32) {
		j, ok := patternIndex[p]
		if !ok {
			j = int32(len(patterns))
			patternIndex[p] = j
			patterns = append(patterns, p)
			s.litInds = append(s.litInds, nil)
		}
		if !slices.Contains(s.litInds[j], i) {
			s.litInds[j] = append(s.litInds[j], i)
		}
	}
	for n := range s.inds {
		ind := &s.inds[n]
		ind.Source = strings.Join(sources[n], ", ")
		i := int32(n)
		switch ind.Type {
		case TypeIP:
			if a := netip.MustParseAddr(ind.Value); a.Is4() {
				v := ipv4Number(a)
				s.exact4[v] = i
				h := ipv4Hash(v)
				s.seen4[h/64] |= 1 << (h % 64)
			} else {
				s.exact[a] = i
			}
		case TypeCIDR:
			s.prefixes.add(netip.MustParsePrefix(ind.Value), i)
		case TypeAPIKeyHash:
			s.keys[ind.Value] = i
		case TypeModelHash:
			s.models[ind.Value] = i
		case TypeDomain:
			s.domains[ind.Value] = i
		case TypeURL:
			s.urls[ind.Value] = i
		case TypePromptSignature:
			if pat, ok := strings.CutPrefix(ind.Value, regexPrefix); ok {
				re, _ := compileSignature(pat) // valid: Normalize compiled it
				s.regexes = append(s.regexes, regexSignature{re, i})
				continue
			}
			addLiteral(ind.Value, i)
			if compact := strings.ReplaceAll(ind.Value, " ", ""); compact != ind.Value && len(compact) >= minCompact {
				addLiteral(compact, i)
			}
		}
	}
	s.prefixes.seal()
	if len(patterns) > 0 {
		s.literals = newLiteralSet(patterns)
	}
	if len(patterns) > 0 || len(s.regexes) > 0 {
		s.screen = newScreen(patterns)
	}
	return s
}

// merge folds b, an indicator with a's type and value, into a.
func merge(a *Indicator, b Indicator) {
	a.Severity = max(a.Severity, b.Severity)
	a.Confidence = max(a.Confidence, b.Confidence)
	if a.Description == "" {
		a.Description = b.Description
	}
	for _, l := range b.Labels {
		if !slices.Contains(a.Labels, l) {
			a.Labels = append(a.Labels, l)
		}
	}
	for _, t := range b.ATLAS {
		if !slices.Contains(a.ATLAS, t) {
			a.ATLAS = append(a.ATLAS, t)
		}
	}
	if b.ValidFrom.IsZero() || !a.ValidFrom.IsZero() && b.ValidFrom.Before(a.ValidFrom) {
		a.ValidFrom = b.ValidFrom
	}
	if b.ValidUntil.IsZero() || !a.ValidUntil.IsZero() && b.ValidUntil.After(a.ValidUntil) {
		a.ValidUntil = b.ValidUntil
	}
}

// Len is the number of indicators in the set, after merging.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.inds)
}

// Skipped is the number of indicators NewSet left out as invalid.
func (s *Set) Skipped() int {
	if s == nil {
		return 0
	}
	return s.skipped
}

// Indicators returns the set's indicators, merged, in the order first seen.
func (s *Set) Indicators() []Indicator {
	if s == nil {
		return nil
	}
	return slices.Clone(s.inds)
}

// MatchIP returns the indicators for addr: its ip indicator, then the CIDR
// prefixes that hold it, most specific first. IPv4-mapped IPv6 addresses
// match as IPv4. Validity windows are not checked (see Indicator.ActiveAt).
func (s *Set) MatchIP(addr netip.Addr) []Indicator {
	var out []Indicator
	s.matchIP(addr, func(i int32) { out = append(out, s.inds[i]) })
	return out
}

func (s *Set) matchIP(addr netip.Addr, fn func(int32)) {
	if s == nil || !addr.IsValid() {
		return
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		s.matchIPv4(ipv4Number(addr), fn)
		return
	}
	if i, ok := s.exact[addr]; ok {
		fn(i)
	}
	s.prefixes.match(addr, fn)
}

// MatchKeyHash returns the indicator for an API key hash in the gateway's
// form (kh_ and 24 hex digits), if any.
func (s *Set) MatchKeyHash(hash string) []Indicator {
	if s == nil {
		return nil
	}
	return s.lookup(s.keys, strings.ToLower(hash))
}

// MatchModelHash returns the indicator for a model file's SHA-256 digest in
// hex, if any.
func (s *Set) MatchModelHash(digest string) []Indicator {
	if s == nil {
		return nil
	}
	return s.lookup(s.models, strings.ToLower(digest))
}

// MatchDomain returns the indicators for host and for each domain above it:
// an indicator for evil.example matches www.evil.example.
func (s *Set) MatchDomain(host string) []Indicator {
	if s == nil || len(s.domains) == 0 {
		return nil
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	var out []Indicator
	for {
		out = append(out, s.lookup(s.domains, host)...)
		_, rest, ok := strings.Cut(host, ".")
		if !ok {
			return out
		}
		host = rest
	}
}

// MatchURL returns the indicator for a URL, compared in the canonical form
// Normalize gives (lower-case scheme and host, no fragment).
func (s *Set) MatchURL(u string) []Indicator {
	if s == nil || len(s.urls) == 0 {
		return nil
	}
	v, err := normalizeURL(u)
	if err != nil {
		return nil
	}
	return s.lookup(s.urls, v)
}

func (s *Set) lookup(m map[string]int32, v string) []Indicator {
	if i, ok := m[v]; ok {
		return []Indicator{s.inds[i]}
	}
	return nil
}

// MatchPrompt returns the prompt signatures found in text. Text is matched
// in every form textnorm.Variants gives (folded, despaced, deleeted), and in
// those of the text textnorm.Hidden reveals, as the policy's prompt filters
// do: literal signatures in one pass per form however many there are, then
// regex signatures. Validity windows are not checked.
func (s *Set) MatchPrompt(text string) []Indicator {
	var out []Indicator
	s.matchPrompt(text, func(i int32, _ string) { out = append(out, s.inds[i]) })
	return out
}

// matchPrompt calls fn once for each signature found in text, with the
// folded text it matched. A prompt the screen clears cannot hold a literal
// signature, and its forms are simple enough to write down directly.
func (s *Set) matchPrompt(text string, fn func(ind int32, excerpt string)) {
	if s == nil || text == "" || s.literals == nil && len(s.regexes) == 0 {
		return
	}
	var forms []string
	var found foundSet
	if s.screen.clears(text) {
		if len(s.regexes) == 0 {
			return
		}
		forms = plainForms(text)
	} else {
		forms = textnorm.Variants(text)
		if h := textnorm.Hidden(text); h != "" {
			forms = append(forms, textnorm.Variants(h)...)
		}
		s.matchLiterals(forms, &found, fn)
	}
	for _, r := range s.regexes {
		if found.has(r.ind) {
			continue
		}
		for _, form := range forms {
			if loc := r.re.FindStringIndex(form); loc != nil {
				found.add(r.ind)
				fn(r.ind, excerpt(form[loc[0]:loc[1]]))
				break
			}
		}
	}
}

// matchLiterals reports the literal signatures found in forms.
func (s *Set) matchLiterals(forms []string, found *foundSet, fn func(ind int32, excerpt string)) {
	if s.literals == nil {
		return
	}
	for _, form := range forms {
		s.literals.each(form, func(p int32, end int) {
			for _, i := range s.litInds[p] {
				if found.add(i) {
					fn(i, excerpt(form[end-len(s.literals.patterns[p]):end]))
				}
			}
		})
	}
}

// plainForms is textnorm.Variants for a prompt the screen cleared: plain
// ASCII without a spaced run, whose forms are the folded text (lower case,
// white space collapsed and trimmed) and its deleeted form. Written here
// in one pass that takes no branch on the bytes it reads (whether a byte
// is white space is data, and a branch on it would often be guessed
// wrong), then a look at each token with a leetspeak character.
func plainForms(text string) []string {
	b := make([]byte, len(text)+1)
	var leetAt [64]int // where the leetspeak characters went in b
	n, leets, prevSpace := 0, 0, 1
	for i := 0; i < len(text); i++ {
		c := text[i]
		b[n] = foldByte[c]
		space := int(class[c] >> 1 & 1) // classSpace
		n += 1 - space&prevSpace        // a space after a space, or first, is dropped
		prevSpace = space
		leetAt[leets&63] = n - 1
		leets += int(isLeet[c])
	}
	if n > 0 && b[n-1] == ' ' {
		n--
	}
	f := string(b[:n])
	if leets == 0 {
		return []string{f}
	}
	if leets > len(leetAt) {
		return []string{f, textnorm.Deleet(f)}
	}
	// Deleet: in each space-separated token with a letter, every leetspeak
	// character becomes its letter.
	changed, done := false, 0
	for _, p := range leetAt[:leets] {
		if p < done {
			continue // in a token already seen
		}
		start, end := p, p
		for start > 0 && b[start-1] != ' ' {
			start--
		}
		for end < n && b[end] != ' ' {
			end++
		}
		done = end
		letter := false
		for _, c := range b[start:end] {
			letter = letter || 'a' <= c && c <= 'z'
		}
		if letter {
			for j := start; j < end; j++ {
				b[j] = canon[b[j]]
			}
			changed = true
		}
	}
	if !changed {
		return []string{f}
	}
	return []string{f, string(b[:n])}
}

// foldByte is what Fold makes of an ASCII byte of cleared text: lower
// case, and white space a space.
var foldByte = func() (t [256]byte) {
	for c := range 256 {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' || canon[c] == ' ' {
			t[c] = canon[c]
		}
	}
	return t
}()

// isLeet marks the characters Deleet may turn into letters.
var isLeet = func() (t [256]uint8) {
	for c := 0; c < 0x80; c++ {
		if canon[c] != 0 && canon[c] != byte(c) && canon[c] != ' ' && !('A' <= c && c <= 'Z') {
			t[c] = 1
		}
	}
	return t
}()

// foundSet remembers the indicators already reported for one text: a short
// list while it is short, a map beyond.
type foundSet struct {
	list []int32
	m    map[int32]bool
}

func (f *foundSet) has(i int32) bool {
	if f.m != nil {
		return f.m[i]
	}
	return slices.Contains(f.list, i)
}

// add reports whether i is new.
func (f *foundSet) add(i int32) bool {
	if f.has(i) {
		return false
	}
	if f.m == nil && len(f.list) < 32 {
		f.list = append(f.list, i)
		return true
	}
	if f.m == nil {
		f.m = make(map[int32]bool, 64)
		for _, j := range f.list {
			f.m[j] = true
		}
	}
	f.m[i] = true
	return true
}

func excerpt(s string) string { return cut(s, MaxExcerpt) }

// Match returns the indicators found in a gateway event that are valid at
// the event's time (or now, if it has none): its IP address, its API key
// hash, and its prompt text (PromptText, or Prompt where the text was
// captured).
func (s *Set) Match(ev event.Event) []Hit { return s.MatchEvent(&ev) }

// MatchEvent is Match without copying the event, for callers that hold a
// pointer to it.
func (s *Set) MatchEvent(ev *event.Event) []Hit {
	if s == nil || len(s.inds) == 0 {
		return nil
	}
	at := ev.Time
	if at.IsZero() {
		at = time.Now()
	}
	var hits []Hit
	hit := func(i int32, field, excerpt string) {
		if ind := s.inds[i]; ind.ActiveAt(at) {
			hits = append(hits, Hit{Indicator: ind, Field: field, Excerpt: excerpt})
		}
	}
	if v, ok := parseIPv4(ev.IP); ok {
		s.matchIPv4(v, func(i int32) { hit(i, FieldIP, ev.IP) }) // as netip.Addr.String writes it
	} else if ev.IP != "" {
		if a, err := netip.ParseAddr(ev.IP); err == nil {
			a = a.Unmap().WithZone("")
			s.matchIP(a, func(i int32) { hit(i, FieldIP, a.String()) })
		}
	}
	if ev.APIKeyHash != "" && len(s.keys) > 0 {
		if i, ok := s.keys[strings.ToLower(ev.APIKeyHash)]; ok {
			hit(i, FieldAPIKeyHash, ev.APIKeyHash)
		}
	}
	text := ev.PromptText
	if text == "" {
		text = ev.Prompt
	}
	s.matchPrompt(text, func(i int32, ex string) { hit(i, FieldPrompt, ex) })
	return hits
}
