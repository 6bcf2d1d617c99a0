package anomaly

import (
	"bytes"
	"strings"

	"github.com/airlock-ir/airlock/internal/event"
)

// refused reports whether a request was refused: by the gateway because of
// what the caller sent (a prompt filter, a size or parameter limit, a
// malformed request), or by the model, whose answer opens with a refusal.
// Requests stopped by containment already in force (blocked, rate limited,
// endpoint disabled) are not counted: that incident is already open.
func refused(ev *event.Event, output string) bool {
	switch ev.Decision {
	case event.DecisionFiltered, event.DecisionTooLarge, event.DecisionBadRequest, event.DecisionStopped:
		return true
	case event.DecisionBlocked, event.DecisionRateLimited, event.DecisionDisabled:
		return false
	}
	return modelRefused(output)
}

const refusalHead = 160

// modelRefused looks for a refusal in the first refusalHead bytes of an
// answer: an opening "I can't" / "I cannot" / "I won't" / "I'm unable", or
// an apology together with a can't. "I'm sorry to hear that" alone is not a
// refusal.
func modelRefused(out string) bool {
	if out == "" {
		return false
	}
	head := out[:min(len(out), refusalHead)]
	// Most answers neither open with "i" or "as" nor apologise: two cheap
	// scans rule them out before anything is folded.
	lead := head
	for lead != "" && (lead[0] == ' ' || lead[0] == '\n' || lead[0] == '\t' || lead[0] == '"' || lead[0] == '*') {
		lead = lead[1:]
	}
	if lead == "" {
		return false
	}
	if c := lead[0] | 0x20; c != 'i' && c != 'a' &&
		!strings.Contains(head, "orry") && !strings.Contains(head, "ORRY") && !strings.Contains(head, "polog") && !strings.Contains(head, "POLOG") {
		return false
	}
	var buf [refusalHead]byte
	n := 0
	for i := 0; i < len(out) && n < len(buf); i++ {
		c := out[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xe2 && i+2 < len(out) && out[i+1] == 0x80 && out[i+2] == 0x99: // ’
			c, i = '\'', i+2
		}
		buf[n] = c
		n++
	}
	s := bytes.TrimLeft(buf[:n], " \n\t\"*")
	for _, p := range refusalOpeners {
		if bytes.HasPrefix(s, p) {
			return true
		}
	}
	if bytes.Contains(s, sorry) || bytes.Contains(s, apolog) {
		for _, p := range refusalVerbs {
			if bytes.Contains(s, p) {
				return true
			}
		}
	}
	return false
}

var sorry, apolog = []byte("sorry"), []byte("apolog")

func byteStrings(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

var refusalOpeners = byteStrings(
	"i can't", "i cannot", "i can not", "i won't", "i will not", "i'm unable", "i am unable",
	"i'm not able to", "i am not able to", "i must decline", "i'm not going to", "as an ai",
)

var refusalVerbs = byteStrings(
	"can't help", "can't assist", "can't provide", "can't comply", "cannot help", "cannot assist",
	"cannot provide", "cannot comply", "unable to help", "unable to assist", "unable to provide",
	"not able to help", "not able to assist", "won't be able to", "can't do that", "cannot do that",
)
