package alerts_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/alerts"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

func alert(fp string) event.Alert {
	return event.Alert{ID: uuid.Must(uuid.NewV7()).String(), Time: time.Now().UTC().Truncate(time.Microsecond),
		Detector: "promptinject", Rule: "pi.ignore", Type: "instruction_injection", Severity: event.SeverityHigh,
		Confidence: 0.9, Entities: []event.Entity{{Kind: event.EntityUser, Value: "eve"}}, Fingerprint: fp}
}

func TestRaiseFeedbackSuppress(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := alerts.New(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var heard []string
	svc.OnAlert(func(a *store.Alert) { heard = append(heard, a.ID) })
	a1, a2 := alert("fp-pen-test"), alert("fp-real")
	svc.Raise(a1)
	svc.Raise(a2)
	svc.Flush()
	if len(heard) != 2 {
		t.Fatalf("listeners heard %d alerts", len(heard))
	}
	actor := incident.Actor{Name: "rita", Role: "responder", Addr: "127.0.0.1"}
	if _, err := svc.Feedback(ctx, actor, a1.ID, "maybe", ""); err == nil {
		t.Error("an unknown verdict was accepted")
	}
	if _, err := svc.Feedback(ctx, actor, "nope", alerts.TruePositive, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown alert: %v", err)
	}
	got, err := svc.Feedback(ctx, actor, a1.ID, alerts.FalsePositive, "scheduled pen test")
	if err != nil || got.Verdict != alerts.FalsePositive || got.JudgedBy != "rita" {
		t.Fatalf("feedback: %+v %v", got, err)
	}
	if _, err := svc.Feedback(ctx, actor, a2.ID, alerts.TruePositive, ""); err != nil {
		t.Fatal(err)
	}
	// The false positive's fingerprint is now suppressed; the other is not.
	svc.Raise(alert("fp-pen-test"))
	svc.Raise(alert("fp-real"))
	svc.Flush()
	if c := svc.Counters(); c.Suppressed != 1 {
		t.Errorf("suppressed %d, want 1", c.Suppressed)
	}
	r, err := svc.Rates(ctx)
	if err != nil || r.Total != 3 || r.FalsePositiveRate != 0.5 || r.Suppressions != 1 || r.Verdicts["none"] != 1 {
		t.Errorf("rates %+v %v", r, err)
	}
	// The suppression survives a restart.
	again, _ := alerts.New(ctx, st, nil)
	if !again.Suppressed("fp-pen-test") {
		t.Error("suppression lost on restart")
	}
	var audit []*store.AuditEntry
	st.View(ctx, func(tx store.Tx) (err error) {
		audit, _, err = tx.ListAudit(ctx, store.AuditFilter{Action: "alert.feedback"})
		return err
	})
	if len(audit) != 2 {
		t.Errorf("%d feedback audit entries, want 2", len(audit))
	}
}

func TestRaiseNeverBlocks(t *testing.T) {
	ctx := context.Background()
	st, _ := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	defer st.Close()
	svc, _ := alerts.New(ctx, st, nil)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10000; i++ { // nobody is writing: the queue fills and the rest is counted
			svc.Raise(alert("fp"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Raise blocked")
	}
	if svc.Counters().Dropped == 0 {
		t.Error("no drops counted with a full queue")
	}
}
