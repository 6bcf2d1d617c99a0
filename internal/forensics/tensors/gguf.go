package tensors

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

var ggufMagic = [4]byte{'G', 'G', 'U', 'F'}

// Limits on what a GGUF header may declare. Real headers, vocabularies
// included, are tens of megabytes at most.
const (
	// MaxGGUFHeader bounds the metadata and tensor infos together.
	MaxGGUFHeader = 256 << 20
	// MaxGGUFDims is ggml's GGML_MAX_DIMS.
	MaxGGUFDims = 4
	// maxArrayDepth bounds nested arrays, which would otherwise let a
	// small file drive the reader's recursion arbitrarily deep.
	maxArrayDepth        = 8
	defaultGGUFAlignment = 32
)

// Minimum encoded sizes, used to bound declared counts by the bytes left
// before anything is allocated.
const (
	minKVBytes         = 8 + 4 + 1     // key length, type, a one-byte value
	minTensorInfoBytes = 8 + 4 + 4 + 8 // name length, n_dims, type, offset
	minArrayBytes      = 4 + 8         // element type, count
)

// ReadGGUF reads and checks a little-endian GGUF file (version 2 or 3) of
// size bytes: magic, version, counts, metadata, tensor infos, then tensor
// data from the first aligned offset after the infos.
//
// Every count and length is bounded by the bytes left in the file (and the
// header by MaxGGUFHeader) before it is allocated. Keys and tensor names
// must be unique, general.alignment (if present) a uint32 power of two,
// tensor types known to ggml, rows whole blocks, and tensor offsets aligned,
// inside the file and non-overlapping. Bytes of the data region that no
// tensor claims are counted in File.Unclaimed.
func ReadGGUF(r io.ReaderAt, size int64) (*File, error) {
	d := &ggufDecoder{
		br:    bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10),
		size:  size,
		limit: min(size, MaxGGUFHeader),
	}
	h, err := d.header()
	if err != nil {
		return nil, err
	}
	return layoutGGUF(h, d.off, size)
}

func ggufErr(off int64, format string, args ...any) *FormatError {
	return formatErrorf(FormatGGUF, off, format, args...)
}

// ggufDecoder reads the header sequentially, tracking the file offset.
type ggufDecoder struct {
	br    *bufio.Reader
	off   int64
	size  int64
	limit int64 // reads past here fail: min(size, MaxGGUFHeader)
	buf   [8]byte
}

// need fails unless n more header bytes exist.
func (d *ggufDecoder) need(n uint64, what string) error {
	if n <= uint64(d.limit-d.off) {
		return nil
	}
	if d.limit < d.size {
		return ggufErr(d.off, "%s: header exceeds the %d-byte limit", what, MaxGGUFHeader)
	}
	return ggufErr(d.off, "%s: needs %d bytes, only %d left in the file", what, n, d.limit-d.off)
}

func (d *ggufDecoder) read(p []byte, what string) error {
	if err := d.need(uint64(len(p)), what); err != nil {
		return err
	}
	if _, err := io.ReadFull(d.br, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ggufErr(d.off, "%s: file ends early", what)
		}
		return fmt.Errorf("gguf: read %s at byte %d: %w", what, d.off, err)
	}
	d.off += int64(len(p))
	return nil
}

func (d *ggufDecoder) u32(what string) (uint32, error) {
	if err := d.read(d.buf[:4], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(d.buf[:4]), nil
}

func (d *ggufDecoder) u64(what string) (uint64, error) {
	if err := d.read(d.buf[:8], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(d.buf[:8]), nil
}

func (d *ggufDecoder) str(what string) (string, error) {
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if err := d.need(n, what); err != nil {
		return "", err
	}
	b := make([]byte, n)
	if err := d.read(b, what); err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *ggufDecoder) header() (*GGUFHeader, error) {
	var magic [4]byte
	if err := d.read(magic[:], "magic"); err != nil {
		return nil, err
	}
	if magic != ggufMagic {
		return nil, ggufErr(0, "bad magic %q", magic[:])
	}
	version, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, ggufErr(4, "version 1 is not supported (32-bit counts; superseded in 2023)")
	case version&0xffff == 0 && (version>>24 == 2 || version>>24 == 3):
		return nil, ggufErr(4, "big-endian GGUF is not supported")
	default:
		return nil, ggufErr(4, "unknown version %d", version)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return nil, err
	}
	left := uint64(d.limit - d.off)
	if nKV > left/minKVBytes {
		return nil, ggufErr(16, "metadata count %d cannot fit in the %d bytes left", nKV, left)
	}
	if nTensors > left/minTensorInfoBytes {
		return nil, ggufErr(8, "tensor count %d cannot fit in the %d bytes left", nTensors, left)
	}
	// Counts are bounded by the bytes left, but a hostile count could still
	// be large; slices grow with the entries actually read instead.
	h := &GGUFHeader{Version: version, Alignment: defaultGGUFAlignment}
	keys := map[string]bool{}
	for i := range nKV {
		at := d.off
		kv, err := d.kv()
		if err != nil {
			return nil, fmt.Errorf("metadata entry %d: %w", i, err)
		}
		if keys[kv.Key] {
			return nil, ggufErr(at, "duplicate metadata key %q", kv.Key)
		}
		keys[kv.Key] = true
		if kv.Key == "general.alignment" {
			a, ok := kv.Value.(uint32)
			if !ok {
				return nil, ggufErr(at, "general.alignment is a %s, not a uint32", kv.Type)
			}
			if a == 0 || a&(a-1) != 0 {
				return nil, ggufErr(at, "general.alignment %d is not a power of two", a)
			}
			h.Alignment = uint64(a)
		}
		h.KV = append(h.KV, kv)
	}
	// Recheck against what the metadata left: the first bound was loose.
	if left := uint64(d.limit - d.off); nTensors > left/minTensorInfoBytes {
		return nil, ggufErr(d.off, "tensor count %d cannot fit in the %d bytes left", nTensors, left)
	}
	for i := range nTensors {
		ti, err := d.tensorInfo()
		if err != nil {
			return nil, fmt.Errorf("tensor info %d: %w", i, err)
		}
		h.Infos = append(h.Infos, ti)
	}
	return h, nil
}

func (d *ggufDecoder) kv() (KV, error) {
	key, err := d.str("key")
	if err != nil {
		return KV{}, err
	}
	t, err := d.u32("value type")
	if err != nil {
		return KV{}, fmt.Errorf("%q: %w", key, err)
	}
	v, err := d.value(ValueType(t), 0)
	if err != nil {
		return KV{}, fmt.Errorf("%q: %w", key, err)
	}
	return KV{Key: key, Type: ValueType(t), Value: v}, nil
}

func (d *ggufDecoder) value(t ValueType, depth int) (any, error) {
	switch t {
	case TypeString:
		return d.str("string value")
	case TypeArray:
		return d.array(depth + 1)
	}
	n := t.fixedSize()
	if n == 0 {
		return nil, ggufErr(d.off-4, "unknown value type %d", uint32(t))
	}
	if err := d.read(d.buf[:n], t.String()+" value"); err != nil {
		return nil, err
	}
	b, le := d.buf[:n], binary.LittleEndian
	switch t {
	case TypeUint8:
		return b[0], nil
	case TypeInt8:
		return int8(b[0]), nil
	case TypeBool:
		return b[0] != 0, nil
	case TypeUint16:
		return le.Uint16(b), nil
	case TypeInt16:
		return int16(le.Uint16(b)), nil
	case TypeUint32:
		return le.Uint32(b), nil
	case TypeInt32:
		return int32(le.Uint32(b)), nil
	case TypeFloat32:
		return math.Float32frombits(le.Uint32(b)), nil
	case TypeUint64:
		return le.Uint64(b), nil
	case TypeInt64:
		return int64(le.Uint64(b)), nil
	default: // TypeFloat64
		return math.Float64frombits(le.Uint64(b)), nil
	}
}

func (d *ggufDecoder) array(depth int) (Array, error) {
	if depth > maxArrayDepth {
		return Array{}, ggufErr(d.off, "arrays nested deeper than %d", maxArrayDepth)
	}
	et, err := d.u32("array element type")
	if err != nil {
		return Array{}, err
	}
	elem := ValueType(et)
	n, err := d.u64("array length")
	if err != nil {
		return Array{}, err
	}
	minSize := uint64(elem.fixedSize())
	switch elem {
	case TypeString:
		minSize = 8
	case TypeArray:
		minSize = minArrayBytes
	}
	if minSize == 0 {
		return Array{}, ggufErr(d.off-12, "unknown array element type %d", et)
	}
	if left := uint64(d.limit - d.off); n > left/minSize {
		return Array{}, ggufErr(d.off-8, "array of %d %s values cannot fit in the %d header bytes left", n, elem, left)
	}
	a := Array{Elem: elem}
	switch elem {
	case TypeUint8:
		a.Values, err = readFixed(d, n, 1, func(b []byte) uint8 { return b[0] })
	case TypeInt8:
		a.Values, err = readFixed(d, n, 1, func(b []byte) int8 { return int8(b[0]) })
	case TypeBool:
		a.Values, err = readFixed(d, n, 1, func(b []byte) bool { return b[0] != 0 })
	case TypeUint16:
		a.Values, err = readFixed(d, n, 2, binary.LittleEndian.Uint16)
	case TypeInt16:
		a.Values, err = readFixed(d, n, 2, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) })
	case TypeUint32:
		a.Values, err = readFixed(d, n, 4, binary.LittleEndian.Uint32)
	case TypeInt32:
		a.Values, err = readFixed(d, n, 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case TypeFloat32:
		a.Values, err = readFixed(d, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case TypeUint64:
		a.Values, err = readFixed(d, n, 8, binary.LittleEndian.Uint64)
	case TypeInt64:
		a.Values, err = readFixed(d, n, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case TypeFloat64:
		a.Values, err = readFixed(d, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	case TypeString:
		vs := make([]string, 0, min(n, 4096))
		for range n {
			s, err := d.str("array string")
			if err != nil {
				return Array{}, err
			}
			vs = append(vs, s)
		}
		a.Values = vs
	case TypeArray:
		vs := make([]Array, 0, min(n, 1024))
		for range n {
			v, err := d.array(depth + 1)
			if err != nil {
				return Array{}, err
			}
			vs = append(vs, v)
		}
		a.Values = vs
	}
	if err != nil {
		return Array{}, err
	}
	return a, nil
}

// readFixed reads n fixed-size elements, the caller having checked that
// n*size bytes are there.
func readFixed[T any](d *ggufDecoder, n uint64, size int, conv func([]byte) T) ([]T, error) {
	out := make([]T, n)
	var chunk [4096]byte
	per := len(chunk) / size
	for i := uint64(0); i < n; {
		k := min(uint64(per), n-i)
		b := chunk[:int(k)*size]
		if err := d.read(b, "array"); err != nil {
			return nil, err
		}
		for j := range int(k) {
			out[i+uint64(j)] = conv(b[j*size:])
		}
		i += k
	}
	return out, nil
}

func (d *ggufDecoder) tensorInfo() (GGUFTensorInfo, error) {
	var ti GGUFTensorInfo
	var err error
	if ti.Name, err = d.str("tensor name"); err != nil {
		return ti, err
	}
	nDims, err := d.u32("n_dims")
	if err != nil {
		return ti, fmt.Errorf("tensor %q: %w", ti.Name, err)
	}
	if nDims > MaxGGUFDims {
		return ti, ggufErr(d.off-4, "tensor %q: %d dimensions, more than %d", ti.Name, nDims, MaxGGUFDims)
	}
	ti.Dims = make([]uint64, nDims)
	for i := range ti.Dims {
		if ti.Dims[i], err = d.u64("dimension"); err != nil {
			return ti, fmt.Errorf("tensor %q: %w", ti.Name, err)
		}
		if ti.Dims[i] > math.MaxInt64 {
			return ti, ggufErr(d.off-8, "tensor %q: dimension %d is negative as int64", ti.Name, ti.Dims[i])
		}
	}
	t, err := d.u32("type")
	if err != nil {
		return ti, fmt.Errorf("tensor %q: %w", ti.Name, err)
	}
	ti.Type = GGMLType(t)
	if !ti.Type.Known() {
		return ti, ggufErr(d.off-4, "tensor %q: unknown ggml type %d", ti.Name, t)
	}
	if ti.Offset, err = d.u64("offset"); err != nil {
		return ti, fmt.Errorf("tensor %q: %w", ti.Name, err)
	}
	return ti, nil
}

// layoutGGUF places the tensors in the file: the data region starts at the
// first aligned offset after the header (which ends at infoEnd), and each
// tensor must be aligned, inside the file, and clear of the others.
func layoutGGUF(h *GGUFHeader, infoEnd, size int64) (*File, error) {
	a := h.Alignment
	dataStart := int64(alignUp(uint64(infoEnd), a))
	if len(h.Infos) > 0 && dataStart > size {
		return nil, ggufErr(infoEnd, "data region would start at byte %d, past the end of the %d-byte file", dataStart, size)
	}
	dataLen := uint64(max(size-dataStart, 0))
	ts := make([]Tensor, 0, len(h.Infos))
	names := make(map[string]bool, len(h.Infos))
	for _, ti := range h.Infos {
		if names[ti.Name] {
			return nil, ggufErr(infoEnd, "duplicate tensor name %q", ti.Name)
		}
		names[ti.Name] = true
		n, err := ggmlByteSize(ti.Type, ti.Dims)
		if err != nil {
			return nil, ggufErr(infoEnd, "tensor %q: %v", ti.Name, err)
		}
		if ti.Offset%a != 0 {
			return nil, ggufErr(infoEnd, "tensor %q: offset %d is not a multiple of the alignment %d", ti.Name, ti.Offset, a)
		}
		if ti.Offset > dataLen || uint64(n) > dataLen-ti.Offset {
			return nil, ggufErr(infoEnd, "tensor %q: %d bytes at data offset %d run past the %d-byte data region", ti.Name, n, ti.Offset, dataLen)
		}
		shape := make([]uint64, len(ti.Dims))
		for i, dim := range ti.Dims {
			shape[len(shape)-1-i] = dim
		}
		ts = append(ts, Tensor{
			Name:   ti.Name,
			DType:  ti.Type.DType(),
			Shape:  shape,
			Offset: dataStart + int64(ti.Offset),
			Size:   n,
		})
	}
	slices.SortFunc(ts, func(x, y Tensor) int {
		return cmp.Or(cmp.Compare(x.Offset, y.Offset), cmp.Compare(x.Size, y.Size), cmp.Compare(x.Name, y.Name))
	})
	var unclaimed int64
	end := dataStart // end of the previous tensor
	for i, t := range ts {
		if t.Offset < end {
			return nil, ggufErr(infoEnd, "tensor %q (bytes %d-%d) overlaps tensor %q, which ends at %d", t.Name, t.Offset, t.Offset+t.Size, ts[i-1].Name, end)
		}
		unclaimed += t.Offset - alignOffset(end, dataStart, a)
		end = t.Offset + t.Size
	}
	// The last tensor's padding may or may not have been written.
	unclaimed += max(size-alignOffset(end, dataStart, a), 0)
	return &File{
		Format:     FormatGGUF,
		Size:       size,
		DataOffset: dataStart,
		Tensors:    ts,
		Unclaimed:  unclaimed,
		GGUF:       h,
	}, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// alignOffset aligns a file offset relative to the data region's start.
func alignOffset(off, dataStart int64, a uint64) int64 {
	return dataStart + int64(alignUp(uint64(off-dataStart), a))
}
