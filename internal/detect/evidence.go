package detect

import (
	"strings"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/redact"
)

// Entities returns who and what an event is about: its API key (hash),
// user, IP, route, model and model version, those that are set, each
// cleaned to a valid entity value (valid UTF-8, at most
// event.MaxEntityValue bytes). The route and version are where a playbook
// applies route-wide measures and what drift and rollback concern.
func Entities(ev *event.Event) []event.Entity {
	out := make([]event.Entity, 0, 6)
	for _, e := range [...]event.Entity{
		{Kind: event.EntityAPIKey, Value: ev.APIKeyHash},
		{Kind: event.EntityUser, Value: ev.User},
		{Kind: event.EntityIP, Value: ev.IP},
		{Kind: event.EntityRoute, Value: ev.Route},
		{Kind: event.EntityModel, Value: ev.Model},
		{Kind: event.EntityModelVersion, Value: ev.ModelVersion},
	} {
		if e.Value = EntityValue(e.Value); e.Value != "" {
			out = append(out, e)
		}
	}
	return out
}

// Caller returns the entity a per-caller detector keys its state by: the
// API key when there is one, else the user, else the IP. ok is false for an
// event with no caller identity.
func Caller(ev *event.Event) (e event.Entity, ok bool) {
	switch {
	case ev.APIKeyHash != "":
		e = event.Entity{Kind: event.EntityAPIKey, Value: ev.APIKeyHash}
	case ev.User != "":
		e = event.Entity{Kind: event.EntityUser, Value: ev.User}
	case ev.IP != "":
		e = event.Entity{Kind: event.EntityIP, Value: ev.IP}
	default:
		return e, false
	}
	e.Value = EntityValue(e.Value)
	return e, e.Value != ""
}

// EntityValue makes s a valid entity value: valid UTF-8, at most
// event.MaxEntityValue bytes, and "" when it is blank. A value that needs no
// change is returned as is, without copying; one that is cut is copied, so
// that state keyed by it does not pin a huge string.
func EntityValue(s string) string {
	if n := len(s); n <= event.MaxEntityValue && utf8.ValidString(s) {
		// Opening with a printable ASCII byte, s is not blank: the usual
		// key, address or route name needs no TrimSpace.
		if n > 0 && ' ' < s[0] && s[0] < utf8.RuneSelf {
			return s
		}
		if strings.TrimSpace(s) == "" {
			return ""
		}
		return s
	}
	if len(s) > 4*event.MaxEntityValue {
		s = s[:4*event.MaxEntityValue]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > event.MaxEntityValue {
		cut := event.MaxEntityValue
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return strings.Clone(s)
}

// PromptOf is the event's prompt text: the in-memory text from the gateway,
// or the captured prompt of a replayed event.
func PromptOf(ev *event.Event) string {
	if ev.PromptText != "" {
		return ev.PromptText
	}
	return ev.Prompt
}

// OutputOf is the event's output text, in-memory or captured.
func OutputOf(ev *event.Event) string {
	if ev.OutputText != "" {
		return ev.OutputText
	}
	return ev.Output
}

// MaxExcerpt bounds an alert's excerpt, in bytes before redaction.
const MaxExcerpt = 240

var excerptRedactor = redact.New()

// Excerpt returns the text around s[start:end] as alert evidence: at most
// MaxExcerpt bytes of s, cut at character boundaries and marked with "…"
// where cut, invalid UTF-8 and control characters replaced, and personal
// data and secrets replaced by "[REDACTED:<rule>]". Redaction looks past the
// cut, so a secret that straddles it is still recognised. Out-of-range
// offsets are clamped.
func Excerpt(s string, start, end int) string {
	start = max(0, min(start, len(s)))
	end = max(start, min(end, len(s)))
	ctx := max(0, (MaxExcerpt-(end-start))/2)
	from, to := runeFloor(s, max(0, start-ctx)), runeFloor(s, min(len(s), end+ctx))
	if to-from > MaxExcerpt {
		to = runeFloor(s, from+MaxExcerpt)
	}
	m := excerptRedactor.MaxMatchLen()
	wf, wt := runeFloor(s, max(0, from-m)), runeFloor(s, min(len(s), to+m))
	var b strings.Builder
	b.Grow(to - from + 8)
	if from > 0 {
		b.WriteString("…")
	}
	pos := from
	for _, f := range excerptRedactor.Find(s[wf:wt]) {
		a, z := wf+f.Start, wf+f.End
		if z <= pos || a >= to {
			continue
		}
		if a > pos {
			writeClean(&b, s[pos:a])
		}
		b.WriteString("[REDACTED:" + f.Rule + "]")
		pos = z
	}
	if pos < to {
		writeClean(&b, s[pos:to])
	}
	if max(pos, to) < len(s) {
		b.WriteString("…")
	}
	return b.String()
}

// runeFloor moves i back to the start of the character it is in.
func runeFloor(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// writeClean writes s as one line of valid UTF-8 without control characters.
func writeClean(b *strings.Builder, s string) {
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
}
