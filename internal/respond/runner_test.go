package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/respond/playbook"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// fakeEvents serves recorded events as the event log would.
type fakeEvents struct{ lines []string }

func (f *fakeEvents) Related(_ context.Context, _ []event.Entity, _ time.Time, w io.Writer) (int, error) {
	for _, l := range f.lines {
		io.WriteString(w, l+"\n")
	}
	return len(f.lines), nil
}

// hook records what a webhook receives; fail makes it answer 500.
type hook struct {
	mu   sync.Mutex
	got  []Message
	fail bool
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	var m Message
	json.NewDecoder(r.Body).Decode(&m)
	h.got = append(h.got, m)
}

type runnerEnv struct {
	*env
	policy *containment.Service
	runner *Runner
	hook   *hook
}

func newRunnerEnv(t *testing.T) *runnerEnv {
	t.Helper()
	e := newEnv(t)
	holder := policy.NewHolder(policy.Empty())
	pol, err := containment.New(context.Background(), e.st, e.inc, holder, containment.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	books, err := playbook.Load("")
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(e.inc, RunnerOptions{
		Playbooks:   func() map[string]*playbook.Playbook { return books },
		Containment: pol,
		Events:      &fakeEvents{lines: []string{`{"id":"e1","api_key_hash":"kh_eve"}`}},
		Notifier:    &Webhooks{URLs: map[string]string{"default": srv.URL}},
		Now:         e.clock.Now,
		RetryDelay:  time.Millisecond,
		Owner:       "on-call",
	})
	return &runnerEnv{env: e, policy: pol, runner: r, hook: h}
}

func (e *runnerEnv) open(t *testing.T, typ string, sev event.Severity, more ...event.Entity) *incident.Incident {
	t.Helper()
	inc, err := e.inc.Create(context.Background(), Actor, incident.NewIncident{
		Title: "test " + typ, Type: typ, Severity: sev,
		Entities: append([]event.Entity{eveKey, {Kind: event.EntityIP, Value: "203.0.113.9"}, route, {Kind: event.EntityModel, Value: "support-bot"}}, more...),
	})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (e *runnerEnv) actions(incidentID string) map[policy.Kind]int {
	out := map[policy.Kind]int{}
	for _, a := range e.policy.Current().Actions {
		if a.Incident == incidentID {
			out[a.Kind]++
		}
	}
	return out
}

func (e *runnerEnv) view(t *testing.T, id string) map[string]string {
	t.Helper()
	v, err := e.runner.View(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range v.Steps {
		out[s.ID] = s.Status
	}
	return out
}

func TestPromptInjectionPlaybook(t *testing.T) {
	e := newRunnerEnv(t)
	ctx := context.Background()
	inc := e.open(t, "instruction_injection", event.SeverityMedium)
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	st := e.view(t, inc.ID)
	if t.Failed() || st["collect-evidence"] != StatusDone {
		dumpSteps(t, e.env, inc.ID)
	}
	for _, id := range []string{"collect-evidence", "notify-security", "prompt-guard", "block-attacker", "rate-limit-route", "sanitize-route", "capture-attacker", "enter-containment"} {
		if st[id] != StatusDone {
			t.Errorf("step %s: %q, want done (all: %v)", id, st[id], st)
		}
	}
	if st["review-prompts"] != StatusAssigned {
		t.Errorf("review task: %q", st["review-prompts"])
	}
	// One action per target: the key is blocked and captured; the IP is
	// not, since the key identifies the attacker.
	want := map[policy.Kind]int{policy.KindPromptGuard: 1, policy.KindBlock: 1, policy.KindRateLimit: 1, policy.KindSanitize: 1, policy.KindCapture: 1}
	if got := e.actions(inc.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("actions in force %v, want %v", got, want)
	}
	got, _ := e.inc.Get(ctx, inc.ID)
	if got.Phase != taxonomy.PhaseContainment || got.Milestones.Contained == nil {
		t.Errorf("phase %s, contained %v", got.Phase, got.Milestones.Contained)
	}
	if ev, _ := e.inc.Evidence(ctx, inc.ID); len(ev) != 1 || !strings.HasPrefix(ev[0].Name, "playbook-collect-evidence-") {
		t.Errorf("evidence %+v", ev)
	}
	if tasks, _ := e.inc.Tasks(ctx, inc.ID); len(tasks) != 1 || !strings.Contains(tasks[0].Title, "[playbook prompt-injection/review-prompts]") || tasks[0].Due == nil {
		t.Errorf("tasks %+v", tasks)
	}
	if len(e.hook.got) != 1 || e.hook.got[0].Incident != inc.ID || !strings.Contains(e.hook.got[0].Text, inc.ID) {
		t.Errorf("webhook got %+v", e.hook.got)
	}
	v, _ := e.runner.View(ctx, inc.ID)
	if v.Executed != 9 || v.Automatic != 8 || v.AutomationRate < 0.88 || v.AutomationRate > 0.89 {
		t.Errorf("automation: %d of %d (%.2f), want 8 of 9", v.Automatic, v.Executed, v.AutomationRate)
	}

	// Advancing again changes nothing: idempotent.
	n := len(e.timeline(t, inc.ID))
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	if m := len(e.timeline(t, inc.ID)); m != n {
		t.Errorf("a second advance added %d timeline entries", m-n)
	}

	// Closing lifts what the playbook said to lift on close.
	closeBehindTheBack(t, e.env, inc.ID)
	e.runner.liftClosed(ctx)
	if got := e.actions(inc.ID); len(got) != 0 {
		t.Errorf("after closing, still in force: %v", got)
	}
}

func closeBehindTheBack(t *testing.T, e *env, id string) {
	t.Helper()
	err := e.st.Update(context.Background(), func(tx store.Tx) error {
		inc, err := tx.GetIncident(context.Background(), id)
		if err != nil {
			return err
		}
		inc.Phase = taxonomy.PhaseClosed
		return tx.UpdateIncident(context.Background(), inc)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestApproval: a step that needs approval waits, and so do the steps after
// it, until a responder decides.
func TestApproval(t *testing.T) {
	e := newRunnerEnv(t)
	ctx := context.Background()
	inc := e.open(t, "model_backdoor", event.SeverityHigh)
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	v, _ := e.runner.View(ctx, inc.ID)
	waiting := ""
	for _, s := range v.Steps {
		if s.Status == StatusWaiting {
			waiting = s.ID
			break
		}
	}
	if waiting == "" {
		t.Fatalf("no step waits for approval: %+v", v.Steps)
	}
	after := false
	for _, s := range v.Steps {
		if after && s.Status != "" {
			t.Errorf("step %s after the waiting one ran: %s", s.ID, s.Status)
		}
		after = after || s.ID == waiting
	}
	responder := incident.Actor{Name: "alice", Role: "responder"}
	if err := e.runner.Decide(ctx, responder, inc.ID, v.Steps[0].ID, true, ""); !errors.Is(err, ErrNotWaiting) && v.Steps[0].ID != waiting {
		t.Errorf("deciding a step that is not waiting: %v", err)
	}
	if err := e.runner.Decide(ctx, responder, inc.ID, "no-such-step", true, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown step: %v", err)
	}
	if err := e.runner.Decide(ctx, responder, inc.ID, waiting, true, "go ahead"); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	st := e.view(t, inc.ID)
	if st[waiting] != StatusDone && st[waiting] != StatusSkipped && st[waiting] != StatusFailed {
		t.Errorf("approved step %s: %q", waiting, st[waiting])
	}
	tl := e.timeline(t, inc.ID)
	approvedBy := ""
	for _, en := range tl {
		if en.Kind == incident.KindPlaybookStep && strings.Contains(string(en.Body), `"status":"approved"`) {
			approvedBy = en.Actor
		}
	}
	if approvedBy != "alice" {
		t.Errorf("the approval is not on the timeline as alice's: %q", approvedBy)
	}
}

// TestResumeWithoutRepeating: a run that stopped after acting but before
// recording the result is recognised, not repeated.
func TestResumeWithoutRepeating(t *testing.T) {
	e := newRunnerEnv(t)
	ctx := context.Background()
	inc := e.open(t, "jailbreak", event.SeverityMedium, event.Entity{Kind: event.EntityUser, Value: "eve"})
	books, _ := playbook.Load("")
	pb := books["jailbreak"]
	step, _ := pb.Step("block-attacker")
	// What a crash leaves: "started" recorded, the key's block in force, the
	// user's not yet.
	if _, err := e.inc.RecordStep(ctx, Actor, inc.ID, incident.StepRecord{Playbook: pb.Name, Step: step.ID, Kind: "policy", Status: StatusStarted, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.policy.Add(ctx, Actor, containment.Request{Kind: policy.KindBlock, Target: containment.TargetRequest{Target: policy.Target{APIKeyHash: "kh_eve"}},
		Reason: tag(pb, step) + " block (lift: on_close)", Incident: inc.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.actions(inc.ID)[policy.KindBlock]; got != 2 {
		t.Errorf("%d blocks in force, want 2 (the key's once, and the user's)", got)
	}
	if st := e.view(t, inc.ID); st["block-attacker"] != StatusDone {
		t.Errorf("block-attacker: %q", st["block-attacker"])
	}
}

// TestFailedStepDoesNotStopThePlaybook: a notify step whose webhook is down
// fails after its retries, the failure is on the timeline, and the steps
// after it run.
func TestFailedStepDoesNotStopThePlaybook(t *testing.T) {
	e := newRunnerEnv(t)
	e.hook.fail = true
	ctx := context.Background()
	inc := e.open(t, "instruction_injection", event.SeverityMedium)
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	st := e.view(t, inc.ID)
	if st["notify-security"] != StatusFailed || st["block-attacker"] != StatusDone || st["enter-containment"] != StatusDone {
		t.Errorf("statuses %v", st)
	}
	found := false
	for _, en := range e.timeline(t, inc.ID) {
		found = found || (en.Kind == incident.KindPlaybookStep && strings.Contains(string(en.Body), `"status":"failed"`) && strings.Contains(string(en.Body), "500"))
	}
	if !found {
		t.Error("the failure and its reason are not on the timeline")
	}
}

func dumpSteps(t *testing.T, e *env, id string) {
	for _, en := range e.timeline(t, id) {
		if en.Kind == incident.KindPlaybookStep {
			t.Logf("%s", en.Body)
		}
	}
}

// TestNewCallerIsCovered: a caller who joins the incident after its
// attacker steps ran is blocked too; a block a responder lifted on purpose
// stays lifted.
func TestNewCallerIsCovered(t *testing.T) {
	e := newRunnerEnv(t)
	ctx := context.Background()
	inc := e.open(t, "jailbreak", event.SeverityMedium)
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	// A responder lifts eve's block (a false lead, say).
	for _, a := range e.policy.Current().Actions {
		if a.Kind == policy.KindBlock && a.Incident == inc.ID {
			if _, err := e.policy.Remove(ctx, incident.Actor{Name: "alice"}, a.ID, "false lead"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Mallory's alert joins the incident.
	al := e.alert(t, "jailbreak", "pi.dan", event.SeverityHigh, event.Entity{Kind: event.EntityAPIKey, Value: "kh_mallory"})
	if _, err := e.inc.JoinAlert(ctx, Actor, inc.ID, incident.AlertLink{AlertID: al.ID, Type: "jailbreak", Severity: event.SeverityHigh,
		Entities: al.Entities, At: al.Time}); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.Advance(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	var blocked []string
	for _, a := range e.policy.Current().Actions {
		if a.Kind == policy.KindBlock && a.Incident == inc.ID {
			blocked = append(blocked, a.Target.APIKeyHash)
		}
	}
	if len(blocked) != 1 || blocked[0] != "kh_mallory" {
		t.Errorf("blocked %v, want mallory's key only (eve's was lifted by a person)", blocked)
	}
	// Advancing again does nothing more.
	n := len(e.timeline(t, inc.ID))
	e.runner.Advance(ctx, inc.ID)
	if m := len(e.timeline(t, inc.ID)); m != n {
		t.Errorf("a further advance added %d entries", m-n)
	}
}
