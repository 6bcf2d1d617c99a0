package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Kind names what a containment action does.
type Kind string

const (
	// KindBlock refuses every request from an identity (403).
	KindBlock Kind = "block"
	// KindRateLimit caps requests and/or tokens per window for each caller
	// (429). The gateway keeps the counters.
	KindRateLimit Kind = "rate_limit"
	// KindPromptFilter refuses prompts matching a literal or regex on their
	// normalised forms (403). Those forms are folded (lower case, homoglyphs
	// mapped to Latin, accents dropped), so regexes are best written in
	// plain lower-case Latin; literals are folded the same way.
	KindPromptFilter Kind = "prompt_filter"
	// KindSanitize rewrites prompts with textnorm.Sanitize before forwarding.
	KindSanitize Kind = "sanitize"
	// KindRequestLimits bounds prompt size and caps parameters (413).
	KindRequestLimits Kind = "request_limits"
	// KindOutputProtection redacts, rounds and truncates what comes back.
	KindOutputProtection Kind = "output_protection"
	// KindDisable takes a route or model out of service (503).
	KindDisable Kind = "disable"
	// KindRoute sends a model's traffic to a named upstream, or splits it by
	// weight for a canary.
	KindRoute Kind = "route"
	// KindCapture keeps full requests and responses of an identity as
	// evidence while it is in force.
	KindCapture Kind = "capture"
	// KindPromptGuard runs the prompt-attack detector inline on requests
	// before they reach the model: mode "block" refuses an attack (403),
	// mode "alert" forwards it and marks the event so that an alert is
	// raised even for a verdict the classifier made alone.
	KindPromptGuard Kind = "prompt_guard"
)

var kinds = []Kind{
	KindBlock, KindRateLimit, KindPromptFilter, KindSanitize, KindRequestLimits,
	KindOutputProtection, KindDisable, KindRoute, KindCapture, KindPromptGuard,
}

// Kinds lists every action kind.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Target says whom or what an action applies to. Every non-empty field must
// match (AND); an empty target applies to every request, which only
// sanitize, request_limits, output_protection and prompt_filter allow.
type Target struct {
	// APIKeyHash is the keyed hash the gateway computes from the caller's
	// key; raw keys never appear in a policy.
	APIKeyHash string `json:"api_key_hash,omitempty"`
	User       string `json:"user,omitempty"`
	// IP is canonicalised by Validate (an IPv4-mapped IPv6 address becomes
	// IPv4).
	IP string `json:"ip,omitempty"`
	// CIDR is canonicalised and masked by Validate.
	CIDR  string `json:"cidr,omitempty"`
	Route string `json:"route,omitempty"`
	Model string `json:"model,omitempty"`
}

// IsZero reports whether the target names nothing, and so applies to all.
func (t Target) IsZero() bool { return t == Target{} }

// hasIdentity reports whether the target names a caller.
func (t Target) hasIdentity() bool {
	return t.APIKeyHash != "" || t.User != "" || t.IP != "" || t.CIDR != ""
}

// Params are the settings of an action; each kind uses its own subset, and
// Validate rejects the fields that do not belong to the kind.
type Params struct {
	// rate_limit
	Requests int      `json:"requests,omitempty"`
	Tokens   int      `json:"tokens,omitempty"`
	Window   Duration `json:"window,omitempty"`
	Per      string   `json:"per,omitempty"` // "api_key", "user" or "ip"

	// prompt_filter
	Literal []string `json:"literal,omitempty"`
	Regex   []string `json:"regex,omitempty"`

	// request_limits
	MaxPromptChars int `json:"max_prompt_chars,omitempty"`
	MaxMessages    int `json:"max_messages,omitempty"`
	MaxTokens      int `json:"max_tokens,omitempty"` // cap on the request's max_tokens
	MaxN           int `json:"max_n,omitempty"`      // cap on the request's n

	// request_limits: "strip" or "refuse" (logprobs, top_logprobs,
	// logit_bias); output_protection: "round" or "drop" (returned logprobs).
	Logprobs string `json:"logprobs,omitempty"`

	// output_protection
	RedactPII      bool `json:"redact_pii,omitempty"`
	RedactSecrets  bool `json:"redact_secrets,omitempty"`
	LogprobDigits  *int `json:"logprob_digits,omitempty"` // 0..6, default 1; with logprobs "round"
	MaxOutputChars int  `json:"max_output_chars,omitempty"`

	// prompt_guard: Mode is "alert" or "block"; Threshold is the score in
	// (0, 1) at or above which a prompt is an attack (default 0.5).
	Mode      string  `json:"mode,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`

	// route
	Upstream string         `json:"upstream,omitempty"`
	Weights  map[string]int `json:"weights,omitempty"` // upstream name → weight, for a canary split
}

// Prompt guard modes.
const (
	GuardAlert = "alert"
	GuardBlock = "block"
)

// Logprobs settings.
const (
	LogprobsStrip  = "strip"
	LogprobsRefuse = "refuse"
	LogprobsRound  = "round"
	LogprobsDrop   = "drop"
)

// Duration is a time.Duration written in JSON as a Go duration string such
// as "1m" or "1h30m".
type Duration time.Duration

// String returns the Go form without zero tails: "1h" rather than "1h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"1m\" or \"1h30m\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a number with a unit (ms, s, m, h), e.g. \"1m\"", s)
	}
	*d = Duration(v)
	return nil
}

// Action is one containment measure in force.
type Action struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Target Target `json:"target"`
	Params Params `json:"params"`

	Reason   string `json:"reason"`
	Incident string `json:"incident,omitempty"`

	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // nil: until removed
}

// clone returns a deep copy of a, sharing nothing mutable with it.
func (a *Action) clone() Action {
	c := *a
	c.Params.Literal = cloneSlice(a.Params.Literal)
	c.Params.Regex = cloneSlice(a.Params.Regex)
	if a.Params.LogprobDigits != nil {
		v := *a.Params.LogprobDigits
		c.Params.LogprobDigits = &v
	}
	if a.Params.Weights != nil {
		c.Params.Weights = make(map[string]int, len(a.Params.Weights))
		for k, v := range a.Params.Weights {
			c.Params.Weights[k] = v
		}
	}
	if a.ExpiresAt != nil {
		t := *a.ExpiresAt
		c.ExpiresAt = &t
	}
	return c
}

func cloneSlice(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// Policy is the whole set of actions in force, with a version that only
// grows.
type Policy struct {
	Version int64    `json:"version"`
	Actions []Action `json:"actions"`
}
