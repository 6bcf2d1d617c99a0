package main

import "testing"

func TestRunSmall(t *testing.T) {
	for _, format := range []string{"safetensors", "pytorch"} {
		res, err := run(format, 3<<20+5, 1, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if res.Bytes <= 3<<20 || res.ScanSeconds <= 0 || res.SHA256Seconds <= 0 || res.Ratio <= 0 {
			t.Fatalf("%s: %+v", format, res)
		}
	}
	if _, err := run("gguf", 1, 1, t.TempDir()); err == nil {
		t.Fatal("unknown format: no error")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "64MiB": 64 << 20, "10K": 10 << 10, "12345": 12345} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "0", "x"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
