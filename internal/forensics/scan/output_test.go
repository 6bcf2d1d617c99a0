package scan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func sampleReport() Report {
	return Report{Files: []FileReport{
		{Path: "models/evil.pkl", Format: "pickle", Verdict: VerdictDangerous, SHA256: strings.Repeat("ab", 32), Size: 51, Findings: []Finding{
			{Module: "builtins", Name: "eval", Severity: SeverityDangerous, Reason: "global builtins.eval evaluates or compiles code", Offset: 29, Rule: "pickle-denied-global"},
			{Severity: SeveritySuspicious, Reason: "4 bytes after pickle 1 are not a pickle", Offset: 51, Rule: "trailing-data"},
		}},
		{Path: "/abs/dir/weights.zip", Format: "zip", Verdict: VerdictSuspicious, SHA256: strings.Repeat("cd", 32), Size: 177, Findings: []Finding{
			{Severity: SeveritySuspicious, Reason: "test.txt: encrypted member, cannot inspect", Offset: -1, Rule: "zip-encrypted"},
		}},
		{Path: "ok.safetensors", Format: "safetensors", Verdict: VerdictClean, SHA256: strings.Repeat("ef", 32), Size: 95},
	}}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestWriteJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := keys(doc); !slices.Equal(got, []string{"files"}) {
		t.Fatalf("top level keys %v", got)
	}
	files := doc["files"].([]any)
	for _, f := range files {
		f := f.(map[string]any)
		if got := keys(f); !slices.Equal(got, []string{"findings", "format", "path", "sha256", "size", "verdict"}) {
			t.Fatalf("file keys %v", got)
		}
		findings, ok := f["findings"].([]any)
		if !ok {
			t.Fatalf("findings is %T, want a list (never null)", f["findings"])
		}
		for _, fd := range findings {
			if got := keys(fd.(map[string]any)); !slices.Equal(got, []string{"module", "name", "offset", "reason", "severity"}) {
				t.Fatalf("finding keys %v", got)
			}
		}
	}
	// The fields come in the documented order.
	if !strings.Contains(buf.String(), `"path": "models/evil.pkl",
      "format": "pickle",
      "verdict": "dangerous",
      "findings": [`) {
		t.Fatalf("order:\n%s", buf.String())
	}
}

func TestWriteSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							ByteOffset *int64 `json:"byteOffset"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || log.Schema == "" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "airlock-scan" {
		t.Fatalf("header: %s", buf.String())
	}
	run := log.Runs[0]
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		if r.ShortDescription.Text == "" {
			t.Errorf("rule %s has no description", r.ID)
		}
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"pickle-denied-global", "trailing-data", "zip-encrypted"}) {
		t.Fatalf("rules %v", ids)
	}
	if len(run.Results) != 3 {
		t.Fatalf("%d results", len(run.Results))
	}
	want := []struct {
		level, uri string
		offset     int64
	}{
		{"error", "models/evil.pkl", 29},
		{"warning", "models/evil.pkl", 51},
		{"warning", "file:///abs/dir/weights.zip", -1},
	}
	for i, r := range run.Results {
		loc := r.Locations[0].PhysicalLocation
		if r.Level != want[i].level || loc.ArtifactLocation.URI != want[i].uri || ids[r.RuleIndex] != r.RuleID || r.Message.Text == "" {
			t.Errorf("result %d: %+v", i, r)
		}
		switch {
		case want[i].offset < 0 && loc.Region != nil:
			t.Errorf("result %d has a region without an offset", i)
		case want[i].offset >= 0 && (loc.Region == nil || loc.Region.ByteOffset == nil || *loc.Region.ByteOffset != want[i].offset):
			t.Errorf("result %d: region %+v", i, loc.Region)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"VERDICT", "models/evil.pkl", "pickle-denied-global", "(offset 29)", "3 files: 1 dangerous, 0 error, 1 suspicious, 1 clean", "warning: 1 suspicious"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
