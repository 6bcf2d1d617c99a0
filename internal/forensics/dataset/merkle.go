package dataset

import (
	"crypto/sha256"
	"encoding/binary"
)

// merkle computes an RFC 6962 Merkle tree hash incrementally: leaves are
// SHA-256(0x00 ‖ data), interior nodes SHA-256(0x01 ‖ left ‖ right), and a
// tree of n leaves splits at the largest power of two below n. The empty
// tree's hash is SHA-256 of nothing.
//
// It keeps one hash per perfect subtree of the leaves so far (the binary
// digits of the count), so memory is logarithmic in the number of leaves.
type merkle struct {
	stack []subtree
	n     uint64
}

type subtree struct {
	hash [32]byte
	size uint64
}

func leafHash(data []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0x00})
	h.Write(data)
	return [32]byte(h.Sum(nil))
}

func nodeHash(l, r [32]byte) [32]byte {
	var b [65]byte
	b[0] = 0x01
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// add appends a leaf holding data.
func (m *merkle) add(data []byte) {
	m.n++
	m.stack = append(m.stack, subtree{leafHash(data), 1})
	for len(m.stack) >= 2 {
		l, r := m.stack[len(m.stack)-2], m.stack[len(m.stack)-1]
		if l.size != r.size {
			break
		}
		m.stack = m.stack[:len(m.stack)-2]
		m.stack = append(m.stack, subtree{nodeHash(l.hash, r.hash), l.size * 2})
	}
}

// root is the tree hash of the leaves so far. The perfect subtrees shrink
// from left to right, so folding them from the right reproduces RFC 6962's
// split at the largest power of two.
func (m *merkle) root() [32]byte {
	if len(m.stack) == 0 {
		return sha256.Sum256(nil)
	}
	h := m.stack[len(m.stack)-1].hash
	for i := len(m.stack) - 2; i >= 0; i-- {
		h = nodeHash(m.stack[i].hash, h)
	}
	return h
}

// appendField appends a length-prefixed field (8-byte big-endian length),
// so that concatenated fields cannot be re-split differently.
func appendField(b, field []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(field)))
	return append(b, field...)
}
