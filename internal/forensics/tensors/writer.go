package tensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// TensorData is a tensor to write: Data holds its elements already encoded
// (little-endian, row-major).
type TensorData struct {
	Name  string
	DType DType
	Shape []uint64 // outermost first
	Data  []byte
}

// WriteSafetensors writes a safetensors file holding ts in order, the way
// the reference implementation lays one out (header padded with spaces to a
// multiple of 8). It refuses a tensor whose Data is not the size its dtype
// and shape imply. Writers of fixtures and tests use it; nothing in the
// incident path writes model files.
func WriteSafetensors(w io.Writer, metadata map[string]string, ts []TensorData) error {
	var hdr strings.Builder
	hdr.WriteByte('{')
	sep := ""
	if metadata != nil {
		m, err := json.Marshal(metadata)
		if err != nil {
			return err
		}
		fmt.Fprintf(&hdr, `"__metadata__":%s`, m)
		sep = ","
	}
	var off uint64
	for _, t := range ts {
		if err := checkData(t); err != nil {
			return err
		}
		name, _ := json.Marshal(t.Name)
		shape, _ := json.Marshal(t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		fmt.Fprintf(&hdr, `%s%s:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, sep, name, t.DType, shape, off, off+uint64(len(t.Data)))
		off += uint64(len(t.Data))
		sep = ","
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	bw := bufio.NewWriter(w)
	binary.Write(bw, binary.LittleEndian, uint64(hdr.Len()))
	bw.WriteString(hdr.String())
	for _, t := range ts {
		bw.Write(t.Data)
	}
	return bw.Flush()
}

func checkData(t TensorData) error {
	n, ok := product(t.Shape)
	if !ok {
		return fmt.Errorf("tensor %q: shape %v overflows", t.Name, t.Shape)
	}
	want, ok := byteSize(t.DType, n)
	if !ok {
		return fmt.Errorf("tensor %q: %d elements of %q have no byte size", t.Name, n, t.DType)
	}
	if int64(len(t.Data)) != want {
		return fmt.Errorf("tensor %q: %d bytes of data, %s%v needs %d", t.Name, len(t.Data), t.DType, t.Shape, want)
	}
	return nil
}

// WriteGGUF writes a version 3 GGUF file with the metadata kv and the
// tensors ts, each tensor's data aligned to general.alignment (32 unless kv
// sets it). A tensor's DType is a ggml type name (F32, Q4_0...) and Data its
// encoded blocks.
func WriteGGUF(w io.Writer, kv []KV, ts []TensorData) error {
	align := uint64(defaultGGUFAlignment)
	for _, e := range kv {
		if a, ok := e.Value.(uint32); ok && e.Key == "general.alignment" && a > 0 {
			align = uint64(a)
		}
	}
	bw := &countingWriter{w: bufio.NewWriter(w)}
	bw.raw(ggufMagic[:])
	bw.u32(3)
	bw.u64(uint64(len(ts)))
	bw.u64(uint64(len(kv)))
	for _, e := range kv {
		bw.str(e.Key)
		bw.u32(uint32(e.Type))
		if err := bw.value(e.Type, e.Value); err != nil {
			return fmt.Errorf("metadata %q: %w", e.Key, err)
		}
	}
	var off uint64
	for _, t := range ts {
		typ, ok := ggmlTypeNamed(t.DType)
		if !ok {
			return fmt.Errorf("tensor %q: %q is not a ggml type", t.Name, t.DType)
		}
		dims := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			dims[len(dims)-1-i] = d
		}
		n, err := ggmlByteSize(typ, dims)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if int64(len(t.Data)) != n {
			return fmt.Errorf("tensor %q: %d bytes of data, %s%v needs %d", t.Name, len(t.Data), t.DType, t.Shape, n)
		}
		bw.str(t.Name)
		bw.u32(uint32(len(dims)))
		for _, d := range dims {
			bw.u64(d)
		}
		bw.u32(uint32(typ))
		bw.u64(off)
		off = alignUp(off+uint64(n), align)
	}
	for _, t := range ts {
		bw.pad(align)
		bw.raw(t.Data)
	}
	if bw.err != nil {
		return bw.err
	}
	return bw.w.Flush()
}

func ggmlTypeNamed(d DType) (GGMLType, bool) {
	for t, tr := range ggmlTypes {
		if tr.name == d {
			return t, true
		}
	}
	return 0, false
}

// countingWriter writes GGUF's little-endian fields, remembering the first
// error and the offset for padding.
type countingWriter struct {
	w   *bufio.Writer
	n   uint64
	err error
}

func (c *countingWriter) raw(p []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(p)
		c.n += uint64(len(p))
	}
}

func (c *countingWriter) u32(v uint32) { c.raw(binary.LittleEndian.AppendUint32(nil, v)) }
func (c *countingWriter) u64(v uint64) { c.raw(binary.LittleEndian.AppendUint64(nil, v)) }
func (c *countingWriter) str(s string) { c.u64(uint64(len(s))); c.raw([]byte(s)) }

func (c *countingWriter) pad(align uint64) {
	c.raw(make([]byte, alignUp(c.n, align)-c.n))
}

func (c *countingWriter) value(t ValueType, v any) error {
	if vt, ok := valueTypeOf(v); !ok || vt != t {
		return fmt.Errorf("cannot encode %T as %s", v, t)
	}
	switch x := v.(type) {
	case uint8:
		c.raw([]byte{x})
	case int8:
		c.raw([]byte{byte(x)})
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		c.raw([]byte{b})
	case uint16:
		c.raw(binary.LittleEndian.AppendUint16(nil, x))
	case int16:
		c.raw(binary.LittleEndian.AppendUint16(nil, uint16(x)))
	case uint32:
		c.u32(x)
	case int32:
		c.u32(uint32(x))
	case float32:
		c.u32(math.Float32bits(x))
	case uint64:
		c.u64(x)
	case int64:
		c.u64(uint64(x))
	case float64:
		c.u64(math.Float64bits(x))
	case string:
		c.str(x)
	case Array:
		c.u32(uint32(x.Elem))
		c.u64(uint64(x.Len()))
		return c.arrayValues(x)
	}
	return nil
}

// valueTypeOf is the GGUF type KV.Value holds for each Go type.
func valueTypeOf(v any) (ValueType, bool) {
	switch v.(type) {
	case uint8:
		return TypeUint8, true
	case int8:
		return TypeInt8, true
	case uint16:
		return TypeUint16, true
	case int16:
		return TypeInt16, true
	case uint32:
		return TypeUint32, true
	case int32:
		return TypeInt32, true
	case float32:
		return TypeFloat32, true
	case bool:
		return TypeBool, true
	case string:
		return TypeString, true
	case Array:
		return TypeArray, true
	case uint64:
		return TypeUint64, true
	case int64:
		return TypeInt64, true
	case float64:
		return TypeFloat64, true
	}
	return 0, false
}

func (c *countingWriter) arrayValues(a Array) error {
	switch vs := a.Values.(type) {
	case []uint8:
		return each(c, a.Elem, vs)
	case []int8:
		return each(c, a.Elem, vs)
	case []bool:
		return each(c, a.Elem, vs)
	case []uint16:
		return each(c, a.Elem, vs)
	case []int16:
		return each(c, a.Elem, vs)
	case []uint32:
		return each(c, a.Elem, vs)
	case []int32:
		return each(c, a.Elem, vs)
	case []float32:
		return each(c, a.Elem, vs)
	case []uint64:
		return each(c, a.Elem, vs)
	case []int64:
		return each(c, a.Elem, vs)
	case []float64:
		return each(c, a.Elem, vs)
	case []string:
		return each(c, a.Elem, vs)
	case []Array:
		return each(c, a.Elem, vs)
	}
	return fmt.Errorf("cannot encode array of %T", a.Values)
}

func each[T any](c *countingWriter, t ValueType, vs []T) error {
	for _, v := range vs {
		if err := c.value(t, v); err != nil {
			return err
		}
	}
	return nil
}
