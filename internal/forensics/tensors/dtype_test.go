package tensors

import (
	"math"
	"testing"
)

func TestF16ToFloat32(t *testing.T) {
	tests := []struct {
		h    uint16
		want float64
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},                 // largest finite
		{0x0400, math.Ldexp(1, -14)},    // smallest normal
		{0x0001, math.Ldexp(1, -24)},    // smallest subnormal
		{0x03ff, math.Ldexp(1023, -24)}, // largest subnormal
		{0x8001, -math.Ldexp(1, -24)},   // negative subnormal
		{0x0200, math.Ldexp(1, -15)},    // subnormal, one bit
		{0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	}
	for _, tc := range tests {
		if got := float64(F16ToFloat32(tc.h)); got != tc.want {
			t.Errorf("F16 %#04x = %g, want %g", tc.h, got, tc.want)
		}
	}
	if v := F16ToFloat32(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("F16 0x8000 = %g, want -0", v)
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00} {
		if v := F16ToFloat32(h); !math.IsNaN(float64(v)) {
			t.Errorf("F16 %#04x = %g, want NaN", h, v)
		}
	}
	// Exhaustively: every finite half converts to the value its fields say.
	for h := range 1 << 16 {
		exp, mant := (h>>10)&0x1f, h&0x3ff
		if exp == 0x1f {
			continue
		}
		want := math.Ldexp(float64(mant), -24)
		if exp != 0 {
			want = math.Ldexp(float64(mant|0x400), exp-25)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if got := float64(F16ToFloat32(uint16(h))); got != want {
			t.Fatalf("F16 %#04x = %g, want %g", h, got, want)
		}
	}
}

func TestBF16ToFloat32(t *testing.T) {
	tests := []struct {
		b    uint16
		want float64
	}{
		{0x3f80, 1}, {0xc000, -2}, {0x4049, 3.140625},
		{0x0001, math.Ldexp(1, -133)}, // subnormal
		{0x0080, math.Ldexp(1, -126)}, // smallest normal
		{0x7f80, math.Inf(1)}, {0xff80, math.Inf(-1)},
	}
	for _, tc := range tests {
		if got := float64(BF16ToFloat32(tc.b)); got != tc.want {
			t.Errorf("BF16 %#04x = %g, want %g", tc.b, got, tc.want)
		}
	}
	if v := BF16ToFloat32(0x7fc0); !math.IsNaN(float64(v)) {
		t.Errorf("BF16 0x7fc0 = %g, want NaN", v)
	}
}

func TestF8(t *testing.T) {
	e4m3 := map[uint8]float64{0x38: 1, 0x7e: 448, 0xfe: -448, 0x01: math.Ldexp(1, -9), 0x08: math.Ldexp(1, -6), 0x00: 0}
	for b, want := range e4m3 {
		if got := float64(F8E4M3ToFloat32(b)); got != want {
			t.Errorf("E4M3 %#02x = %g, want %g", b, got, want)
		}
	}
	if !math.IsNaN(float64(F8E4M3ToFloat32(0x7f))) || !math.IsNaN(float64(F8E4M3ToFloat32(0xff))) {
		t.Error("E4M3 0x7f and 0xff should be NaN")
	}
	dst := make([]float64, 4)
	if _, err := Decode(F8E5M2, []byte{0x3c, 0x7c, 0x01, 0xc0}, dst); err != nil {
		t.Fatal(err)
	}
	if dst[0] != 1 || !math.IsInf(dst[1], 1) || dst[2] != math.Ldexp(1, -16) || dst[3] != -2 {
		t.Errorf("E5M2 = %v", dst)
	}
}

func TestDecodeIntegers(t *testing.T) {
	dst := make([]float64, 2)
	cases := []struct {
		d    DType
		src  []byte
		want [2]float64
	}{
		{I8, []byte{0xff, 0x7f}, [2]float64{-1, 127}},
		{U8, []byte{0xff, 0x7f}, [2]float64{255, 127}},
		{I16, []byte{0xfe, 0xff, 1, 0}, [2]float64{-2, 1}},
		{Bool, []byte{0, 7}, [2]float64{0, 1}},
		{I64, []byte{0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0, 0, 0, 0, 0}, [2]float64{-3, 3}},
	}
	for _, c := range cases {
		n, err := Decode(c.d, c.src, dst)
		if err != nil || n != 2 || dst[0] != c.want[0] || dst[1] != c.want[1] {
			t.Errorf("%s: %d %v %v", c.d, n, dst, err)
		}
	}
	if _, err := Decode("Q4_0", []byte{0}, dst); err == nil {
		t.Error("decoding Q4_0 should fail")
	}
}
