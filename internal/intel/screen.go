package intel

import "math/bits"

// A screen clears most prompts without normalising them. Normalising a
// prompt into every form textnorm.Variants gives costs far more than
// looking at it, and nearly every prompt is plain ASCII that holds no
// signature. For such a prompt the forms are simple: Fold only lower-cases
// it and collapses its white space, Despace changes nothing unless four
// single letters stand in a row, Deleet only turns 0 1 3 4 5 7 @ $ into
// letters, and nothing is hidden (Hidden needs non-ASCII runes). So map
// every byte to a canonical one, lower case, leetspeak undone everywhere,
// white space as one space; a signature that occurs in a form of the
// prompt then occurs, canonical, in the canonical prompt. When it does not,
// the prompt holds no literal signature, and the search over its forms can
// be skipped.
//
// The canonical prompt is searched Wu–Manber style: a window of the
// shortest signature's length slides over it, and the last three bytes of
// the window say how far it may move without passing an occurrence; only
// where a signature could end is the window compared with the signatures'
// starts. Prompts that are not ASCII, hold control characters or a spaced
// run, or where the canonical search finds a candidate, take the full
// search, so the screen changes what is found in no case: it only decides
// when the full search cannot find anything.
type screen struct {
	window int                     // bytes compared: the shortest canonical signature, at most maxWindow; 0 if none is ASCII
	shift  *[shiftSize]uint8       // by hash of three canonical bytes: how far the window may move
	starts *[128 * 128 / 64]uint64 // a bit for each two bytes a signature starts with, canonical
	heads  map[string]bool         // the signatures' first window bytes, canonical
}

const (
	maxChunks = 16 // how many chunks of 64 bytes plainASCII marks white space to drop in
	maxWindow = 32
	shiftBits = 12
	shiftSize = 1 << shiftBits
	block     = 3 // bytes hashed for the shift
)

// canon maps a byte to its canonical form; 0 for the bytes that make a
// prompt take the full search: non-ASCII, and controls other than white
// space (Sanitize removes them, which joins their neighbours).
var canon = func() (t [256]byte) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	for _, c := range "\t\n\v\f\r" {
		t[c] = ' '
	}
	// textnorm's leetspeak table.
	for from, to := range map[byte]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'} {
		t[from] = to
	}
	return t
}()

// class holds, for each byte, whether it is a word character for
// textnorm.Despace (ASCII letters, digits, @ and $), white space, or a
// byte that makes a prompt take the full search.
var class = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 0x80 || c == 0x7f || c < 0x20 && canon[c] == 0:
			t[c] = classBad
		case canon[c] == ' ':
			t[c] = classSpace
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '@', c == '$':
			t[c] = classWord
		}
	}
	return t
}()

const (
	classWord  = 1
	classSpace = 2
	classBad   = 4
)

// newScreen builds the screen for the literal patterns of a set (folded
// signatures and their space-free forms). Patterns that are not ASCII are
// left out: ASCII text has only ASCII forms, so they cannot match.
func newScreen(patterns []string) *screen {
	var canonical []string
	window := maxWindow
	for _, p := range patterns {
		c, ok := canonicalASCII(p)
		if !ok {
			continue
		}
		canonical = append(canonical, c)
		window = min(window, len(c))
	}
	sc := &screen{}
	if len(canonical) == 0 {
		return sc // no pattern can match an ASCII prompt
	}
	sc.window = window
	sc.shift = new([shiftSize]uint8)
	for i := range sc.shift {
		sc.shift[i] = uint8(window - block + 1)
	}
	sc.heads = make(map[string]bool)
	sc.starts = new([128 * 128 / 64]uint64)
	for _, c := range canonical {
		head := c[:window]
		sc.heads[head] = true
		i := startIndex(head[0], head[1])
		sc.starts[i/64] |= 1 << (i % 64)
		for j := block - 1; j < window; j++ {
			h := blockHash(head[j-2], head[j-1], head[j])
			sc.shift[h] = min(sc.shift[h], uint8(window-1-j))
		}
	}
	return sc
}

// canonicalASCII maps an ASCII pattern to its canonical form.
func canonicalASCII(p string) (string, bool) {
	b := make([]byte, len(p))
	for i := 0; i < len(p); i++ {
		c := canon[p[i]]
		if c == 0 {
			return "", false
		}
		b[i] = c
	}
	return string(b), true
}

// startIndex numbers the first two bytes of a window, canonical (ASCII).
func startIndex(a, b byte) uint { return uint(a&0x7f)<<7 | uint(b&0x7f) }

func blockHash(a, b, c byte) uint32 {
	return (uint32(a) | uint32(b)<<8 | uint32(c)<<16) * 0x9E3779B1 >> (32 - shiftBits)
}

// clears reports whether text certainly holds no literal pattern in any
// of its forms: it is ASCII without control characters other than white
// space (so Hidden finds nothing), Despace leaves it alone, and no
// pattern's canonical start occurs in its canonical form. False means only
// that the full search must decide.
func (sc *screen) clears(text string) bool {
	var drops [maxChunks]uint64
	runs, ok := plainASCII(text, drops[:])
	if !ok {
		return false
	}
	if sc.window == 0 || len(text) < sc.window {
		return true
	}
	if !runs {
		return !found(sc, text)
	}
	// White space in runs collapses to one space in every form: keep the
	// bytes plainASCII did not mark to drop, a stretch at a time.
	var stack [1024]byte
	buf := stack[:0]
	if len(text) > len(stack) {
		buf = make([]byte, 0, len(text))
	}
	for k := 0; k*64 < len(text); k++ {
		chunk := text[k*64 : min(k*64+64, len(text))]
		var drop uint64
		if k < len(drops) {
			drop = drops[k]
		} else {
			for j := range len(chunk) { // past the marked chunks, byte by byte
				if canon[chunk[j]] == ' ' && (j > 0 && canon[chunk[j-1]] == ' ' || j == 0 && canon[text[k*64-1]] == ' ') {
					drop |= 1 << j
				}
			}
		}
		keep := ^drop & (uint64(1)<<len(chunk) - 1)
		for keep != 0 {
			a := bits.TrailingZeros64(keep)
			e := min(a+bits.TrailingZeros64(^(keep>>a)), len(chunk))
			buf = append(buf, chunk[a:e]...)
			keep &^= uint64(1)<<e - 1
		}
	}
	return !found(sc, buf)
}

// found reports whether a pattern's canonical start may occur in the
// canonical form of text, which holds no run of white space: only where
// the window's last three bytes end a start, and its first two begin one,
// is the window compared with the starts.
func found[T string | []byte](sc *screen, text T) bool {
	m := sc.window
	var win [maxWindow]byte
	for end := m - 1; end < len(text); {
		sh := sc.shift[blockHash(canon[text[end-2]], canon[text[end-1]], canon[text[end]])]
		if sh == 0 {
			start := end + 1 - m
			if i := startIndex(canon[text[start]], canon[text[start+1]]); sc.starts[i/64]&(1<<(i%64)) != 0 {
				for i := range m {
					win[i] = canon[text[start+i]]
				}
				if sc.heads[string(win[:m])] {
					return true
				}
			}
			sh = 1
		}
		end += int(sh)
	}
	return false
}

// plainASCII reports whether text is ASCII with no control characters but
// white space and no run that textnorm.Despace would join (four or more
// single word characters, each at most three characters after the last),
// and whether it holds a run of white space.
//
// Word characters are found 64 at a time as bits; a single one is a word
// bit with no word bit either side, and a spaced run is four single ones
// each two to four bits after the one before (at most three gap characters
// between them, and a gap of one character too few for a word to hide in).
//
// The white space that follows white space, which collapsing drops, is
// marked in drops, a bit per byte, for the first len(drops) chunks of 64
// bytes.
func plainASCII(text string, drops []uint64) (runs, ok bool) {
	var (
		prevWord, prevSpace   uint64 // the last chunk's masks
		prevIso, prev2, prev3 uint64 // the last chunk's single letters and chains of two and three
		word                  uint64
	)
	// Chunk k's word mask is only final for isolation once chunk k+1's
	// first bit is known, so each chunk is judged one step late.
	judge := func(next uint64) bool {
		iso := word &^ (word<<1 | prevWord>>63) &^ (word>>1 | next<<63)
		c2 := iso & (shl(iso, prevIso, 2) | shl(iso, prevIso, 3) | shl(iso, prevIso, 4))
		c3 := iso & (shl(c2, prev2, 2) | shl(c2, prev2, 3) | shl(c2, prev2, 4))
		c4 := iso & (shl(c3, prev3, 2) | shl(c3, prev3, 3) | shl(c3, prev3, 4))
		prevIso, prev2, prev3 = iso, c2, c3
		return c4 == 0
	}
	first := true
	for base := 0; base < len(text); base += 64 {
		chunk := text[base:min(base+64, len(text))]
		var w, sp, bad, badPairs uint64
		j := 0
		for ; j+8 <= len(chunk); j += 8 {
			// The classes of eight bytes, two at a time from a table of
			// byte pairs: bits 0-1 word, 2-3 white space, 4 bad, in a
			// byte per pair.
			x := chunk[j : j+8]
			v := uint64(pairClass[uint16(x[0])|uint16(x[1])<<8]) | uint64(pairClass[uint16(x[2])|uint16(x[3])<<8])<<8 |
				uint64(pairClass[uint16(x[4])|uint16(x[5])<<8])<<16 | uint64(pairClass[uint16(x[6])|uint16(x[7])<<8])<<24
			badPairs |= v
			w |= pairs(v) << j
			sp |= pairs(v>>2) << j
		}
		for ; j < len(chunk); j++ {
			k := uint64(class[chunk[j]])
			bad |= k
			w |= k & classWord << j
			sp |= k >> 1 & 1 << j
		}
		if badPairs&0x10101010 != 0 || bad&classBad != 0 {
			return false, false
		}
		if d := sp & (sp<<1 | prevSpace>>63); d != 0 {
			if k := base / 64; k < len(drops) {
				drops[k] = d
			}
			runs = true
		}
		if !first {
			if !judge(w) {
				return false, false
			}
			prevWord = word
		}
		first = false
		word, prevSpace = w, sp
	}
	if !first && !judge(0) {
		return false, false
	}
	return runs, true
}

// pairClass holds the classes of every two bytes.
var pairClass = func() *[1 << 16]uint8 {
	t := new([1 << 16]uint8)
	for i := range t {
		a, b := class[i&0xff], class[i>>8]
		t[i] = a&classWord | b&classWord<<1 | a>>1&1<<2 | b>>1&1<<3 | (a|b)&classBad<<2
	}
	return t
}()

// pairs packs bits 0-1 of each of the low four bytes of v into eight bits:
// the multiplication moves each pair next to the one before, without
// carries.
func pairs(v uint64) uint64 { return (v & 0x03030303) * (1 | 1<<6 | 1<<12 | 1<<18) >> 18 & 0xff }

// shl shifts a mask left by n bits, bringing in the top bits of the chunk
// before.
func shl(x, prev uint64, n uint) uint64 { return x<<n | prev>>(64-n) }
