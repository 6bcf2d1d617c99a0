package intel

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

// checkFeedResult checks what a parser returned for src: on error, no
// indicators and only *ParseErrors (and the count of those not shown) at
// lines of the feed; on success, canonical indicators that a Set finds
// again.
func checkFeedResult(t *testing.T, name string, src []byte, inds []Indicator, err error) {
	t.Helper()
	if err != nil {
		if inds != nil {
			t.Fatalf("%d indicators returned with an error", len(inds))
		}
		lines := bytes.Count(src, []byte{'\n'}) + 1
		j, ok := err.(interface{ Unwrap() []error })
		if !ok {
			t.Fatalf("error is not a joined list: %T %v", err, err)
		}
		errs := j.Unwrap()
		if len(errs) == 0 || len(errs) > MaxErrors+1 {
			t.Fatalf("%d errors", len(errs))
		}
		for i, e := range errs {
			var pe *ParseError
			if !errors.As(e, &pe) {
				if i == MaxErrors && strings.HasSuffix(e.Error(), "more errors not shown") {
					continue
				}
				t.Fatalf("error %d is %T: %v", i, e, e)
			}
			if pe.File != name || pe.Line < 1 || pe.Line > lines || pe.Reason == "" {
				t.Fatalf("error %q: file, line or reason out of place (%d lines)", pe.Error(), lines)
			}
		}
		return
	}
	for _, ind := range inds {
		again, err := Normalize(ind)
		if err != nil || again.Type != ind.Type || again.Value != ind.Value || again.ID != ind.ID {
			t.Fatalf("%s %q is not canonical: %s %q, %v", ind.Type, ind.Value, again.Type, again.Value, err)
		}
		if ind.Source == "" || !ind.Severity.Valid() || ind.Confidence < 0 || ind.Confidence > 1 {
			t.Fatalf("indicator %+v", ind)
		}
	}
	s := NewSet(inds)
	if s.Skipped() != 0 || s.Len() > len(inds) {
		t.Fatalf("set of %d: len %d, skipped %d", len(inds), s.Len(), s.Skipped())
	}
	for _, ind := range inds[:min(len(inds), 20)] {
		var found []Indicator
		switch ind.Type {
		case TypeIP:
			found = s.MatchIP(netip.MustParseAddr(ind.Value))
		case TypeCIDR:
			found = s.MatchIP(netip.MustParsePrefix(ind.Value).Addr())
		case TypeAPIKeyHash:
			found = s.MatchKeyHash(ind.Value)
		case TypeModelHash:
			found = s.MatchModelHash(ind.Value)
		case TypeDomain:
			found = s.MatchDomain(ind.Value)
		case TypeURL:
			found = s.MatchURL(ind.Value)
		case TypePromptSignature:
			if isRegex(ind) {
				s.MatchPrompt(ind.Value)
				continue
			}
			found = s.MatchPrompt(ind.Value)
		}
		if !slices.ContainsFunc(found, func(f Indicator) bool { return f.Type == ind.Type && f.Value == ind.Value }) {
			t.Fatalf("%s %q: not found in its own set (found %q)", ind.Type, ind.Value, values(found))
		}
	}
	s.Match(event.Event{Time: time.Now(), IP: "198.51.100.7", APIKeyHash: "kh_0123456789abcdef01234567", PromptText: string(src[:min(len(src), 2000)])})
}

func FuzzParseCSV(f *testing.F) {
	for _, seed := range []string{
		docCSV,
		"type,value\n",
		"",
		"type,value,description\nip,192.0.2.1,\"two\nlines\"\nip,nope,\n",
		"\ufefftype,value\r\n# c\r\nip,::ffff:192.0.2.1\r\n",
		"type,value,labels,atlas,valid_from,valid_until,id,source,severity,confidence,description\n" +
			"cidr,2001:db8::/48,a;b,AML.T0051,2025-01-01T00:00:00Z,2026-01-01T00:00:00Z,x,y,high,0.5,d\n",
		"type,value\nprompt_signature,regex:(?s)ig.nore\\s+\\w+ prev\nprompt_signature,ｉｇｎｏｒｅ ｐｒｅｖｉｏｕｓ\n",
		"type,value\ndomain,Evil.Example.\nurl,HTTP://evil.example/a?b#c\nmodel_hash," + strings.Repeat("A", 64) + "\napi_key_hash,kh_0123456789abcdef01234567\n",
		"type,value,colour\n",
		"type,value\nip,\"192.0.2.1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		inds, err := ParseCSV("fuzz.csv", bytes.NewReader(src))
		checkFeedResult(t, "fuzz.csv", src, inds, err)
	})
}

func FuzzParseSTIX(f *testing.F) {
	for _, seed := range []string{
		stixBundle(identityJSON,
			stixIndicatorJSON(1, "[ipv4-addr:value = '198.51.100.7'] OR [ipv4-addr:value = '10.0.0.0/8']",
				`"confidence": 85`, `"created_by_ref": "identity--7a5f1b86-2e4e-4a0b-9a1c-6f0d3a7e9c11"`,
				`"external_references": [{"source_name": "mitre-atlas", "external_id": "AML.T0051"}]`),
			stixIndicatorJSON(2, "([ipv6-addr:value = '2001:db8::/32' OR ipv6-addr:value = '::ffff:192.0.2.1'])"),
			stixIndicatorJSON(3, "[file:hashes.'SHA-256' = '"+strings.Repeat("ab", 32)+"']", `"revoked": true`),
			stixIndicatorJSON(4, `[x-airlock-prompt:signature = 'it\'s the system prompt'] OR [x-airlock-api-key:hash = 'kh_0123456789abcdef01234567']`),
			stixIndicatorJSON(5, "[domain-name:value = 'evil.example'] OR [url:value = 'https://evil.example/x']", `"valid_until": "2026-01-01T00:00:00Z"`),
			stixIndicatorJSON(6, `[x-airlock-prompt:signature = 'regex:reveal\\s+your\\s+prompt']`),
			otherObjectsJSON),
		stixBundle(stixIndicatorJSON(1, "[ipv4-addr:value = '198.51.100.7' AND ipv4-addr:value = '198.51.100.8']")),
		stixBundle(stixIndicatorJSON(1, "[ipv4-addr:value = '198.51.100.7'] WITHIN 5 SECONDS")),
		`{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []}`,
		"{\n \"type\": \"bundle\",\n \"objects\": [\n  {\"a\": 1\n   \"b\": 2}\n ]\n}",
		`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","type":"x"}]}`,
		`{"type":"bundle","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","pattern":"[url:value = 'http://a\u00e9.example/']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]}`,
		"[]",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		inds, err := ParseSTIX("fuzz.json", bytes.NewReader(src))
		checkFeedResult(t, "fuzz.json", src, inds, err)
	})
}
