package modelevents

import (
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

func TestRegistryEvents(t *testing.T) {
	var rec detecttest.Recorder
	d := Detector{}
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	ev := func(attrs map[string]string) *event.Event {
		return &event.Event{ID: "e", Time: at, Kind: Kind, Source: "mlflow", Model: "support-bot", Attrs: attrs}
	}
	// Benign look-alikes: a clean registration, a valid signature, a match,
	// a suspicious (not dangerous) scan, gateway traffic with the same attrs.
	d.Observe(ev(map[string]string{"version": "v1", AttrScan: "clean", AttrSig: "valid"}), &rec)
	d.Observe(ev(map[string]string{"version": "v1", AttrVerify: "ok"}), &rec)
	d.Observe(ev(map[string]string{"version": "v1", AttrScan: "suspicious"}), &rec)
	d.Observe(&event.Event{ID: "g", Time: at, Kind: "request", Attrs: map[string]string{AttrScan: "dangerous"}}, &rec)
	if len(rec.Alerts) != 0 {
		t.Fatalf("benign events alerted: %v", rec.Rules())
	}
	d.Observe(ev(map[string]string{"version": "v2", AttrScan: "dangerous", AttrSig: "invalid", AttrFindings: "data.pkl: posix.system"}), &rec)
	d.Observe(ev(map[string]string{"version": "v1", AttrVerify: "mismatch"}), &rec)
	if got := rec.Rules(); len(got) != 3 || got[0] != RuleDangerous || got[1] != RuleSignature || got[2] != RuleIntegrity {
		t.Fatalf("rules %v", got)
	}
	for _, a := range rec.Alerts {
		detecttest.CheckAlert(t, a)
	}
	a := rec.Alerts[0]
	if a.Type != "supply_chain" || a.Severity != event.SeverityCritical || a.Evidence.Excerpt != "data.pkl: posix.system" || len(a.Entities) != 2 || a.Entities[1].Value != "v2" {
		t.Errorf("alert %+v", a)
	}
}
