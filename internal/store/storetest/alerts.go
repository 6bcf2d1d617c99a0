package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
)

var alertTests = []subtest{
	{"RoundTripAndUpdate", testAlertRoundTrip},
	{"ListFiltersAndPages", testAlertList},
	{"Suppressions", testSuppressions},
}

func newAlert(t *testing.T, detector, typ, fp string, sev event.Severity) *store.Alert {
	return &store.Alert{Alert: event.Alert{
		ID: newID(t), Time: time.Date(2026, 11, 26, 7, 0, 0, 123456000, time.UTC), Detector: detector, Rule: detector + ".r1",
		Type: typ, ATLAS: []string{"AML.T0051"}, Severity: sev, Confidence: 0.93, Summary: "s",
		Entities:    []event.Entity{{Kind: event.EntityAPIKey, Value: "kh_1"}},
		Evidence:    event.AlertEvidence{EventIDs: []string{"e1", "e2"}, Excerpt: "ignore previous"},
		Fingerprint: fp,
	}, Count: 1}
}

func testAlertRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAlert(t, "promptinject", "instruction_injection", "fp1", event.SeverityHigh)
	update(t, s, func(tx store.Tx) error { return tx.CreateAlert(ctx, a) })
	var dup error
	s.Update(ctx, func(tx store.Tx) error { dup = tx.CreateAlert(ctx, a); return dup })
	if !errors.Is(dup, store.ErrConflict) {
		t.Errorf("duplicate id: %v", dup)
	}
	var got *store.Alert
	view(t, s, func(tx store.Tx) (err error) { got, err = tx.GetAlert(ctx, a.ID); return err })
	if got.Version != 1 || got.Rule != a.Rule || !got.Time.Equal(a.Time) || got.Confidence != 0.93 ||
		len(got.Evidence.EventIDs) != 2 || got.Entities[0] != a.Entities[0] || got.Fingerprint != "fp1" {
		t.Errorf("round trip: %+v", got)
	}
	got.Verdict, got.Note, got.Count = "false_positive", "a pen test", 4
	update(t, s, func(tx store.Tx) error { return tx.UpdateAlert(ctx, got) })
	if got.Version != 2 {
		t.Errorf("version after update %d", got.Version)
	}
	stale := *got
	stale.Version = 1
	var staleErr error
	s.Update(ctx, func(tx store.Tx) error { staleErr = tx.UpdateAlert(ctx, &stale); return staleErr })
	if !errors.Is(staleErr, store.ErrConflict) {
		t.Errorf("stale update: %v", staleErr)
	}
	var missing error
	s.View(ctx, func(tx store.Tx) error { _, missing = tx.GetAlert(ctx, "nope"); return nil })
	if !errors.Is(missing, store.ErrNotFound) {
		t.Errorf("unknown alert: %v", missing)
	}
	var counts map[string]int64
	view(t, s, func(tx store.Tx) (err error) { counts, err = tx.CountVerdicts(ctx); return err })
	if counts["false_positive"] != 1 || len(counts) != 1 {
		t.Errorf("verdict counts %v", counts)
	}
}

func testAlertList(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 7; i++ {
			det, typ := "extraction", "model_extraction"
			if i%2 == 0 {
				det, typ = "promptinject", "jailbreak"
			}
			a := newAlert(t, det, typ, "fp", event.SeverityMedium)
			if i == 3 {
				a.Severity, a.Verdict = event.SeverityCritical, "true_positive"
			}
			if err := tx.CreateAlert(ctx, a); err != nil {
				return err
			}
			ids = append(ids, a.ID)
		}
		return nil
	})
	list := func(f store.AlertFilter) []*store.Alert {
		var out []*store.Alert
		view(t, s, func(tx store.Tx) (err error) { out, _, err = tx.ListAlerts(ctx, f); return err })
		return out
	}
	if got := list(store.AlertFilter{}); len(got) != 7 || got[0].ID != ids[6] {
		t.Errorf("newest first: %d alerts", len(got))
	}
	if got := list(store.AlertFilter{Detector: "promptinject"}); len(got) != 4 {
		t.Errorf("by detector: %d", len(got))
	}
	if got := list(store.AlertFilter{Type: "model_extraction", Severity: event.SeverityCritical}); len(got) != 1 || got[0].ID != ids[3] {
		t.Errorf("by type and severity: %d", len(got))
	}
	if got := list(store.AlertFilter{Verdict: "none"}); len(got) != 6 {
		t.Errorf("without verdict: %d", len(got))
	}
	seen := map[string]bool{}
	cursor := ""
	for {
		var page []*store.Alert
		var next string
		view(t, s, func(tx store.Tx) (err error) {
			page, next, err = tx.ListAlerts(ctx, store.AlertFilter{Limit: 3, Cursor: cursor})
			return err
		})
		for _, a := range page {
			if seen[a.ID] {
				t.Fatalf("alert %s twice", a.ID)
			}
			seen[a.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 7 {
		t.Errorf("paging visited %d of 7", len(seen))
	}
}

func testSuppressions(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutSuppression(ctx, &store.Suppression{Fingerprint: "fp1", AlertID: "a1", CreatedAt: at, CreatedBy: "rita", Note: "pen test"}); err != nil {
			return err
		}
		return tx.PutSuppression(ctx, &store.Suppression{Fingerprint: "fp1", AlertID: "a2", CreatedAt: at, CreatedBy: "rita", Note: "again"})
	})
	var got []*store.Suppression
	view(t, s, func(tx store.Tx) (err error) { got, err = tx.ListSuppressions(ctx); return err })
	if len(got) != 1 || got[0].AlertID != "a2" || !got[0].CreatedAt.Equal(at) {
		t.Errorf("suppressions %+v", got)
	}
	var again error
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteSuppression(ctx, "fp1"); err != nil {
			return err
		}
		again = tx.DeleteSuppression(ctx, "fp1")
		return nil
	})
	if !errors.Is(again, store.ErrNotFound) {
		t.Errorf("second delete: %v", again)
	}
}
