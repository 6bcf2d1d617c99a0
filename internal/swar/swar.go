// Package swar reads text eight bytes at a time, as one little-endian
// word ("SIMD within a register"), and finds bytes of a value in such a
// word exactly, with no branch per byte. The stream detectors' tokenizers
// and the refusal test are built on it.
package swar

const (
	Lsb = 0x0101010101010101 // a one in every byte
	Msb = 0x8080808080808080 // the high bit of every byte
)

// Load64 is the eight bytes of b from i, little-endian; b must hold them.
func Load64[T string | []byte](b T, i int) uint64 {
	b = b[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Load is the eight bytes of s from i, little-endian, with zeros past its
// end (and zero for i at or past it).
func Load(s string, i int) uint64 {
	if i+8 <= len(s) {
		return Load64(s, i)
	}
	return loadTail(s, i)
}

// loadTail is Load near the end of s: the last eight bytes of s, shifted
// down, when s has eight.
func loadTail(s string, i int) uint64 {
	if i >= len(s) {
		return 0
	}
	if len(s) >= 8 {
		return Load64(s, len(s)-8) >> (8 * (i + 8 - len(s)))
	}
	var v uint64
	for k := 0; i+k < len(s); k++ {
		v |= uint64(s[i+k]) << (8 * k)
	}
	return v
}

// ZeroBytes has the high bit of each zero byte of v set, and no other bit.
// ZeroBytes(v ^ c*Lsb) marks the bytes of v that equal c.
func ZeroBytes(v uint64) uint64 { return ^((v&^Msb + ^uint64(Msb)) | v | ^uint64(Msb)) }

// FirstBytes is a mask of the first n bytes of a word (all eight for
// n ≥ 8); n is at least 1.
func FirstBytes(n int) uint64 { return ^uint64(0) >> ((64 - 8*min(n, 8)) & 63) }
