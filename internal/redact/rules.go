package redact

// Class is the kind of data a rule finds.
type Class string

const (
	PII    Class = "pii"
	Secret Class = "secret"
)

// Rule is one kind of sensitive text, in the spirit of a gitleaks rule: what
// to look for first (Keywords), what the whole match looks like (Pattern), and
// what it must satisfy to count (Validate).
type Rule struct {
	ID          string
	Class       Class
	Description string

	// Keywords are the literal, case-sensitive strings the rule is tried at.
	// Text that contains none of them is never matched by the rule. Where the
	// match begins relative to the keyword depends on the rule: at the keyword
	// for token prefixes, at the local part before "@" for email, after the
	// ":" or "=" that follows a key name for assignments, at the start of a
	// group of digits (or a "+", "(" or two capital letters just before it)
	// for numbers.
	Keywords []string

	// Pattern is the shape of a match in RE2 syntax, anchored where the match
	// begins. A group named "secret", when present, is what gets redacted
	// (the value, not the key name in front of it). Rules with a scanner
	// (cards, IBANs, PEM blocks, JWTs) are matched by code, because RE2 can
	// neither choose among group endings by checksum nor bound a repetition
	// above 1000; their Pattern documents the shape the scanner accepts.
	Pattern string

	// Validate, when set, must accept the text of the finding.
	Validate func(string) bool

	// MaxLen is the longest match in bytes. It is computed from Pattern for
	// pattern rules (every repetition in them is bounded) and fixed by the
	// scanner for the others.
	MaxLen int

	start     startKind
	lead      lead     // numbers: what may stand before the first digit
	left      edge     // what must not stand just before the match
	right     edge     // what must not stand just after it
	keys      []string // assignments: normalised key-name endings
	minDigits int      // numbers: skip unless the number has this many digits
	scan      scanner
}

// maxPEM bounds a private key block: the BEGIN line, the body and the END
// line. 8 KiB holds an RSA-8192 key in PKCS#1 or PKCS#8 form (about 6.4 KiB).
// A longer block, or one whose END line never comes, is redacted from its
// BEGIN line for 8 KiB (or to the first byte that cannot be in a PEM body);
// what follows is emitted unredacted. A stream holds back at most this much.
const maxPEM = 8 << 10

// maxJWT bounds a JSON Web Token: header ≤ 1 KiB, payload ≤ 6000 bytes,
// signature ≤ 1 KiB. A longer token is not matched.
const maxJWT = 8 << 10

// The table. Order breaks ties between overlapping candidates that start at
// the same byte: the earlier rule wins, so "postgres://u:pw@host" gives a
// url-password finding for "pw" rather than an email for "pw@host".
var table = []Rule{
	// Secrets.
	{
		ID: "private-key", Class: Secret,
		Description: "PEM private key block (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP)",
		Keywords:    []string{"-----BEGIN "},
		Pattern:     `-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=:,\\\s-]*-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`,
		MaxLen:      maxPEM,
		scan:        scanPEM,
	},
	{
		ID: "jwt", Class: Secret,
		Description: "JSON Web Token whose header decodes to JSON with \"alg\"",
		Keywords:    []string{"eyJ"},
		Pattern:     `eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`,
		Validate:    validJWT,
		MaxLen:      maxJWT,
		left:        edgeToken,
		scan:        scanJWT,
	},
	{
		ID: "aws-access-key-id", Class: Secret,
		Description: "AWS access key ID (long-term AKIA, temporary ASIA, ABIA, ACCA)",
		Keywords:    []string{"AKIA", "ASIA", "ABIA", "ACCA"},
		Pattern:     `(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`,
		left:        edgeAlnum, right: edgeAlnum,
	},
	{
		ID: "aws-secret-access-key", Class: Secret,
		Description: "AWS secret access key: 40 base64 characters assigned to a key named like aws_secret_access_key",
		Keywords:    []string{":", "="},
		Pattern:     `(?:[:=]=?|=>)[ \t]{0,4}["'` + "`" + `]?(?P<secret>[A-Za-z0-9/+]{40})`,
		Validate:    validAWSSecret,
		start:       afterKey, right: edgeBase64,
		keys: []string{"secretaccesskey", "awssecretkey", "awssecret", "awskey"},
	},
	{
		ID: "github-token", Class: Secret,
		Description: "GitHub personal, OAuth, user-to-server, server-to-server or refresh token",
		Keywords:    []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
		Pattern:     `gh[pousr]_[A-Za-z0-9]{36,251}`,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "github-fine-grained-pat", Class: Secret,
		Description: "GitHub fine-grained personal access token",
		Keywords:    []string{"github_pat_"},
		Pattern:     `github_pat_[A-Za-z0-9_]{70,244}`,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "anthropic-api-key", Class: Secret,
		Description: "Anthropic API or admin key",
		Keywords:    []string{"sk-ant-"},
		Pattern:     `sk-ant-[A-Za-z0-9_-]{32,250}`,
		Validate:    validRandom,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "openai-api-key", Class: Secret,
		Description: "OpenAI-style API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)",
		Keywords:    []string{"sk-"},
		Pattern:     `sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,250}`,
		Validate:    validRandom,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "slack-token", Class: Secret,
		Description: "Slack bot, user, app, refresh or legacy token",
		Keywords:    []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"},
		Pattern:     `xox[abprs]-[A-Za-z0-9-]{10,250}`,
		Validate:    validRandom,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "stripe-key", Class: Secret,
		Description: "Stripe secret or restricted key, live or test",
		Keywords:    []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_"},
		Pattern:     `[rs]k_(?:live|test)_[A-Za-z0-9]{16,247}`,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "google-api-key", Class: Secret,
		Description: "Google API key",
		Keywords:    []string{"AIza"},
		Pattern:     `AIza[A-Za-z0-9_-]{35}`,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "airlock-token", Class: Secret,
		Description: "Airlock API token",
		Keywords:    []string{"alk_"},
		Pattern:     `alk_[A-Za-z0-9_-]{43}`,
		left:        edgeToken, right: edgeToken,
	},
	{
		ID: "bearer-token", Class: Secret,
		Description: "credential after \"Bearer \" (an Authorization header)",
		Keywords:    []string{"Bearer "},
		Pattern:     `Bearer (?P<secret>[A-Za-z0-9._~+/-]{20,500}={0,2})`,
		Validate:    validRandom,
		left:        edgeLetter,
	},
	{
		ID: "url-password", Class: Secret,
		Description: "password in a URL's user information (scheme://user:password@host)",
		Keywords:    []string{"://"},
		Pattern:     `://[A-Za-z0-9._~%!$&'()*+,;=-]{1,64}:(?P<secret>[A-Za-z0-9._~%!$&'()*+,;=:-]{1,128})@`,
	},
	{
		ID: "generic-secret", Class: Secret,
		Description: "high-entropy value assigned to a key named like api_key, secret, token or password",
		Keywords:    []string{":", "="},
		Pattern:     `(?:[:=]=?|=>)[ \t]{0,4}["'` + "`" + `]?(?P<secret>[!#-&(-+\--:<-_a-~]{8,200})`,
		Validate:    validGenericSecret,
		start:       afterKey,
		keys: []string{
			"apikey", "accesskey", "secretkey", "privatekey", "authkey", "secret", "secrets",
			"token", "password", "passwd", "pwd", "passphrase", "credential", "credentials",
		},
	},

	// Personal data.
	{
		ID: "email", Class: PII,
		Description: "email address",
		Keywords:    []string{"@"},
		Pattern:     `[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}`,
		start:       beforeAt, right: edgeToken,
	},
	{
		ID: "payment-card", Class: PII,
		Description: "payment card number, 13–19 digits in groups separated by one space or dash, Luhn-valid, with a known network prefix and length",
		Keywords:    digits,
		Pattern:     `\d{13,19}|\d{4,6}(?:[ ]\d{1,6}){1,4}|\d{4,6}(?:-\d{1,6}){1,4}`,
		Validate:    validCard,
		MaxLen:      19 + 18,
		start:       atNumber, left: edgeNumber,
		minDigits: 13,
		scan:      scanCard,
	},
	{
		ID: "iban", Class: PII,
		Description: "International Bank Account Number with the country's length and a valid mod-97 check",
		Keywords:    digits,
		Pattern:     `[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}`,
		Validate:    validIBAN,
		MaxLen:      4 + 2*30,
		start:       atNumber, lead: leadLetters, left: edgeAlnum,
		scan: scanIBAN,
	},
	{
		ID: "us-ssn", Class: PII,
		Description: "US Social Security number written 123-45-6789 or 123 45 6789 (no 000, 666 or 9xx area, 00 group, 0000 serial)",
		Keywords:    digits,
		Pattern:     `\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}`,
		Validate:    validSSN,
		start:       atNumber, left: edgeNumber, right: edgeNumber,
		minDigits: 9,
	},
	{
		ID: "uk-nino", Class: PII,
		Description: "UK National Insurance number",
		Keywords:    digits,
		Pattern:     `[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]`,
		Validate:    validNINO,
		start:       atNumber, lead: leadLettersSpace, left: edgeAlnum, right: edgeAlnum,
	},
	{
		ID: "phone", Class: PII,
		Description: "phone number: E.164 (+country, 8–15 digits), North American (415) 555-2671 / 415-555-2671, or a European national number with trunk 0 and separators",
		Keywords:    digits,
		Pattern: `\+[1-9]\d{0,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,6})){1,6}` +
			`|0[1-9](?: \d{2}){4}|0[1-9](?:\.\d{2}){4}|0[1-9](?:-\d{2}){4}` +
			`|0[1-9]\d{1,3} \d{3,4} ?\d{3,4}` +
			`|0[1-9]\d{1,4}[/-]\d{4,8}` +
			`|(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}`,
		Validate: validPhone,
		start:    atNumber, lead: leadSign, left: edgeNumber, right: edgeNumber,
		minDigits: 8,
	},
}

var digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// Rules returns a copy of the rule table, in priority order.
func Rules() []Rule {
	out := make([]Rule, len(compiled))
	for i, c := range compiled {
		out[i] = c.Rule
	}
	return out
}
