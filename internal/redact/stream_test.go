package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpus is every text the tests know: rule cases, negatives, mixed texts.
func corpus() []string {
	var out []string
	for _, cases := range ruleCases {
		for _, tc := range cases {
			out = append(out, tc.in)
		}
	}
	out = append(out, negatives...)
	return append(out, mixed...)
}

var mixed = []string{
	"Hi Jane, your card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00 are on file; mail jane.doe@example.com or call +1 (415) 555-2671.",
	"config:\n  api_key: \"q8Zr2LmX7vT4pN1k\"\n  github: " + ghToken + "\n  aws: " + awsKeyID + "\n",
	"Here is the key you asked for:\n```\n" + rsaKey + "\n```\nStore it safely. 日本語 ✓ 😀",
	"jwt=" + jwtHS256 + "; next sk-" + "proj-" + rnd(60, 30) + " end",
	"a@b.co,c@d.io;e@f.org x@y.z " + strings.Repeat("word ", 20) + "DE89370400440532013000",
	"emoji 👩‍💻 then email ünïcödé@example.com and ß@ex.de and \xe2\x82 broken \xff",
	"Tokens: sk-" + "ant-" + rnd(40, 31) + " xo" + "xp-" + rnd(30, 32) + " AIza" + rnd(35, 33) + " alk_" + rnd(43, 34),
	"SSN 078-05-1120, NI AB 12 34 56 C, tel 020 7946 0958, version 1.2.3.4, 2023-01-15",
	"GB82 WEST 1234 5698 7654 32GB82 WEST 1234 5698 7654 32 and AB123456CAB123456C",
	"-----BEGIN RSA " + "PRIVATE KEY-----\n" + strings.Repeat(strings.Repeat("Q", 64)+"\n", 140) + "-----END RSA PRIVATE KEY-----\nafter the long key jane@example.com",
}

// runStream writes chunks to a new Stream and returns what it emitted and
// its findings. It fails the test if the stream holds back more than
// MaxMatchLen bytes, or, for valid UTF-8 input, emits a piece that is not.
func runStream(t testing.TB, r *Redactor, chunks []string) (string, []Finding) {
	t.Helper()
	st := r.NewStream()
	valid := utf8.ValidString(strings.Join(chunks, ""))
	var out strings.Builder
	written := 0
	for _, c := range chunks {
		piece := st.Write(c)
		written += len(c)
		if held := written - st.released; held > r.MaxMatchLen() || held < 0 {
			t.Fatalf("stream holds back %d bytes, MaxMatchLen is %d", held, r.MaxMatchLen())
		}
		if valid && !utf8.ValidString(piece) {
			t.Fatalf("stream emitted %q, which splits a UTF-8 sequence", piece)
		}
		out.WriteString(piece)
	}
	out.WriteString(st.Flush())
	return out.String(), st.Findings()
}

func chunk(s string, size int) []string {
	var out []string
	for len(s) > size {
		out = append(out, s[:size])
		s = s[size:]
	}
	return append(out, s)
}

func randomChunks(s string, g *rand.Rand, maxSize int) []string {
	var out []string
	for len(s) > 0 {
		n := min(len(s), 1+g.IntN(maxSize))
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

func checkStream(t *testing.T, r *Redactor, s string, chunks []string) {
	t.Helper()
	want, wantF := r.Redact(s)
	got, gotF := runStream(t, r, chunks)
	if got != want {
		t.Fatalf("stream of %q in %d chunks\n got %q\nwant %q", s, len(chunks), got, want)
	}
	if !sameFindings(gotF, wantF) {
		t.Fatalf("stream of %q in %d chunks: findings\n got %+v\nwant %+v", s, len(chunks), gotF, wantF)
	}
}

// TestStreamEverySplit cuts every test text in two at every byte.
func TestStreamEverySplit(t *testing.T) {
	for _, r := range []*Redactor{New(), New(PII), New(Secret)} {
		for _, s := range corpus() {
			if len(s) > 2000 {
				continue // the long PEM text is covered by the random chunkings
			}
			for i := 0; i <= len(s); i++ {
				checkStream(t, r, s, []string{s[:i], s[i:]})
			}
		}
	}
}

func TestStreamRandomChunks(t *testing.T) {
	g := rand.New(rand.NewPCG(1, 2))
	r := New()
	for _, s := range corpus() {
		checkStream(t, r, s, chunk(s, 1))
		for _, maxSize := range []int{3, 16, 64, 600} {
			for range 10 {
				checkStream(t, r, s, randomChunks(s, g, maxSize))
			}
		}
	}
	all := strings.Join(corpus(), "\n")
	for _, maxSize := range []int{1, 7, 100, 5000} {
		for range 5 {
			checkStream(t, r, all, randomChunks(all, g, maxSize))
		}
	}
}

// TestStreamReleasesEarly shows that a stream holds back only what could
// still be part of a match.
func TestStreamReleasesEarly(t *testing.T) {
	r := New()
	tests := []struct {
		name   string
		chunks []string
		want   []string // what each Write returns
	}{
		{"words", []string{"Hello wor", "ld. Next", " one "}, []string{"Hello ", "world. ", "Next one "}},
		{"email", []string{"mail jane@exa", "mple.com ok "}, []string{"mail ", "[REDACTED:email] ok "}},
		{"token", []string{"token " + ghToken[:10], ghToken[10:] + " done "}, []string{"token ", "[REDACTED:github-token] done "}},
		{"keyword prefix", []string{"use gh", "p_ nothing "}, []string{"use ", "ghp_ nothing "}},
		{"pem", []string{rsaKey + "\nDone. "}, []string{"[REDACTED:private-key]\nDone. "}},
		{"pem in pieces", []string{rsaKey[:40], rsaKey[40:] + "\nok "}, []string{"", "[REDACTED:private-key]\nok "}},
		{"number", []string{"call 415-555-", "2671 or not "}, []string{"call ", "[REDACTED:phone] or not "}},
		{"year", []string{"in 2023", " we grew "}, []string{"in ", "2023 we grew "}},
		{"utf-8", []string{"caf\xc3", "\xa9 ok "}, []string{"caf", "é ok "}},
	}
	for _, tt := range tests {
		st := r.NewStream()
		for i, c := range tt.chunks {
			if got := st.Write(c); got != tt.want[i] {
				t.Errorf("%s: Write #%d (%q) = %q, want %q", tt.name, i, c, got, tt.want[i])
			}
		}
		st.Flush()
	}
}

func TestStreamFlush(t *testing.T) {
	r := New()
	st := r.NewStream()
	if got := st.Write("mail jane@example.com"); got != "mail " {
		t.Errorf("Write = %q", got)
	}
	if got := st.Flush(); got != "[REDACTED:email]" {
		t.Errorf("Flush = %q", got)
	}
	if got := st.Flush(); got != "" {
		t.Errorf("second Flush = %q", got)
	}
	if fs := st.Findings(); len(fs) != 1 || fs[0] != (Finding{Rule: "email", Class: PII, Start: 5, End: 21}) {
		t.Errorf("Findings = %+v", fs)
	}
	defer func() {
		if recover() == nil {
			t.Error("Write after Flush did not panic")
		}
	}()
	st.Write("more")
}

func TestStreamEmpty(t *testing.T) {
	st := New().NewStream()
	if st.Write("") != "" || st.Flush() != "" || st.Findings() != nil {
		t.Error("empty stream emitted something")
	}
}

func TestStreamInvalidUTF8(t *testing.T) {
	r := New()
	g := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		b := make([]byte, g.IntN(300))
		for i := range b {
			b[i] = byte(g.IntN(256))
			if g.IntN(4) == 0 {
				b[i] = "@.-_:=0123456789 AKIS\xc3\xe2\xf0"[g.IntN(22)]
			}
		}
		s := string(b)
		checkStream(t, r, s, randomChunks(s, g, 9))
	}
}

// fragments are pieces of the things rules look for, to be glued together
// at random: whole and partial keywords, separators, digits, runes.
var fragments = []string{
	"@", "jane", ".doe", "example.com", ".io", " ", "  ", "\n", "-", "_", ":", "=", "\"", "'", ",", ".",
	"gh", "p_", "ghp_", rnd(36, 40), rnd(43, 41), rnd(12, 42), "alk_", "AIza", "AKIA", "ASIA",
	"IOSFODNN7EXAMPLE", "sk-", "sk-ant-", "proj-", "xoxb-", "sk_live_", "github_pat_",
	"-----BEGIN ", "RSA ", "PRIVATE KEY", "-----", "-----END ", pemBodyText,
	"eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxIn0", "Bearer ", "://", "user", "pa55",
	"password", "api_key", "token", "aws_secret_access_key", awsSecret,
	"4111", "1111", "4", "0", "+1", "+44", "(415)", "555", "2671", "20", "7946", "0958",
	"DE89", "3704", "0044", "0532", "0130", "00", "GB82", "WEST", "AB", "12", "34", "56", "C",
	"078", "05", "1120", "2023", "1.2.3.4", "é", "日本", "😀", "\xff", "\xe2\x82",
}

func TestStreamFragments(t *testing.T) {
	g := rand.New(rand.NewPCG(7, 8))
	r := New()
	for range 1500 {
		var b strings.Builder
		for range 2 + g.IntN(40) {
			b.WriteString(fragments[g.IntN(len(fragments))])
		}
		s := b.String()
		for _, maxSize := range []int{1, 5, 40} {
			checkStream(t, r, s, randomChunks(s, g, maxSize))
		}
	}
}
