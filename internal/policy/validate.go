package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Bounds on what an action may hold.
const (
	MaxReason        = 1000 // bytes
	MaxPatterns      = 1000 // literals and regexes of one prompt filter
	MaxPatternBytes  = 1000
	MaxWeights       = 64
	MaxWeight        = 1_000_000
	MaxRateCount     = 1_000_000_000
	MaxLogprobDigits = 6
	MinWindow        = time.Second
	MaxWindow        = 24 * time.Hour

	maxID         = 128
	maxName       = 256 // routes, models, upstreams, created_by
	maxKeyHash    = 256
	defaultDigits = 1
)

// ValidationError lists every problem found, each naming its field.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid policy: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid policy: %d problems: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// maxProblems bounds how many problems one error lists, so that a huge bad
// policy gives a readable answer.
const maxProblems = 100

func newValidationError(problems []string) *ValidationError {
	if n := len(problems); n > maxProblems {
		problems = append(problems[:maxProblems:maxProblems], fmt.Sprintf("and %d more problems", n-maxProblems))
	}
	return &ValidationError{Problems: problems}
}

// Validate checks the action and reports every problem at once as a
// *ValidationError. It canonicalises in place what has one canonical form:
// target.ip and target.cidr (IPv4-mapped IPv6 becomes IPv4, the CIDR is
// masked) and, for rate limits, params.per when it was left empty.
func (a *Action) Validate() error {
	v := validator{}
	v.check(a, false)
	return v.err()
}

type validator struct {
	problems []string
	regexes  []compiledRegex // when asked to keep them
}

func (v *validator) addf(field, format string, args ...any) {
	v.problems = append(v.problems, field+": "+fmt.Sprintf(format, args...))
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return newValidationError(v.problems)
}

// check validates a; with keep, it also keeps the compiled regexes.
func (v *validator) check(a *Action, keep bool) {
	switch {
	case a.ID == "":
		v.addf("id", "required")
	default:
		v.token("id", a.ID, maxID)
	}
	if !a.Kind.Valid() {
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		v.addf("kind", "unknown kind %q (want one of %s)", a.Kind, strings.Join(names, ", "))
	}
	switch {
	case strings.TrimSpace(a.Reason) == "":
		v.addf("reason", "required: say why this action is needed")
	default:
		v.text("reason", a.Reason, MaxReason, true)
	}
	if a.Incident != "" {
		v.token("incident", a.Incident, maxID)
	}
	switch {
	case strings.TrimSpace(a.CreatedBy) == "":
		v.addf("created_by", "required")
	default:
		v.text("created_by", a.CreatedBy, maxName, false)
	}
	if a.CreatedAt.IsZero() {
		v.addf("created_at", "required")
	}
	if a.ExpiresAt != nil && !a.CreatedAt.IsZero() && !a.ExpiresAt.After(a.CreatedAt) {
		v.addf("expires_at", "%s is not after created_at %s", a.ExpiresAt.Format(time.RFC3339), a.CreatedAt.Format(time.RFC3339))
	}
	v.target(a)
	v.params(a, keep)
}

func (v *validator) target(a *Action) {
	t := &a.Target
	if t.APIKeyHash != "" {
		v.keyHash("target.api_key_hash", t.APIKeyHash)
	}
	if t.User != "" {
		v.text("target.user", t.User, event.MaxEntityValue, false)
	}
	var ip netip.Addr
	if t.IP != "" {
		var err error
		if ip, err = netip.ParseAddr(t.IP); err != nil || ip.Zone() != "" {
			v.addf("target.ip", "%q is not an IP address", clip(t.IP))
		} else {
			ip = ip.Unmap()
			t.IP = ip.String()
		}
	}
	if t.CIDR != "" {
		if p, err := parsePrefix(t.CIDR); err != nil {
			v.addf("target.cidr", "%q is not a CIDR prefix such as 203.0.113.0/24", clip(t.CIDR))
		} else {
			t.CIDR = p.String()
			if ip.IsValid() && !p.Contains(ip) {
				v.addf("target.ip", "%s is not inside target.cidr %s, so the action could never apply", ip, p)
			}
		}
	}
	if t.Route != "" {
		v.text("target.route", t.Route, maxName, false)
	}
	if t.Model != "" {
		v.text("target.model", t.Model, maxName, false)
	}

	switch a.Kind {
	case KindBlock, KindCapture:
		if !t.hasIdentity() {
			v.addf("target", "%s needs an identity: api_key_hash, user, ip or cidr", a.Kind)
		}
	case KindRateLimit:
		if t.IsZero() {
			v.addf("target", "rate_limit needs a target; an empty one would limit every caller together")
		}
	case KindDisable:
		if t.Route == "" && t.Model == "" {
			v.addf("target", "disable needs a route or a model")
		}
		for _, f := range []struct{ name, value string }{
			{"api_key_hash", t.APIKeyHash}, {"user", t.User}, {"ip", t.IP}, {"cidr", t.CIDR},
		} {
			if f.value != "" {
				v.addf("target."+f.name, "not allowed for disable, which applies to everyone (use block for a caller)")
			}
		}
	case KindRoute:
		if t.Model == "" {
			v.addf("target.model", "required for route")
		}
	}
}

// parsePrefix parses a CIDR prefix and returns its canonical form: masked,
// and IPv4 when written as IPv4-mapped IPv6 with at least 96 bits.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// paramField is one field of Params, for rejecting those a kind does not use.
type paramField struct {
	name  string
	set   bool
	kinds []Kind
}

func (v *validator) params(a *Action, keep bool) {
	p := &a.Params
	fields := []paramField{
		{"requests", p.Requests != 0, []Kind{KindRateLimit}},
		{"tokens", p.Tokens != 0, []Kind{KindRateLimit}},
		{"window", p.Window != 0, []Kind{KindRateLimit}},
		{"per", p.Per != "", []Kind{KindRateLimit}},
		{"literal", p.Literal != nil, []Kind{KindPromptFilter}},
		{"regex", p.Regex != nil, []Kind{KindPromptFilter}},
		{"max_prompt_chars", p.MaxPromptChars != 0, []Kind{KindRequestLimits}},
		{"max_messages", p.MaxMessages != 0, []Kind{KindRequestLimits}},
		{"max_tokens", p.MaxTokens != 0, []Kind{KindRequestLimits}},
		{"max_n", p.MaxN != 0, []Kind{KindRequestLimits}},
		{"logprobs", p.Logprobs != "", []Kind{KindRequestLimits, KindOutputProtection}},
		{"redact_pii", p.RedactPII, []Kind{KindOutputProtection}},
		{"redact_secrets", p.RedactSecrets, []Kind{KindOutputProtection}},
		{"logprob_digits", p.LogprobDigits != nil, []Kind{KindOutputProtection}},
		{"max_output_chars", p.MaxOutputChars != 0, []Kind{KindOutputProtection}},
		{"upstream", p.Upstream != "", []Kind{KindRoute}},
		{"weights", p.Weights != nil, []Kind{KindRoute}},
		{"mode", p.Mode != "", []Kind{KindPromptGuard}},
		{"threshold", p.Threshold != 0, []Kind{KindPromptGuard}},
	}
	if a.Kind.Valid() {
		for _, f := range fields {
			if f.set && !slices.Contains(f.kinds, a.Kind) {
				v.addf("params."+f.name, "not allowed for %s", a.Kind)
			}
		}
	}
	switch a.Kind {
	case KindRateLimit:
		v.rateLimit(a)
	case KindPromptFilter:
		v.promptFilter(p, keep)
	case KindRequestLimits:
		v.nonNegative("params.max_prompt_chars", p.MaxPromptChars)
		v.nonNegative("params.max_messages", p.MaxMessages)
		v.nonNegative("params.max_tokens", p.MaxTokens)
		v.nonNegative("params.max_n", p.MaxN)
		switch p.Logprobs {
		case "", LogprobsStrip, LogprobsRefuse:
		default:
			v.addf("params.logprobs", "%q is not \"strip\" or \"refuse\"", clip(p.Logprobs))
		}
		if p.MaxPromptChars == 0 && p.MaxMessages == 0 && p.MaxTokens == 0 && p.MaxN == 0 && p.Logprobs == "" {
			v.addf("params", "request_limits needs at least one of max_prompt_chars, max_messages, max_tokens, max_n, logprobs")
		}
	case KindOutputProtection:
		v.nonNegative("params.max_output_chars", p.MaxOutputChars)
		switch p.Logprobs {
		case "", LogprobsRound, LogprobsDrop:
		default:
			v.addf("params.logprobs", "%q is not \"round\" or \"drop\"", clip(p.Logprobs))
		}
		if d := p.LogprobDigits; d != nil {
			if *d < 0 || *d > MaxLogprobDigits {
				v.addf("params.logprob_digits", "%d is outside 0..%d", *d, MaxLogprobDigits)
			}
			if p.Logprobs != LogprobsRound {
				v.addf("params.logprob_digits", "only applies with logprobs \"round\"")
			}
		}
		if !p.RedactPII && !p.RedactSecrets && p.Logprobs == "" && p.MaxOutputChars == 0 {
			v.addf("params", "output_protection needs at least one of redact_pii, redact_secrets, logprobs, max_output_chars")
		}
	case KindRoute:
		v.route(p)
	case KindPromptGuard:
		switch p.Mode {
		case GuardAlert, GuardBlock:
		case "":
			v.addf("params.mode", "required: \"alert\" or \"block\"")
		default:
			v.addf("params.mode", "%q is not \"alert\" or \"block\"", clip(p.Mode))
		}
		if t := p.Threshold; t != 0 && !(t > 0 && t < 1) {
			v.addf("params.threshold", "%v is outside (0, 1)", t)
		}
	}
}

func (v *validator) rateLimit(a *Action) {
	p := &a.Params
	switch {
	case p.Requests == 0 && p.Tokens == 0:
		v.addf("params", "rate_limit needs requests or tokens (or both) per window")
	default:
		v.count("params.requests", p.Requests)
		v.count("params.tokens", p.Tokens)
	}
	if w := time.Duration(p.Window); w < MinWindow || w > MaxWindow {
		if w == 0 {
			v.addf("params.window", "required, between 1s and 24h")
		} else {
			v.addf("params.window", "%s is outside 1s..24h", p.Window)
		}
	}
	switch event.EntityKind(p.Per) {
	case event.EntityAPIKey, event.EntityUser, event.EntityIP:
	case "":
		t := a.Target
		switch {
		case t.APIKeyHash != "":
			p.Per = string(event.EntityAPIKey)
		case t.User != "":
			p.Per = string(event.EntityUser)
		case t.IP != "" || t.CIDR != "":
			p.Per = string(event.EntityIP)
		default:
			p.Per = string(event.EntityAPIKey)
		}
	default:
		v.addf("params.per", "%q is not \"api_key\", \"user\" or \"ip\"", clip(p.Per))
	}
}

func (v *validator) count(field string, n int) {
	switch {
	case n < 0:
		v.addf(field, "%d is negative", n)
	case n > MaxRateCount:
		v.addf(field, "%d is more than %d", n, MaxRateCount)
	}
}

func (v *validator) nonNegative(field string, n int) {
	if n < 0 {
		v.addf(field, "%d is negative", n)
	}
}

func (v *validator) promptFilter(p *Params, keep bool) {
	n := len(p.Literal) + len(p.Regex)
	switch {
	case n == 0:
		v.addf("params", "prompt_filter needs at least one literal or regex")
		return
	case n > MaxPatterns:
		v.addf("params", "%d patterns, more than %d", n, MaxPatterns)
		return
	}
	for i, l := range p.Literal {
		field := fmt.Sprintf("params.literal[%d]", i)
		if !v.pattern(field, l) {
			continue
		}
		if textnorm.Fold(l) == "" {
			v.addf(field, "is empty once normalised, so it would match every prompt")
		}
	}
	for i, r := range p.Regex {
		field := fmt.Sprintf("params.regex[%d]", i)
		if !v.pattern(field, r) {
			continue
		}
		re, err := compileRegex(r)
		switch {
		case err != nil:
			v.addf(field, "%v", err)
		case keep:
			v.regexes = append(v.regexes, re)
		}
	}
}

// pattern checks what literals and regexes have in common.
func (v *validator) pattern(field, s string) bool {
	switch {
	case s == "":
		v.addf(field, "empty")
	case len(s) > MaxPatternBytes:
		v.addf(field, "%d bytes, more than %d", len(s), MaxPatternBytes)
	case !utf8.ValidString(s):
		v.addf(field, "not valid UTF-8")
	default:
		return true
	}
	return false
}

// compiledRegex is a prompt-filter regex with the literals every match
// contains (nil if unknown).
type compiledRegex struct {
	re       *regexp.Regexp
	required []string
}

// compileRegex compiles a prompt-filter regex: RE2 syntax, case-insensitive,
// and refused if it can match empty text (it would match every prompt).
func compileRegex(pattern string) (compiledRegex, error) {
	tree, err := syntax.Parse(pattern, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return compiledRegex{}, fmt.Errorf("invalid regex: %w", err)
	}
	if minLen(tree) == 0 {
		return compiledRegex{}, fmt.Errorf("%q can match empty text, so it would match every prompt", clip(pattern))
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return compiledRegex{}, fmt.Errorf("invalid regex: %w", err)
	}
	return compiledRegex{re: re, required: requiredLiterals(tree)}, nil
}

// minLen is the fewest runes re can match.
func minLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += minLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if m := minLen(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0 // empty match, anchors, word boundaries, star, quest
}

func (v *validator) route(p *Params) {
	switch {
	case p.Upstream == "" && p.Weights == nil:
		v.addf("params", "route needs upstream or weights")
	case p.Upstream != "" && p.Weights != nil:
		v.addf("params", "route takes upstream or weights, not both")
	}
	if p.Upstream != "" {
		v.text("params.upstream", p.Upstream, maxName, false)
	}
	if p.Weights == nil {
		return
	}
	if len(p.Weights) == 0 {
		v.addf("params.weights", "empty")
	}
	if len(p.Weights) > MaxWeights {
		v.addf("params.weights", "%d upstreams, more than %d", len(p.Weights), MaxWeights)
		return
	}
	names := make([]string, 0, len(p.Weights))
	for name := range p.Weights {
		names = append(names, name)
	}
	slices.Sort(names) // report problems in a stable order
	for _, name := range names {
		field := fmt.Sprintf("params.weights[%q]", clip(name))
		switch w := p.Weights[name]; {
		case name == "":
			v.addf("params.weights", "an upstream name is empty")
		case w <= 0:
			v.addf(field, "%d is not positive", w)
		case w > MaxWeight:
			v.addf(field, "%d is more than %d", w, MaxWeight)
		}
		if name != "" {
			v.text("params.weights", name, maxName, false)
		}
	}
}

// text checks a free-form string: bounded, valid UTF-8, no control
// characters (but newlines and tabs where multiline is allowed).
func (v *validator) text(field, s string, limit int, multiline bool) {
	switch {
	case len(s) > limit:
		v.addf(field, "%d bytes, more than %d", len(s), limit)
	case !utf8.ValidString(s):
		v.addf(field, "not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	}) >= 0:
		v.addf(field, "contains a control character")
	}
}

// token checks an identifier such as a UUID or ULID: at most limit
// letters, digits and ._:- characters.
func (v *validator) token(field, s string, limit int) {
	if len(s) > limit {
		v.addf(field, "%d bytes, more than %d", len(s), limit)
		return
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != ':' && c != '-' {
			v.addf(field, "%q has a character other than letters, digits and ._:-", clip(s))
			return
		}
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// keyHash checks an API key hash: hex, base64 or base64url, optionally
// prefixed with the algorithm ("hmac-sha256:...").
func (v *validator) keyHash(field, s string) {
	if len(s) > maxKeyHash {
		v.addf(field, "%d bytes, more than %d", len(s), maxKeyHash)
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && strings.IndexByte("+/=_:.-", c) < 0 {
			v.addf(field, "%q is not a key hash (letters, digits and +/=_:.- only); policies never hold raw keys", clip(s))
			return
		}
	}
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
