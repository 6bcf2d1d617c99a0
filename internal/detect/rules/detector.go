package rules

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Name is the detector's name in alerts; the rule is the user rule's id.
const Name = "rules"

// Options configure a Detector. Zero fields take the defaults in brackets.
type Options struct {
	// MaxGroups bounds the groups an aggregated rule keeps, least recently
	// seen forgotten first. [50,000]
	MaxGroups int
}

// maxScan bounds the bytes of a prompt or output that contains and regex
// read.
const maxScan = 1 << 20

// Detector runs a RuleSet. Observe is called from the engine's goroutine;
// Replace and Watch may be called from any other: a new rule set is picked
// up by the next Observe, and aggregation state carries over for rules
// whose definition did not change.
type Detector struct {
	opts      Options
	seed      maphash.Seed
	active    *active                 // owned by Observe's goroutine
	pending   atomic.Pointer[RuleSet] // set by Replace, taken by Observe
	published atomic.Pointer[RuleSet] // the latest rule set, for readers
	lastErr   atomic.Pointer[errBox]
	memo      []int8 // per selection of the rule being evaluated: 0 unknown, 1 false, 2 true
}

type errBox struct{ err error }

// active is a rule set with the aggregation state of each of its rules.
type active struct {
	rs *RuleSet
	// groups are per rule, nil without an aggregate. A group is keyed by
	// the seeded hash of its field's value, as distinct values are: the
	// lookup then neither hashes nor compares the value's bytes again, and
	// evicting a group does not read its key.
	groups []*detect.State[uint64, group]
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector running rs (nil for no rules yet).
func New(rs *RuleSet, opts Options) *Detector {
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = 50_000
	}
	if rs == nil {
		rs = &RuleSet{}
	}
	d := &Detector{opts: opts, seed: maphash.MakeSeed()}
	d.active = d.activate(rs, nil)
	d.published.Store(rs)
	return d
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Replace makes rs the rule set from the next event on.
func (d *Detector) Replace(rs *RuleSet) {
	d.pending.Store(rs)
	d.published.Store(rs)
	d.lastErr.Store(nil)
}

// RuleSet is the rule set in force (or about to be, after Replace).
func (d *Detector) RuleSet() *RuleSet { return d.published.Load() }

// LastError is the error of the last failed reload, or nil if the last
// load succeeded.
func (d *Detector) LastError() error {
	if b := d.lastErr.Load(); b != nil {
		return b.err
	}
	return nil
}

// activate pairs rs with aggregation state, keeping old's state for rules
// whose id and definition are unchanged.
func (d *Detector) activate(rs *RuleSet, old *active) *active {
	a := &active{rs: rs, groups: make([]*detect.State[uint64, group], len(rs.rules))}
	for i, r := range rs.rules {
		if r.agg == nil {
			continue
		}
		if old != nil {
			for j, o := range old.rs.rules {
				if o.id == r.id && o.sig == r.sig && old.groups[j] != nil {
					a.groups[i] = old.groups[j]
				}
			}
		}
		if a.groups[i] == nil {
			a.groups[i] = detect.NewState[uint64, group](d.opts.MaxGroups, 2*r.agg.window)
		}
	}
	return a
}

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	if rs := d.pending.Swap(nil); rs != nil {
		d.active = d.activate(rs, d.active)
	}
	for i, r := range d.active.rs.rules {
		if !r.enabled || !d.matches(r, ev) {
			continue
		}
		if r.agg == nil {
			d.raise(r, ev, out, nil, "", 0)
			continue
		}
		d.aggregate(r, d.active.groups[i], ev, out)
	}
}

func (d *Detector) matches(r *rule, ev *event.Event) bool {
	if cap(d.memo) < len(r.sels) {
		d.memo = make([]int8, MaxSelections)
	}
	memo := d.memo[:len(r.sels)]
	clear(memo)
	return r.cond.eval(func(j int) bool {
		if memo[j] == 0 {
			memo[j] = 1
			if r.sels[j].match(ev) {
				memo[j] = 2
			}
		}
		return memo[j] == 2
	})
}

func (s *selection) match(ev *event.Event) bool {
	for i := range s.matchers {
		if !s.matchers[i].match(ev) {
			return false
		}
	}
	return true
}

func (m *matcher) match(ev *event.Event) bool {
	switch m.f.kind {
	case kindString:
		v := m.f.str(ev)
		if len(v) > maxScan {
			v = v[:maxScan]
		}
		for i := range m.ops {
			if _, _, ok := m.ops[i].matchString(v); !ok {
				return false
			}
		}
	case kindNumber:
		v := m.f.num(ev)
		for i := range m.ops {
			if !m.ops[i].matchNumber(v) {
				return false
			}
		}
	case kindBool:
		v := m.f.bln(ev)
		for i := range m.ops {
			if m.ops[i].b != v {
				return false
			}
		}
	}
	return true
}

// matchString reports whether v satisfies the operator and, for contains
// and regex, where.
func (o *op) matchString(v string) (start, end int, ok bool) {
	switch o.kind {
	case opEquals, opIn:
		return 0, 0, slices.Contains(o.strs, v)
	case opContains:
		for j, s := range o.strs {
			if i := textnorm.IndexASCIIFold(v, s, o.rare[j]); i >= 0 {
				return i, i + len(s), true
			}
		}
		return 0, 0, false
	case opRegex:
		loc := o.re.FindStringIndex(v)
		if loc == nil {
			return 0, 0, false
		}
		return loc[0], loc[1], true
	}
	return 0, 0, false
}

func (o *op) matchNumber(v float64) bool {
	switch o.kind {
	case opEquals, opIn:
		return slices.Contains(o.nums, v)
	case opGT:
		return v > o.nums[0]
	case opLT:
		return v < o.nums[0]
	}
	return false
}

// aggSlots is how many sub-windows a count window is kept in: a count
// covers the last window to within a tenth of it.
const aggSlots = 10

// group is one group's counts for an aggregated rule. A group is kept for
// each of up to Options.MaxGroups callers, so it holds only what its rule
// counts: a count rule's sub-windows apart, a distinct count's values in
// place.
type group struct {
	counts   *countWindow // count: events per sub-window
	distinct distinctSet  // count_distinct: values seen, at most the threshold
	quiet    int64        // no alert before this time (unix ns): one per window
	evidence [4]string
	evNext   uint8
}

// countWindow is a count rule's window, in aggSlots sub-windows.
type countWindow struct {
	slots   [aggSlots]uint32
	slotIdx [aggSlots]int64
}

func (d *Detector) aggregate(r *rule, groups *detect.State[uint64, group], ev *event.Event, out detect.Sink) {
	a := r.agg
	key := ""
	if a.by != nil {
		key = stringOf(*a.by, ev)
		if key == "" {
			return // an event without the group's field is in no group
		}
	}
	// An event without the counted field counts for nothing: like one
	// without the group's field it is in no group, so it neither creates
	// one (nor evicts another to make room) nor keeps one alive.
	var v string
	if a.distinct != nil {
		if v = stringOf(*a.distinct, ev); v == "" {
			return
		}
	}
	now := ev.Time.UnixNano()
	h := maphash.String(d.seed, key)
	g := groups.GetOrCreate(h, ev.Time, func() group { return group{} })
	var n int
	if a.distinct != nil {
		n = g.distinct.add(maphash.String(d.seed, v), now, int64(a.window), a.threshold)
	} else {
		if g.counts == nil {
			g.counts = new(countWindow)
		}
		n = g.counts.add(now, int64(a.window))
	}
	if n%max(1, a.threshold/4) == 1 || n == a.threshold {
		g.evidence[g.evNext] = ev.ID
		g.evNext = (g.evNext + 1) % uint8(len(g.evidence))
	}
	if n < a.threshold || now < g.quiet {
		return
	}
	g.quiet = now + int64(a.window)
	if len(key) > 256 || !utf8.ValidString(key) {
		key = "#" + strconv.FormatUint(h, 16)
	}
	d.raise(r, ev, out, g, key, n)
}

// add counts one event at now and returns the events in the window.
func (g *countWindow) add(now, window int64) int {
	sub := max(window/aggSlots, 1)
	idx := now / sub
	s := idx % aggSlots
	if g.slotIdx[s] != idx {
		g.slotIdx[s], g.slots[s] = idx, 0
	}
	g.slots[s]++
	n := 0
	for i := range g.slots {
		if g.slotIdx[i] > idx-aggSlots && g.slotIdx[i] <= idx {
			n += int(g.slots[i])
		}
	}
	return n
}

// stringOf is a field's value as text, for grouping and distinct counting.
func stringOf(f field, ev *event.Event) string {
	switch f.kind {
	case kindNumber:
		return strconv.FormatFloat(f.num(ev), 'g', -1, 64)
	case kindBool:
		return strconv.FormatBool(f.bln(ev))
	}
	return f.str(ev)
}

func (d *Detector) raise(r *rule, ev *event.Event, out detect.Sink, g *group, key string, n int) {
	entities := detect.Entities(ev)
	if rt := detect.EntityValue(ev.Route); rt != "" {
		entities = append(entities, event.Entity{Kind: event.EntityRoute, Value: rt})
	}
	// The alert is about the group when there is one, else the caller.
	var subject []event.Entity
	var sum strings.Builder
	ids := []string{}
	if g != nil {
		a := r.agg
		what := "matching events"
		if a.distinct != nil {
			what = "distinct values of " + a.distinct.name
		}
		fmt.Fprintf(&sum, "rule %q: %d %s in %s", r.id, n, what, a.window)
		if a.by != nil {
			fmt.Fprintf(&sum, " for %s=%s", a.by.name, short(key))
			kind := a.by.entity
			if kind == "" {
				kind = event.EntityKind(a.by.name) // for the fingerprint only
			}
			subject = []event.Entity{{Kind: kind, Value: key}}
		}
		fmt.Fprintf(&sum, " (threshold %d)", a.threshold)
		for i := range g.evidence {
			if id := g.evidence[(int(g.evNext)+i)%len(g.evidence)]; id != "" && id != ev.ID && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	} else {
		fmt.Fprintf(&sum, "rule %q matched", r.id)
		if who, ok := detect.Caller(ev); ok {
			subject = []event.Entity{who}
		}
	}
	if r.description != "" {
		sum.WriteString(": " + r.description)
	}
	ids = append(ids, ev.ID)
	out.Raise(event.Alert{
		Detector:    Name,
		Rule:        r.id,
		Type:        r.typ,
		ATLAS:       slices.Clone(r.atlas),
		Severity:    r.severity,
		Confidence:  r.confidence,
		Summary:     sum.String(),
		Entities:    entities,
		Evidence:    event.AlertEvidence{EventIDs: ids, Excerpt: excerpt(r, ev)},
		Fingerprint: detect.Fingerprint(Name, r.id, subject),
	})
}

// excerpt shows the fields the rule read, as name=value: values short and
// redacted, and for text matched by contains or regex the text around the
// match.
func excerpt(r *rule, ev *event.Event) string {
	const budget = 360
	var b strings.Builder
	for _, f := range r.refs {
		v := stringOf(f, ev)
		var x string
		if at, end, ok := r.locate(f.name, v); ok {
			x = detect.Excerpt(v, at, end)
		} else {
			x = detect.Excerpt(v[:runeCut(v, 64)], 0, 0)
			if len(v) > 64 {
				x += "…"
			}
		}
		part := f.name + "=" + x
		if b.Len() > 0 {
			part = " " + part
		}
		if b.Len()+len(part) > budget {
			break
		}
		b.WriteString(part)
	}
	return b.String()
}

// locate finds where the rule's first contains or regex on the field
// matches v.
func (r *rule) locate(name, v string) (int, int, bool) {
	if len(v) > maxScan {
		v = v[:maxScan]
	}
	for _, s := range r.sels {
		for _, m := range s.matchers {
			if m.f.name != name || m.f.kind != kindString {
				continue
			}
			for i := range m.ops {
				if k := m.ops[i].kind; k != opContains && k != opRegex {
					continue
				}
				if a, z, ok := m.ops[i].matchString(v); ok {
					return a, z, true
				}
			}
		}
	}
	return 0, 0, false
}

func runeCut(s string, n int) int {
	if len(s) <= n {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

func short(s string) string {
	s = strings.ToValidUTF8(s[:runeCut(s, 64)], "\uFFFD")
	return s
}
