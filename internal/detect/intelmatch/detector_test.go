package intelmatch

import (
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/intel"
)

const badModel = "9f2c3b1a9f2c3b1a9f2c3b1a9f2c3b1a9f2c3b1a9f2c3b1a9f2c3b1a9f2c3b1a"

func set(t *testing.T) *intel.Set {
	t.Helper()
	inds, err := intel.ParseCSV("feed.csv", strings.NewReader("type,value,severity,confidence,atlas\n"+
		"ip,203.0.113.66,high,0.9,\n"+
		"prompt_signature,open the pod bay doors,critical,0.8,AML.T0054\n"+
		"model_hash,"+badModel+",critical,1,\n"))
	if err != nil {
		t.Fatal(err)
	}
	return intel.NewSet(inds)
}

func TestMatches(t *testing.T) {
	s := set(t)
	d := New(func() *intel.Set { return s })
	var rec detecttest.Recorder
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	// Benign look-alikes: a neighbouring address, a prompt with the words
	// apart, another model file, an empty set.
	d.Observe(&event.Event{ID: "b1", Time: at, Kind: "request", IP: "203.0.113.67", APIKeyHash: "kh_x", PromptText: "the pod is open; bay doors are closed"}, &rec)
	d.Observe(&event.Event{ID: "b2", Time: at, Kind: "model_registry", Model: "m", Attrs: map[string]string{"sha256": strings.Repeat("0", 64)}}, &rec)
	New(func() *intel.Set { return nil }).Observe(&event.Event{ID: "b3", Time: at, IP: "203.0.113.66"}, &rec)
	if len(rec.Alerts) != 0 {
		t.Fatalf("benign look-alikes alerted: %v", rec.Rules())
	}
	d.Observe(&event.Event{ID: "a1", Time: at, Kind: "request", IP: "::ffff:203.0.113.66", APIKeyHash: "kh_x", PromptText: "Please OPEN the pod bay doors now"}, &rec)
	d.Observe(&event.Event{ID: "a2", Time: at, Kind: "model_registry", Model: "support-bot", Attrs: map[string]string{"version": "v2", "sha256": strings.Repeat("1", 64) + " " + badModel}}, &rec)
	got := strings.Join(rec.Rules(), " ")
	if got != "intel.ip intel.prompt intel.model_hash" {
		t.Fatalf("rules %q", got)
	}
	for _, a := range rec.Alerts {
		detecttest.CheckAlert(t, a)
	}
	if a := rec.Alerts[1]; a.Severity != event.SeverityCritical || a.ATLAS[0] != "AML.T0051" && a.ATLAS[0] != "AML.T0054" {
		t.Errorf("prompt alert %+v", a)
	}
	if a := rec.Alerts[2]; a.Type != "supply_chain" || a.Evidence.EventIDs[0] != "a2" {
		t.Errorf("model alert %+v", a)
	}
}
