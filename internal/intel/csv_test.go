package intel

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
)

const docCSV = `# feed of 2025-03-01
type,value,severity,confidence,labels,valid_until
ip,198.51.100.7,high,0.9,scanner;tor,2025-06-01T00:00:00Z
cidr,203.0.113.0/24,medium,,,
prompt_signature,ignore all previous instructions,high,0.8,jailbreak,
prompt_signature,"regex:you are now (dan|developer mode)",high,,jailbreak,
`

func TestParseCSVDocExample(t *testing.T) {
	inds := mustCSV(t, docCSV)
	want := []string{
		"ip 198.51.100.7",
		"cidr 203.0.113.0/24",
		"prompt_signature ignore all previous instructions",
		"prompt_signature regex:you are now (dan|developer mode)",
	}
	if got := values(inds); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	ip := inds[0]
	if ip.Severity != event.SeverityHigh || ip.Confidence != 0.9 || !slices.Equal(ip.Labels, []string{"scanner", "tor"}) ||
		!ip.ValidUntil.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) || !ip.ValidFrom.IsZero() || ip.Source != "feed.csv" {
		t.Errorf("ip indicator: %+v", ip)
	}
	if c := inds[1]; c.Severity != event.SeverityMedium || c.Confidence != DefaultConfidence || c.Labels != nil {
		t.Errorf("defaults: %+v", c)
	}
	if inds[0].ID == "" || inds[0].ID == inds[1].ID {
		t.Errorf("ids %q, %q: want distinct default ids", inds[0].ID, inds[1].ID)
	}
}

func TestParseCSV(t *testing.T) {
	hash := strings.Repeat("AB", 32)
	for _, tc := range []struct {
		name  string
		src   string
		want  []string
		check func(t *testing.T, inds []Indicator)
	}{
		{
			name: "columns in any order, all of them",
			src: "Value , TYPE,source,id,atlas,description,valid_from,valid_until,severity,confidence,labels\n" +
				"2001:db8::7,ip,ACME intel,ind-1,AML.T0051;AML.T0054,  a scanner  ,2025-01-01T00:00:00+02:00,2026-01-01T00:00:00Z,critical,1,a; b ;a\n",
			want: []string{"ip 2001:db8::7"},
			check: func(t *testing.T, inds []Indicator) {
				ind := inds[0]
				if ind.Source != "ACME intel" || ind.ID != "ind-1" || ind.Description != "a scanner" ||
					!slices.Equal(ind.ATLAS, []string{"AML.T0051", "AML.T0054"}) || !slices.Equal(ind.Labels, []string{"a", "b"}) ||
					ind.Severity != event.SeverityCritical || ind.Confidence != 1 ||
					!ind.ValidFrom.Equal(time.Date(2024, 12, 31, 22, 0, 0, 0, time.UTC)) || ind.ValidFrom.Location() != time.UTC {
					t.Errorf("%+v", ind)
				}
			},
		},
		{
			name: "canonical values",
			src: "type,value\n" +
				"ip,::ffff:198.51.100.7\n" +
				"cidr,10.1.2.3/8\n" +
				"cidr,::ffff:192.0.2.0/120\n" +
				"cidr,198.51.100.9/32\n" +
				"model_hash," + hash + "\n" +
				"api_key_hash,KH_0123456789ABCDEF01234567\n" +
				"prompt_signature,  IGNORE   Previous  Instructions \n" +
				"domain,Evil.Example.\n" +
				"url,HTTPS://Evil.Example/Path?q=1#frag\n",
			want: []string{
				"ip 198.51.100.7",
				"cidr 10.0.0.0/8",
				"cidr 192.0.2.0/24",
				"ip 198.51.100.9",
				"model_hash " + strings.ToLower(hash),
				"api_key_hash kh_0123456789abcdef01234567",
				"prompt_signature ignore previous instructions",
				"domain evil.example",
				"url https://evil.example/Path?q=1",
			},
		},
		{
			name: "comments, blank lines, CRLF and a byte-order mark",
			src:  "\ufefftype,value\r\n# a comment\r\n\r\nip,192.0.2.1\r\n#ip,192.0.2.2\r\n",
			want: []string{"ip 192.0.2.1"},
		},
		{
			name: "quoted field with a comma",
			src:  "type,value,description\nip,192.0.2.1,\"scanner, noisy\"\n",
			want: []string{"ip 192.0.2.1"},
			check: func(t *testing.T, inds []Indicator) {
				if inds[0].Description != "scanner, noisy" {
					t.Errorf("description %q", inds[0].Description)
				}
			},
		},
		{
			name: "header only",
			src:  "type,value\n",
			want: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inds := mustCSV(t, tc.src)
			if got := values(inds); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, inds)
			}
		})
	}
}

func TestParseCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "", []string{"feed.csv:1: no header row"}},
		{"only comments", "# nothing\n", []string{"feed.csv:1: no header row"}},
		{"unknown column", "# c\ntype,value,colour\n", []string{`feed.csv:2: unknown column "colour"`}},
		{"repeated column", "type,value,type\n", []string{`feed.csv:1: column "type" appears twice`}},
		{"missing value column", "type,description\nip,x\n", []string{`feed.csv:1: missing column "value"`}},
		{"missing type column", "value\n1.2.3.4\n", []string{`feed.csv:1: missing column "type"`}},
		{"too few fields", "type,value,severity\nip,192.0.2.1\n", []string{"feed.csv:2: 2 fields, want 3"}},
		{"too many fields", "type,value\nip,192.0.2.1,high\n", []string{"feed.csv:2: 3 fields, want 2"}},
		{"bad quote", "type,value\nip,\"192.0.2.1\n", []string{"feed.csv:2: column 15: extraneous or missing \" in quoted-field"}},
		{"bad severity", "type,value,severity\nip,192.0.2.1,urgent\n", []string{`feed.csv:2: severity: unknown severity "urgent"`}},
		{"bad confidence", "type,value,confidence\nip,192.0.2.1,90\nip,192.0.2.2,NaN\n", []string{
			`feed.csv:2: confidence: "90" is not a number from 0 to 1`, `feed.csv:3: confidence: "NaN"`}},
		{"bad time", "type,value,valid_from\nip,192.0.2.1,2025-01-01\n", []string{`feed.csv:2: valid_from: "2025-01-01" is not an RFC 3339 time`}},
		{"window backwards", "type,value,valid_from,valid_until\nip,192.0.2.1,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z\n",
			[]string{"feed.csv:2: valid_until 2025-01-01T00:00:00Z is not after valid_from"}},
		{"unknown type", "type,value\nhostname,x\n", []string{`feed.csv:2: type: unknown indicator type "hostname"`}},
		{"empty value", "type,value\nip,\n", []string{"feed.csv:2: ip value is empty"}},
		{"bad ip", "type,value\nip,192.0.2.256\nip,fe80::1%eth0\n", []string{
			`feed.csv:2: "192.0.2.256" is not an IP address`, `feed.csv:3: has an IPv6 zone`}},
		{"bad cidr", "type,value\ncidr,192.0.2.0/33\ncidr,0.0.0.0/0\ncidr,2001::/8\n", []string{
			`feed.csv:2: "192.0.2.0/33" is not a CIDR prefix`,
			"feed.csv:3: 0.0.0.0/0 is wider than /8",
			"feed.csv:4: 2000::/8 is wider than /16"}},
		{"bad hash length", "type,value\nmodel_hash," + strings.Repeat("a", 63) + "\nmodel_hash," + strings.Repeat("g", 64) + "\n", []string{
			"feed.csv:2: is not a SHA-256 digest (64 hex digits)", "feed.csv:3: is not a SHA-256 digest"}},
		{"plain sha-256 key hash", "type,value\napi_key_hash," + strings.Repeat("a", 64) + "\napi_key_hash,kh_123\n", []string{
			"feed.csv:2: is a plain SHA-256; events carry only the gateway's keyed hash",
			"feed.csv:3: is not the gateway's key hash (kh_ and 24 hex digits)"}},
		{"short signature", "type,value\nprompt_signature,ＩＧＮＯＲＥ\nprompt_signature,a b c d e f g\n", []string{
			"feed.csv:2: has 6 characters once normalised, fewer than 8",
			"feed.csv:3: has 7 characters once normalised, fewer than 8"}},
		{"invisible signature", "type,value\nprompt_signature,\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\n", []string{
			"feed.csv:2: has 0 characters once normalised"}},
		{"bad regex", "type,value\nprompt_signature,regex:(unclosed\nprompt_signature,regex:a*\nprompt_signature,regex:" + strings.Repeat("x", 513) + "\n", []string{
			"feed.csv:2: missing closing )",
			"feed.csv:3: can match 0 characters, fewer than 8",
			"feed.csv:4: regex is 513 bytes, more than 512"}},
		{"invalid UTF-8", "type,value,description\nip,192.0.2.1,caf\xe9\n", []string{"feed.csv:2: description: not valid UTF-8"}},
		{"invalid UTF-8 in header", "type,value,d\xff\n", []string{"feed.csv:1: header: column 3 is not valid UTF-8"}},
		{"over-long value", "type,value\nprompt_signature," + strings.Repeat("x", MaxValueBytes+1) + "\n", []string{
			"feed.csv:2: prompt_signature value is 4097 bytes, more than 4096"}},
		{"bad domain", "type,value\ndomain,localhost\ndomain,a..b\ndomain,192.0.2.1\ndomain,ex ample.com\n", []string{
			"feed.csv:2: has a single label", "feed.csv:3: empty label", "feed.csv:4: it is an IP address", "feed.csv:5: letters, digits"}},
		{"bad url", "type,value\nurl,evil.example/x\nurl,https://user:pw@evil.example/\nurl,ftp://evil.example/\n", []string{
			"feed.csv:2: is not an absolute http(s)", "feed.csv:3: holds credentials", "feed.csv:4: is not an absolute http(s)"}},
		{"bad atlas", "type,value,atlas\nip,192.0.2.1,T0051\n", []string{`feed.csv:2: "T0051" is not an ATLAS technique id`}},
		{"control character in label", "type,value,labels\nip,192.0.2.1,a\x01b\n", []string{"feed.csv:2: label \"a\\x01b\" holds control characters"}},
		{"quoted multi-line field keeps counting lines", "type,value,description\nip,192.0.2.1,\"two\nlines\"\nip,nope,\n", []string{
			`feed.csv:4: "nope" is not an IP address`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inds, err := ParseCSV("feed.csv", strings.NewReader(tc.src))
			if inds != nil {
				t.Errorf("returned %d indicators with an error", len(inds))
			}
			checkErrors(t, err, tc.want...)
		})
	}
}

func TestParseCSVErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("type,value\n")
	for range MaxErrors + 5 {
		b.WriteString("ip,bad\n")
	}
	_, err := ParseCSV("feed.csv", strings.NewReader(b.String()))
	if got := len(parseErrors(t, err)); got != MaxErrors {
		t.Errorf("%d errors listed, want %d", got, MaxErrors)
	}
	if !strings.HasSuffix(err.Error(), "feed.csv: 5 more errors not shown") {
		t.Errorf("error does not end with the count of the rest:\n%v", err)
	}
	if first := parseErrors(t, err)[0].Error(); first != `feed.csv:2: "bad" is not an IP address` {
		t.Errorf("first error %q", first)
	}
}

func TestParseCSVTooLarge(t *testing.T) {
	header := "type,value\nip,192.0.2.1\n"
	row := "# " + strings.Repeat("x", 1000) + "\n"
	r := io.MultiReader(strings.NewReader(header), &repeatReader{unit: row, n: MaxFeedBytes})
	_, err := ParseCSV("big.csv", r)
	// The first byte past the limit is on the line after the header, the
	// first row and the comments wholly below the limit.
	line := 3 + (MaxFeedBytes-len(header))/len(row)
	checkErrors(t, err, "big.csv:"+strconv.Itoa(line)+": feed is larger than 67108864 bytes")
}

func TestParseCSVExactlyAtLimit(t *testing.T) {
	defer func(n int) { maxFeedBytes = n }(maxFeedBytes)
	maxFeedBytes = 1 << 20
	// A feed of exactly the limit is accepted (padded with a comment).
	src := "type,value\nip,192.0.2.1\n#"
	pad := maxFeedBytes - len(src) - 1
	r := io.MultiReader(strings.NewReader(src), &repeatReader{unit: "x", n: pad}, strings.NewReader("\n"))
	inds, err := ParseCSV("limit.csv", r)
	if err != nil || len(inds) != 1 {
		t.Fatalf("got %d indicators, %v", len(inds), err)
	}
	r = io.MultiReader(strings.NewReader(src), &repeatReader{unit: "x", n: pad + 1}, strings.NewReader("\n"))
	_, err = ParseCSV("limit.csv", r)
	checkErrors(t, err, "limit.csv:3: feed is larger than 1048576 bytes")
}

func TestParseCSVTooManyIndicators(t *testing.T) {
	defer func(n int) { maxIndicators = n }(maxIndicators)
	maxIndicators = 3
	src := "type,value\nip,192.0.2.1\nip,192.0.2.2\n# c\nip,192.0.2.3\nip,192.0.2.4\nip,192.0.2.5\n"
	_, err := ParseCSV("feed.csv", strings.NewReader(src))
	checkErrors(t, err, "feed.csv:6: the feed has more than 3 indicators")
}

func TestParseCSVOddFeedName(t *testing.T) {
	name := "feeds/odd\nname\xff" + strings.Repeat("x", 300) + ".csv"
	inds, err := ParseCSV(name, strings.NewReader("type,value\nip,192.0.2.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if src := inds[0].Source; len(src) > MaxSourceBytes || !utf8.ValidString(src) || !strings.HasPrefix(src, "feeds/odd?name\uFFFD") {
		t.Errorf("source %q", src)
	}
}
