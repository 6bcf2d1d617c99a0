package intel

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// parseErrors returns the *ParseErrors in err, in order.
func parseErrors(t *testing.T, err error) []*ParseError {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	var out []*ParseError
	for _, e := range errs {
		var pe *ParseError
		if errors.As(e, &pe) {
			out = append(out, pe)
		}
	}
	return out
}

// checkErrors checks that err holds exactly the wanted errors, each given
// as "FILE:LINE: part of the reason".
func checkErrors(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %q", want)
	}
	got := parseErrors(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		file, rest, _ := strings.Cut(w, ":")
		line, reason, _ := strings.Cut(rest, ": ")
		g := got[i]
		if g.File != file || fmt.Sprint(g.Line) != line || !strings.Contains(g.Reason, reason) {
			t.Errorf("error %d is %q, want %s:%s: ...%s...", i, g.Error(), file, line, reason)
		}
	}
}

func mustCSV(t *testing.T, src string) []Indicator {
	t.Helper()
	inds, err := ParseCSV("feed.csv", strings.NewReader(src))
	if err != nil {
		t.Fatalf("ParseCSV: %v", err)
	}
	return inds
}

func mustSTIX(t *testing.T, src string) []Indicator {
	t.Helper()
	inds, err := ParseSTIX("feed.json", strings.NewReader(src))
	if err != nil {
		t.Fatalf("ParseSTIX: %v", err)
	}
	return inds
}

// values returns "type value" for each indicator.
func values(inds []Indicator) []string {
	out := make([]string, len(inds))
	for i, ind := range inds {
		out[i] = string(ind.Type) + " " + ind.Value
	}
	return out
}

// repeatReader yields unit over and over, n bytes in all, without holding
// them in memory.
type repeatReader struct {
	unit  string
	chunk string // unit repeated, built on first use
	off   int    // in unit
	n     int    // bytes left
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if r.chunk == "" {
		r.chunk = strings.Repeat(r.unit, 1+(64<<10)/len(r.unit))
	}
	n := copy(p[:min(len(p), r.n)], r.chunk[r.off:])
	r.off = (r.off + n) % len(r.unit)
	r.n -= n
	return n, nil
}
