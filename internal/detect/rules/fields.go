package rules

import (
	"sort"
	"strings"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// fieldKind is the type of an event field, which decides the operators it
// takes.
type fieldKind uint8

const (
	kindString fieldKind = iota
	kindNumber
	kindBool
)

func (k fieldKind) String() string {
	return [...]string{"string", "number", "boolean"}[k]
}

// field reads one field of an event. Rules name fields by the event's JSON
// names; "prompt" and "output" are the text (in memory, or captured), and
// "attrs.NAME" is an attribute of an event from another system.
type field struct {
	name string
	kind fieldKind
	str  func(*event.Event) string
	num  func(*event.Event) float64
	bln  func(*event.Event) bool
	// entity is the entity kind the field's value is, if any: grouping by
	// it makes the group an alert's subject.
	entity event.EntityKind
}

func strField(name string, f func(*event.Event) string) field {
	return field{name: name, kind: kindString, str: f}
}

func numField(name string, f func(*event.Event) float64) field {
	return field{name: name, kind: kindNumber, num: f}
}

var fields = map[string]field{}

func init() {
	for _, f := range []field{
		strField("id", func(e *event.Event) string { return e.ID }),
		strField("source", func(e *event.Event) string { return e.Source }),
		strField("kind", func(e *event.Event) string { return e.Kind }),
		{name: "api_key_hash", kind: kindString, str: func(e *event.Event) string { return e.APIKeyHash }, entity: event.EntityAPIKey},
		{name: "user", kind: kindString, str: func(e *event.Event) string { return e.User }, entity: event.EntityUser},
		{name: "ip", kind: kindString, str: func(e *event.Event) string { return e.IP }, entity: event.EntityIP},
		strField("endpoint", func(e *event.Event) string { return e.Endpoint }),
		{name: "route", kind: kindString, str: func(e *event.Event) string { return e.Route }, entity: event.EntityRoute},
		{name: "model", kind: kindString, str: func(e *event.Event) string { return e.Model }, entity: event.EntityModel},
		strField("upstream", func(e *event.Event) string { return e.Upstream }),
		strField("decision", func(e *event.Event) string { return e.Decision }),
		strField("action", func(e *event.Event) string { return e.Action }),
		strField("error", func(e *event.Event) string { return e.Error }),
		strField("prompt_sha256", func(e *event.Event) string { return e.PromptSHA256 }),
		strField("output_sha256", func(e *event.Event) string { return e.OutputSHA256 }),
		strField("captured", func(e *event.Event) string { return e.Captured }),
		strField("prompt", detect.PromptOf),
		strField("output", detect.OutputOf),
		numField("status", func(e *event.Event) float64 { return float64(e.Status) }),
		numField("policy", func(e *event.Event) float64 { return float64(e.Policy) }),
		numField("latency_ms", func(e *event.Event) float64 { return e.LatencyMS }),
		numField("upstream_ms", func(e *event.Event) float64 { return e.UpstreamMS }),
		numField("messages", func(e *event.Event) float64 { return float64(e.Messages) }),
		numField("max_tokens", func(e *event.Event) float64 { return float64(e.MaxTokens) }),
		numField("n", func(e *event.Event) float64 { return float64(e.N) }),
		numField("top_logprobs", func(e *event.Event) float64 { return float64(e.TopLogprobs) }),
		numField("logit_bias", func(e *event.Event) float64 { return float64(e.LogitBias) }),
		numField("tokens_in", func(e *event.Event) float64 { return float64(e.TokensIn) }),
		numField("tokens_out", func(e *event.Event) float64 { return float64(e.TokensOut) }),
		numField("prompt_chars", func(e *event.Event) float64 { return float64(e.PromptChars) }),
		numField("output_chars", func(e *event.Event) float64 { return float64(e.OutputChars) }),
		numField("redactions", func(e *event.Event) float64 { return float64(e.Redactions) }),
		{name: "stream", kind: kindBool, bln: func(e *event.Event) bool { return e.Stream }},
		{name: "logprobs", kind: kindBool, bln: func(e *event.Event) bool { return e.Logprobs }},
	} {
		fields[f.name] = f
	}
}

const attrPrefix = "attrs."

// lookupField returns the field called name.
func lookupField(name string) (field, bool) {
	if attr, ok := strings.CutPrefix(name, attrPrefix); ok && attr != "" {
		return strField(name, func(e *event.Event) string { return e.Attrs[attr] }), true
	}
	f, ok := fields[name]
	return f, ok
}

// fieldNames lists the known fields, for error messages.
func fieldNames() string {
	names := make([]string, 0, len(fields)+1)
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(append(names, attrPrefix+"NAME"), ", ")
}
