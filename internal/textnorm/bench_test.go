package textnorm

import (
	"strings"
	"testing"
)

var (
	ascii2K = strings.Repeat("Please summarise the attached quarterly report in three bullet points. ", 29)[:2048]
	mixed2K = func() string {
		s := strings.Repeat("Résumé: 日本語のテキスト, ｆｕｌｌｗｉｄｔｈ, іgnоrе\u200b, emoji 👩\u200d💻, مرحبا. ", 40)
		for len(s) > 2048 {
			_, n := lastRune(s)
			s = s[:len(s)-n]
		}
		return s
	}()
)

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

func BenchmarkSanitize(b *testing.B) {
	for _, bc := range []struct{ name, in string }{{"ascii2K", ascii2K}, {"mixed2K", mixed2K}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Sanitize(bc.in)
			}
		})
	}
}

func BenchmarkFold(b *testing.B) {
	for _, bc := range []struct{ name, in string }{{"ascii2K", ascii2K}, {"mixed2K", mixed2K}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Fold(bc.in)
			}
		})
	}
}

func BenchmarkVariants(b *testing.B) {
	for _, bc := range []struct{ name, in string }{{"ascii2K", ascii2K}, {"mixed2K", mixed2K}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Variants(bc.in)
			}
		})
	}
}

var clean2K = func() string {
	s := strings.Repeat("日本語のテキスト、Русский текст, مرحبا بالعالم, emoji 😀👍 café. ", 40)
	for len(s) > 2048 {
		_, n := lastRune(s)
		s = s[:len(s)-n]
	}
	return s
}()

func BenchmarkSanitizeCleanUnicode(b *testing.B) {
	b.SetBytes(int64(len(clean2K)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Sanitize(clean2K)
	}
}
