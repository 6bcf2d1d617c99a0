package intel

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []comparison // nil: refused
		err     string
	}{
		{pattern: "[ipv4-addr:value = '198.51.100.7']", want: []comparison{{"ipv4-addr:value", "198.51.100.7"}}},
		{pattern: "  [ ipv4-addr:value='a' ]\n", want: []comparison{{"ipv4-addr:value", "a"}}},
		{pattern: "[a:b = 'x' OR a:b = 'y'] or ([c:d = 'z'])", want: []comparison{{"a:b", "x"}, {"a:b", "y"}, {"c:d", "z"}}},
		{pattern: "[(a:b = 'x' OR (a:b = 'y'))]", want: []comparison{{"a:b", "x"}, {"a:b", "y"}}},
		{pattern: `[a:b = 'it\'s a \\ backslash']`, want: []comparison{{"a:b", `it's a \ backslash`}}},
		{pattern: "[file:hashes.'SHA-256' = 'ab']", want: []comparison{{"file:hashes.'SHA-256'", "ab"}}},
		{pattern: "[a:b = '']", want: []comparison{{"a:b", ""}}},
		{pattern: "", err: "pattern ends where [ or ( was expected"},
		{pattern: "[]", err: `pattern has "]" at offset 1 where an object path`},
		{pattern: "[a:b = 'x'] [c:d = 'y']", err: `pattern has "[" at offset 12 where OR or the end of the pattern was expected`},
		{pattern: "[a:b = 'x']]", err: `pattern has "]" at offset 11 where OR or the end`},
		{pattern: "([a:b = 'x']", err: "pattern ends where ) was expected"},
		{pattern: "[a:b = 'x", err: "unterminated string"},
		{pattern: `[a:b = 'x\n']`, err: "invalid escape"},
		{pattern: "[a:b = \"x\"]", err: `pattern has "\"" at offset 7`},
		{pattern: "[a:b = b'eA==']", err: `pattern has "b" at offset 7 where a quoted string`},
		{pattern: "[a:b = h'ff']", err: `pattern has "h" at offset 7 where a quoted string`},
		{pattern: "[a:b IN ('x', 'y')]", err: "operator IN is not supported"},
		{pattern: "[a:b ISSUBSET '10.0.0.0/8']", err: "operator ISSUBSET is not supported"},
		{pattern: "[a:b > 'x']", err: "operator > is not supported"},
		{pattern: "[a:b ! 'x']", err: "where != was expected"},
		{pattern: "[EXISTS a:b]", err: "EXISTS is not supported"},
		{pattern: "[a:b NOT = 'x']", err: "NOT is not supported"},
		{pattern: "[a:b = 'x'] REPEATS 5 TIMES", err: "qualifier REPEATS is not supported"},
		{pattern: "[a:b = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", err: "qualifier START is not supported"},
		{pattern: "[a:b = 'x'] AND [c:d = 'y']", err: "AND is not supported"},
		{pattern: "[a:b = 'x' And c:d = 'y']", err: "AND is not supported"},
		{pattern: "[a:b = 'x'] followedby [c:d = 'y']", err: "FOLLOWEDBY is not supported"},
		{pattern: "[value = 'x']", err: `pattern has "value" at offset 1 where an object path`},
		{pattern: "[a:b = 'x'] OR", err: "pattern ends where [ or ( was expected"},
		{pattern: "[a:b = 'x' OR]", err: `pattern has "]" at offset 13 where an object path`},
		{pattern: "[a:b = 'x'] ; DROP", err: `pattern has ";" at offset 12, which STIX patterning does not allow`},
		{pattern: "[a:b = 'x'] é", err: `pattern has "é" at offset 12`},
		{pattern: strings.Repeat("(", 40) + "[a:b = 'x']" + strings.Repeat(")", 40), err: "pattern nests deeper than 32"},
		{pattern: "[" + strings.Repeat("(", 40) + "a:b = 'x'" + strings.Repeat(")", 40) + "]", err: "pattern nests deeper than 32"},
		{pattern: "[a:b = '" + strings.Repeat("x", maxPatternBytes) + "']", err: "pattern is 65546 bytes, more than 65536"},
	} {
		got, err := parsePattern(tc.pattern)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %v, %v; want error %q", clip(tc.pattern), got, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("%q: got %v, %v; want %v", tc.pattern, got, err, tc.want)
		}
	}
}
