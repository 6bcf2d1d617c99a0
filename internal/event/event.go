package event

import "time"

// Event is one thing that happened: a request through the gateway, or a
// model-registry, pipeline, auth or infrastructure event sent by another
// system. Detectors read events; evidence freezes them.
type Event struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // "gateway", or the sending system
	Kind   string    `json:"kind"`   // "request" for gateway traffic

	// Identity of the caller. APIKeyHash is a keyed hash, never the key.
	APIKeyHash string `json:"api_key_hash,omitempty"`
	User       string `json:"user,omitempty"`
	IP         string `json:"ip,omitempty"`

	// What was called and what served it.
	Endpoint string `json:"endpoint,omitempty"` // e.g. "/v1/chat/completions"
	Route    string `json:"route,omitempty"`
	Model    string `json:"model,omitempty"`
	Upstream string `json:"upstream,omitempty"`
	// ModelVersion is the version that served the request: the upstream's
	// X-Model-Version answer header, else the upstream's configured version,
	// else its name. Drift is measured per version.
	ModelVersion string `json:"model_version,omitempty"`

	// Outcome.
	Status     int     `json:"status,omitempty"`
	Decision   string  `json:"decision,omitempty"` // see the Decision* constants
	Action     string  `json:"action,omitempty"`   // the policy action that decided, if any
	Policy     int64   `json:"policy,omitempty"`   // policy version in force
	LatencyMS  float64 `json:"latency_ms,omitempty"`
	UpstreamMS float64 `json:"upstream_ms,omitempty"`
	Error      string  `json:"error,omitempty"`

	// Request parameters that matter for attacks.
	Stream      bool `json:"stream,omitempty"`
	Messages    int  `json:"messages,omitempty"`
	MaxTokens   int  `json:"max_tokens,omitempty"`
	N           int  `json:"n,omitempty"`
	Logprobs    bool `json:"logprobs,omitempty"`
	TopLogprobs int  `json:"top_logprobs,omitempty"`
	LogitBias   int  `json:"logit_bias,omitempty"` // number of biased tokens

	// Sizes and digests of what went in and out; the text itself only when
	// the capture policy says so.
	TokensIn     int    `json:"tokens_in,omitempty"`
	TokensOut    int    `json:"tokens_out,omitempty"`
	PromptChars  int    `json:"prompt_chars,omitempty"`
	OutputChars  int    `json:"output_chars,omitempty"`
	PromptSHA256 string `json:"prompt_sha256,omitempty"`
	OutputSHA256 string `json:"output_sha256,omitempty"`
	Prompt       string `json:"prompt,omitempty"`
	Output       string `json:"output,omitempty"`
	Captured     string `json:"captured,omitempty"` // the capture action that kept the text
	Redactions   int    `json:"redactions,omitempty"`

	// The inline prompt guard's verdict, when a prompt_guard action applied:
	// its mode ("alert" or "block"), the score, and whether it judged the
	// prompt an attack.
	Guard       string  `json:"guard,omitempty"`
	GuardScore  float64 `json:"guard_score,omitempty"`
	GuardAttack bool    `json:"guard_attack,omitempty"`

	// Free-form attributes of events from other systems.
	Attrs map[string]string `json:"attrs,omitempty"`

	// The request's and response's text, for detectors in this process.
	// Never serialised: what is written or sent anywhere carries only the
	// digests above, and the text only where a capture action keeps it.
	PromptText string `json:"-"`
	OutputText string `json:"-"`
}

// Gateway decisions.
const (
	DecisionAllowed       = "allowed"
	DecisionBlocked       = "blocked"
	DecisionRateLimited   = "rate_limited"
	DecisionFiltered      = "filtered"
	DecisionDisabled      = "disabled"
	DecisionTooLarge      = "too_large"
	DecisionBadRequest    = "bad_request"
	DecisionUpstreamError = "upstream_error"
	DecisionStopped       = "stopped" // a response stream cut by output protection
	DecisionGuarded       = "guarded" // refused by the inline prompt guard
)
