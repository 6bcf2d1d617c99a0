package event

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSeverityText(t *testing.T) {
	for _, s := range Severities() {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s: round trip gave %v, %v", s, back, err)
		}
	}
	if SeverityLow >= SeverityCritical || SeverityHigh >= SeverityCritical {
		t.Error("severities must order low < medium < high < critical")
	}
	for _, bad := range []string{`"Low"`, `"urgent"`, `""`, `3`} {
		var s Severity
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: accepted as %v", bad, s)
		}
	}
	if _, err := json.Marshal(Severity(0)); err == nil {
		t.Error("the zero severity marshalled; it must be refused")
	}
}

func TestEntityValidate(t *testing.T) {
	for _, tc := range []struct {
		e    Entity
		want string
	}{
		{Entity{EntityIP, "203.0.113.7"}, ""},
		{Entity{EntityAPIKey, "kh_0123"}, ""},
		{Entity{"laptop", "x"}, "unknown entity kind"},
		{Entity{EntityUser, "  "}, "empty value"},
		{Entity{EntityUser, strings.Repeat("a", MaxEntityValue+1)}, "more than"},
		{Entity{EntityUser, "a\xffb"}, "UTF-8"},
	} {
		err := tc.e.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: error %v, want %q", tc.e, err, tc.want)
		}
	}
}
