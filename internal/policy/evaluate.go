package policy

import (
	"net/netip"
	"slices"
	"time"
)

// Request is what Evaluate needs to know about a request.
type Request struct {
	APIKeyHash string
	User       string
	IP         netip.Addr // an IPv4-mapped IPv6 address matches as IPv4
	Route      string
	Model      string
	// Now decides expiry: actions whose ExpiresAt is not after Now are
	// ignored. A zero Now expires nothing, so a forgotten clock fails closed.
	Now time.Time
}

// Decision is what the policy says about one request. The actions it points
// to, and the Weights map, belong to the snapshot and must not be modified.
type Decision struct {
	Disabled *Action // the route or model is disabled (503)
	Blocked  *Action // the caller is blocked (403)

	// RateLimits lists, in policy order, every rate limit that counts this
	// request; the gateway keeps the counters.
	RateLimits []*Action

	Sanitize bool    // rewrite the prompt with textnorm.Sanitize
	Filter   *Filter // prompt filters that apply; nil if none

	Limits Limits // the strictest of every request_limits that applies
	Output Output // every output_protection that applies, merged

	// Routing: Upstream, or a weighted split over Weights (canary); both
	// empty means the route's own upstream.
	Upstream string
	Weights  map[string]int

	Capture *Action // keep the full request and response as evidence

	Guard Guard // inline prompt-attack detection; zero Mode: off
}

// Guard is the merged prompt_guard: "block" wins over "alert", the lowest
// threshold wins, and Action is the first action of the winning mode.
type Guard struct {
	Mode      string
	Threshold float64
	Action    *Action
}

// DefaultGuardThreshold is the score at or above which a guarded prompt is
// an attack when the action does not say.
const DefaultGuardThreshold = 0.5

// Limits are request limits; zero means no limit.
type Limits struct {
	MaxPromptChars int
	MaxMessages    int
	MaxTokens      int    // cap on the request's max_tokens
	MaxN           int    // cap on the request's n
	Logprobs       string // "", "strip" or "refuse"
}

// Output says how to protect what the model returns.
type Output struct {
	RedactPII     bool
	RedactSecrets bool
	Logprobs      string // "", "round" or "drop"
	// LogprobDigits is how many decimals rounded logprobs keep (0..6); it
	// applies when Logprobs is "round".
	LogprobDigits  int
	MaxOutputChars int // zero: no limit
}

// Active reports whether any output protection is on.
func (o Output) Active() bool {
	return o.RedactPII || o.RedactSecrets || o.Logprobs != "" || o.MaxOutputChars > 0
}

// evaluation accumulates a Decision. The actions that choose one among many
// are kept as indices so that "first in policy order" needs no sorting.
type evaluation struct {
	s   *Snapshot
	req Request
	ip  netip.Addr

	d                          Decision
	blocked, disabled, capture int32
	guardBlock, guardAlert     int32
	route                      int32

	many  [8]int32 // rate limits and filters that apply, when few
	nMany int
	more  []int32 // the rest, when many
}

// Evaluate says what the policy does with req. It is pure: no I/O, no locks,
// and no allocation when no action applies. An action applies when every
// non-empty field of its target matches the request and it has not expired.
//
// When several actions of one kind apply: the first block, disable and
// capture in policy order win; every rate limit is listed; limits keep the
// smallest non-zero maximum and "refuse" over "strip"; output protections
// OR their booleans, keep the smallest non-zero maximum, "drop" over "round"
// and the fewest digits among those that round; the most specific route
// (most target fields) wins, and among equals the latest in the policy.
func (s *Snapshot) Evaluate(req Request) Decision {
	if s == nil || len(s.entries) == 0 {
		return Decision{}
	}
	e := evaluation{s: s, req: req, ip: req.IP.Unmap().WithZone(""), blocked: -1, disabled: -1, capture: -1, route: -1, guardBlock: -1, guardAlert: -1}
	e.scan(s.global)
	if req.APIKeyHash != "" {
		e.scan(s.byKey[req.APIKeyHash])
	}
	if req.User != "" {
		e.scan(s.byUser[req.User])
	}
	if e.ip.IsValid() {
		e.scan(s.byIP[e.ip])
		is4 := e.ip.Is4()
		for i := range s.cidrs {
			c := &s.cidrs[i]
			if c.is4 != is4 {
				continue
			}
			if p, err := e.ip.Prefix(c.bits); err == nil {
				e.scan(c.prefixes[p])
			}
		}
	}
	if req.Route != "" {
		e.scan(s.byRoute[req.Route])
	}
	if req.Model != "" {
		e.scan(s.byModel[req.Model])
	}
	return e.decision()
}

func (e *evaluation) scan(list []int32) {
	for _, i := range list {
		if x := &e.s.entries[i]; x.applies(&e.req, e.ip) {
			e.apply(i, x)
		}
	}
}

func (x *entry) applies(req *Request, ip netip.Addr) bool {
	t := &x.target
	switch {
	case t.APIKeyHash != "" && t.APIKeyHash != req.APIKeyHash,
		t.User != "" && t.User != req.User,
		x.ip.IsValid() && x.ip != ip,
		x.prefix.IsValid() && !x.prefix.Contains(ip),
		t.Route != "" && t.Route != req.Route,
		t.Model != "" && t.Model != req.Model,
		x.hasExpiry && !req.Now.Before(x.expires):
		return false
	}
	return true
}

func (e *evaluation) apply(i int32, x *entry) {
	d := &e.d
	switch x.kind {
	case KindBlock:
		e.blocked = first(e.blocked, i)
	case KindDisable:
		e.disabled = first(e.disabled, i)
	case KindCapture:
		e.capture = first(e.capture, i)
	case KindRoute:
		if r := e.route; r < 0 || x.fields > e.s.entries[r].fields || x.fields == e.s.entries[r].fields && i > r {
			e.route = i
		}
	case KindPromptGuard:
		if x.action.Params.Mode == GuardBlock {
			e.guardBlock = first(e.guardBlock, i)
		} else {
			e.guardAlert = first(e.guardAlert, i)
		}
		t := x.action.Params.Threshold
		if t == 0 {
			t = DefaultGuardThreshold
		}
		if d.Guard.Threshold == 0 || t < d.Guard.Threshold {
			d.Guard.Threshold = t
		}
	case KindSanitize:
		d.Sanitize = true
	case KindRequestLimits:
		d.Limits = mergeLimits(d.Limits, x.limits)
	case KindOutputProtection:
		d.Output = mergeOutput(d.Output, x.output)
	case KindRateLimit, KindPromptFilter:
		if e.nMany < len(e.many) {
			e.many[e.nMany] = i
			e.nMany++
		} else {
			e.more = append(e.more, i)
		}
	}
}

func first(cur, i int32) int32 {
	if cur < 0 || i < cur {
		return i
	}
	return cur
}

func (e *evaluation) decision() Decision {
	d := e.d
	s := e.s
	if e.blocked >= 0 {
		d.Blocked = s.entries[e.blocked].action
	}
	if e.disabled >= 0 {
		d.Disabled = s.entries[e.disabled].action
	}
	if e.capture >= 0 {
		d.Capture = s.entries[e.capture].action
	}
	switch {
	case e.guardBlock >= 0:
		d.Guard.Mode, d.Guard.Action = GuardBlock, s.entries[e.guardBlock].action
	case e.guardAlert >= 0:
		d.Guard.Mode, d.Guard.Action = GuardAlert, s.entries[e.guardAlert].action
	}
	if e.route >= 0 {
		p := &s.entries[e.route].action.Params
		d.Upstream, d.Weights = p.Upstream, p.Weights
	}
	if e.nMany == 0 {
		return d
	}
	many := append(e.many[:e.nMany:e.nMany], e.more...)
	slices.Sort(many)
	var parts []*filterPart
	for _, i := range many {
		switch x := &s.entries[i]; x.kind {
		case KindRateLimit:
			d.RateLimits = append(d.RateLimits, x.action)
		case KindPromptFilter:
			if d.Filter == nil {
				d.Filter = x.filter // one filter: no allocation
			} else {
				if parts == nil {
					parts = append(parts, d.Filter.parts...)
				}
				parts = append(parts, x.filter.parts...)
			}
		}
	}
	if parts != nil {
		d.Filter = &Filter{parts: parts}
	}
	return d
}

// minLimit keeps the smaller of two maxima where zero means no limit.
func minLimit(a, b int) int {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

func mergeLimits(a, b Limits) Limits {
	a.MaxPromptChars = minLimit(a.MaxPromptChars, b.MaxPromptChars)
	a.MaxMessages = minLimit(a.MaxMessages, b.MaxMessages)
	a.MaxTokens = minLimit(a.MaxTokens, b.MaxTokens)
	a.MaxN = minLimit(a.MaxN, b.MaxN)
	switch {
	case a.Logprobs == LogprobsRefuse || b.Logprobs == LogprobsRefuse:
		a.Logprobs = LogprobsRefuse
	case b.Logprobs == LogprobsStrip:
		a.Logprobs = LogprobsStrip
	}
	return a
}

func mergeOutput(a, b Output) Output {
	a.RedactPII = a.RedactPII || b.RedactPII
	a.RedactSecrets = a.RedactSecrets || b.RedactSecrets
	a.MaxOutputChars = minLimit(a.MaxOutputChars, b.MaxOutputChars)
	switch {
	case a.Logprobs == LogprobsDrop || b.Logprobs == LogprobsDrop:
		a.Logprobs, a.LogprobDigits = LogprobsDrop, 0
	case a.Logprobs == LogprobsRound && b.Logprobs == LogprobsRound:
		a.LogprobDigits = min(a.LogprobDigits, b.LogprobDigits)
	case b.Logprobs == LogprobsRound:
		a.Logprobs, a.LogprobDigits = LogprobsRound, b.LogprobDigits
	}
	return a
}
