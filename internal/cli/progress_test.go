package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	var nilBar *progressBar // no progress wanted: every method is a no-op
	nilBar.add(1, 2)
	nilBar.fileDone()
	nilBar.clear()

	var out bytes.Buffer
	b := newProgressBar(&out, "scanning", 4<<30)
	b.add(1<<30, 2<<30) // the first path, a quarter of the total
	b.fileDone()
	b.last = b.last.Add(-time.Second) // let the next call draw
	b.add(1<<30, 2<<30)               // half of the second path: half of the total
	if got := out.String(); !strings.Contains(got, " 25%  1.0 GiB / 4.0 GiB") || !strings.HasSuffix(got, " 50%  2.0 GiB / 4.0 GiB") {
		t.Errorf("drawn %q", got)
	}
	b.clear()
	if !strings.HasSuffix(out.String(), "\r\033[K") {
		t.Errorf("not cleared: %q", out.String())
	}
	if isTerminal(&out) {
		t.Error("a buffer is not a terminal")
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 64 << 20: "64.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := fmtBytes(n); got != want {
			t.Errorf("fmtBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
