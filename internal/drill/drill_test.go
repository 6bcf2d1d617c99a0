package drill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/detect/extraction"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/forensics/scan"
)

func TestScenarios(t *testing.T) {
	names := Names()
	want := []string{"prompt-injection", "system-prompt-extraction", "model-extraction", "stolen-key", "poisoned-model"}
	if !slices.Equal(names, want) {
		t.Fatalf("scenarios %v, want %v", names, want)
	}
	for _, s := range Scenarios() {
		if s.Summary == "" || s.Sends == "" || s.Expects == "" || s.Needs == "" || s.Model == "" ||
			len(s.IncidentTypes) == 0 || len(s.Alerts) == 0 || s.play == nil {
			t.Errorf("%s: incomplete: %+v", s.Name, s)
		}
		if s.DetectWithin != 5*time.Second || s.ContainWithin != 10*time.Second {
			t.Errorf("%s: deadlines %s / %s, want the issue's 5s / 10s", s.Name, s.DetectWithin, s.ContainWithin)
		}
		if Lookup(s.Name) == nil {
			t.Errorf("Lookup(%q) = nil", s.Name)
		}
	}
	if Lookup("nope") != nil {
		t.Error("Lookup found a scenario that does not exist")
	}
}

// The poisoned model is a real malicious pickle: the scanner, reading it
// without loading it, must call it dangerous.
func TestPoisonedModelScansDangerous(t *testing.T) {
	dir, err := buildPoisoned("support-bot", "v2")
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	verdict, findings, err := scanFindings(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if verdict != scan.VerdictDangerous || !strings.Contains(findings, "model.pkl") || !strings.Contains(findings, "posix.system") {
		t.Errorf("verdict %s, findings %q", verdict, findings)
	}
	p := maliciousPickle("id")
	if want := "\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R."; string(p) != want {
		t.Errorf("pickle %q, want %q", p, want)
	}
}

// The scraper's queries are all different (so that they count as distinct
// prompts) and well formed.
func TestScrapeQueries(t *testing.T) {
	seen := map[string]bool{}
	for i := range 1000 {
		q := scrapeQuery(i)
		if seen[q] {
			t.Fatalf("query %d repeats: %q", i, q)
		}
		seen[q] = true
		if strings.Contains(q, "%!") {
			t.Fatalf("query %d: %q", i, q)
		}
	}
}

// fakeDeployment is a gateway and an API that behave like Airlock's from
// the outside: the attacker's second request opens an incident naming its
// user, and from then on its key is refused.
type fakeDeployment struct {
	t          *testing.T
	contain    bool // whether the attack is ever stopped
	absorb     bool // the attack's alerts join an incident open before it
	failBenign string

	mu        sync.Mutex
	attacks   int
	blocked   map[string]bool
	incidents []map[string]any
	decided   []string
}

func newFake(t *testing.T, contain bool) (*fakeDeployment, Target) {
	f := &fakeDeployment{t: t, contain: contain, blocked: map[string]bool{}}
	gw := httptest.NewServer(http.HandlerFunc(f.gateway))
	api := httptest.NewServer(http.HandlerFunc(f.api))
	t.Cleanup(gw.Close)
	t.Cleanup(api.Close)
	return f, Target{Gateway: gw.URL + "/v1", API: api.URL, Token: "tok"}
}

func (f *fakeDeployment) gateway(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model string
		User  string
	}
	json.NewDecoder(r.Body).Decode(&body)
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("X-Model-Version", "v1")
	switch {
	case f.blocked[key]:
		w.WriteHeader(403)
		w.Write([]byte(`{"error":{"code":"blocked","message":"access blocked by an incident response action"}}`))
		return
	case f.failBenign != "" && strings.HasSuffix(key, f.failBenign):
		w.WriteHeader(500)
		w.Write([]byte(`{"error":{"code":"upstream_error"}}`))
		return
	}
	if body.User != "" && f.absorb && len(f.incidents) == 1 {
		ents := f.incidents[0]["entities"].([]map[string]string)
		f.incidents[0]["entities"] = append(ents, map[string]string{"kind": "user", "value": body.User})
	}
	if body.User != "" && f.contain {
		if f.attacks++; f.attacks == 2 {
			f.incidents = append(f.incidents, map[string]any{
				"id": "inc-1", "type": "instruction_injection", "severity": "high", "phase": "containment",
				"entities":   []map[string]string{{"kind": "user", "value": body.User}, {"kind": "ip", "value": r.Header.Get("X-Forwarded-For")}},
				"created_at": time.Now(),
			})
			f.blocked[key] = true
		}
	}
	w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"ok"}}]}`))
}

func (f *fakeDeployment) api(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer tok" {
		w.WriteHeader(401)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"no such token"}}`))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/api/v1/incidents":
		json.NewEncoder(w).Encode(map[string]any{"items": f.incidents})
	case strings.HasSuffix(p, "/timeline"):
		w.Write([]byte(`{"items":[{"kind":"created"},{"kind":"alert_joined","body":{"detector":"promptinject","rule":"injection.ignore-previous"}}]}`))
	case strings.HasSuffix(p, "/playbook"):
		w.Write([]byte(`{"playbook":"prompt-injection","steps":[{"id":"block-attacker","mode":"auto","status":"done"},
			{"id":"review","mode":"manual","status":"assigned"}],"executed":2,"automatic":1}`))
	case p == "/api/v1/policy":
		w.Write([]byte(`{"version":1,"actions":[]}`))
	default:
		f.t.Errorf("unexpected API call %s %s", r.Method, p)
		w.WriteHeader(404)
	}
}

func TestRunScoresAContainedAttack(t *testing.T) {
	_, target := newFake(t, true)
	var lines []string
	res := Run(context.Background(), target, Lookup("prompt-injection"), Options{Progress: func(l string) { lines = append(lines, l) }})
	if !res.Passed || !res.Detected || !res.Contained || len(res.Problems) > 0 {
		t.Fatalf("result %+v", res)
	}
	if res.TTD == nil || res.TTC == nil || *res.TTD < 0 || *res.TTC < *res.TTD-0.05 || *res.TTC > 5 {
		t.Errorf("ttd %v ttc %v", res.TTD, res.TTC)
	}
	if res.Incident != "inc-1" || res.Type != "instruction_injection" || res.StoppedBy != "403 blocked" ||
		res.AttackRequests != 3 || res.BenignErrors != 0 || res.BenignRequests < 6 {
		t.Errorf("result %+v", res)
	}
	if res.StepsAutomatic != 1 || res.StepsExecuted != 2 || res.Playbook != "prompt-injection" ||
		!slices.Equal(res.Alerts, []string{"promptinject:injection.ignore-previous"}) {
		t.Errorf("playbook and alerts: %+v", res)
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{"sending:", "detected: incident inc-1", "contained: the gateway refuses attacker with 403 blocked", "playbook prompt-injection"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

// A deployment that never stops the attack, and fails a benign caller,
// fails the drill with each reason named. The deadlines are shortened so
// that the test does not wait the real ones out.
func TestRunReportsWhatFailed(t *testing.T) {
	f, target := newFake(t, false)
	f.failBenign = "customer-2"
	sc := *Lookup("prompt-injection")
	sc.DetectWithin, sc.ContainWithin = 200*time.Millisecond, 300*time.Millisecond
	res := Run(context.Background(), target, &sc, Options{})
	if res.Passed || res.Detected || res.Contained || res.TTD != nil || res.TTC != nil {
		t.Fatalf("result %+v", res)
	}
	all := strings.Join(res.Problems, "\n")
	for _, want := range []string{"no instruction_injection or jailbreak", "the attack was not contained", "benign requests failed"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if res.BenignErrors == 0 || res.BenignErrors >= res.BenignRequests {
		t.Errorf("benign %d of %d failed", res.BenignErrors, res.BenignRequests)
	}
}

// An attack whose alerts join an incident that was open before it is not
// detected as the drill's own, says why, and that incident is left alone.
func TestRunReportsAnAbsorbedAttack(t *testing.T) {
	f, target := newFake(t, false)
	f.absorb = true
	f.incidents = []map[string]any{{"id": "inc-0", "type": "instruction_injection", "phase": "containment",
		"entities": []map[string]string{{"kind": "model_version", "value": "v1"}}, "created_at": time.Now().Add(-time.Hour)}}
	sc := *Lookup("prompt-injection")
	sc.DetectWithin, sc.ContainWithin = 200*time.Millisecond, 300*time.Millisecond
	res := Run(context.Background(), target, &sc, Options{Close: true})
	if res.Passed || res.Detected || res.Closed || res.Incident != "" {
		t.Fatalf("result %+v", res)
	}
	if all := strings.Join(res.Problems, "\n"); !strings.Contains(all, "joined incident inc-0, open since before this drill") {
		t.Errorf("problems:\n%s", all)
	}
}

func TestRunRefusesABadToken(t *testing.T) {
	_, target := newFake(t, true)
	target.Token = "wrong"
	res := Run(context.Background(), target, Lookup("prompt-injection"), Options{})
	if res.Passed || len(res.Problems) == 0 || !strings.Contains(res.Problems[0], "unauthorized") || res.AttackRequests != 0 {
		t.Fatalf("result %+v", res)
	}
}

// docs/drills.md describes every scenario under a heading of its name.
func TestDocsDescribeEveryScenario(t *testing.T) {
	b, err := os.ReadFile("../../docs/drills.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		if !strings.Contains(string(b), "\n### "+name+"\n") {
			t.Errorf("docs/drills.md has no section ### %s", name)
		}
	}
}

// The scraper's traffic, among the benign callers' as the campaign sends
// it, trips logprob harvesting at the 100th query and does not read as
// membership inference (near-duplicate probing), which would open a second
// incident for the same caller.
func TestScraperIsExtractionNotProbing(t *testing.T) {
	d := extraction.New(extraction.Config{})
	var rec detecttest.Recorder
	now := time.Now()
	observe := func(id, key, prompt string, logprobs bool) {
		sum := sha256.Sum256([]byte(prompt))
		ev := event.Event{ID: id, Time: now, Source: "gateway", Kind: "request", Endpoint: "/v1/chat/completions", Route: "search",
			Model: "search", APIKeyHash: key, PromptText: prompt, PromptSHA256: hex.EncodeToString(sum[:]), Logprobs: logprobs}
		d.Observe(&ev, &rec)
	}
	first := -1
	for i := range 1000 {
		if i%8 == 0 { // a benign question first in every round, as the campaign sends them
			observe(fmt.Sprint("b", i), "kh_benign", benignPrompts[(i/8)%len(benignPrompts)], false)
		}
		observe(fmt.Sprint("a", i), "kh_scraper", scrapeQuery(i), true)
		if first < 0 && len(rec.Rule(extraction.RuleLogprobs)) > 0 {
			first = i
		}
	}
	if first != 99 {
		t.Errorf("logprob harvesting raised at query %d, want the 100th", first+1)
	}
	if n := len(rec.Rule(extraction.RuleNearDuplicate)); n > 0 {
		t.Errorf("the scraper reads as near-duplicate probing: %s", rec.Rule(extraction.RuleNearDuplicate)[0].Summary)
	}
}
