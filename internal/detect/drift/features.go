package drift

import (
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/swar"
)

// feature is one binned property of an output. Each has its own histogram;
// drift is judged feature by feature.
type feature uint8

const (
	fLength  feature = iota // log2 bin of the output's length in characters
	fRefusal                // the model refused (needs the output text)
	fCut                    // the stream was cut by output protection
	fShape                  // a coarse shape of the text (needs the output text)
	numFeatures
)

var featureNames = [numFeatures]string{"length", "refusal", "cut", "shape"}

// Shapes of an output, judged on its first shapeScan bytes; the first that
// applies, in this order.
const (
	shapeProse    = iota
	shapeNonASCII // at least 30% of the bytes are not ASCII
	shapeCode     // holds a ``` fence
	shapeJSON     // opens with { or [
	shapeApology  // opens with an apology or "unfortunately"
	shapeList     // opens with a list item
	numShapes
)

var shapeNames = [numShapes]string{"prose", "mostly non-ASCII", "code", "JSON", "apology", "list"}

const (
	lengthBins = 22 // 0, 1, 2–3, 4–7, … 2^19–2^20−1, ≥ 2^20 characters
	maxBins    = lengthBins
	// absent marks a feature an output has no value for (no text captured).
	absent    = 0xff
	shapeScan = 1024
)

var featureBins = [numFeatures]int{lengthBins, 2, 2, numShapes}

// sample is one output's bins, absent where unknown.
type sample [numFeatures]uint8

// hist counts outputs per bin, per feature.
type hist [numFeatures][maxBins]uint32

func (h *hist) add(s sample) {
	for f, b := range s {
		if b != absent {
			h[f][b]++
		}
	}
}

func (h *hist) remove(s sample) {
	for f, b := range s {
		if b != absent && h[f][b] > 0 {
			h[f][b]--
		}
	}
}

func (h *hist) total(f feature) uint64 {
	var n uint64
	for _, c := range h[f][:featureBins[f]] {
		n += uint64(c)
	}
	return n
}

// extract bins one output. text is its text, "" when not captured.
func extract(ev *event.Event, text string) sample {
	var s sample
	n := ev.OutputChars
	switch {
	case n > 0:
	case text != "":
		n = len(text) // bytes: a fair stand-in when the gateway did not count
	case ev.TokensOut > 0:
		n = 4 * ev.TokensOut // about four characters a token
	}
	s[fLength] = uint8(min(bits.Len(uint(max(n, 0))), lengthBins-1))
	s[fCut] = 0
	if ev.Decision == event.DecisionStopped {
		s[fCut] = 1
	}
	s[fRefusal], s[fShape] = absent, absent
	if text != "" {
		s[fRefusal] = 0
		if detect.Refused(text) {
			s[fRefusal] = 1
		}
		s[fShape] = shapeOf(text)
	}
	return s
}

// shapeOf is a cheap look at the start of a text.
func shapeOf(text string) uint8 {
	h := head(text, shapeScan)
	high, i := 0, 0
	for ; i+8 <= len(h); i += 8 {
		high += bits.OnesCount64(swar.Load64(h, i) & swar.Msb)
	}
	for ; i < len(h); i++ {
		if h[i] >= 0x80 {
			high++
		}
	}
	if 10*high >= 3*len(h) {
		return shapeNonASCII
	}
	if strings.Contains(h, "```") {
		return shapeCode
	}
	lead := strings.TrimLeft(h, " \t\r\n")
	if lead == "" {
		return shapeProse
	}
	switch lead[0] {
	case '{', '[':
		return shapeJSON
	case '-', '*':
		if len(lead) > 1 && lead[1] == ' ' {
			return shapeList
		}
	}
	if len(lead) > 2 && lead[0] >= '1' && lead[0] <= '9' && (lead[1] == '.' || lead[1] == ')') && lead[2] == ' ' {
		return shapeList
	}
	if c := lead[0]; c < utf8.RuneSelf && c|0x20 != 's' && c|0x20 != 'i' && c|0x20 != 'u' {
		return shapeProse // no apology: none starts otherwise, and only ſ and the Kelvin sign fold to ASCII
	}
	if hasFoldPrefix(lead, "sorry") || hasFoldPrefix(lead, "i'm sorry") || hasFoldPrefix(lead, "i’m sorry") ||
		hasFoldPrefix(lead, "i am sorry") || hasFoldPrefix(lead, "i apologi") || hasFoldPrefix(lead, "unfortunately") {
		return shapeApology
	}
	return shapeProse
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// binLabel describes a bin of a feature for a summary.
func binLabel(f feature, b int) string {
	switch f {
	case fLength:
		switch {
		case b == 0:
			return "0 chars"
		case b == 1:
			return "1 char"
		case b == lengthBins-1:
			return fmt.Sprintf("≥ %d chars", 1<<(b-1))
		}
		return fmt.Sprintf("%d–%d chars", 1<<(b-1), 1<<b-1)
	case fShape:
		return shapeNames[b]
	}
	if b == 1 {
		return "yes"
	}
	return "no"
}
