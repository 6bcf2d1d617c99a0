package redact

import (
	"strings"
	"testing"
)

var fuzzRedactor = New()

// FuzzStream checks that a Stream, with the input cut where the fuzzer says,
// emits exactly what Redact returns, with the same findings, and that no
// input makes either panic.
func FuzzStream(f *testing.F) {
	for i, s := range corpus() {
		f.Add(s, []byte{byte(i), 3, 200, 1, 17})
	}
	f.Add(strings.Join(fragments, ""), []byte{1, 2, 3, 5, 8, 13, 21, 34, 55, 89})
	f.Fuzz(func(t *testing.T, s string, cuts []byte) {
		r := fuzzRedactor
		var chunks []string
		rest := s
		for _, c := range cuts {
			if rest == "" {
				break
			}
			n := int(c) + 1
			if c >= 240 {
				n = int(c-239) * 512
			}
			n = min(n, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		chunks = append(chunks, rest)

		want, wantF := r.Redact(s)
		checkFindings(t, s, wantF, nil)
		got, gotF := runStream(t, r, chunks)
		if got != want {
			t.Fatalf("stream in %d chunks\n got %q\nwant %q", len(chunks), got, want)
		}
		if !sameFindings(gotF, wantF) {
			t.Fatalf("findings\n got %+v\nwant %+v", gotF, wantF)
		}
	})
}
