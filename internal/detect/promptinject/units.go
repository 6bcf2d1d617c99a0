package promptinject

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Long texts are scored in windows, and the highest window wins: an attack
// buried in a long benign document is not diluted by it.
const (
	windowBytes   = 2048
	windowOverlap = 256
)

// unit is one piece of an input that is scored on its own: a window of the
// text, the text hidden in invisible characters, or a decoded payload.
type unit struct {
	src  source
	text string
}

// units splits an input into the pieces Score scores. The input is
// sanitised first so that an encoded run broken up by zero-width characters
// is whole again.
func units(text string) []unit {
	text = capMarks(text)
	clean := textnorm.Sanitize(text)
	d := newDecoder()
	d.scan(clean, 0)
	var out []unit
	forWindows(placeholders(clean, d.out), func(w string) { out = append(out, unit{srcText, w}) })
	if h := textnorm.Hidden(text); h != "" {
		forWindows(h, func(w string) { out = append(out, unit{srcHidden, w}) })
	}
	for _, p := range d.out {
		forWindows(p.text, func(w string) { out = append(out, unit{p.src, w}) })
	}
	return out
}

// placeholders cuts each payload found in s itself out of it, leaving a
// space: the payload is scored as a unit of its own, and its encoded form
// is noise to the classifier. (A marker such as "[base64]" would be worse:
// in the corpora only attacks carry encoded text, so the classifier would
// learn the marker.)
func placeholders(s string, ps []payload) string {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b payload) int { return a.start - b.start })
	var b strings.Builder
	last := 0
	for _, p := range ps {
		if p.depth != 0 || p.start < last {
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:p.start])
		b.WriteByte(' ')
		last = p.end
	}
	if b.Cap() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// forWindows calls fn with overlapping windows of s of at most windowBytes,
// cut at rune boundaries and, where there is one near the end, at a space.
func forWindows(s string, fn func(string)) {
	if len(s) <= windowBytes {
		fn(s)
		return
	}
	for start := 0; start < len(s); {
		end := start + windowBytes
		if end >= len(s) {
			fn(s[start:])
			return
		}
		end = cutPoint(s, start, end)
		fn(s[start:end])
		next := end - windowOverlap
		for next > start && next < len(s) && !utf8.RuneStart(s[next]) {
			next--
		}
		if next <= start {
			next = end
		}
		start = next
	}
}

// cutPoint moves end back to just after a space within the last 64 bytes,
// or else to a rune boundary.
func cutPoint(s string, start, end int) int {
	for k := end; k > end-64 && k > start+1; k-- {
		if s[k-1] == ' ' || s[k-1] == '\n' {
			return k
		}
	}
	for end > start+1 && !utf8.RuneStart(s[end]) {
		end--
	}
	return end
}

// maxMarkRun is the longest run of combining marks kept: no script needs
// more than a few, and "zalgo" runs of hundreds only cost normalising
// time (over 30 in a row, NFKC inserts U+034F, which textnorm.Sanitize
// strips and normalises again, a bounded number of rounds).
const maxMarkRun = 16

// capMarks shortens every run of combining marks (and of the halfwidth
// sound marks U+FF9E, U+FF9F, which NFKC turns into combining ones) to
// maxMarkRun. It returns s itself when there is nothing to shorten.
func capMarks(s string) string {
	run, i := 0, 0
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			run = 0
			if b.Cap() > 0 {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsMark(r) || r == 0xFF9E || r == 0xFF9F {
			run++
		} else {
			run = 0
		}
		if run > maxMarkRun && b.Cap() == 0 {
			b.Grow(len(s))
			b.WriteString(s[:i])
		}
		if b.Cap() > 0 && run <= maxMarkRun {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if b.Cap() == 0 {
		return s
	}
	return b.String()
}
