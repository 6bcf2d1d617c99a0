package redact

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
)

// rnd returns n pseudo-random base62 characters, the same for the same seed.
// Test credentials are built with it at run time, so that the source holds
// nothing a secret scanner would take for a real key.
func rnd(n int, seed uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	g := rand.New(rand.NewPCG(seed, 0x5eed))
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[g.IntN(len(alphabet))])
	}
	s := b.String()
	// Guarantee every class, as real keys practically always have.
	if n >= 3 {
		s = "a" + s[1:n-2] + "Z7"
	}
	return s
}

// withLuhn appends the Luhn check digit to a string of digits.
func withLuhn(d string) string {
	for c := byte('0'); c <= '9'; c++ {
		if luhn([]byte(d + string(c))) {
			return d + string(c)
		}
	}
	panic("unreachable")
}

// Test credentials, assembled so that no literal in the source looks like one.
var (
	ghToken       = "gh" + "p_" + rnd(36, 1)
	ghoToken      = "gh" + "o_" + rnd(36, 2)
	ghsToken      = "gh" + "s_" + rnd(36, 3)
	ghFineGrained = "github" + "_pat_" + rnd(22, 4) + "_" + rnd(59, 5)
	anthropicKey  = "sk-" + "ant-api03-" + rnd(93, 6) + "AA"
	openAIProj    = "sk-" + "proj-" + rnd(156, 7)
	openAILegacy  = "sk-" + rnd(48, 8)
	slackBot      = "xo" + "xb-" + "1234567890123-1234567890123-" + rnd(24, 9)
	stripeLive    = "sk" + "_live_" + rnd(24, 10)
	stripeRestr   = "rk" + "_test_" + rnd(24, 11)
	googleKey     = "AI" + "za" + rnd(35, 12)
	airlockToken  = "alk" + "_" + rnd(43, 13)
	awsKeyID      = "AKIA" + "IOSFODNN7EXAMPLE"
	awsTempKeyID  = "ASIA" + "Y34FZKBOKMUTVV7A"
	awsSecret     = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	jwtHS256      = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
		"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." +
		"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	jwtNone     = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjMifQ."
	jwtNoAlg    = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlMTIzNDU2"
	pemBodyText = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" +
		"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n" +
		"LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\n"
	rsaKey = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + pemBodyText + "-----END RSA PRIVATE KEY-----"
)

func mustParse(t interface{ Fatal(...any) }, p string) *syntax.Regexp {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
