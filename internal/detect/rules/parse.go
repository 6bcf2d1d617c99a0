package rules

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/taxonomy"
	"github.com/airlock-ir/airlock/internal/textnorm"
	"go.yaml.in/yaml/v3"
)

// Limits on a rule file: what is really there bounds the work, never a
// count the file claims.
const (
	MaxFileSize   = 1 << 20
	MaxRules      = 1000
	MaxSelections = 32
	MaxMatchers   = 32 // fields per selection
	MaxValues     = 1000
	MaxRegex      = 1000 // bytes of one pattern
	MaxThreshold  = 1_000_000
	MaxDistinct   = 10_000 // threshold of a count_distinct rule
	MaxWindow     = 24 * time.Hour
	maxErrors     = 20
)

// Error is one problem in a rule file, with where it is.
type Error struct {
	File  string
	Line  int
	Rule  string // the rule's id, when known
	Field string // the event field or rule key concerned, when known
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// RuleSet is a validated, compiled set of rules. It is immutable; a
// Detector keeps the aggregation state beside it.
type RuleSet struct {
	rules []*rule
	stamp fileStamp
}

// Len is the number of rules (enabled or not).
func (rs *RuleSet) Len() int { return len(rs.rules) }

// IDs lists the rules' ids in file order.
func (rs *RuleSet) IDs() []string {
	ids := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		ids[i] = r.id
	}
	return ids
}

type rule struct {
	id, description, typ string
	atlas                []string
	severity             event.Severity
	confidence           float64
	enabled              bool
	sels                 []selection
	cond                 *node
	agg                  *aggregation
	refs                 []field // the fields the rule reads, for the excerpt
	sig                  string  // the rule's definition, to keep its state across reloads
}

type selection struct {
	name     string
	matchers []matcher
}

// matcher tests one field; every op must hold.
type matcher struct {
	f   field
	ops []op
}

type opKind uint8

const (
	opEquals opKind = iota
	opIn
	opContains
	opRegex
	opGT
	opLT
)

var opNames = map[string]opKind{"equals": opEquals, "in": opIn, "contains": opContains, "regex": opRegex, "gt": opGT, "lt": opLT}

type op struct {
	kind opKind
	strs []string // equals / in: the values; contains: lower-cased
	rare []int    // contains: where in each of strs IndexASCIIFold looks first
	nums []float64
	b    bool
	re   *regexp.Regexp
}

type aggregation struct {
	distinct  *field // nil for count
	by        *field // nil for one group
	window    time.Duration
	threshold int
}

// Load reads and compiles the rule file at path.
func Load(path string) (*RuleSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Read at most one byte past the limit, whatever size the file claims.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	rs, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	rs.stamp = fileStamp{path: path, mod: st.ModTime(), size: st.Size()}
	return rs, nil
}

// Parse compiles rules from data; name is the file name used in errors.
// Every problem found is reported (up to 20), each naming the line, the
// rule and the field.
func Parse(name string, data []byte) (*RuleSet, error) {
	p := &parser{file: name}
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("%d bytes, more than the limit of %d", len(data), MaxFileSize)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	rs := &RuleSet{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return rs, nil // an empty file: no rules
	}
	root := doc.Content[0]
	top := p.mapping(root, "", "", map[string]bool{"rules": true})
	if list, ok := top["rules"]; ok && !isNull(list) {
		if list.Kind != yaml.SequenceNode {
			p.errorf(list, "", "rules", "want a list of rules")
		} else if len(list.Content) > MaxRules {
			p.errorf(list, "", "rules", "%d rules, more than the limit of %d", len(list.Content), MaxRules)
		} else {
			seen := map[string]int{}
			for _, rn := range list.Content {
				r := p.rule(rn)
				if r == nil {
					continue
				}
				if line, dup := seen[r.id]; dup {
					p.errorf(rn, r.id, "id", "duplicate id (first at line %d)", line)
					continue
				}
				seen[r.id] = rn.Line
				rs.rules = append(rs.rules, r)
			}
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return rs, nil
}

type parser struct {
	file string
	errs []error
	more int
}

func (p *parser) errorf(n *yaml.Node, ruleID, fieldName, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		p.more++
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Rule: ruleID, Field: fieldName, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	if p.more > 0 {
		p.errs = append(p.errs, fmt.Errorf("%s: and %d more errors", p.file, p.more))
	}
	return errors.Join(p.errs...)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// mapping returns n's keys and values, reporting a node that is not a
// mapping, aliases, duplicate keys and keys not in allowed (nil allows any).
func (p *parser) mapping(n *yaml.Node, ruleID, where string, allowed map[string]bool) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		p.errorf(n, ruleID, where, "anchors and aliases are not supported")
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, ruleID, where, "want a mapping, got %s", describe(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, ruleID, where, "keys must be plain names")
			continue
		}
		name := k.Value
		if _, dup := out[name]; dup {
			p.errorf(k, ruleID, join(where, name), "duplicate key")
			continue
		}
		if allowed != nil && !allowed[name] {
			p.errorf(k, ruleID, join(where, name), "unknown key (want one of %s)", keyList(allowed))
			continue
		}
		if v.Kind == yaml.AliasNode || v.Anchor != "" {
			p.errorf(v, ruleID, join(where, name), "anchors and aliases are not supported")
			continue
		}
		out[name] = v
	}
	return out
}

func join(where, name string) string {
	if where == "" {
		return name
	}
	return where + "." + name
}

func keyList(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), v)
	}
	return "an alias"
}

var ruleKeys = map[string]bool{
	"id": true, "description": true, "type": true, "atlas": true, "severity": true, "confidence": true,
	"enabled": true, "selections": true, "condition": true, "aggregate": true,
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

func (p *parser) rule(n *yaml.Node) *rule {
	// The id first, so that every later error can name the rule.
	ruleID := ""
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "id" && n.Content[i+1].Kind == yaml.ScalarNode {
				ruleID = n.Content[i+1].Value
			}
		}
	}
	before := len(p.errs) + p.more
	m := p.mapping(n, ruleID, "", ruleKeys)
	r := &rule{id: ruleID, severity: event.SeverityMedium, confidence: 0.7, enabled: true}
	if out, err := yaml.Marshal(n); err == nil {
		r.sig = string(out)
	}

	switch idn, ok := m["id"]; {
	case !ok:
		p.errorf(n, "", "id", "missing (every rule needs an id)")
	case idn.Tag != "!!str" && idn.Tag != "!!int" || !idPattern.MatchString(idn.Value):
		p.errorf(idn, "", "id", "%s is not a valid id (letters, digits, and _ . : - after the first; at most 128)", describe(idn))
	}
	if d, ok := m["description"]; ok {
		r.description, _ = p.str(d, ruleID, "description")
		if len(r.description) > 1000 {
			p.errorf(d, ruleID, "description", "longer than 1000 bytes")
		}
	}
	if t, ok := m["type"]; !ok {
		p.errorf(n, ruleID, "type", "missing (an incident type id, e.g. model_extraction)")
	} else if s, ok := p.str(t, ruleID, "type"); ok {
		if it, err := taxonomy.LookupType(s); err != nil {
			p.errorf(t, ruleID, "type", "%v", err)
		} else {
			r.typ = s
			for _, tq := range it.ATLAS {
				r.atlas = append(r.atlas, tq.ID)
			}
		}
	}
	if a, ok := m["atlas"]; ok {
		r.atlas = nil
		for _, v := range p.strList(a, ruleID, "atlas") {
			if !taxonomy.ValidTechniqueID(v) {
				p.errorf(a, ruleID, "atlas", "%q is not an ATLAS technique id (AML.T0000 or AML.T0000.000)", v)
			}
			r.atlas = append(r.atlas, v)
		}
	}
	if s, ok := m["severity"]; ok {
		if v, ok := p.str(s, ruleID, "severity"); ok {
			sev, err := event.ParseSeverity(v)
			if err != nil {
				p.errorf(s, ruleID, "severity", "%v", err)
			}
			r.severity = sev
		}
	}
	if c, ok := m["confidence"]; ok {
		if v, ok := p.num(c, ruleID, "confidence"); ok {
			if v <= 0 || v > 1 {
				p.errorf(c, ruleID, "confidence", "%v is not in (0, 1]", v)
			}
			r.confidence = v
		}
	}
	if e, ok := m["enabled"]; ok {
		r.enabled, _ = p.boolean(e, ruleID, "enabled")
	}

	names := map[string]int{}
	if s, ok := m["selections"]; !ok {
		p.errorf(n, ruleID, "selections", "missing (at least one named selection of event fields)")
	} else {
		sm := p.mapping(s, ruleID, "selections", nil)
		if len(sm) == 0 && s.Kind == yaml.MappingNode {
			p.errorf(s, ruleID, "selections", "empty")
		}
		if len(sm) > MaxSelections {
			p.errorf(s, ruleID, "selections", "%d selections, more than the limit of %d", len(sm), MaxSelections)
		}
		// In file order, for stable indices.
		for i := 0; i+1 < len(s.Content) && len(r.sels) < MaxSelections; i += 2 {
			name := s.Content[i].Value
			v, ok := sm[name]
			if !ok {
				continue
			}
			if _, err := tokenize(name); err != nil || strings.ContainsAny(name, "() \t") || strings.EqualFold(name, "and") || strings.EqualFold(name, "or") || strings.EqualFold(name, "not") {
				p.errorf(s.Content[i], ruleID, "selections", "%q cannot be a selection name (letters, digits, _ - . only, not and/or/not)", name)
				continue
			}
			names[name] = len(r.sels)
			r.sels = append(r.sels, p.selection(v, ruleID, name, r))
		}
	}

	switch c, ok := m["condition"]; {
	case ok:
		if s, ok := p.str(c, ruleID, "condition"); ok && len(names) > 0 {
			cond, used, err := parseCondition(s, names)
			if err != nil {
				p.errorf(c, ruleID, "condition", "%v", err)
				break
			}
			r.cond = cond
			for _, sel := range r.sels {
				if !used[sel.name] {
					p.errorf(c, ruleID, "condition", "selection %q is defined but not used", sel.name)
				}
			}
		}
	case len(r.sels) == 1:
		r.cond = &node{kind: nodeSel, sel: 0}
	case len(r.sels) > 1:
		p.errorf(n, ruleID, "condition", "missing: with %d selections, say how they combine (e.g. %q)", len(r.sels), r.sels[0].name+" and "+r.sels[1].name)
	}

	if a, ok := m["aggregate"]; ok {
		r.agg = p.aggregate(a, ruleID, r)
	}
	if len(p.errs)+p.more > before {
		return nil
	}
	return r
}

func (p *parser) str(n *yaml.Node, ruleID, where string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, ruleID, where, "want a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) num(n *yaml.Node, ruleID, where string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		p.errorf(n, ruleID, where, "want a number, got %s", describe(n))
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, ruleID, where, "%q is not a finite number", n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) boolean(n *yaml.Node, ruleID, where string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, ruleID, where, "want true or false, got %s", describe(n))
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		p.errorf(n, ruleID, where, "want true or false, got %q", n.Value)
		return false, false
	}
	return v, true
}

// strList accepts one string or a list of strings.
func (p *parser) strList(n *yaml.Node, ruleID, where string) []string {
	if n.Kind == yaml.ScalarNode {
		if s, ok := p.str(n, ruleID, where); ok {
			return []string{s}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, ruleID, where, "want a string or a list of strings, got %s", describe(n))
		return nil
	}
	if len(n.Content) > MaxValues {
		p.errorf(n, ruleID, where, "%d values, more than the limit of %d", len(n.Content), MaxValues)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := p.str(c, ruleID, where); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) selection(n *yaml.Node, ruleID, name string, r *rule) selection {
	sel := selection{name: name}
	where := "selection " + name
	m := p.mapping(n, ruleID, where, nil)
	if len(m) == 0 && n.Kind == yaml.MappingNode {
		p.errorf(n, ruleID, where, "empty: name at least one event field")
	}
	if len(m) > MaxMatchers {
		p.errorf(n, ruleID, where, "%d fields, more than the limit of %d", len(m), MaxMatchers)
		return sel
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fname := n.Content[i].Value
		v, ok := m[fname]
		if !ok {
			continue
		}
		fwhere := "field " + fname
		f, ok := lookupField(fname)
		if !ok {
			p.errorf(n.Content[i], ruleID, fwhere, "unknown field (known: %s)", fieldNames())
			continue
		}
		mt := matcher{f: f}
		if v.Kind == yaml.MappingNode {
			om := p.mapping(v, ruleID, fwhere, nil)
			if len(om) == 0 {
				p.errorf(v, ruleID, fwhere, "no operator (want one of equals, in, contains, regex, gt, lt)")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				oname := v.Content[j].Value
				ov, ok := om[oname]
				if !ok {
					continue
				}
				kind, ok := opNames[oname]
				if !ok {
					p.errorf(v.Content[j], ruleID, fwhere, "unknown operator %q (want one of equals, in, contains, regex, gt, lt)", oname)
					continue
				}
				if o, ok := p.op(kind, ov, f, ruleID, fwhere); ok {
					mt.ops = append(mt.ops, o)
				}
			}
		} else {
			// A plain value is equals; a list is in.
			kind := opEquals
			if v.Kind == yaml.SequenceNode {
				kind = opIn
			}
			if o, ok := p.op(kind, v, f, ruleID, fwhere); ok {
				mt.ops = append(mt.ops, o)
			}
		}
		sel.matchers = append(sel.matchers, mt)
		r.ref(f)
	}
	return sel
}

// op compiles one operator for field f.
func (p *parser) op(kind opKind, n *yaml.Node, f field, ruleID, where string) (op, bool) {
	o := op{kind: kind}
	name := [...]string{"equals", "in", "contains", "regex", "gt", "lt"}[kind]
	fieldWhere := where
	where += ": " + name // for the value checks below
	bad := func(why string) (op, bool) {
		p.errorf(n, ruleID, fieldWhere, "%s: %s", name, why)
		return o, false
	}
	switch kind {
	case opEquals, opIn:
		var vals []*yaml.Node
		if kind == opIn {
			if n.Kind != yaml.SequenceNode {
				return bad("want a list of values, got " + describe(n))
			}
			if len(n.Content) == 0 || len(n.Content) > MaxValues {
				return bad(fmt.Sprintf("want 1 to %d values, got %d", MaxValues, len(n.Content)))
			}
			vals = n.Content
		} else {
			vals = []*yaml.Node{n}
		}
		for _, v := range vals {
			switch f.kind {
			case kindString:
				s, ok := p.str(v, ruleID, where)
				if !ok {
					return o, false
				}
				o.strs = append(o.strs, s)
			case kindNumber:
				x, ok := p.num(v, ruleID, where)
				if !ok {
					return o, false
				}
				o.nums = append(o.nums, x)
			case kindBool:
				if kind == opIn {
					return bad("a boolean field takes equals (true or false)")
				}
				b, ok := p.boolean(v, ruleID, where)
				if !ok {
					return o, false
				}
				o.b = b
			}
		}
	case opContains:
		if f.kind != kindString {
			return bad(fmt.Sprintf("field is a %s; contains applies to strings", f.kind))
		}
		for _, s := range p.strList(n, ruleID, where) {
			if s == "" {
				return bad("an empty string matches everything")
			}
			o.strs = append(o.strs, textnorm.LowerASCII(s))
			o.rare = append(o.rare, textnorm.Rarest(textnorm.LowerASCII(s)))
		}
		if len(o.strs) == 0 {
			return o, false
		}
	case opRegex:
		if f.kind != kindString {
			return bad(fmt.Sprintf("field is a %s; regex applies to strings", f.kind))
		}
		s, ok := p.str(n, ruleID, where)
		if !ok {
			return o, false
		}
		if len(s) > MaxRegex {
			return bad(fmt.Sprintf("pattern is %d bytes, more than the limit of %d", len(s), MaxRegex))
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return bad(strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		o.re = re
	case opGT, opLT:
		if f.kind != kindNumber {
			return bad(fmt.Sprintf("field is a %s; %s applies to numbers", f.kind, name))
		}
		x, ok := p.num(n, ruleID, where)
		if !ok {
			return o, false
		}
		o.nums = []float64{x}
	}
	return o, true
}

var aggKeys = map[string]bool{"count": true, "count_distinct": true, "window": true, "by": true, "threshold": true}

func (p *parser) aggregate(n *yaml.Node, ruleID string, r *rule) *aggregation {
	m := p.mapping(n, ruleID, "aggregate", aggKeys)
	a := &aggregation{}
	c, isCount := m["count"]
	d, isDistinct := m["count_distinct"]
	switch {
	case isCount && isDistinct:
		p.errorf(n, ruleID, "aggregate", "count and count_distinct are exclusive")
	case isCount:
		if v, ok := p.boolean(c, ruleID, "aggregate.count"); ok && !v {
			p.errorf(c, ruleID, "aggregate.count", "count: false counts nothing; remove the aggregate instead")
		}
	case isDistinct:
		if s, ok := p.str(d, ruleID, "aggregate.count_distinct"); ok {
			if f, ok := lookupField(s); ok {
				a.distinct = &f
				r.ref(f)
			} else {
				p.errorf(d, ruleID, "aggregate.count_distinct", "unknown field %q (known: %s)", s, fieldNames())
			}
		}
	default:
		p.errorf(n, ruleID, "aggregate", "missing count: true or count_distinct: FIELD")
	}
	if w, ok := m["window"]; !ok {
		p.errorf(n, ruleID, "aggregate.window", "missing (a duration such as 10m)")
	} else if s, ok := p.str(w, ruleID, "aggregate.window"); ok {
		dur, err := time.ParseDuration(s)
		switch {
		case err != nil:
			p.errorf(w, ruleID, "aggregate.window", "%q is not a duration (such as 30s, 10m, 1h)", s)
		case dur < time.Second || dur > MaxWindow:
			p.errorf(w, ruleID, "aggregate.window", "%s is outside 1s to %s", dur, MaxWindow)
		}
		a.window = dur
	}
	if b, ok := m["by"]; ok {
		if s, ok := p.str(b, ruleID, "aggregate.by"); ok {
			if f, ok := lookupField(s); ok {
				a.by = &f
				r.ref(f)
			} else {
				p.errorf(b, ruleID, "aggregate.by", "unknown field %q (known: %s)", s, fieldNames())
			}
		}
	}
	if t, ok := m["threshold"]; !ok {
		p.errorf(n, ruleID, "aggregate.threshold", "missing (how many in the window fire the rule)")
	} else if v, ok := p.num(t, ruleID, "aggregate.threshold"); ok {
		limit := MaxThreshold
		if a.distinct != nil {
			limit = MaxDistinct
		}
		if v != math.Trunc(v) || v < 1 || v > float64(limit) {
			p.errorf(t, ruleID, "aggregate.threshold", "%v is not a whole number from 1 to %d", v, limit)
		}
		a.threshold = int(v)
	}
	return a
}

// ref notes that the rule reads f.
func (r *rule) ref(f field) {
	for _, g := range r.refs {
		if g.name == f.name {
			return
		}
	}
	r.refs = append(r.refs, f)
}
