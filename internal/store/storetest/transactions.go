package storetest

import (
	"errors"
	"testing"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

var txTests = []subtest{
	{"RollbackOnError", testRollbackOnError},
	{"ViewIsReadOnly", testViewIsReadOnly},
}

var errAbort = errors.New("storetest: abort")

func testRollbackOnError(t *testing.T, s store.Store) {
	id := newID(t)
	tokID := newID(t)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateIncident(t.Context(), newIncident(id, taxonomy.PhaseDetection, "jailbreak", event.SeverityLow)); err != nil {
			return err
		}
		if err := tx.AppendTimeline(t.Context(), entry(id, 1, "", "h1")); err != nil {
			return err
		}
		if err := tx.CreateToken(t.Context(), &store.Token{ID: tokID, Name: "ci", Role: "viewer", Hash: "hash-" + tokID, CreatedAt: base, CreatedBy: "test"}); err != nil {
			return err
		}
		if err := tx.AppendAudit(t.Context(), &store.AuditEntry{At: base, Actor: "test", Action: "incident.create", Target: id}); err != nil {
			return err
		}
		if err := tx.ReplaceTechniques(t.Context(), "v1", []store.Technique{{ID: "AML.T0051", Name: "LLM Prompt Injection"}}); err != nil {
			return err
		}
		// Inside the transaction its own writes are visible.
		if _, err := tx.GetIncident(t.Context(), id); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("Update returned %v, want the function's error %v", err, errAbort)
	}

	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetIncident(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("incident after rollback: err = %v, want ErrNotFound", err)
		}
		if _, err := tx.LastTimelineEntry(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("timeline after rollback: err = %v, want ErrNotFound", err)
		}
		if _, err := tx.TokenByHash(t.Context(), "hash-"+tokID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token after rollback: err = %v, want ErrNotFound", err)
		}
		if audit, _, err := tx.ListAudit(t.Context(), store.AuditFilter{}); err != nil || len(audit) != 0 {
			t.Errorf("audit after rollback: %d entries, err %v; want none", len(audit), err)
		}
		if v, ts, err := tx.ListTechniques(t.Context()); err != nil || v != "" || len(ts) != 0 {
			t.Errorf("ATLAS after rollback: version %q, %d techniques, err %v; want none", v, len(ts), err)
		}
		return nil
	})

	// The store is still usable and the same id can now be created.
	update(t, s, func(tx store.Tx) error {
		return tx.CreateIncident(t.Context(), newIncident(id, taxonomy.PhaseDetection, "jailbreak", event.SeverityLow))
	})
}

func testViewIsReadOnly(t *testing.T, s store.Store) {
	existing, tokID := newID(t), newID(t)
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateToken(t.Context(), &store.Token{ID: tokID, Name: "ci", Role: "viewer", Hash: "hash-" + tokID, CreatedAt: base, CreatedBy: "test"}); err != nil {
			return err
		}
		return tx.CreateIncident(t.Context(), newIncident(existing, taxonomy.PhaseDetection, "jailbreak", event.SeverityLow))
	})

	id := newID(t)
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"CreateIncident", func(tx store.Tx) error {
			return tx.CreateIncident(t.Context(), newIncident(id, taxonomy.PhaseDetection, "jailbreak", event.SeverityLow))
		}},
		{"UpdateIncident", func(tx store.Tx) error {
			inc, err := tx.GetIncident(t.Context(), existing)
			if err != nil {
				t.Errorf("GetIncident in View: %v", err)
				return err
			}
			inc.Title = "written in a view"
			return tx.UpdateIncident(t.Context(), inc)
		}},
		{"AppendTimeline", func(tx store.Tx) error { return tx.AppendTimeline(t.Context(), entry(existing, 1, "", "h1")) }},
		{"PutBlob", func(tx store.Tx) error {
			return tx.PutBlob(t.Context(), &store.Blob{SHA256: sha("view"), Size: 1, CreatedAt: base})
		}},
		{"AppendAudit", func(tx store.Tx) error {
			return tx.AppendAudit(t.Context(), &store.AuditEntry{At: base, Actor: "test", Action: "view.write"})
		}},
		{"ReplaceTechniques", func(tx store.Tx) error {
			return tx.ReplaceTechniques(t.Context(), "v1", []store.Technique{{ID: "AML.T0051", Name: "x"}})
		}},
		{"RevokeToken", func(tx store.Tx) error { return tx.RevokeToken(t.Context(), tokID, base) }},
	}
	for _, w := range writes {
		var werr error
		err := s.View(t.Context(), func(tx store.Tx) error {
			werr = w.fn(tx)
			return nil // give the view every chance to commit what it wrote
		})
		if werr == nil {
			t.Errorf("%s inside View succeeded, want an error", w.name)
		}
		if err != nil {
			t.Errorf("View around the refused %s: %v", w.name, err)
		}
	}

	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetIncident(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("incident created in View: err = %v, want ErrNotFound", err)
		}
		if inc, err := tx.GetIncident(t.Context(), existing); err != nil || inc.Title == "written in a view" || inc.TimelineLen != 0 {
			t.Errorf("incident updated in View: %+v, %v", inc, err)
		}
		if _, err := tx.GetBlob(t.Context(), sha("view")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("blob put in View: err = %v, want ErrNotFound", err)
		}
		if tok, err := tx.TokenByHash(t.Context(), "hash-"+tokID); err != nil || tok.Revoked != nil {
			t.Errorf("token revoked in View: %+v, %v", tok, err)
		}
		if audit, _, err := tx.ListAudit(t.Context(), store.AuditFilter{}); err != nil || len(audit) != 0 {
			t.Errorf("audit appended in View: %d entries, err %v", len(audit), err)
		}
		if v, _, err := tx.ListTechniques(t.Context()); err != nil || v != "" {
			t.Errorf("ATLAS replaced in View: version %q, err %v", v, err)
		}
		return nil
	})
}
