package scan

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// A .npy file is a magic number, a version, a header that is a Python dict
// literal ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}) and
// the array data. An object array's data is a pickle, which np.load
// unpickles when allow_pickle is set: that pickle is scanned.

const maxNpyHeader = 1 << 20

func (s *fileScan) scanNumpy(m *member, br *bufio.Reader) {
	bad := func(reason string) {
		s.add(m, Finding{Severity: SeverityError, Rule: "npy-malformed", Offset: 0, Reason: reason})
	}
	pre, err := br.Peek(10)
	if err != nil {
		bad("header is truncated")
		return
	}
	major := pre[6]
	var headerLen, start int64
	switch major {
	case 1:
		headerLen, start = int64(binary.LittleEndian.Uint16(pre[8:])), 10
	case 2, 3:
		p, err := br.Peek(12)
		if err != nil {
			bad("header is truncated")
			return
		}
		headerLen, start = int64(binary.LittleEndian.Uint32(p[8:])), 12
	default:
		bad(fmt.Sprintf("unknown format version %d", major))
		return
	}
	if headerLen > maxNpyHeader || headerLen > m.size-start {
		bad(fmt.Sprintf("header length %d does not fit the file", headerLen))
		return
	}
	if _, err := br.Discard(int(start)); err != nil {
		bad("header is truncated")
		return
	}
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(br, header); err != nil {
		bad("header is truncated")
		return
	}
	h, err := parseNpyHeader(string(header))
	if err != nil {
		bad("header: " + err.Error())
		return
	}
	dataStart := start + headerLen
	if h.object {
		s.scanPickleStreamAt(m, br, payloadPickle, dataStart)
		return
	}
	if h.itemSize < 0 {
		return // a dtype whose size this parser does not know
	}
	want, ok := h.dataBytes()
	switch have := m.size - dataStart; {
	case !ok:
		bad("shape times item size overflows")
	case want > uint64(have):
		s.add(m, Finding{Severity: SeverityError, Rule: "npy-malformed", Offset: dataStart,
			Reason: fmt.Sprintf("array data is %d bytes, the header says %d (truncated)", have, want)})
	case want < uint64(have):
		s.add(m, Finding{Severity: SeveritySuspicious, Rule: "trailing-data", Offset: dataStart + int64(want),
			Reason: fmt.Sprintf("%d bytes follow the array data and were not inspected", uint64(have)-want)})
	}
}

type npyHeader struct {
	object   bool
	itemSize int64 // -1 when unknown
	shape    []uint64
}

func (h npyHeader) dataBytes() (uint64, bool) {
	n := uint64(h.itemSize)
	for _, d := range h.shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

func parseNpyHeader(text string) (npyHeader, error) {
	p := &pyParser{s: text}
	lit, err := p.parse(0)
	if err != nil {
		return npyHeader{}, err
	}
	if lit.kind != litDict {
		return npyHeader{}, errors.New("not a dict")
	}
	h := npyHeader{itemSize: -1}
	var haveDescr, haveShape bool
	for i, k := range lit.keys {
		v := lit.items[i]
		switch k.s {
		case "descr":
			haveDescr = true
			h.object = descrHasObject(v)
			h.itemSize = descrSize(v)
		case "shape":
			if v.kind != litTuple {
				return h, errors.New("shape is not a tuple")
			}
			for _, d := range v.items {
				if d.kind != litInt || d.i < 0 {
					return h, errors.New("shape holds a negative or non-integer dimension")
				}
				h.shape = append(h.shape, uint64(d.i))
			}
			haveShape = true
		}
	}
	if !haveDescr || !haveShape {
		return h, errors.New("descr or shape is missing")
	}
	return h, nil
}

// descrHasObject reports whether a dtype description holds Python objects
// anywhere (a plain 'O' or a field of a structured dtype).
func descrHasObject(v pyLit) bool {
	switch v.kind {
	case litStr:
		return strings.HasPrefix(strings.TrimLeft(v.s, "<>|="), "O")
	case litList, litTuple:
		for _, it := range v.items {
			if descrHasObject(it) {
				return true
			}
		}
	}
	return false
}

// descrSize is the item size in bytes of a dtype description, or -1.
func descrSize(v pyLit) int64 {
	switch v.kind {
	case litStr:
		t := strings.TrimLeft(v.s, "<>|=")
		if t == "" {
			return -1
		}
		kind, rest := t[0], t[1:]
		if i := strings.IndexByte(rest, '['); i >= 0 {
			rest = rest[:i]
		}
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return -1
		}
		if kind == 'U' {
			n *= 4
		}
		return n
	case litList:
		var total int64
		for _, field := range v.items {
			if field.kind != litTuple || len(field.items) < 2 {
				return -1
			}
			size := descrSize(field.items[1])
			if size < 0 {
				return -1
			}
			if len(field.items) == 3 {
				sub := field.items[2]
				dims := sub.items
				if sub.kind == litInt {
					dims = []pyLit{sub}
				}
				for _, d := range dims {
					if d.kind != litInt || d.i < 0 || (d.i > 0 && size > math.MaxInt32/d.i) {
						return -1
					}
					size *= d.i
				}
			}
			total += size
			if total > math.MaxInt32 {
				return -1
			}
		}
		return total
	}
	return -1
}

// A small reader of Python literals, enough for .npy headers.

type litKind int

const (
	litStr litKind = iota
	litInt
	litBool
	litNone
	litTuple
	litList
	litDict
)

type pyLit struct {
	kind  litKind
	s     string
	i     int64
	items []pyLit
	keys  []pyLit
}

type pyParser struct {
	s   string
	pos int
}

func (p *pyParser) skipSpace() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *pyParser) parse(depth int) (pyLit, error) {
	if depth > 32 {
		return pyLit{}, errors.New("nested too deeply")
	}
	p.skipSpace()
	if p.pos >= len(p.s) {
		return pyLit{}, errors.New("ends early")
	}
	switch c := p.s[p.pos]; {
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.pos+1:], c)
		if end < 0 {
			return pyLit{}, errors.New("unterminated string")
		}
		lit := pyLit{kind: litStr, s: p.s[p.pos+1 : p.pos+1+end]}
		p.pos += end + 2
		return lit, nil
	case c == '(' || c == '[' || c == '{':
		closer := map[byte]byte{'(': ')', '[': ']', '{': '}'}[c]
		kind := map[byte]litKind{'(': litTuple, '[': litList, '{': litDict}[c]
		p.pos++
		lit := pyLit{kind: kind}
		for {
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == closer {
				p.pos++
				return lit, nil
			}
			item, err := p.parse(depth + 1)
			if err != nil {
				return pyLit{}, err
			}
			if kind == litDict {
				p.skipSpace()
				if p.pos >= len(p.s) || p.s[p.pos] != ':' {
					return pyLit{}, errors.New("dict key without value")
				}
				p.pos++
				val, err := p.parse(depth + 1)
				if err != nil {
					return pyLit{}, err
				}
				lit.keys = append(lit.keys, item)
				item = val
			}
			lit.items = append(lit.items, item)
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == ',' {
				p.pos++
			} else if p.pos >= len(p.s) || p.s[p.pos] != closer {
				return pyLit{}, errors.New("missing comma")
			}
		}
	default:
		end := p.pos
		for end < len(p.s) && strings.IndexByte(" \t\r\n,:)]}", p.s[end]) < 0 {
			end++
		}
		word := p.s[p.pos:end]
		p.pos = end
		switch word {
		case "True", "False":
			return pyLit{kind: litBool, s: word}, nil
		case "None":
			return pyLit{kind: litNone}, nil
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(word, "L"), 10, 64)
		if err != nil {
			return pyLit{}, fmt.Errorf("unexpected %q", word)
		}
		return pyLit{kind: litInt, i: n}, nil
	}
}
