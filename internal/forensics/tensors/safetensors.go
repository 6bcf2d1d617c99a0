package tensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MaxSafetensorsHeader bounds the JSON header, as the reference
// implementation does (100 MB); real headers are kilobytes to a few MB.
const MaxSafetensorsHeader = 100_000_000

// ReadSafetensors reads and checks a safetensors file of size bytes: an
// 8-byte little-endian header length, a JSON header, then the data region.
//
// The header must be valid UTF-8 JSON starting with '{', hold no duplicate
// keys, and describe each tensor with exactly dtype, shape and data_offsets;
// __metadata__, if present, maps strings to strings. The tensors' byte
// ranges must tile the data region exactly — in order, without gaps or
// overlaps, from its first byte to the end of the file — and each range must
// be the size its dtype and shape imply.
func ReadSafetensors(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, stErr(0, "file is %d bytes, shorter than the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, stErr(0, "header length %d runs past the end of the %d-byte file", n, size)
	}
	if n > MaxSafetensorsHeader {
		return nil, stErr(0, "header length %d exceeds the %d-byte limit", n, MaxSafetensorsHeader)
	}
	hdr := make([]byte, n)
	if err := readFull(r, hdr, 8); err != nil {
		return nil, fmt.Errorf("safetensors: read header: %w", err)
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, stErr(8, "header does not start with '{'")
	}
	if !utf8.Valid(hdr) {
		return nil, stErr(8, "header is not valid UTF-8")
	}
	entries, meta, err := parseSafetensorsHeader(hdr)
	if err != nil {
		return nil, err
	}
	dataStart := 8 + int64(n)
	ts, err := layoutSafetensors(entries, dataStart, size-dataStart)
	if err != nil {
		return nil, err
	}
	return &File{
		Format:     FormatSafetensors,
		Size:       size,
		DataOffset: dataStart,
		Tensors:    ts,
		Metadata:   meta,
	}, nil
}

func stErr(off int64, format string, args ...any) *FormatError {
	return formatErrorf(FormatSafetensors, off, format, args...)
}

// stEntry is one tensor as the header declares it.
type stEntry struct {
	name       string
	dtype      DType
	shape      []uint64
	begin, end uint64
	at         int64 // file offset of the entry in the header, for errors
	seen       [3]bool
}

// headerParser walks the header's JSON token by token, so that duplicate
// keys — which encoding/json would silently resolve to the last — are seen
// and refused.
type headerParser struct {
	dec *json.Decoder
}

// at is the current file offset (the header starts at byte 8).
func (p *headerParser) at() int64 { return 8 + p.dec.InputOffset() }

func (p *headerParser) errorf(format string, args ...any) error {
	return stErr(p.at(), format, args...)
}

func (p *headerParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errorf("header JSON ends early")
		}
		return nil, p.errorf("header JSON: %v", err)
	}
	return tok, nil
}

func (p *headerParser) delim(want json.Delim) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return p.errorf("header JSON: want %q, got %v", want, tok)
	}
	return nil
}

func (p *headerParser) str() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", p.errorf("header JSON: want a string, got %v", tok)
	}
	return s, nil
}

func (p *headerParser) uint() (uint64, error) {
	tok, err := p.token()
	if err != nil {
		return 0, err
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, p.errorf("header JSON: want a non-negative integer, got %v", tok)
	}
	v, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0, p.errorf("header JSON: %s is not a non-negative 64-bit integer", num)
	}
	return v, nil
}

func parseSafetensorsHeader(hdr []byte) ([]stEntry, map[string]string, error) {
	p := &headerParser{dec: json.NewDecoder(bytes.NewReader(hdr))}
	p.dec.UseNumber()
	if err := p.delim('{'); err != nil {
		return nil, nil, err
	}
	var (
		entries []stEntry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for p.dec.More() {
		at := p.at()
		key, err := p.str()
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			return nil, nil, stErr(at, "duplicate key %q", key)
		}
		seen[key] = true
		if key == "__metadata__" {
			if meta, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := p.entry(key, at)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := p.delim('}'); err != nil {
		return nil, nil, err
	}
	if tok, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, p.errorf("header JSON: unexpected %v after the top-level object", tok)
	}
	return entries, meta, nil
}

func (p *headerParser) metadata() (map[string]string, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok == nil { // "__metadata__": null
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, p.errorf("__metadata__ is not an object")
	}
	meta := map[string]string{}
	for p.dec.More() {
		at := p.at()
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := meta[k]; dup {
			return nil, stErr(at, "duplicate __metadata__ key %q", k)
		}
		v, err := p.str()
		if err != nil {
			return nil, fmt.Errorf("__metadata__ %q: %w", k, err)
		}
		meta[k] = v
	}
	return meta, p.delim('}')
}

func (p *headerParser) entry(name string, at int64) (stEntry, error) {
	e := stEntry{name: name, at: at}
	if err := p.delim('{'); err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	for p.dec.More() {
		kat := p.at()
		field, err := p.str()
		if err != nil {
			return e, err
		}
		var i int
		switch field {
		case "dtype":
			i, err = 0, p.dtype(&e)
		case "shape":
			i, err = 1, p.shape(&e)
		case "data_offsets":
			i, err = 2, p.offsets(&e)
		default:
			return e, stErr(kat, "tensor %q: unknown field %q", name, field)
		}
		if err != nil {
			return e, fmt.Errorf("tensor %q: %s: %w", name, field, err)
		}
		if e.seen[i] {
			return e, stErr(kat, "tensor %q: duplicate field %q", name, field)
		}
		e.seen[i] = true
	}
	if err := p.delim('}'); err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	for i, f := range []string{"dtype", "shape", "data_offsets"} {
		if !e.seen[i] {
			return e, stErr(at, "tensor %q: missing %s", name, f)
		}
	}
	return e, nil
}

func (p *headerParser) dtype(e *stEntry) error {
	s, err := p.str()
	if err != nil {
		return err
	}
	e.dtype = DType(s)
	if e.dtype.Bits() == 0 {
		return p.errorf("unknown dtype %q", s)
	}
	return nil
}

func (p *headerParser) shape(e *stEntry) error {
	if err := p.delim('['); err != nil {
		return err
	}
	e.shape = []uint64{}
	for p.dec.More() {
		d, err := p.uint()
		if err != nil {
			return err
		}
		e.shape = append(e.shape, d)
	}
	return p.delim(']')
}

func (p *headerParser) offsets(e *stEntry) error {
	if err := p.delim('['); err != nil {
		return err
	}
	var err error
	if e.begin, err = p.uint(); err != nil {
		return err
	}
	if e.end, err = p.uint(); err != nil {
		return err
	}
	if p.dec.More() {
		return p.errorf("more than two offsets")
	}
	return p.delim(']')
}

// layoutSafetensors checks that the entries tile the data region and turns
// them into Tensors with absolute offsets.
func layoutSafetensors(entries []stEntry, dataStart, dataLen int64) ([]Tensor, error) {
	slices.SortFunc(entries, func(a, b stEntry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.name, b.name))
	})
	ts := make([]Tensor, 0, len(entries))
	var next uint64 // where the next tensor must begin
	for _, e := range entries {
		switch {
		case e.end < e.begin:
			return nil, stErr(e.at, "tensor %q: data_offsets [%d, %d] end before they begin", e.name, e.begin, e.end)
		case e.end > uint64(dataLen):
			return nil, stErr(e.at, "tensor %q: data_offsets [%d, %d] run past the %d-byte data region", e.name, e.begin, e.end, dataLen)
		case e.begin < next:
			return nil, stErr(e.at, "tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", e.name, e.begin, e.end, next)
		case e.begin > next:
			return nil, stErr(e.at, "tensor %q: data_offsets [%d, %d] leave a gap of %d bytes after the previous tensor", e.name, e.begin, e.end, e.begin-next)
		}
		elems, ok := product(e.shape)
		if !ok {
			return nil, stErr(e.at, "tensor %q: shape %v overflows", e.name, e.shape)
		}
		want, ok := byteSize(e.dtype, elems)
		if !ok {
			return nil, stErr(e.at, "tensor %q: %d elements of %s are not a whole number of bytes below 2^63", e.name, elems, e.dtype)
		}
		if got := e.end - e.begin; got != uint64(want) {
			return nil, stErr(e.at, "tensor %q: data_offsets span %d bytes, but %s%v needs %d", e.name, got, e.dtype, e.shape, want)
		}
		ts = append(ts, Tensor{
			Name:   e.name,
			DType:  e.dtype,
			Shape:  e.shape,
			Offset: dataStart + int64(e.begin),
			Size:   want,
		})
		next = e.end
	}
	if next != uint64(dataLen) {
		return nil, stErr(dataStart+int64(next), "tensors cover %d bytes of the %d-byte data region", next, dataLen)
	}
	return ts, nil
}

// product multiplies dimensions, refusing results at or above 2^63.
func product(dims []uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		if d != 0 && n > math.MaxInt64/d {
			// Only an overflow if no later dimension is zero.
			if slices.Contains(dims, 0) {
				return 0, true
			}
			return 0, false
		}
		n *= d
	}
	return n, true
}

// readFull reads len(buf) bytes at off, treating a short read as
// io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
