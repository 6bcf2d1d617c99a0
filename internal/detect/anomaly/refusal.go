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
//
// Nearly every answer is ruled out by mayRefuse, one pass over the head
// that folds nothing; only those it lets through are folded and matched.
func modelRefused(out string) bool {
	return mayRefuse(out) && refusalAt(out)
}

// mayRefuse is false for an answer refusalAt certainly rejects. An opener
// starts "i" and then a space or an apostrophe, or "as"; an apology holds
// "rr" (sorry) or "og" (apolog), in either case.
func mayRefuse(out string) bool {
	i := 0
	for i < len(out) && i < refusalHead && isRefusalPad(out[i]) {
		i++
	}
	if i >= len(out) || i >= refusalHead {
		return false
	}
	if i+1 < refusalHead && i+1 < len(out) {
		switch c, next := out[i]|0x20, out[i+1]; {
		case c == 'i' && (next == ' ' || next == '\'' || next == 0xe2),
			c == 'a' && next|0x20 == 's':
			return true
		}
	}
	// refusalAt reads refusalHead bytes once folded; a folded ’ is three
	// bytes shorter, so with curly apostrophes it may read up to three times
	// as far.
	w := out[:min(len(out), refusalHead)]
	if strings.IndexByte(w, 0xe2) >= 0 {
		w = out[:min(len(out), 3*refusalHead)]
	}
	// Eight bytes at a time: flag each byte that is r, o or g in either
	// case, then look for an r after an r or a g after an o, the byte
	// before a word's first coming from the word before.
	var prevR, prevO uint64
	for len(w) > 0 {
		var x uint64
		if len(w) >= 8 {
			x = uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			w = w[8:]
		} else {
			for k := len(w) - 1; k >= 0; k-- {
				x = x<<8 | uint64(w[k])
			}
			w = ""
		}
		x |= 0x2020202020202020
		r, o, g := bytesEqual(x, 'r'), bytesEqual(x, 'o'), bytesEqual(x, 'g')
		if r&(r<<8|prevR>>56) != 0 || g&(o<<8|prevO>>56) != 0 {
			return true
		}
		prevR, prevO = r, o
	}
	return false
}

// bytesEqual has the high bit of each byte of x that equals c set, and no
// other bit.
func bytesEqual(x uint64, c byte) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	t := x ^ (0x0101010101010101 * uint64(c))
	return ^((t&lo7 + lo7) | t | lo7)
}

func isRefusalPad(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '"' || c == '*'
}

// refusalAt is the exact test behind modelRefused.
func refusalAt(out string) bool {
	if out == "" {
		return false
	}
	head := out[:min(len(out), refusalHead)]
	// An answer that opens with neither "i" nor "a" counts only with an
	// apology spelt "orry", "ORRY", "polog" or "POLOG" in its head.
	lead := head
	for lead != "" && isRefusalPad(lead[0]) {
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
