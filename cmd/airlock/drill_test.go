package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/drill"
)

// drillScore is a scenario's result as `--json` prints it.
type drillScore struct {
	Name           string
	Passed         bool
	Detected       bool
	Contained      bool
	TTD            *float64 `json:"ttd_seconds"`
	TTC            *float64 `json:"ttc_seconds"`
	BenignRequests int      `json:"benign_requests"`
	BenignErrors   int      `json:"benign_errors"`
	Incident       string
	Type           string
	StepsAutomatic int `json:"steps_automatic"`
	Problems       []string
}

// checkScore fails the test the scenario names when the scenario did not
// do what it must, within the deadlines (5 s to detect, 10 s to
// contain, from the first attack request).
func checkScore(t *testing.T, s drillScore) {
	t.Helper()
	if !s.Passed || len(s.Problems) > 0 {
		t.Errorf("%s failed: %s", s.Name, strings.Join(s.Problems, "; "))
	}
	if !s.Detected || s.TTD == nil || *s.TTD > 5 {
		t.Errorf("%s: detected %v after %v s (deadline 5 s)", s.Name, s.Detected, s.TTD)
	}
	if !s.Contained || s.TTC == nil || *s.TTC > 10 {
		t.Errorf("%s: contained %v after %v s (deadline 10 s)", s.Name, s.Contained, s.TTC)
	}
	if s.BenignErrors != 0 || s.BenignRequests == 0 {
		t.Errorf("%s: %d of %d benign requests failed", s.Name, s.BenignErrors, s.BenignRequests)
	}
	if s.Incident == "" || s.Type == "" || s.StepsAutomatic == 0 {
		t.Errorf("%s: incident %q (%s), %d steps automatic", s.Name, s.Incident, s.Type, s.StepsAutomatic)
	}
}

// TestDemo runs `airlock demo --json` once and checks every scenario as a
// subtest of its own, so that a regression names the scenario that broke.
func TestDemo(t *testing.T) {
	out, errOut, code := run(t, nil, "demo", "--json")
	var got struct{ Scenarios []drillScore }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("demo --json: exit %d, output is not JSON: %v\n%s\nstderr:\n%s", code, err, out, errOut)
	}
	if strings.TrimSpace(errOut) != "" {
		t.Errorf("demo wrote to stderr (logs belong in the data directory):\n%s", errOut)
	}
	var names []string
	for _, s := range got.Scenarios {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, drill.Names()) {
		t.Fatalf("demo played %v, want every scenario %v", names, drill.Names())
	}
	for _, s := range got.Scenarios {
		t.Run(s.Name, func(t *testing.T) { checkScore(t, s) })
	}
	if code != 0 && !t.Failed() {
		t.Errorf("demo exit %d although every scenario passed", code)
	}
}

// TestDrillAgainstServe plays scenarios against `airlock serve` the way a
// team drills its own deployment: over HTTP, with a responder token. Each
// drill closes its incident, so the second starts from a clean policy.
func TestDrillAgainstServe(t *testing.T) {
	data := t.TempDir()
	cfg := t.TempDir() + "/airlock.yaml"
	writeFile(t, cfg, "gateway:\n  trusted_proxies: [127.0.0.1/32]\n"+
		"detect:\n  credential: {established: 5, established_for: 1s}\n")
	srv, gw := startServeArgs(t, data, "--upstream", demoUpstream(t), "--config", cfg)
	tok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "drill"))

	for _, tc := range []struct {
		scenario string
		extra    []string
	}{
		{"prompt-injection", nil},
		{"stolen-key", []string{"--established", "5", "--established-for", "1s"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			args := append([]string{"drill", "--scenario", tc.scenario, "--gateway", gw, "--api", srv.url, "--token", tok, "--json"}, tc.extra...)
			out, errOut, code := run(t, nil, args...)
			var s drillScore
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("drill --json: exit %d, %v\n%s\nstderr:\n%s", code, err, out, errOut)
			}
			checkScore(t, s)
			if code != 0 {
				t.Errorf("exit %d for a drill that passed: %s", code, errOut)
			}
			// The drill left the deployment as it found it: its incident is
			// closed and nothing it caused is in force.
			_, body := request(t, "GET", srv.url+"/api/v1/incidents/"+s.Incident, tok, nil)
			if !strings.Contains(string(body), `"phase":"closed"`) {
				t.Errorf("the drill's incident is not closed: %s", body)
			}
			_, body = request(t, "GET", srv.url+"/api/v1/policy", tok, nil)
			if strings.Contains(string(body), s.Incident) {
				t.Errorf("the drill's containment is still in force: %s", body)
			}
		})
	}

	out := mustRun(t, nil, "drill", "list")
	for _, name := range drill.Names() {
		if !strings.Contains(out, name+": ") {
			t.Errorf("drill list lacks %s:\n%s", name, out)
		}
	}
	if _, errOut, code := run(t, nil, "drill", "--scenario", "nope", "--gateway", gw, "--api", srv.url, "--token", tok); code != 2 || !strings.Contains(errOut, "prompt-injection") {
		t.Errorf("unknown scenario: exit %d, %s", code, errOut)
	}
}
