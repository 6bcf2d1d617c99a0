package registry

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// alerts collects raised alerts.
type alerts struct {
	mu  sync.Mutex
	got []event.Alert
}

func (a *alerts) Raise(al event.Alert) {
	a.mu.Lock()
	a.got = append(a.got, al)
	a.mu.Unlock()
}

// since returns the alerts raised after the first n.
func (a *alerts) since(n int) []event.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got[n:])
}

func (a *alerts) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got)
}

func TestMonitorAlertsOncePerChange(t *testing.T) {
	ctx := t.Context()
	r, c, b := newRegistry(t)
	watched := writeModel(t, map[string][]byte{"config.json": []byte(`{"layers": 2}`), "w.pkl": benignPickle})
	idle := writeModel(t, map[string][]byte{"w.pkl": benignPickle})
	for _, reg := range []Registration{
		{Name: "chat", Version: "2", Path: watched, Deploy: true},
		{Name: "chat", Version: "1", Path: idle}, // registered, not deployed: not watched
	} {
		if _, _, err := r.Register(ctx, reg); err != nil {
			t.Fatal(err)
		}
	}
	al := &alerts{}
	m := &Monitor{Store: r.Store, Publish: b.Publish, Alert: al.Raise, Now: c.Now}
	check := func(what string, want int) []event.Alert {
		t.Helper()
		n := al.count()
		c.advance(time.Minute)
		if err := m.Check(ctx); err != nil {
			t.Fatalf("%s: Check: %v", what, err)
		}
		got := al.since(n)
		if len(got) != want {
			t.Fatalf("%s: %d alerts, want %d: %+v", what, len(got), want, got)
		}
		return got
	}

	check("untouched", 0)
	check("untouched again", 0)
	flipByte(t, filepath.Join(idle, "w.pkl"), 3)
	check("an undeployed version changed", 0)

	flipByte(t, filepath.Join(watched, "config.json"), 2)
	a := check("one file changed", 1)[0]
	if a.Detector != Detector || a.Rule != Rule || a.Type != TypeTampered || a.Severity != event.SeverityHigh ||
		!strings.Contains(a.Summary, "config.json") || !strings.Contains(a.Evidence.Excerpt, "changed config.json") {
		t.Errorf("alert %+v", a)
	}
	if !slices.Contains(a.Entities, event.Entity{Kind: event.EntityModel, Value: "chat"}) ||
		!slices.Contains(a.Entities, event.Entity{Kind: event.EntityModelVersion, Value: "2"}) {
		t.Errorf("entities %v", a.Entities)
	}
	if a.ID == "" || !a.Time.Equal(c.Now()) || len(a.Evidence.EventIDs) != 1 {
		t.Errorf("id %q time %s evidence %v", a.ID, a.Time, a.Evidence.EventIDs)
	}
	if a.Fingerprint != detect.Fingerprint(a.Detector, a.Rule, a.Entities) {
		t.Errorf("fingerprint %s differs from detect.Fingerprint's", a.Fingerprint)
	}
	check("still changed the same way", 0)
	check("and again", 0)

	writeFile(t, filepath.Join(watched, "new.txt"), []byte("hello"))
	a = check("a second change", 1)[0]
	if !strings.Contains(a.Summary, "added new.txt") || !strings.Contains(a.Summary, "changed config.json") {
		t.Errorf("summary %q", a.Summary)
	}

	// Put back as registered: no alert, the state clears, and the next
	// tampering alerts again.
	os.Remove(filepath.Join(watched, "new.txt"))
	flipByte(t, filepath.Join(watched, "config.json"), 2)
	check("restored", 0)
	mv, _ := r.Get(ctx, "chat", "2")
	if mv.Alerted != "" || mv.LastVerify.Result != ResultOK {
		t.Errorf("after restore: alerted %q last %+v", mv.Alerted, mv.LastVerify)
	}
	flipByte(t, filepath.Join(watched, "config.json"), 2)
	check("tampered again", 1)
	flipByte(t, filepath.Join(watched, "config.json"), 2)
	check("restored again", 0)

	// A weights file swapped for one that runs code is a supply-chain alert.
	writeFile(t, filepath.Join(watched, "w.pkl"), maliciousPickle)
	a = check("malicious pickle swapped in", 1)[0]
	if a.Type != TypeSupplyChain || a.Severity != event.SeverityCritical || !strings.Contains(a.Summary, "w.pkl") {
		t.Errorf("supply-chain alert %+v", a)
	}

	// A model that is gone entirely: every file missing, one alert.
	os.RemoveAll(watched)
	a = check("folder removed", 1)[0]
	if !strings.Contains(a.Summary, "missing config.json, w.pkl") {
		t.Errorf("summary %q", a.Summary)
	}
	check("still removed", 0)

	// The history keeps changes, not every check; the bus gets every check.
	hist, _ := r.History(ctx, "chat", "2")
	var kinds []string
	for _, e := range hist {
		kinds = append(kinds, e.Kind)
	}
	want := []string{KindRegistered, KindDeployed, KindVerified, KindMismatch, KindMismatch, KindVerified, KindMismatch, KindVerified, KindMismatch, KindMismatch}
	if !slices.Equal(kinds, want) {
		t.Errorf("history %v\nwant    %v", kinds, want)
	}
	published := 0
	for _, e := range b.events {
		if e.Model == "chat" && e.ModelVersion == "2" && (e.Attrs["action"] == KindVerified || e.Attrs["action"] == KindMismatch) {
			published++
		}
	}
	if published != 13 {
		t.Errorf("%d verification events published, want one per check (13)", published)
	}
}

// The alert state lives in the store: a new monitor on the same store (a
// restarted server) does not repeat an alert.
func TestMonitorStateSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"w.bin": []byte("weights")})
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: dir, Deploy: true}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "w.bin"), []byte("WEIGHTS"))
	al := &alerts{}
	for range 2 {
		m := &Monitor{Store: r.Store, Alert: al.Raise}
		if err := m.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if al.count() != 1 {
		t.Fatalf("%d alerts from two monitors, want 1", al.count())
	}
}

// A version undeployed while tampered, restored and deployed again alerts
// on the same tampering again.
func TestMonitorRedeployAlertsAgain(t *testing.T) {
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"w.bin": []byte("weights")})
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: dir, Deploy: true}); err != nil {
		t.Fatal(err)
	}
	al := &alerts{}
	m := &Monitor{Store: r.Store, Alert: al.Raise}
	tamper := func() { writeFile(t, filepath.Join(dir, "w.bin"), []byte("WEIGHTS")) }
	restore := func() { writeFile(t, filepath.Join(dir, "w.bin"), []byte("weights")) }
	tamper()
	if err := m.Check(ctx); err != nil || al.count() != 1 {
		t.Fatalf("first tampering: %d alerts, %v", al.count(), err)
	}
	if _, err := r.Undeploy(ctx, "m", "1", "alice"); err != nil {
		t.Fatal(err)
	}
	restore()
	if _, err := r.Deploy(ctx, "m", "1", "alice"); err != nil {
		t.Fatal(err)
	}
	tamper()
	if err := m.Check(ctx); err != nil || al.count() != 2 {
		t.Fatalf("the same tampering after redeployment: %d alerts, %v", al.count(), err)
	}
}

func TestMonitorUnreadableModel(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"w.bin": []byte("weights")})
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: dir, Deploy: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "w.bin"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "w.bin"), 0o644) })
	al := &alerts{}
	m := &Monitor{Store: r.Store, Alert: al.Raise}
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	got := al.since(0)
	if len(got) != 1 || got[0].Severity != event.SeverityMedium || !strings.Contains(got[0].Summary, "can no longer be verified") {
		t.Fatalf("alerts %+v", got)
	}
}

func TestMonitorRunStopsWithContext(t *testing.T) {
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"w.bin": []byte("weights")})
	if _, _, err := r.Register(t.Context(), Registration{Name: "m", Version: "1", Path: dir, Deploy: true}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "w.bin"), []byte("changed"))
	raised := make(chan event.Alert, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	m := &Monitor{Store: r.Store, Interval: time.Millisecond, Alert: func(a event.Alert) { raised <- a }}
	go func() { defer close(done); m.Run(ctx) }()
	<-raised // the first check runs at once
	cancel()
	<-done
	if n := len(raised); n != 0 {
		t.Errorf("%d more alerts for an unchanged state", n)
	}
}

// The alert's type and techniques are the taxonomy's.
func TestAlertTaxonomy(t *testing.T) {
	for typ, ids := range map[string][]string{TypeTampered: {"AML.T0018.000"}, TypeSupplyChain: {"AML.T0010", "AML.T0011.000"}} {
		it, err := taxonomy.LookupType(typ)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		for _, id := range ids {
			if !slices.ContainsFunc(it.ATLAS, func(tech taxonomy.Technique) bool { return tech.ID == id }) {
				t.Errorf("%s is not one of %s's techniques %v", id, typ, it.ATLAS)
			}
		}
	}
}
