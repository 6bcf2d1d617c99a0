package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/incident"
)

// decodeSeeds are bodies a client might send, good and bad.
var decodeSeeds = []string{
	`{"title":"Jailbreak","type":"jailbreak","severity":"high"}`,
	`{"title":"t","type":"model_extraction","severity":"critical","priority":1,"summary":"s","owner":"rita",
	  "entities":[{"kind":"ip","value":"203.0.113.9"},{"kind":"api_key","value":"k1"}],"atlas":["AML.T0024.002"],
	  "participants":["sam"],"started":"2025-03-14T10:00:00Z","detected":"2025-03-14T10:30:00+01:00",
	  "impact":{"affected_users":3,"data_exposed":"none","business_impact":"low","cost":12.5,"currency":"EUR"}}`,
	`{"summary":"x","root_cause":"y","containment_waiver":"z","recovery":{"integrity_verified":true,"validation_passed":false},
	  "review":{"done":true,"summary":"r"},"milestones":{"started":"2025-01-01T00:00:00Z"}}`,
	`{"severity":"low","priority":4,"owner":"","entities":[],"atlas":null}`,
	``,
	` `,
	`null`,
	`[]`,
	`"string"`,
	`123`,
	`{`,
	`{"title":`,
	`{"title" "x"}`,
	`{"title":"x"} trailing`,
	`{"title":"x"}{"title":"y"}`,
	`{"titel":"x"}`,
	`{"title":5}`,
	`{"severity":"extreme"}`,
	`{"severity":3}`,
	`{"severity":null}`,
	`{"priority":1e400}`,
	`{"impact":{"cost":-1e308}}`,
	`{"started":"not a time"}`,
	`{"started":"0000-01-01T00:00:00+01:00"}`,
	`{"milestones":{"detected":"10000-01-01T00:00:00Z"}}`,
	`{"title":"\ud800"}`,
	`{"title":"a\u0000b"}`,
	"{\"title\":\"caf\xe9\"}",
	"\xef\xbb\xbf{}",
	`{"entities":[{"kind":"ip","value":"x","extra":1}]}`,
	strings.Repeat("[", 20000),
	`{"title":` + strings.Repeat(`{"a":`, 11000),
}

// FuzzDecodeIncident feeds arbitrary bodies to the strict decoder for the
// two request types with the most fields. It must never panic, must accept
// only valid JSON objects and must refuse everything else with a 4xx *Error
// that explains itself.
func FuzzDecodeIncident(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in incident.NewIncident
		checkDecode(t, data, decodeJSONBytes(data, &in))
		var p incident.Patch
		checkDecode(t, data, decodeJSONBytes(data, &p))
		var tr transitionRequest
		checkDecode(t, data, decodeJSONBytes(data, &tr))
	})
}

func checkDecode(t *testing.T, data []byte, err error) {
	t.Helper()
	if err == nil {
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8 %q", data)
		}
		return
	}
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("%q: error %T (%v) is not an *Error", data, err, err)
	}
	if ae.Status < 400 || ae.Status > 499 {
		t.Fatalf("%q: status %d, want 4xx", data, ae.Status)
	}
	if ae.Code == "" || strings.TrimSpace(ae.Message) == "" {
		t.Fatalf("%q: error without code or message: %+v", data, ae)
	}
	if !utf8.ValidString(ae.Message) {
		t.Fatalf("%q: message is not valid UTF-8: %q", data, ae.Message)
	}
	if got := toAPIError(err); got != ae {
		t.Fatalf("%q: toAPIError does not pass the *Error through", data)
	}
}
