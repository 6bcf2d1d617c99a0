package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// MaxActions bounds how many actions one policy holds.
const MaxActions = 100_000

// Snapshot is a compiled, immutable policy: safe for concurrent use, and
// never changed once built (a new policy version is a new Snapshot).
type Snapshot struct {
	version int64
	actions []Action // canonical deep copies; entries point into it
	entries []entry

	// Each action is indexed once, under its most selective target field:
	// api_key_hash, then user, ip, cidr, route, model; the rest are global.
	byKey   map[string][]int32
	byUser  map[string][]int32
	byIP    map[netip.Addr][]int32
	cidrs   []cidrIndex
	byRoute map[string][]int32
	byModel map[string][]int32
	global  []int32
}

// cidrIndex holds the CIDR actions of one address family and prefix length.
type cidrIndex struct {
	is4      bool
	bits     int
	prefixes map[netip.Prefix][]int32
}

// entry is an action ready for evaluation.
type entry struct {
	action *Action
	kind   Kind
	target Target
	ip     netip.Addr   // valid if the target has an IP
	prefix netip.Prefix // valid if the target has a CIDR

	expires   time.Time
	hasExpiry bool

	fields int     // non-empty target fields: the more, the more specific
	limits Limits  // request_limits
	output Output  // output_protection
	filter *Filter // prompt_filter, on its own
}

var emptySnapshot = &Snapshot{}

// Empty returns the snapshot of the empty policy, version 0.
func Empty() *Snapshot { return emptySnapshot }

// Version is the version of the policy the snapshot was compiled from.
func (s *Snapshot) Version() int64 { return s.version }

// Policy returns a copy of the canonical policy the snapshot enforces.
func (s *Snapshot) Policy() Policy {
	p := Policy{Version: s.version, Actions: make([]Action, len(s.actions))}
	for i := range s.actions {
		p.Actions[i] = s.actions[i].clone()
	}
	return p
}

// Compile validates every action (reporting all problems as one
// *ValidationError whose problems are prefixed with "actions[i]."), checks
// that IDs are unique, compiles the prompt filters once and indexes the
// actions for Evaluate. p is not modified.
func Compile(p Policy) (*Snapshot, error) {
	var problems []string
	if p.Version < 0 {
		problems = append(problems, fmt.Sprintf("version: %d is negative", p.Version))
	}
	if len(p.Actions) > MaxActions {
		problems = append(problems, fmt.Sprintf("actions: %d, more than %d", len(p.Actions), MaxActions))
		return nil, newValidationError(problems)
	}
	s := &Snapshot{version: p.Version, actions: make([]Action, len(p.Actions))}
	regexes := make([][]compiledRegex, len(p.Actions))
	ids := make(map[string]int, len(p.Actions))
	for i := range p.Actions {
		s.actions[i] = p.Actions[i].clone()
		a := &s.actions[i]
		var v validator
		v.check(a, true)
		for _, pr := range v.problems {
			problems = append(problems, fmt.Sprintf("actions[%d].%s", i, pr))
		}
		if j, dup := ids[a.ID]; dup && a.ID != "" {
			problems = append(problems, fmt.Sprintf("actions[%d].id: %q is also the id of actions[%d]", i, clip(a.ID), j))
		} else {
			ids[a.ID] = i
		}
		regexes[i] = v.regexes
	}
	if len(problems) > 0 {
		return nil, newValidationError(problems)
	}

	s.entries = make([]entry, len(s.actions))
	for i := range s.actions {
		s.entries[i] = newEntry(&s.actions[i], regexes[i])
		s.index(int32(i))
	}
	slices.SortFunc(s.cidrs, func(a, b cidrIndex) int { return b.bits - a.bits })
	return s, nil
}

func newEntry(a *Action, regexes []compiledRegex) entry {
	e := entry{action: a, kind: a.Kind, target: a.Target}
	t := &a.Target
	if t.IP != "" {
		e.ip = netip.MustParseAddr(t.IP) // canonical after validation
	}
	if t.CIDR != "" {
		e.prefix = netip.MustParsePrefix(t.CIDR)
	}
	if a.ExpiresAt != nil {
		e.expires, e.hasExpiry = *a.ExpiresAt, true
	}
	for _, f := range []string{t.APIKeyHash, t.User, t.IP, t.CIDR, t.Route, t.Model} {
		if f != "" {
			e.fields++
		}
	}
	p := &a.Params
	switch a.Kind {
	case KindRequestLimits:
		e.limits = Limits{
			MaxPromptChars: p.MaxPromptChars,
			MaxMessages:    p.MaxMessages,
			MaxTokens:      p.MaxTokens,
			MaxN:           p.MaxN,
			Logprobs:       p.Logprobs,
		}
	case KindOutputProtection:
		e.output = Output{
			RedactPII:      p.RedactPII,
			RedactSecrets:  p.RedactSecrets,
			Logprobs:       p.Logprobs,
			MaxOutputChars: p.MaxOutputChars,
		}
		if p.Logprobs == LogprobsRound {
			e.output.LogprobDigits = defaultDigits
			if p.LogprobDigits != nil {
				e.output.LogprobDigits = *p.LogprobDigits
			}
		}
	case KindPromptFilter:
		e.filter = &Filter{parts: []*filterPart{newFilterPart(a, regexes)}}
	}
	return e
}

func (s *Snapshot) index(i int32) {
	t := &s.entries[i].target
	add := func(m *map[string][]int32, k string) {
		if *m == nil {
			*m = make(map[string][]int32)
		}
		(*m)[k] = append((*m)[k], i)
	}
	switch {
	case t.APIKeyHash != "":
		add(&s.byKey, t.APIKeyHash)
	case t.User != "":
		add(&s.byUser, t.User)
	case t.IP != "":
		if s.byIP == nil {
			s.byIP = make(map[netip.Addr][]int32)
		}
		ip := s.entries[i].ip
		s.byIP[ip] = append(s.byIP[ip], i)
	case t.CIDR != "":
		p := s.entries[i].prefix
		k := slices.IndexFunc(s.cidrs, func(c cidrIndex) bool { return c.is4 == p.Addr().Is4() && c.bits == p.Bits() })
		if k < 0 {
			s.cidrs = append(s.cidrs, cidrIndex{is4: p.Addr().Is4(), bits: p.Bits(), prefixes: make(map[netip.Prefix][]int32)})
			k = len(s.cidrs) - 1
		}
		s.cidrs[k].prefixes[p] = append(s.cidrs[k].prefixes[p], i)
	case t.Route != "":
		add(&s.byRoute, t.Route)
	case t.Model != "":
		add(&s.byModel, t.Model)
	default:
		s.global = append(s.global, i)
	}
}
