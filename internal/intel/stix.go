package intel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/taxonomy"
	"github.com/google/uuid"
)

// ParseSTIX reads a STIX 2.1 bundle (see the package documentation for the
// indicators and patterns it takes). name is the feed's file name, used in
// errors and as the source of indicators whose creator the bundle does not
// name. A feed with any error is refused as a whole: the error lists every
// problem, up to MaxErrors, each a *ParseError at the line of the object or
// field concerned.
func ParseSTIX(name string, r io.Reader) ([]Indicator, error) {
	errs := &errorList{file: name}
	data, err := io.ReadAll(io.LimitReader(r, int64(maxFeedBytes)+1))
	if err != nil {
		errs.addf(1, "read: %v", err)
		return nil, errs.err()
	}
	if len(data) > maxFeedBytes {
		errs.addf(lineAt(data, maxFeedBytes), "feed is larger than %d bytes", maxFeedBytes)
		return nil, errs.err()
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if i := invalidUTF8(data); i >= 0 {
		errs.addf(lineAt(data, i), "invalid UTF-8 at byte %d", i)
		return nil, errs.err()
	}
	if !json.Valid(data) {
		var se *json.SyntaxError
		if err := json.Unmarshal(data, new(json.RawMessage)); errors.As(err, &se) {
			errs.addf(lineAt(data, int(max(se.Offset-1, 0))), "invalid JSON: %v", se)
		} else {
			errs.addf(1, "invalid JSON: %v", err)
		}
		return nil, errs.err()
	}
	p := &stixParser{errs: errs, data: data, name: name, identities: make(map[string]string), latest: make(map[string]int)}
	p.bundle()
	if !errs.empty() {
		return nil, errs.err()
	}
	return p.result(), nil
}

type stixParser struct {
	errs *errorList
	data []byte
	name string
	line lineCounter

	identities map[string]string // identity id → name, for sources
	found      []stixIndicator
	latest     map[string]int // indicator id → index in found of its latest version
	count      int            // indicators so far, revoked and superseded included
	regexes    int
	tooMany    bool
}

// stixIndicator is one version of a STIX indicator object.
type stixIndicator struct {
	id        string
	modified  time.Time
	revoked   bool
	createdBy string
	inds      []Indicator
}

// bundle walks the bundle's top level; the data is valid JSON.
func (p *stixParser) bundle() {
	d := p.data
	i := skipSpace(d, 0)
	if d[i] != '{' {
		p.errs.add(lineAt(d, i), "not a STIX bundle: want a JSON object with \"type\": \"bundle\"")
		return
	}
	seen := make(map[string]bool)
	members(d, i, func(key string, start, end int) bool {
		line := p.line.at(d, start)
		if seen[key] {
			p.errs.addf(line, "bundle: %q appears twice", clip(key))
		}
		seen[key] = true
		raw := d[start:end]
		switch key {
		case "type":
			if jsonString(raw) != "bundle" {
				p.errs.addf(line, "not a STIX bundle: type is %s, want \"bundle\"", clip(string(raw)))
			}
		case "id":
			if !validSTIXID(jsonString(raw), "bundle") {
				p.errs.addf(line, "bundle: id %s is not bundle--<UUID>", clip(string(raw)))
			}
		case "objects":
			if raw[0] != '[' {
				p.errs.add(line, "bundle: objects is not an array")
				break
			}
			index := 0
			elements(d, start, func(start, _ int) bool {
				p.object(start, index)
				index++
				return !p.tooMany
			})
		}
		return !p.tooMany
	})
	if p.tooMany {
		return
	}
	if !seen["type"] {
		p.errs.add(1, "not a STIX bundle: no \"type\": \"bundle\"")
	}
	if !seen["id"] {
		p.errs.add(1, "bundle: no id")
	}
}

// object reads one object of the bundle: an indicator, an identity (for
// sources), or anything else, which is skipped.
func (p *stixParser) object(start, index int) {
	o := stixObject{p: p, start: start, line: p.line.at(p.data, start)}
	if !o.walk(index) {
		return
	}
	typ, ok := o.str("type", true)
	if !ok {
		return
	}
	switch typ {
	case "identity":
		if id, name := o.quiet("id"), o.quiet("name"); id != "" && name != "" {
			p.identities[id] = name
		}
	case "indicator":
		p.indicator(&o)
	}
}

func (p *stixParser) indicator(o *stixObject) {
	errsBefore := len(p.errs.errs) + p.errs.dropped
	si := stixIndicator{}
	if v, ok := o.str("spec_version", true); ok && v != "2.1" {
		o.errf("spec_version", "spec_version is %q, want \"2.1\"", clip(v))
	}
	if v, ok := o.str("id", true); ok {
		if !validSTIXID(v, "indicator") {
			o.errf("id", "id %q is not indicator--<UUID>", clip(v))
		}
		si.id = v
	}
	si.modified, _ = o.time("modified", false)
	si.revoked, _ = o.bool("revoked")
	si.createdBy, _ = o.str("created_by_ref", false)

	base := Indicator{ID: si.id, Confidence: DefaultConfidence, Severity: DefaultSeverity}
	name, _ := o.str("name", false)
	desc, _ := o.str("description", false)
	base.Description = strings.TrimSpace(name)
	if desc = strings.TrimSpace(desc); desc != "" {
		if base.Description != "" {
			base.Description += ": "
		}
		base.Description += desc
	}
	base.ValidFrom, _ = o.time("valid_from", true)
	base.ValidUntil, _ = o.time("valid_until", false)
	if c, ok := o.confidence(); ok {
		base.Confidence = c
	}
	base.Labels, _ = o.strings("labels")
	base.ATLAS = o.atlas()
	if s, ok := o.str("x_airlock_severity", false); ok && s != "" {
		var err error
		if base.Severity, err = event.ParseSeverity(s); err != nil {
			o.errf("x_airlock_severity", "x_airlock_severity: %v", err)
		}
	}
	pt, _ := o.str("pattern_type", true)
	pattern, hasPattern := o.str("pattern", true)
	if len(p.errs.errs)+p.errs.dropped > errsBefore {
		return
	}
	if si.revoked {
		p.keep(si) // a revoked version still overrides earlier ones
		return
	}
	if pt != "stix" {
		o.errf("pattern_type", "pattern_type is %q; only \"stix\" patterns are supported", clip(pt))
		return
	}
	if !hasPattern {
		return
	}
	comps, err := parsePattern(pattern)
	if err != nil {
		o.errf("pattern", "pattern: %v", err)
		return
	}
	for _, c := range comps {
		ind := base
		t, err := comparisonType(c)
		if err == nil {
			ind.Type, ind.Value = t, c.value
			ind.Labels = append([]string(nil), base.Labels...)
			ind.ATLAS = append([]string(nil), base.ATLAS...)
			ind, err = Normalize(ind)
		}
		if err != nil {
			o.errf("pattern", "pattern: %v", err)
			continue
		}
		if isRegex(ind) {
			if p.regexes++; p.regexes == MaxRegexes+1 {
				o.errf("pattern", "the feed has more than %d regex signatures", MaxRegexes)
			}
		}
		if p.count++; p.count > maxIndicators {
			o.errf("pattern", "the feed has more than %d indicators", maxIndicators)
			p.tooMany = true
			return
		}
		si.inds = append(si.inds, ind)
	}
	p.keep(si)
}

// keep records a version of an indicator; the one most recently modified
// wins, and of equal ones the last in the bundle.
func (p *stixParser) keep(si stixIndicator) {
	if i, ok := p.latest[si.id]; ok {
		if si.modified.Before(p.found[i].modified) {
			return
		}
		p.found[i] = si
		return
	}
	p.latest[si.id] = len(p.found)
	p.found = append(p.found, si)
}

// result returns the latest version of each indicator that is not revoked,
// in bundle order, with its creator's name as source.
func (p *stixParser) result() []Indicator {
	var out []Indicator
	for _, si := range p.found {
		if si.revoked {
			continue
		}
		src := sourceName(p.name)
		if n, ok := p.identities[si.createdBy]; ok && checkText("source", n, MaxSourceBytes) == nil {
			src = n
		}
		for _, ind := range si.inds {
			ind.Source = src
			out = append(out, ind)
		}
	}
	return out
}

// stixObject is one object of a bundle with the offsets of its fields.
type stixObject struct {
	p      *stixParser
	start  int // offset of the object in the feed
	line   int
	fields []stixField
}

type stixField struct {
	key        string
	start, end int // offsets of the value in the feed
}

// walk records the object's fields, refusing a repeated one: JSON parsers
// disagree on which copy counts, so a feed could mean one thing to the
// platform that wrote it and another here.
func (o *stixObject) walk(index int) bool {
	d := o.p.data
	if d[o.start] != '{' {
		o.p.errs.addf(o.line, "objects[%d] is not a JSON object", index)
		return false
	}
	ok := true
	members(d, o.start, func(key string, start, end int) bool {
		f := stixField{key: key, start: start, end: end}
		if _, dup := o.field(key); dup {
			o.p.errs.addf(o.fieldLine(f), "%q appears twice in the object", clip(key))
			ok = false
			return false
		}
		o.fields = append(o.fields, f)
		return true
	})
	return ok
}

func (o *stixObject) raw(f stixField) []byte { return o.p.data[f.start:f.end] }

func (o *stixObject) fieldLine(f stixField) int {
	return o.line + bytes.Count(o.p.data[o.start:f.start], []byte{'\n'})
}

func (o *stixObject) field(key string) (stixField, bool) {
	for _, f := range o.fields {
		if f.key == key {
			return f, true
		}
	}
	return stixField{}, false
}

// errf reports a problem with a field, at its line, or at the object's if
// it is missing.
func (o *stixObject) errf(key, format string, args ...any) {
	line := o.line
	if f, ok := o.field(key); ok {
		line = o.fieldLine(f)
	}
	reason := fmt.Sprintf(format, args...)
	if id := o.quiet("id"); id != "" && key != "id" {
		reason = clip(id) + ": " + reason
	}
	o.p.errs.add(line, reason)
}

// decode decodes a field into v; a missing field is an error if required.
func (o *stixObject) decode(key string, v any, want string, required bool) bool {
	f, ok := o.field(key)
	if !ok {
		if required {
			o.errf(key, "%s is missing", key)
		}
		return false
	}
	raw := o.raw(f)
	if sp, ok := v.(*string); ok && raw[0] == '"' {
		*sp = jsonString(raw) // the common case, without reflection
		return true
	}
	if string(raw) == "null" || json.Unmarshal(raw, v) != nil {
		o.errf(key, "%s is %s, want %s", key, clip(string(raw)), want)
		return false
	}
	return true
}

// quiet returns a string field, or "" if it is missing or not a string.
func (o *stixObject) quiet(key string) string {
	if f, ok := o.field(key); ok {
		return jsonString(o.raw(f))
	}
	return ""
}

func (o *stixObject) str(key string, required bool) (string, bool) {
	var s string
	ok := o.decode(key, &s, "a string", required)
	return s, ok
}

func (o *stixObject) bool(key string) (bool, bool) {
	var b bool
	ok := o.decode(key, &b, "true or false", false)
	return b, ok
}

func (o *stixObject) strings(key string) ([]string, bool) {
	var s []string
	ok := o.decode(key, &s, "a list of strings", false)
	return s, ok
}

func (o *stixObject) time(key string, required bool) (time.Time, bool) {
	s, ok := o.str(key, required)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseTime(s)
	if err != nil {
		o.errf(key, "%s: %v", key, err)
		return time.Time{}, false
	}
	return t, true
}

// confidence reads STIX's 0–100 integer confidence as 0..1.
func (o *stixObject) confidence() (float64, bool) {
	var c float64
	if !o.decode("confidence", &c, "an integer from 0 to 100", false) {
		return 0, false
	}
	if c != math.Trunc(c) || c < 0 || c > 100 {
		o.errf("confidence", "confidence is %v, want an integer from 0 to 100", c)
		return 0, false
	}
	return c / 100, true
}

// atlas returns the ATLAS technique ids of the external references whose
// source is "mitre-atlas". References to ATLAS tactics, mitigations or case
// studies are skipped: indicators carry techniques.
func (o *stixObject) atlas() []string {
	var refs []struct {
		SourceName string `json:"source_name"`
		ExternalID string `json:"external_id"`
	}
	if !o.decode("external_references", &refs, "a list of external references", false) {
		return nil
	}
	var ids []string
	for _, r := range refs {
		if r.SourceName != "mitre-atlas" || r.ExternalID == "" {
			continue
		}
		id := strings.TrimSpace(r.ExternalID)
		switch {
		case taxonomy.ValidTechniqueID(id):
			ids = append(ids, id)
		case !isATLASID(id):
			o.errf("external_references", "external_references: %q is not an ATLAS id such as AML.T0051", clip(id))
		}
	}
	return ids
}

// isATLASID reports whether id has the shape of any ATLAS id: AML., one to
// three capital letters, four digits, and optionally a dot and three more.
func isATLASID(id string) bool {
	rest, ok := strings.CutPrefix(id, "AML.")
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && i < 3 && 'A' <= rest[i] && rest[i] <= 'Z' {
		i++
	}
	if i == 0 || !digits(rest[i:min(i+4, len(rest))], 4) {
		return false
	}
	rest = rest[min(i+4, len(rest)):]
	return rest == "" || rest[0] == '.' && digits(rest[1:], 3)
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validSTIXID reports whether id is "typ--" and a UUID.
func validSTIXID(id, typ string) bool {
	rest, ok := strings.CutPrefix(id, typ+"--")
	if !ok || len(rest) != 36 {
		return false
	}
	_, err := uuid.Parse(rest)
	return err == nil
}

// invalidUTF8 returns the offset of the first byte of data that is not
// valid UTF-8, or -1.
func invalidUTF8(data []byte) int {
	if utf8.Valid(data) {
		return -1
	}
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// lineAt returns the 1-based line of data[off].
func lineAt(data []byte, off int) int {
	return 1 + bytes.Count(data[:min(off, len(data))], []byte{'\n'})
}

// lineCounter answers lineAt for offsets that mostly increase, in time
// proportional to the distance from the last answer.
type lineCounter struct {
	off, line int
}

func (c *lineCounter) at(data []byte, off int) int {
	off = min(off, len(data))
	if c.line == 0 || off < c.off {
		c.off, c.line = 0, 1
	}
	c.line += bytes.Count(data[c.off:off], []byte{'\n'})
	c.off = off
	return c.line
}
