package intel

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

var benchWords = strings.Fields(`ignore previous instructions system prompt reveal hidden rules developer mode
jailbreak pretend you are now unrestricted assistant output token secret password admin override policy
disregard above context print repeat verbatim translate encode base64 forget safety guidelines roleplay
character story grandmother napalm exploit payload shell command execute download model weights training
data extract membership inference confidential internal memo api key credential leak exfiltrate webhook`)

// benchIndicators returns n indicators: 40% addresses, 40% CIDR prefixes
// of many lengths, 10% key hashes, 10% prompt signatures, and a few regexes.
func benchIndicators(n int) []Indicator {
	rng := rand.New(rand.NewPCG(7, 7))
	inds := make([]Indicator, 0, n)
	for i := range n {
		var ind Indicator
		switch i % 10 {
		case 0, 1, 2, 3:
			ind = Indicator{Type: TypeIP, Value: netip.AddrFrom4([4]byte{byte(11 + rng.IntN(200)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}).String()}
		case 4, 5, 6:
			bits := 12 + rng.IntN(19)
			a := netip.AddrFrom4([4]byte{byte(11 + rng.IntN(200)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			ind = Indicator{Type: TypeCIDR, Value: netip.PrefixFrom(a, bits).Masked().String()}
		case 7:
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for j := 2; j < 16; j++ {
				b[j] = byte(rng.IntN(256))
			}
			ind = Indicator{Type: TypeCIDR, Value: netip.PrefixFrom(netip.AddrFrom16(b), 32+rng.IntN(97)).Masked().String()}
		case 8:
			ind = Indicator{Type: TypeAPIKeyHash, Value: fmt.Sprintf("kh_%024x", rng.Uint64())}
		case 9:
			words := make([]string, 4+rng.IntN(3))
			for j := range words {
				words[j] = benchWords[rng.IntN(len(benchWords))]
			}
			ind = Indicator{Type: TypePromptSignature, Value: strings.Join(words, " ")}
		}
		inds = append(inds, ind)
	}
	for _, re := range []string{`you are now (dan|in developer mode)`, `reveal\s+your\s+(system|hidden)\s+prompt`, `base64\s*:\s*[a-z0-9+/]{40,}`} {
		inds = append(inds, Indicator{Type: TypePromptSignature, Value: regexPrefix + re})
	}
	return inds
}

const benchPrompt = `You are a helpful assistant for an online shop. A customer writes: Hello, I ordered a pair of
running shoes last week (order 48213) and the tracking page has not changed for four days. Could you
check whether the parcel is lost, and if so send a replacement in size 42? I also want to know whether
the return policy covers shoes that were worn outside once. Please answer briefly and in a friendly tone,
and include the link to the returns form if it applies. Thanks, Maria.`

var benchSink []Hit

func BenchmarkMatch(b *testing.B) {
	s := NewSet(benchIndicators(100_000))
	ev := event.Event{
		Time:       time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		IP:         "203.0.113.9",
		APIKeyHash: "kh_0123456789abcdef01234567",
		PromptText: benchPrompt,
	}
	b.Run("event", func(b *testing.B) {
		for b.Loop() {
			benchSink = s.Match(ev)
		}
	})
	b.Run("ip", func(b *testing.B) {
		a := netip.MustParseAddr("203.0.113.9")
		for b.Loop() {
			s.MatchIP(a)
		}
	})
	b.Run("ipv6", func(b *testing.B) {
		a := netip.MustParseAddr("2001:db8:1234::9")
		for b.Loop() {
			s.MatchIP(a)
		}
	})
	b.Run("prompt", func(b *testing.B) {
		b.SetBytes(int64(len(benchPrompt)))
		for b.Loop() {
			s.MatchPrompt(benchPrompt)
		}
	})
}

func BenchmarkNewSet(b *testing.B) {
	inds := benchIndicators(100_000)
	for b.Loop() {
		NewSet(inds)
	}
}

func BenchmarkParseSTIX(b *testing.B) {
	var objs []string
	for i, ind := range benchIndicators(10_000) {
		path := map[Type]string{TypeIP: "ipv4-addr:value", TypeCIDR: "ipv4-addr:value", TypeAPIKeyHash: "x-airlock-api-key:hash", TypePromptSignature: "x-airlock-prompt:signature"}[ind.Type]
		if strings.Contains(ind.Value, ":") && ind.Type == TypeCIDR {
			path = "ipv6-addr:value"
		}
		objs = append(objs, stixIndicatorJSON(i, fmt.Sprintf("[%s = '%s']", path, strings.ReplaceAll(strings.ReplaceAll(ind.Value, `\`, `\\`), "'", `\'`))))
	}
	src := stixBundle(objs...)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := ParseSTIX("bench.json", strings.NewReader(src)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchPrompt measures prompts against literal signatures only,
// the common case: ordinary prompts, which the screen clears, and ones it
// cannot (spaced out, or with look-alike letters), which take the full
// search over every normalised form.
func BenchmarkMatchPrompt(b *testing.B) {
	var inds []Indicator
	for i := range 200 {
		inds = append(inds, Indicator{ID: fmt.Sprint("sig", i), Type: TypePromptSignature, Value: fmt.Sprintf("known attack phrase number %d", i)})
	}
	s := NewSet(inds)
	for _, tc := range []struct{ name, prompt string }{
		{"ordinary", benchPrompt},
		{"short", "What is the weather in Paris tomorrow?"},
		{"paragraphs", strings.ReplaceAll(benchPrompt, ". ", ".\n\n")},
		{"look-alikes", strings.ReplaceAll(benchPrompt, "o", "о")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.prompt)))
			for b.Loop() {
				s.MatchPrompt(tc.prompt)
			}
		})
	}
}
