package config

import (
	"math"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bytes
		err  string
	}{
		{in: "0", want: 0},
		{in: "512", want: 512},
		{in: "10B", want: 10},
		{in: "64KiB", want: 64 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "1TiB", want: 1 << 40},
		{in: "1KB", want: 1000},
		{in: "1kB", want: 1000},
		{in: "5MB", want: 5e6},
		{in: "3GB", want: 3e9},
		{in: "2TB", want: 2e12},
		{in: "7 MiB", want: 7 << 20},
		{in: "007", want: 7},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "", err: "empty"},
		{in: "-1", err: "sizes cannot be negative"},
		{in: "-0", err: "sizes cannot be negative"},
		{in: "+1", err: "want a whole number of bytes"},
		{in: "MiB", err: "want a whole number of bytes"},
		{in: "0x10", err: `unknown unit "x10"`},
		{in: "1e6", err: `unknown unit "e6"`},
		{in: "1.5MiB", err: "want a whole number"},
		{in: "1,5MiB", err: "want a whole number"},
		{in: "1XB", err: `unknown unit "XB" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{in: "1 mib", err: `unknown unit "mib" (did you mean "MiB"?)`},
		{in: "1 MiB MiB", err: `unknown unit "MiB MiB"`},
		{in: "9223372036854775808", err: "too large"},
		{in: "8388608TiB", err: "too large"},
		{in: "99999999999999999999999999", err: "too large"},
	} {
		got, err := parseBytes(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseBytes(%q) = %d, %v; want error %q", tc.in, got, err, tc.err)
		}
	}
}

func TestBytesString(t *testing.T) {
	for b, want := range map[Bytes]string{
		0:             "0",
		1:             "1",
		512:           "512",
		1000:          "1KB",
		1024:          "1KiB",
		1536:          "1536",
		2000:          "2KB",
		1024000:       "1000KiB",
		MiB:           "1MiB",
		1e6:           "1MB",
		GiB:           "1GiB",
		500e9:         "500GB",
		1e12:          "1TB",
		TiB:           "1TiB",
		3 * TiB:       "3TiB",
		math.MaxInt64: "9223372036854775807",
		-1:            "-1",
		-KiB:          "-1024",
	} {
		if got := b.String(); got != want {
			t.Errorf("Bytes(%d).String() = %q, want %q", int64(b), got, want)
		}
		if b >= 0 {
			if back, err := parseBytes(b.String()); err != nil || back != b {
				t.Errorf("parseBytes(%q) = %d, %v; want %d", b.String(), back, err, int64(b))
			}
		}
	}
}

func TestBytesMarshalYAML(t *testing.T) {
	for b, want := range map[Bytes]any{512: int64(512), KiB: "1KiB", 1e9: "1GB"} {
		if got, err := b.MarshalYAML(); err != nil || got != want {
			t.Errorf("Bytes(%d).MarshalYAML() = %#v, %v; want %#v", int64(b), got, err, want)
		}
	}
}
