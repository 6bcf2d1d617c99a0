package tensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType names a tensor's element type, spelled as safetensors spells it
// ("F32", "BF16", "U8"...). GGUF tensors use the same names for the types
// the two formats share and the GGML name for block-quantised types
// ("Q4_0", "Q6_K"...), whose elements have no size of their own.
type DType string

// The safetensors element types.
const (
	Bool   DType = "BOOL"
	F4     DType = "F4"      // 4-bit float (E2M1), two per byte
	F6E2M3 DType = "F6_E2M3" // 6-bit floats, packed
	F6E3M2 DType = "F6_E3M2"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3" // the "FN" variant: no infinities, one NaN per sign
	F8E8M0 DType = "F8_E8M0" // exponent-only scale factors
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	C64    DType = "C64" // complex: two F32
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// elementBits is the width of one element of each type that has one.
var elementBits = map[DType]int{
	Bool: 8, F4: 4, F6E2M3: 6, F6E3M2: 6,
	U8: 8, I8: 8, F8E5M2: 8, F8E4M3: 8, F8E8M0: 8,
	I16: 16, U16: 16, F16: 16, BF16: 16,
	I32: 32, U32: 32, F32: 32,
	C64: 64, F64: 64, I64: 64, U64: 64,
}

// Bits is the width of one element in bits, or 0 for a block-quantised or
// unknown type.
func (d DType) Bits() int { return elementBits[d] }

// Decodable reports whether Decode turns this type's elements into numbers:
// the integer and boolean types and F64, F32, F16, BF16, F8_E4M3 and F8_E5M2.
func (d DType) Decodable() bool {
	switch d {
	case Bool, U8, I8, U16, I16, U32, I32, U64, I64, F8E4M3, F8E5M2, F16, BF16, F32, F64:
		return true
	}
	return false
}

// Float reports whether the type holds floating-point numbers.
func (d DType) Float() bool {
	switch d {
	case F4, F6E2M3, F6E3M2, F8E5M2, F8E4M3, F8E8M0, F16, BF16, F32, F64, C64:
		return true
	}
	return false
}

// byteSize is the byte size of n elements of d, or false when the type has
// no element size, the product overflows int64, or sub-byte elements do
// not fill whole bytes.
func byteSize(d DType, n uint64) (int64, bool) {
	bits := uint64(d.Bits())
	if bits == 0 {
		return 0, false
	}
	if n != 0 && bits > math.MaxInt64/n {
		return 0, false
	}
	total := n * bits
	if total%8 != 0 {
		return 0, false
	}
	return int64(total / 8), true
}

// Decode converts the little-endian elements in src to float64 in dst and
// returns how many it converted: min(len(src)/width, len(dst)). Integers
// beyond 2^53 lose precision; BOOL decodes any non-zero byte as 1.
func Decode(d DType, src []byte, dst []float64) (int, error) {
	if !d.Decodable() {
		return 0, fmt.Errorf("decode %s: type not decodable", d)
	}
	w := d.Bits() / 8
	n := min(len(src)/w, len(dst))
	le := binary.LittleEndian
	switch d {
	case F32:
		for i := range n {
			dst[i] = float64(math.Float32frombits(le.Uint32(src[4*i:])))
		}
	case F16:
		for i := range n {
			dst[i] = float64(F16ToFloat32(le.Uint16(src[2*i:])))
		}
	case BF16:
		for i := range n {
			dst[i] = float64(BF16ToFloat32(le.Uint16(src[2*i:])))
		}
	case F64:
		for i := range n {
			dst[i] = math.Float64frombits(le.Uint64(src[8*i:]))
		}
	case F8E4M3:
		for i := range n {
			dst[i] = float64(F8E4M3ToFloat32(src[i]))
		}
	case F8E5M2:
		for i := range n {
			dst[i] = float64(F16ToFloat32(uint16(src[i]) << 8))
		}
	case Bool:
		for i := range n {
			dst[i] = 0
			if src[i] != 0 {
				dst[i] = 1
			}
		}
	case U8:
		for i := range n {
			dst[i] = float64(src[i])
		}
	case I8:
		for i := range n {
			dst[i] = float64(int8(src[i]))
		}
	case U16:
		for i := range n {
			dst[i] = float64(le.Uint16(src[2*i:]))
		}
	case I16:
		for i := range n {
			dst[i] = float64(int16(le.Uint16(src[2*i:])))
		}
	case U32:
		for i := range n {
			dst[i] = float64(le.Uint32(src[4*i:]))
		}
	case I32:
		for i := range n {
			dst[i] = float64(int32(le.Uint32(src[4*i:])))
		}
	case U64:
		for i := range n {
			dst[i] = float64(le.Uint64(src[8*i:]))
		}
	case I64:
		for i := range n {
			dst[i] = float64(int64(le.Uint64(src[8*i:])))
		}
	}
	return n, nil
}

// F16ToFloat32 converts an IEEE 754 binary16 value exactly, subnormals,
// infinities and NaN payloads included.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal: shift the mantissa up until its implicit bit appears,
		// lowering the exponent once per shift.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// BF16ToFloat32 converts a bfloat16 value: the top half of a float32.
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F8E4M3ToFloat32 converts an 8-bit E4M3 "FN" float (bias 7, no
// infinities, S.1111.111 is NaN, largest finite 448).
func F8E4M3ToFloat32(b uint8) float32 {
	neg := b&0x80 != 0
	exp := int(b>>3) & 0xf
	mant := int(b) & 7
	var v float64
	switch {
	case exp == 0xf && mant == 7:
		return float32(math.NaN())
	case exp == 0:
		v = math.Ldexp(float64(mant), -9)
	default:
		v = math.Ldexp(float64(8+mant), exp-10)
	}
	if neg {
		v = -v
	}
	return float32(v)
}
