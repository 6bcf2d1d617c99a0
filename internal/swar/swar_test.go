package swar

import (
	"math/rand/v2"
	"testing"
)

func TestLoadMatchesBytes(t *testing.T) {
	s := "abcdefghijklmnopq"
	for n := 0; n <= len(s); n++ {
		for i := 0; i <= n+2; i++ {
			var want uint64
			for k := 0; k < 8 && i+k < n; k++ {
				want |= uint64(s[i+k]) << (8 * k)
			}
			if got := Load(s[:n], i); got != want {
				t.Errorf("Load(%q, %d) = %#x, want %#x", s[:n], i, got, want)
			}
			if i+8 <= n {
				if got := Load64(s[:n], i); got != want {
					t.Errorf("Load64(%q, %d) = %#x, want %#x", s[:n], i, got, want)
				}
				if got := Load64([]byte(s[:n]), i); got != want {
					t.Errorf("Load64([]byte(%q), %d) = %#x, want %#x", s[:n], i, got, want)
				}
			}
		}
	}
}

func TestZeroBytesIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		v := r.Uint64()
		// Make zero bytes, and bytes next to them that could borrow, common.
		for k := range 8 {
			switch r.IntN(4) {
			case 0:
				v &^= 0xff << (8 * k)
			case 1:
				v = v&^(0xff<<(8*k)) | uint64(0x01|r.IntN(2)<<7)<<(8*k)
			}
		}
		var want uint64
		for k := range 8 {
			if v>>(8*k)&0xff == 0 {
				want |= 0x80 << (8 * k)
			}
		}
		if got := ZeroBytes(v); got != want {
			t.Fatalf("ZeroBytes(%#016x) = %#016x, want %#016x", v, got, want)
		}
	}
}

func TestFirstBytes(t *testing.T) {
	for n, want := range map[int]uint64{1: 0xff, 3: 0xffffff, 7: 0x00ffffffffffffff, 8: ^uint64(0), 20: ^uint64(0)} {
		if got := FirstBytes(n); got != want {
			t.Errorf("FirstBytes(%d) = %#x, want %#x", n, got, want)
		}
	}
}
