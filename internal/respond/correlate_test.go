package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	st    store.Store
	inc   *incident.Service
	clock *clock
	dir   string
	n     int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "airlock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := incident.OpenBlobs(filepath.Join(dir, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	return &env{st: st, inc: incident.NewService(st, blobs, incident.WithClock(c.Now)), clock: c, dir: dir}
}

var (
	eveKey = event.Entity{Kind: event.EntityAPIKey, Value: "kh_eve"}
	bobKey = event.Entity{Kind: event.EntityAPIKey, Value: "kh_bob"}
	route  = event.Entity{Kind: event.EntityRoute, Value: "support"}
)

// alert stores an alert as the alerts service would and returns it.
func (e *env) alert(t *testing.T, typ, rule string, sev event.Severity, ents ...event.Entity) *store.Alert {
	t.Helper()
	e.n++
	a := &store.Alert{Alert: event.Alert{
		ID: fmt.Sprintf("al-%03d", e.n), Time: e.clock.Now(), Detector: "test", Rule: rule, Type: typ,
		ATLAS: []string{}, Severity: sev, Confidence: 0.9, Summary: rule + " seen", Entities: ents,
		Evidence: event.AlertEvidence{EventIDs: []string{fmt.Sprintf("ev-%d", e.n)}}, Fingerprint: rule + fmt.Sprint(ents),
	}, Count: 1, LastSeen: e.clock.Now()}
	if err := e.st.Update(context.Background(), func(tx store.Tx) error { return tx.CreateAlert(context.Background(), a) }); err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) timeline(t *testing.T, id string) []*incident.TimelineEntry {
	t.Helper()
	tl, err := e.inc.Timeline(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func countKind(tl []*incident.TimelineEntry, kind string) int {
	n := 0
	for _, e := range tl {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func TestCorrelation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := NewCorrelator(e.inc, Options{Now: e.clock.Now, Window: 30 * time.Minute, Criticality: map[string]float64{"support": 2}})
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var opened []string
	c.OnOpen(func(inc *incident.Incident) { opened = append(opened, inc.ID) })

	// The first alert opens an incident with the alert's facts.
	r1, err := c.Handle(ctx, e.alert(t, "jailbreak", "pi.roleplay", event.SeverityMedium, eveKey, route))
	if err != nil || !r1.Created {
		t.Fatalf("first alert: %+v %v", r1, err)
	}
	inc := r1.Incident
	if inc.Type != "jailbreak" || inc.Severity != event.SeverityMedium || inc.Milestones.Started == nil || inc.Milestones.Detected == nil || len(opened) != 1 {
		t.Errorf("opened incident = %+v", inc)
	}
	// risk = 15 (medium) × 0.9 × 2 (route criticality)
	if inc.Risk != 27 {
		t.Errorf("risk %v, want 27", inc.Risk)
	}

	// Same caller, same category, another type, within the window: joins,
	// and injection after a jailbreak escalates.
	e.clock.Add(5 * time.Minute)
	r2, err := c.Handle(ctx, e.alert(t, "instruction_injection", "pi.ignore", event.SeverityMedium, eveKey))
	if err != nil || r2.Created || r2.IncidentID != inc.ID || r2.Escalated == "" {
		t.Fatalf("second alert: %+v %v", r2, err)
	}
	if r2.Incident.Severity != event.SeverityHigh {
		t.Errorf("multi-stage pattern left severity %s, want high", r2.Incident.Severity)
	}

	// A repeat (same fingerprint) links without a timeline entry.
	before := len(e.timeline(t, inc.ID))
	dup := e.alert(t, "instruction_injection", "pi.ignore", event.SeverityMedium, eveKey)
	if r, err := c.Handle(ctx, dup); err != nil || !r.Duplicate || r.IncidentID != inc.ID {
		t.Fatalf("duplicate: %+v %v", r, err)
	}
	if after := len(e.timeline(t, inc.ID)); after != before {
		t.Errorf("a duplicate added %d timeline entries", after-before)
	}
	var stored *store.Alert
	e.st.View(ctx, func(tx store.Tx) (err error) { stored, err = tx.GetAlert(ctx, dup.ID); return err })
	if stored.Incident != inc.ID {
		t.Errorf("duplicate alert's incident = %q", stored.Incident)
	}

	// Another caller: its own incident. Another category from eve: its own.
	if r, _ := c.Handle(ctx, e.alert(t, "jailbreak", "pi.roleplay", event.SeverityLow, bobKey, route)); !r.Created {
		t.Error("another caller's alert joined eve's incident")
	}
	if r, _ := c.Handle(ctx, e.alert(t, "model_extraction", "extraction.rate", event.SeverityHigh, eveKey)); !r.Created {
		t.Error("an extraction alert joined a prompt-injection incident")
	}
	// Past the window: a new incident.
	e.clock.Add(31 * time.Minute)
	if r, _ := c.Handle(ctx, e.alert(t, "jailbreak", "pi.dan", event.SeverityLow, eveKey)); !r.Created {
		t.Error("an alert after the window joined the old incident")
	}

	// Every join is a timeline entry naming the alert.
	tl := e.timeline(t, inc.ID)
	if n := countKind(tl, incident.KindAlertJoined); n != 2 {
		t.Errorf("%d alert_joined entries, want 2", n)
	}
	var body map[string]any
	json.Unmarshal(tl[len(tl)-1].Body, &body)
	if body["alert"] != "al-002" || body["escalation"] == nil {
		t.Errorf("last join entry = %s", tl[len(tl)-1].Body)
	}
	if got := c.Counters(); got.Created != 4 || got.Joined != 1 || got.Duplicates != 1 {
		t.Errorf("counters %+v", got)
	}
	if top := c.Entities(1); len(top) != 1 || top[0].Entity != eveKey {
		t.Errorf("riskiest entity %+v, want eve's key", top)
	}
	rep, err := e.inc.VerifyAll(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify after correlation: %+v %v", rep, err)
	}
}

// TestCorrelationResumes: after a restart, a new correlator finds the open
// incident and joins to it; a closed incident takes nothing more.
func TestCorrelationResumes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c1 := NewCorrelator(e.inc, Options{Now: e.clock.Now})
	r, err := c1.Handle(ctx, e.alert(t, "model_extraction", "extraction.rate", event.SeverityMedium, eveKey))
	if err != nil {
		t.Fatal(err)
	}
	c2 := NewCorrelator(e.inc, Options{Now: e.clock.Now})
	if err := c2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	r2, err := c2.Handle(ctx, e.alert(t, "model_extraction", "extraction.prada", event.SeverityHigh, eveKey))
	if err != nil || r2.Created || r2.IncidentID != r.IncidentID {
		t.Fatalf("after restart: %+v %v, want a join to %s", r2, err, r.IncidentID)
	}
	// An alert already correlated is not correlated again.
	a := e.alert(t, "model_extraction", "extraction.volume", event.SeverityHigh, eveKey)
	if _, err := c2.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	e.st.View(ctx, func(tx store.Tx) (err error) { a, err = tx.GetAlert(ctx, a.ID); return err })
	if res, _ := c2.Handle(ctx, a); !res.Duplicate || res.IncidentID != r.IncidentID {
		t.Errorf("re-handling a correlated alert: %+v", res)
	}
	c2.Closed(r.IncidentID)
	if res, _ := c2.Handle(ctx, e.alert(t, "model_extraction", "extraction.rate", event.SeverityHigh, eveKey)); !res.Created {
		t.Error("an alert joined a closed incident")
	}
}

func TestRiskFades(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := NewCorrelator(e.inc, Options{Now: e.clock.Now, HalfLife: time.Hour, Window: 3 * time.Hour})
	c.Handle(ctx, e.alert(t, "model_extraction", "a", event.SeverityCritical, eveKey)) // 45
	e.clock.Add(time.Hour)                                                             // 22.5 left
	r, _ := c.Handle(ctx, e.alert(t, "model_extraction", "b", event.SeverityLow, eveKey))
	if want := 22.5 + 4.5; r.Incident.Risk != want {
		t.Errorf("risk %v, want %v", r.Incident.Risk, want)
	}
	for range 50 {
		c.Handle(ctx, e.alert(t, "model_extraction", fmt.Sprint(e.n), event.SeverityCritical, eveKey))
	}
	if top := c.Entities(0); top[0].Risk != 100 {
		t.Errorf("risk is not capped at 100: %v", top[0].Risk)
	}
}

// TestClosedElsewhere: an incident closed through the API (the correlator is
// not told) takes no more alerts, duplicates included; they open a new one.
func TestClosedElsewhere(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := NewCorrelator(e.inc, Options{Now: e.clock.Now})
	first := e.alert(t, "jailbreak", "pi.dan", event.SeverityHigh, eveKey)
	r, err := c.Handle(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	err = e.st.Update(ctx, func(tx store.Tx) error {
		inc, err := tx.GetIncident(ctx, r.IncidentID)
		if err != nil {
			return err
		}
		inc.Phase = "closed"
		return tx.UpdateIncident(ctx, inc)
	})
	if err != nil {
		t.Fatal(err)
	}
	dup := e.alert(t, "jailbreak", "pi.dan", event.SeverityHigh, eveKey) // same fingerprint
	r2, err := c.Handle(ctx, dup)
	if err != nil || !r2.Created || r2.IncidentID == r.IncidentID {
		t.Fatalf("a repeat after closing: %+v %v, want a new incident", r2, err)
	}
	r3, err := c.Handle(ctx, e.alert(t, "jailbreak", "pi.roleplay", event.SeverityHigh, eveKey))
	if err != nil || r3.IncidentID != r2.IncidentID {
		t.Fatalf("next alert: %+v %v, want it in the new incident %s", r3, err, r2.IncidentID)
	}
}

// TestTwoCallersSameVersion: alerts from two callers on the same model
// version are two incidents; an alert about no caller (drift) joins by the
// version.
func TestTwoCallersSameVersion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := NewCorrelator(e.inc, Options{Now: e.clock.Now})
	v2 := event.Entity{Kind: event.EntityModelVersion, Value: "v2"}
	r1, _ := c.Handle(ctx, e.alert(t, "jailbreak", "pi.dan", event.SeverityHigh, eveKey, v2))
	r2, _ := c.Handle(ctx, e.alert(t, "jailbreak", "pi.dan", event.SeverityHigh, bobKey, v2))
	if !r1.Created || !r2.Created || r1.IncidentID == r2.IncidentID {
		t.Errorf("two callers on one version: %+v %+v, want two incidents", r1, r2)
	}
	d1, _ := c.Handle(ctx, e.alert(t, "weight_manipulation", "drift.psi", event.SeverityMedium, v2))
	d2, _ := c.Handle(ctx, e.alert(t, "model_backdoor", "drift.trigger_token", event.SeverityHigh, v2))
	if !d1.Created || d2.Created || d2.IncidentID != d1.IncidentID {
		t.Errorf("drift alerts on one version: %+v %+v, want one incident", d1, d2)
	}
}

// TestMultiStageAcrossCategories: architecture probing (data extraction)
// then model extraction (model compromise) from one key is one incident,
// escalated; model extraction from another key is not pulled in.
func TestMultiStageAcrossCategories(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := NewCorrelator(e.inc, Options{Now: e.clock.Now})
	r1, _ := c.Handle(ctx, e.alert(t, "model_architecture_inference", "extraction.model_probe", event.SeverityLow, eveKey))
	e.clock.Add(time.Minute)
	r2, err := c.Handle(ctx, e.alert(t, "model_extraction", "extraction.prada", event.SeverityMedium, eveKey))
	if err != nil || r2.Created || r2.IncidentID != r1.IncidentID || r2.Escalated == "" || r2.Incident.Severity != event.SeverityHigh {
		t.Fatalf("probe then extraction: %+v %v, want a join to %s escalated to high", r2, err, r1.IncidentID)
	}
	if r3, _ := c.Handle(ctx, e.alert(t, "model_extraction", "extraction.prada", event.SeverityMedium, bobKey)); !r3.Created {
		t.Error("another key's extraction joined eve's incident")
	}
}
