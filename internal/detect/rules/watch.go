package rules

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// fileStamp identifies one version of a file: a change of either its
// modification time or its size is a change.
type fileStamp struct {
	path string
	mod  time.Time
	size int64
}

func (a fileStamp) same(b fileStamp) bool {
	return a.path == b.path && a.mod.Equal(b.mod) && a.size == b.size
}

// WatchOptions configure Watch. Zero fields take the defaults in brackets.
type WatchOptions struct {
	Interval time.Duration  // how often the file's mtime is polled [1s]
	OnReload func(*RuleSet) // called after a good file is loaded
	OnError  func(error)    // called once per bad version of the file
	Logger   *slog.Logger   // [discard]
}

// Watch polls path every interval until ctx is done and, whenever the file
// changes (modification time or size), loads it: a good file replaces the
// rules, a bad one is reported (OnError, the log, LastError) and the last
// good rules stay in force. A file that disappears is reported the same way.
// The file the detector was loaded from is not reloaded until it changes.
func (d *Detector) Watch(ctx context.Context, path string, opts WatchOptions) {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	last := fileStamp{}
	if rs := d.RuleSet(); rs != nil && rs.stamp.path == path {
		last = rs.stamp
	}
	report := func(err error) {
		d.lastErr.Store(&errBox{err})
		opts.Logger.Error("rules not reloaded; the last good rules stay in force", "path", path, "err", err)
		if opts.OnError != nil {
			opts.OnError(err)
		}
	}
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	missing := false
	var pending fileStamp // a change seen at the last tick, not yet loaded
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := os.Stat(path)
		if err != nil {
			if !missing {
				missing = true
				report(fmt.Errorf("watch %s: %w", path, err))
			}
			continue
		}
		stamp := fileStamp{path: path, mod: st.ModTime(), size: st.Size()}
		if !missing && stamp.same(last) {
			continue
		}
		// Load a change only once it has stood still for one interval: an
		// editor or a copy may be halfway through writing the file, and a
		// truncated file would replace good rules with none.
		if !stamp.same(pending) {
			pending = stamp
			continue
		}
		missing = false
		last = stamp
		rs, err := Load(path)
		if err != nil {
			report(err)
			continue
		}
		last = rs.stamp
		d.Replace(rs)
		opts.Logger.Info("rules reloaded", "path", path, "rules", rs.Len())
		if opts.OnReload != nil {
			opts.OnReload(rs)
		}
	}
}
