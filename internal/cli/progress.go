package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws "label [####....]  45%  1.2 GiB / 2.7 GiB" on one
// terminal line, at most every tenth of a second. A nil bar draws nothing,
// so callers need not check whether progress is wanted.
type progressBar struct {
	w     io.Writer
	label string
	total int64
	base  int64 // bytes of the paths already finished
	cur   int64 // bytes done in the current path
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, label string, total int64) *progressBar {
	return &progressBar{w: w, label: label, total: total}
}

// add is a scan.Options.Progress: done counts bytes of the current path.
func (b *progressBar) add(done, _ int64) {
	if b == nil {
		return
	}
	b.cur = done
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond {
		b.last = now
		b.draw()
	}
}

// fileDone moves on to the next path given to the scan.
func (b *progressBar) fileDone() {
	if b == nil {
		return
	}
	b.base += b.cur
	b.cur = 0
}

func (b *progressBar) draw() {
	done := min(b.base+b.cur, b.total)
	frac := float64(done) / float64(max(b.total, 1))
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%%  %s / %s", b.label, strings.Repeat("#", n), strings.Repeat(".", width-n),
		100*frac, fmtBytes(done), fmtBytes(b.total))
	b.drawn = true
}

// clear erases the bar so that what follows starts on a clean line.
func (b *progressBar) clear() {
	if b == nil || !b.drawn {
		return
	}
	fmt.Fprint(b.w, "\r\033[K")
	b.drawn = false
}

// fmtBytes writes a size in binary units: 512 B, 1.5 KiB, 2.0 GiB.
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
