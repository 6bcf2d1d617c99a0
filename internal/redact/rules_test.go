package redact

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// found renders findings as "rule:text" for comparison.
func found(s string, fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+":"+s[f.Start:f.End])
	}
	return out
}

type ruleCase struct {
	in   string
	want []string // "rule:matched text"; empty means nothing may be found
}

func hit(rule, text string) []string { return []string{rule + ":" + text} }

// ruleCases holds true positives and realistic negatives for every rule.
var ruleCases = map[string][]ruleCase{
	"private-key": {
		{"key:\n" + rsaKey + "\nkeep it safe", hit("private-key", rsaKey)},
		{"-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----",
			hit("private-key", "-----BEGIN OPENSSH "+"PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----")},
		{"-----BEGIN RSA " + "PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n" + pemBodyText + "-----END RSA PRIVATE KEY-----",
			hit("private-key", "-----BEGIN RSA "+"PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"+pemBodyText+"-----END RSA PRIVATE KEY-----")},
		{`{"key": "-----BEGIN ` + `PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"}`,
			hit("private-key", `-----BEGIN `+`PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----`)},
		// No END line: the header and the body that follows are redacted.
		{"-----BEGIN EC " + "PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oWm2GZ8Y\n(truncated)",
			hit("private-key", "-----BEGIN EC "+"PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oWm2GZ8Y\n")},
		{"-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----", nil},
		{"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----", nil},
		{"Use -----BEGIN and -----END markers; a line of ----- is a rule.", nil},
	},
	"jwt": {
		{"token " + jwtHS256 + " expires", hit("jwt", jwtHS256)},
		{"unsigned: " + jwtNone + " (alg none)", hit("jwt", jwtNone)},
		{"no alg: " + jwtNoAlg, nil},
		{"eyJhbGciOiJIUzI1NiJ9 alone is only a header", nil},
		{"x" + jwtHS256, nil},
	},
	"aws-access-key-id": {
		{"aws_access_key_id = " + awsKeyID, hit("aws-access-key-id", awsKeyID)},
		{"temporary " + awsTempKeyID + ".", hit("aws-access-key-id", awsTempKeyID)},
		{"AKIAIOSFODNN7EXAMPL is one short", nil},
		{"AKIAIOSFODNN7EXAMPLEX is one long", nil},
		{"XAKIAIOSFODNN7EXAMPLE is inside a word", nil},
		{"akiaiosfodnn7example is lower case", nil},
		{"ASIA is a continent; AKIA is four letters.", nil},
	},
	"aws-secret-access-key": {
		{"aws_secret_access_key = " + awsSecret, hit("aws-secret-access-key", awsSecret)},
		{`export AWS_SECRET_ACCESS_KEY="` + awsSecret + `"`, hit("aws-secret-access-key", awsSecret)},
		{`{"SecretAccessKey": "` + awsSecret + `"}`, hit("aws-secret-access-key", awsSecret)},
		{"The AWS secret key: " + awsSecret, hit("aws-secret-access-key", awsSecret)},
		{"aws_secret_access_key = <your secret key>", nil},
		{"aws_secret_access_key = " + strings.Repeat("A", 40), nil},
	},
	"github-token": {
		{"GITHUB_TOKEN=" + ghToken, hit("github-token", ghToken)},
		{"oauth " + ghoToken + " and app " + ghsToken, []string{"github-token:" + ghoToken, "github-token:" + ghsToken}},
		{"ghp_short123 is too short", nil},
		{"x" + ghToken, nil},
	},
	"github-fine-grained-pat": {
		{"pat: " + ghFineGrained, hit("github-fine-grained-pat", ghFineGrained)},
		{"github_pat_ is the prefix of fine-grained tokens", nil},
	},
	"anthropic-api-key": {
		{"ANTHROPIC_API_KEY=" + anthropicKey, hit("anthropic-api-key", anthropicKey)},
	},
	"openai-api-key": {
		{"key " + openAIProj + " here", hit("openai-api-key", openAIProj)},
		{"legacy " + openAILegacy, hit("openai-api-key", openAILegacy)},
		{"use sk-learn-compatible-estimators-and-pipelines-for-this", nil},
		{"task-" + rnd(40, 99) + " is a task id", nil},
		{"sk-abc123 is too short", nil},
	},
	"slack-token": {
		{"SLACK_BOT_TOKEN=" + slackBot, hit("slack-token", slackBot)},
		{"xoxb-is-a-prefix-people-mention", nil},
	},
	"stripe-key": {
		{"stripe " + stripeLive, hit("stripe-key", stripeLive)},
		{"restricted " + stripeRestr, hit("stripe-key", stripeRestr)},
		{"sk_live_ keys start with sk_live_", nil},
	},
	"google-api-key": {
		{"maps key " + googleKey + ".", hit("google-api-key", googleKey)},
		{"AIza" + rnd(34, 14) + " is one short", nil},
	},
	"airlock-token": {
		{"airlock token " + airlockToken, hit("airlock-token", airlockToken)},
		{"alk_" + rnd(42, 15) + " is one short", nil},
		{"alk_" + rnd(44, 16) + " is one long", nil},
	},
	"bearer-token": {
		{"Authorization: Bearer " + "abcDEF123456ghiJKL789mno", hit("bearer-token", "abcDEF123456ghiJKL789mno")},
		{"Authorization: Bearer " + jwtHS256, hit("jwt", jwtHS256)},
		{"Bearer authentication sends a token in a header.", nil},
		{"the bearer of bad news", nil},
	},
	"url-password": {
		{"postgres://admin:S3cretPass@db.example.com:5432/app", hit("url-password", "S3cretPass")},
		{"https://user:p%40ss:word@example.com/", hit("url-password", "p%40ss:word")},
		{"https://example.com:8443/path", nil},
		{"git clone https://github.com/airlock-ir/airlock", nil},
	},
	"generic-secret": {
		{`api_key = "q8Zr2LmX7vT4pN1k"`, hit("generic-secret", "q8Zr2LmX7vT4pN1k")},
		{`{"password": "Tr0ub4dor&3"}`, hit("generic-secret", "Tr0ub4dor&3")},
		{"DB_PASSWORD=s3cr3tP4ss!", hit("generic-secret", "s3cr3tP4ss!")},
		{"client_secret: 'c9f8e7d6b5a4c3d2e1f0'", hit("generic-secret", "c9f8e7d6b5a4c3d2e1f0")},
		{`token := "abc123DEF456ghi789"`, hit("generic-secret", "abc123DEF456ghi789")},
		{`os.environ["SERVICE_API_KEY"] = "Zm9vYmFyYmF6cXV4MTIz"`, hit("generic-secret", "Zm9vYmFyYmF6cXV4MTIz")},
		{"password: changeme", nil},
		{`api_key = "YOUR_API_KEY"`, nil},
		{"token: ${GITHUB_TOKEN}", nil},
		{`password = os.getenv("DB_PASSWORD")`, nil},
		{"api_key = process.env.OPENAI_API_KEY", nil},
		{"max_tokens: 4096", nil},
		{"tokenizer: cl100k_base", nil},
		{"Password: must be at least 8 characters long", nil},
		{"secret = aaaaaaaa1", nil},
		{"Token: the basic unit of text a model reads.", nil},
		{"if token == expected {", nil},
	},
	"email": {
		{"Contact jane.doe@example.com today.", hit("email", "jane.doe@example.com")},
		{"<j+tag@mail.example.co.uk>", hit("email", "j+tag@mail.example.co.uk")},
		{"MAILTO:Support_Team@Example-Corp.IO,", hit("email", "Support_Team@Example-Corp.IO")},
		{"npm install @scope/pkg", nil},
		{"root@localhost", nil},
		{"foo@bar", nil},
		{"x@1.2.3.4", nil},
		{"@mention and a trailing @", nil},
		{strings.Repeat("a", 64) + "@example.com", hit("email", strings.Repeat("a", 64)+"@example.com")},
		{strings.Repeat("a", 65) + "@example.com", nil},
	},
	"payment-card": {
		{"Visa 4111 1111 1111 1111 exp 12/29", hit("payment-card", "4111 1111 1111 1111")},
		{"mc:5555555555554444", hit("payment-card", "5555555555554444")},
		{"amex 3782 822463 10005.", hit("payment-card", "3782 822463 10005")},
		{"discover 6011-1111-1111-1117", hit("payment-card", "6011-1111-1111-1117")},
		{"jcb 3530111333300000", hit("payment-card", "3530111333300000")},
		{"diners 3056 9309 0259 04", hit("payment-card", "3056 9309 0259 04")},
		{"2-series 2223 0031 2200 3222", hit("payment-card", "2223 0031 2200 3222")},
		{"unionpay 6200000000000005", hit("payment-card", "6200000000000005")},
		{"visa-13 4222222222222", hit("payment-card", "4222222222222")},
		{"card 4111 1111 1111 1111 2023", hit("payment-card", "4111 1111 1111 1111")},
		{"4111 1111 1111 1112 fails Luhn", nil},
		{withLuhn("123456789012345") + " passes Luhn but no network starts with 1", nil},
		{"4111 1111-1111 1111 mixes separators", nil},
		{"41111111111111111111 has 20 digits", nil},
		{"pi is 3.4111111111111111 roughly", nil},
		{"epoch ms 1700000000000", nil},
		{"4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", nil},
	},
	"iban": {
		{"IBAN DE89 3704 0044 0532 0130 00.", hit("iban", "DE89 3704 0044 0532 0130 00")},
		{"GB82 WEST 1234 5698 7654 32", hit("iban", "GB82 WEST 1234 5698 7654 32")},
		{"FR14 2004 1010 0505 0001 3M02 606", hit("iban", "FR14 2004 1010 0505 0001 3M02 606")},
		{"to NL91ABNA0417164300 please", hit("iban", "NL91ABNA0417164300")},
		{"NO93 8601 1117 947", hit("iban", "NO93 8601 1117 947")},
		{"DE89 3704 0044 0532 0130 01 has a bad check", nil},
		{"XX89 3704 0044 0532 0130 00 has no country", nil},
		{"DE89 3704 0044 is too short", nil},
		{"GB82WEST12345698765432X runs on", nil},
	},
	"us-ssn": {
		{"SSN 078-05-1120", hit("us-ssn", "078-05-1120")},
		{"ssn: 123 45 6789.", hit("us-ssn", "123 45 6789")},
		{"000-12-3456", nil},
		{"666-12-3456", nil},
		{"900-12-3456", nil},
		{"123-00-4567", nil},
		{"123-45-0000", nil},
		{"on 2023-01-15", nil},
		{"978-3-16-148410-0", nil},
	},
	"uk-nino": {
		{"NI number AB123456C", hit("uk-nino", "AB123456C")},
		{"NINO: AB 12 34 56 C.", hit("uk-nino", "AB 12 34 56 C")},
		{"BG123456A", nil},
		{"QQ123456C", nil},
		{"AB123456E", nil},
		{"DA123456A", nil},
		{"XAB123456C", nil},
	},
	"phone": {
		{"call +1 (415) 555-2671 now", hit("phone", "+1 (415) 555-2671")},
		{"UK +44 20 7946 0958", hit("phone", "+44 20 7946 0958")},
		{"FR +33 6 12 34 56 78.", hit("phone", "+33 6 12 34 56 78")},
		{"DE +4915112345678", hit("phone", "+4915112345678")},
		{"(415) 555-2671", hit("phone", "(415) 555-2671")},
		{"415-555-2671", hit("phone", "415-555-2671")},
		{"415.555.2671", hit("phone", "415.555.2671")},
		{"1-800-555-0199", hit("phone", "1-800-555-0199")},
		{"London 020 7946 0958", hit("phone", "020 7946 0958")},
		{"Paris 06 12 34 56 78", hit("phone", "06 12 34 56 78")},
		{"Berlin 030 12345678", hit("phone", "030 12345678")},
		{"Munich 089/1234567", hit("phone", "089/1234567")},
		{"version 1.2.3.4", nil},
		{"v10.15.7 and 10.0.19041.1234", nil},
		{"on 2023-01-15 at 10:30", nil},
		{"01.02.2023 10:30", nil},
		{"price $1,299.99", nil},
		{"in 2023, 45% of 1200 users", nil},
		{"ISBN 978-3-16-148410-0", nil},
		{"555-1234", nil},
		{"id 1234567890", nil},
		{"+1234", nil},
		{"2+2=4 and 3+12345678", nil},
		{"x+15551234567", nil},
		{"(123) 456-7890", nil},
	},
}

// negatives holds realistic text that no rule may match.
var negatives = []string{
	"The quick brown fox jumps over the lazy dog.",
	"IPv4 192.168.1.100 and 10.0.0.1 are addresses, not PII here.",
	"UUID 123e4567-e89b-12d3-a456-426614174000 and 550e8400-e29b-41d4-a716-446655440000",
	"commit e83c5163316f89bfbde7d9ab23ca2e25604af290 (HEAD)",
	"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	"HTTP/1.1 200 OK, Content-Length: 1234",
	"It costs €1.299,00 or $1,299.99 (about 1.2k).",
	"Meeting on 2024-03-15T10:30:00Z; call back at 10:30.",
	"Python 3.12.1, Go 1.26, Node v20.11.0, semver 1.2.3-beta.4+build.5",
	"Base64: SGVsbG8sIFdvcmxkIQ== decodes to Hello, World!",
	"Use `key: value` pairs; the key is a string and the token count is 4096.",
	"RFC 5322 defines addresses like user at example dot com.",
	"Le café coûte 3,50 € — 日本語のテキスト — emoji 😀👍",
	"See https://example.com/path?query=1&x=2#frag for details.",
	"The password policy: minimum length 12, rotate every 90 days.",
	"AI systems like GPT-4o, Claude 3.5 Sonnet and Llama-3.1-70B.",
	"Rows 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20.",
	"Table: 1000000 | 2500000 | 3750000 | 12345678",
}

func TestRules(t *testing.T) {
	r := New()
	for id, cases := range ruleCases {
		if !slices.ContainsFunc(compiled, func(c *compiledRule) bool { return c.ID == id }) {
			t.Errorf("cases for unknown rule %s", id)
		}
		for _, tc := range cases {
			got := found(tc.in, r.Find(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: Find(%q)\n got %q\nwant %q", id, tc.in, got, tc.want)
			}
		}
	}
	for _, c := range compiled {
		positive := false
		for _, tc := range ruleCases[c.ID] {
			positive = positive || slices.ContainsFunc(tc.want, func(w string) bool { return strings.HasPrefix(w, c.ID+":") })
		}
		if !positive {
			t.Errorf("rule %s has no true positive in ruleCases", c.ID)
		}
	}
}

func TestNegatives(t *testing.T) {
	r := New()
	for _, s := range negatives {
		if fs := r.Find(s); len(fs) > 0 {
			t.Errorf("Find(%q) = %q, want nothing", s, found(s, fs))
		}
	}
}

// TestScannerShapes checks that what the scanners match has the shape their
// rule's Pattern documents.
func TestScannerShapes(t *testing.T) {
	r := New()
	for _, c := range compiled {
		if c.scan == nil {
			continue
		}
		re := regexp.MustCompile(`^(?:` + c.Pattern + `)$`)
		n := 0
		for _, tc := range ruleCases[c.ID] {
			for _, f := range r.Find(tc.in) {
				text := tc.in[f.Start:f.End]
				if f.Rule != c.ID || !strings.Contains(text, "-----END") && c.ID == "private-key" {
					continue
				}
				n++
				if !re.MatchString(text) {
					t.Errorf("%s matched %q, which its Pattern does not describe", c.ID, text)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no match checked", c.ID)
		}
	}
}

func TestClasses(t *testing.T) {
	text := "mail jane@example.com key " + awsKeyID
	tests := []struct {
		classes []Class
		want    []string
	}{
		{nil, []string{"email:jane@example.com", "aws-access-key-id:" + awsKeyID}},
		{[]Class{PII}, []string{"email:jane@example.com"}},
		{[]Class{Secret}, []string{"aws-access-key-id:" + awsKeyID}},
		{[]Class{PII, Secret}, []string{"email:jane@example.com", "aws-access-key-id:" + awsKeyID}},
	}
	for _, tt := range tests {
		r := New(tt.classes...)
		if got := found(text, r.Find(text)); !slices.Equal(got, tt.want) {
			t.Errorf("New(%v).Find = %q, want %q", tt.classes, got, tt.want)
		}
		for _, f := range r.Find(text) {
			if len(tt.classes) > 0 && !slices.Contains(tt.classes, f.Class) {
				t.Errorf("New(%v) found class %s", tt.classes, f.Class)
			}
		}
	}
}

func TestRuleTable(t *testing.T) {
	rules := Rules()
	if len(rules) != len(table) {
		t.Fatalf("Rules() has %d rules, table %d", len(rules), len(table))
	}
	for _, r := range rules {
		if r.MaxLen <= 0 || r.Description == "" || len(r.Keywords) == 0 {
			t.Errorf("rule %s: MaxLen %d, description %q, keywords %q", r.ID, r.MaxLen, r.Description, r.Keywords)
		}
	}
	for _, c := range compiled {
		if c.window > New().MaxMatchLen() {
			t.Errorf("rule %s reads %d bytes, more than MaxMatchLen %d", c.ID, c.window, New().MaxMatchLen())
		}
	}
	// Unbounded patterns are refused.
	if _, err := compileRule(Rule{ID: "x", Class: Secret, Keywords: []string{"x"}, Pattern: `x[a-z]+`}); err == nil {
		t.Error("compileRule accepted an unbounded pattern")
	}
	if n, ok := patternMaxLen(mustParse(t, `ab(?:c|de){2,3}[é]?`)); !ok || n != 2+3*2+2 {
		t.Errorf("patternMaxLen = %d, %v; want 10, true", n, ok)
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		f    func(string) bool
		in   string
		want bool
	}{
		{"luhn ok", validCard, "4111111111111111", true},
		{"luhn bad", validCard, "4111111111111112", false},
		{"amex length", validCard, withLuhn("378282246310005"), false},
		{"iban", validIBAN, "GB82WEST12345698765432", true},
		{"iban spaces", validIBAN, "GB82 WEST 1234 5698 7654 32", true},
		{"iban check", validIBAN, "GB82WEST12345698765433", false},
		{"iban length", validIBAN, "GB82WEST1234569876543", false},
		{"ssn", validSSN, "078-05-1120", true},
		{"ssn 9xx", validSSN, "987-65-4321", false},
		{"jwt", validJWT, jwtHS256, true},
		{"jwt no alg", validJWT, jwtNoAlg, false},
		{"jwt not base64", validJWT, "eyJ!!!.x.y", false},
		{"generic random", validGenericSecret, rnd(32, 20), true},
		{"generic words", validGenericSecret, "correcthorsebatterystaple", false},
		{"generic low entropy", validGenericSecret, "abababab1", false},
		{"random hex", validRandom, "3f9a0c1b2d4e5f60718293a4b5c6d7e8", true},
		{"random words", validRandom, "learn-compatible-estimators", false},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%s: (%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
	if e := entropy("aaaa"); e != 0 {
		t.Errorf("entropy(aaaa) = %v", e)
	}
	if e := entropy("abcdefgh"); fmt.Sprintf("%.3f", e) != "3.000" {
		t.Errorf("entropy(abcdefgh) = %v, want 3", e)
	}
}
