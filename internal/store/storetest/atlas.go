package storetest

import (
	"testing"

	"github.com/airlock-ir/airlock/internal/store"
)

var atlasTests = []subtest{
	{"Empty", testATLASEmpty},
	{"ReplaceAndList", testATLASReplace},
	{"ReplaceAgain", testATLASReplaceAgain},
	{"DuplicateIDsRollBack", testATLASDuplicate},
}

func listTechniques(t *testing.T, s store.Store) (string, []store.Technique) {
	t.Helper()
	var version string
	var ts []store.Technique
	view(t, s, func(tx store.Tx) (err error) {
		version, ts, err = tx.ListTechniques(t.Context())
		return err
	})
	// No tactics may come back as nil or as an empty list.
	for i := range ts {
		if len(ts[i].Tactics) == 0 {
			ts[i].Tactics = nil
		}
	}
	return version, ts
}

func replaceTechniques(t *testing.T, s store.Store, version string, ts []store.Technique) {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.ReplaceTechniques(t.Context(), version, ts) })
}

var catalogueV1 = []store.Technique{
	{ID: "AML.T0051.000", Name: "Direct", Parent: "AML.T0051", Tactics: []string{"AML.TA0005", "AML.TA0012"}},
	{ID: "AML.T0024", Name: "Exfiltration via AI Inference API", Tactics: []string{"AML.TA0010"}},
	{ID: "AML.T0051", Name: "LLM Prompt Injection", Tactics: []string{"AML.TA0005", "AML.TA0012", "AML.TA0007"}},
	{ID: "AML.T0010", Name: "AI Supply Chain Compromise"},
}

// sortedV1 is catalogueV1 in ID order.
var sortedV1 = []store.Technique{catalogueV1[3], catalogueV1[1], catalogueV1[2], catalogueV1[0]}

func testATLASEmpty(t *testing.T, s store.Store) {
	version, ts := listTechniques(t, s)
	if version != "" || len(ts) != 0 {
		t.Errorf("empty store: version %q, %d techniques; want \"\" and none", version, len(ts))
	}
}

func testATLASReplace(t *testing.T, s store.Store) {
	replaceTechniques(t, s, "4.9.0", catalogueV1)
	version, ts := listTechniques(t, s)
	if version != "4.9.0" {
		t.Errorf("version = %q, want %q", version, "4.9.0")
	}
	deepEqual(t, "ListTechniques, sorted by ID", ts, sortedV1)
}

func testATLASReplaceAgain(t *testing.T, s store.Store) {
	replaceTechniques(t, s, "4.9.0", catalogueV1)
	v2 := []store.Technique{
		{ID: "AML.T0051", Name: "LLM Prompt Injection (renamed)", Tactics: []string{"AML.TA0005"}},
		{ID: "AML.T0062", Name: "Discover LLM Hallucinations", Tactics: []string{"AML.TA0008"}},
	}
	replaceTechniques(t, s, "5.0.0", v2)
	version, ts := listTechniques(t, s)
	if version != "5.0.0" {
		t.Errorf("version after the second replace = %q, want %q", version, "5.0.0")
	}
	deepEqual(t, "ListTechniques after the second replace", ts, v2)

	replaceTechniques(t, s, "5.0.1", nil)
	version, ts = listTechniques(t, s)
	if version != "5.0.1" || len(ts) != 0 {
		t.Errorf("after replacing with nothing: version %q, %d techniques; want %q and none", version, len(ts), "5.0.1")
	}
}

func testATLASDuplicate(t *testing.T, s store.Store) {
	replaceTechniques(t, s, "4.9.0", catalogueV1)
	bad := []store.Technique{
		{ID: "AML.T0099", Name: "New"},
		{ID: "AML.T0051", Name: "once"},
		{ID: "AML.T0051", Name: "twice"},
	}
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.ReplaceTechniques(t.Context(), "5.0.0", bad) })
	if err == nil {
		t.Fatal("ReplaceTechniques with a duplicate ID succeeded, want an error")
	}
	version, ts := listTechniques(t, s)
	if version != "4.9.0" {
		t.Errorf("version after the refused replace = %q, want %q", version, "4.9.0")
	}
	deepEqual(t, "catalogue after the refused replace", ts, sortedV1)
}
