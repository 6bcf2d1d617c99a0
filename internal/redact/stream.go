package redact

import (
	"strings"
	"unicode/utf8"
)

// Stream redacts text that arrives in chunks, such as a streamed model
// response. The concatenation of what Write and Flush return is exactly
// what Redact returns for the concatenation of the chunks, wherever the
// chunks were cut, and Findings are the same.
//
// A Stream holds back at most MaxMatchLen bytes, and only while they could
// still be part of a match: the word being written (it may turn out to be the
// local part of an email), a "gh" that may become "ghp_", a token until it
// ends. It never splits a UTF-8 sequence. It is not safe for concurrent use.
type Stream struct {
	r *Redactor

	buf  string // the input from offset base on
	base int

	// Offsets in the whole input. Everything before cursor is decided:
	// emitted, or covered by a finding. released ≤ cursor is what has been
	// emitted; cur is the end of the last finding.
	cursor, released, cur int

	pending, spare []pend
	redo           []redo
	cands          []cand // decided matches that start at or after the frontier
	found          []Finding
	emitted        int // found[:emitted] have been written out
	flushed        bool
}

// NewStream starts redacting a new stream of text.
func (r *Redactor) NewStream() *Stream { return &Stream{r: r} }

// Write adds a chunk and returns the text that is now safe to emit, redacted;
// often all of the chunk but the last word, sometimes "".
func (s *Stream) Write(chunk string) string {
	if s.flushed {
		panic("redact: Write after Flush")
	}
	if chunk == "" {
		return ""
	}
	return s.advance(chunk, false)
}

// Flush ends the stream and returns the rest of the text, redacted.
// The Stream must not be written to afterwards.
func (s *Stream) Flush() string {
	if s.flushed {
		return ""
	}
	out := s.advance("", true)
	s.flushed = true
	return out
}

// Findings returns what was redacted so far, with offsets in the whole
// stream.
func (s *Stream) Findings() []Finding {
	return append([]Finding(nil), s.found...)
}

func (s *Stream) advance(chunk string, eof bool) string {
	r := s.r
	end := s.base + len(s.buf)

	// Keep what later decisions may still read: from the earliest open
	// match, or from the cursor, lookbehind bytes back.
	keep := s.cursor
	for _, p := range s.pending {
		keep = min(keep, p.start)
	}
	for _, d := range s.redo {
		keep = min(keep, d.at-d.e.off)
	}
	keep = max(s.base, keep-lookbehind)
	buf := s.buf[keep-s.base:]
	switch {
	case buf == "":
		buf = chunk
	case chunk != "":
		buf += chunk
	}
	s.buf, s.base = buf, keep

	st := scanState{eof: eof, base: keep, cands: s.cands, pending: s.spare[:0]}
	redos := s.redo
	s.redo = nil
	for _, d := range redos {
		r.trigger(buf, d.at-keep, d.e, &st)
	}
	for _, p := range s.pending {
		st.evaluate(p.rule, buf, p.start-keep)
	}
	r.scan(buf, end-keep, &st)
	s.spare, s.pending, s.redo = s.pending[:0], st.pending, st.redo

	// Every match that begins before frontier is known.
	frontier := keep + len(buf)
	if !eof {
		frontier = min(frontier, keep+r.tailHold(buf))
		if st.held {
			frontier = min(frontier, st.low)
		}
	}

	cands := st.cands
	sortCands(cands)
	n := 0
	for i, c := range cands {
		if c.start >= frontier {
			n += copy(cands[n:], cands[i:])
			break
		}
		if c.start >= s.cur && c.start >= s.cursor {
			s.found = append(s.found, c.finding())
			s.cur = c.end
		}
	}
	s.cands = cands[:n]
	s.cursor = max(s.cursor, frontier, s.cur)

	rel := s.cursor
	if !eof && rel > s.cur {
		rel = max(s.cur, keep+runeStart(buf, rel-keep))
	}
	return s.emit(max(rel, s.released))
}

// emit returns the input from released to rel with the findings in it
// replaced, and moves released to rel.
func (s *Stream) emit(rel int) string {
	from := s.released
	s.released = rel
	fs := s.found[s.emitted:]
	s.emitted = len(s.found)
	if len(fs) == 0 {
		return s.buf[from-s.base : rel-s.base]
	}
	var b strings.Builder
	b.Grow(rel - from + 32*len(fs))
	for _, f := range fs {
		b.WriteString(s.buf[from-s.base : f.Start-s.base])
		b.WriteString("[REDACTED:")
		b.WriteString(f.Rule)
		b.WriteByte(']')
		from = f.End
	}
	b.WriteString(s.buf[from-s.base : rel-s.base])
	return b.String()
}

// runeStart moves i back to the start of a UTF-8 sequence that s[:i] cuts
// short, so that emitted text never ends in the middle of a character.
func runeStart(s string, i int) int {
	for k := 1; k < utf8.UTFMax && k <= i; k++ {
		c := s[i-k]
		if c < utf8.RuneSelf {
			return i
		}
		if c >= 0xC0 { // a leading byte
			size := 2
			switch {
			case c >= 0xF0:
				size = 4
			case c >= 0xE0:
				size = 3
			}
			if k < size {
				return i - k
			}
			return i
		}
	}
	return i
}
