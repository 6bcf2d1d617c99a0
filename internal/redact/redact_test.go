package redact

import (
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestRedact(t *testing.T) {
	r := New()
	tests := []struct{ in, want string }{
		{"", ""},
		{"nothing to see here", "nothing to see here"},
		{"mail jane.doe@example.com now", "mail [REDACTED:email] now"},
		{"jane@example.com", "[REDACTED:email]"},
		{"key=" + awsKeyID + ", card 4111-1111-1111-1111.",
			"key=[REDACTED:aws-access-key-id], card [REDACTED:payment-card]."},
		{`{"password": "Tr0ub4dor&3", "user": "bob"}`, `{"password": "[REDACTED:generic-secret]", "user": "bob"}`},
		{"postgres://admin:S3cretPass@db.example.com/app", "postgres://admin:[REDACTED:url-password]@db.example.com/app"},
		{"Authorization: Bearer " + jwtHS256, "Authorization: Bearer [REDACTED:jwt]"},
		{"a\n" + rsaKey + "\nb", "a\n[REDACTED:private-key]\nb"},
		{"call +44 20 7946 0958 or mail a@b.io; SSN 078-05-1120",
			"call [REDACTED:phone] or mail [REDACTED:email]; SSN [REDACTED:us-ssn]"},
		{"日本語 jane@example.com 😀", "日本語 [REDACTED:email] 😀"},
		{"bad \xff\xfe utf8 jane@example.com \xc3", "bad \xff\xfe utf8 [REDACTED:email] \xc3"},
	}
	for _, tt := range tests {
		got, fs := r.Redact(tt.in)
		if got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if want := r.Find(tt.in); !sameFindings(fs, want) {
			t.Errorf("Redact(%q) findings %v, Find %v", tt.in, fs, want)
		}
	}
}

func sameFindings(a, b []Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRedactReturnsInputWithoutAllocating(t *testing.T) {
	r := New()
	for _, s := range append([]string{benign4K}, negatives...) {
		out, fs := r.Redact(s)
		if unsafe.StringData(out) != unsafe.StringData(s) || fs != nil {
			t.Errorf("Redact(%.40q…) did not return its input", s)
		}
		if raceEnabled {
			continue
		}
		if n := testing.AllocsPerRun(20, func() { r.Redact(s) }); n != 0 {
			t.Errorf("Redact(%.40q…) allocates %v times", s, n)
		}
	}
}

// TestFindings checks the findings of every test text: sorted, inside the
// text, not overlapping, each with its rule's class.
func TestFindings(t *testing.T) {
	r := New()
	classOf := map[string]Class{}
	for _, c := range compiled {
		classOf[c.ID] = c.Class
	}
	for _, s := range corpus() {
		checkFindings(t, s, r.Find(s), classOf)
	}
}

func checkFindings(t testing.TB, s string, fs []Finding, classOf map[string]Class) {
	t.Helper()
	at := 0
	for _, f := range fs {
		if f.Start < at || f.End <= f.Start || f.End > len(s) {
			t.Fatalf("bad finding %+v after %d in %q", f, at, s)
		}
		if classOf != nil && classOf[f.Rule] != f.Class {
			t.Fatalf("finding %+v has the wrong class", f)
		}
		at = f.End
	}
}

func TestConcurrentUse(t *testing.T) {
	r := New()
	want, _ := r.Redact(findings4K)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				if got, _ := r.Redact(findings4K); got != want {
					t.Error("concurrent Redact differs")
					return
				}
				if got, _ := runStream(t, r, chunk(findings4K, 1+g*7)); got != want {
					t.Error("concurrent Stream differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMaxMatchLen(t *testing.T) {
	all, pii := New(), New(PII)
	if all.MaxMatchLen() < maxPEM || all.MaxMatchLen() > maxPEM+16 {
		t.Errorf("MaxMatchLen() = %d, want about %d (the PEM bound)", all.MaxMatchLen(), maxPEM)
	}
	if pii.MaxMatchLen() >= all.MaxMatchLen() || pii.MaxMatchLen() < 601 {
		t.Errorf("New(PII).MaxMatchLen() = %d, want the email bound", pii.MaxMatchLen())
	}
	// A private key block longer than the bound: its first maxPEM bytes go,
	// the rest is emitted as it is.
	long := "-----BEGIN RSA " + "PRIVATE KEY-----\n" + strings.Repeat(strings.Repeat("A", 64)+"\n", 200) + "-----END RSA PRIVATE KEY-----"
	fs := all.Find(long)
	if len(fs) != 1 || fs[0].Start != 0 || fs[0].End != maxPEM {
		t.Errorf("Find(long PEM) = %+v, want one finding of %d bytes", fs, maxPEM)
	}
}

func TestHostileInput(t *testing.T) {
	r := New()
	for _, s := range []string{
		strings.Repeat("a@", 3000),
		strings.Repeat("1 ", 3000),
		strings.Repeat("-", 5000),
		strings.Repeat("password: ", 500),
		strings.Repeat("eyJ", 2000),
		strings.Repeat("\xff\xc3", 2000),
		strings.Repeat("-----BEGIN PRIVATE KEY-----", 200),
		strings.Repeat("+1 (", 1000),
	} {
		fs := r.Find(s)
		checkFindings(t, s, fs, nil)
		got, _ := runStream(t, r, chunk(s, 7))
		if want, _ := r.Redact(s); got != want {
			t.Errorf("stream differs on %.30q…", s)
		}
	}
}
