package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// referenceRoot is RFC 6962's recursive definition, for comparison.
func referenceRoot(leaves [][]byte) [32]byte {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leafHash(leaves[0])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return nodeHash(referenceRoot(leaves[:k]), referenceRoot(leaves[k:]))
}

// ctLeaves are the inputs of the Certificate Transparency reference tests.
var ctLeaves = [][]byte{
	{}, {0x00}, {0x10}, {0x20, 0x21}, {0x30, 0x31}, {0x40, 0x41, 0x42, 0x43},
	{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
	{0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f},
}

func TestMerkleKnownRoots(t *testing.T) {
	want := map[int]string{
		0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	for n, w := range want {
		var m merkle
		for _, l := range ctLeaves[:n] {
			m.add(l)
		}
		if got := m.root(); hex.EncodeToString(got[:]) != w {
			t.Errorf("%d leaves: root %x, want %s", n, got, w)
		}
	}
}

func TestMerkleMatchesDefinition(t *testing.T) {
	var leaves [][]byte
	var m merkle
	for n := 0; n <= 70; n++ {
		if got, want := m.root(), referenceRoot(leaves); got != want {
			t.Fatalf("%d leaves: incremental %x, recursive %x", n, got, want)
		}
		l := []byte(fmt.Sprint("leaf ", n))
		leaves = append(leaves, l)
		m.add(l)
	}
}
