package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

var policyTests = []subtest{
	{"VersionStartsAtZeroAndBumps", testPolicyVersion},
	{"PutListDelete", testPolicyActions},
}

func testPolicyVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	var got []int64
	update(t, s, func(tx store.Tx) error {
		v, err := tx.PolicyVersion(ctx)
		if err != nil {
			return err
		}
		got = append(got, v)
		for range 3 {
			v, err := tx.BumpPolicyVersion(ctx)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		return nil
	})
	if want := []int64{0, 1, 2, 3}; !equalInts(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	view(t, s, func(tx store.Tx) error {
		if v, _ := tx.PolicyVersion(ctx); v != 3 {
			t.Errorf("version after commit = %d, want 3", v)
		}
		return nil
	})
	// A rolled-back bump is not kept.
	s.Update(ctx, func(tx store.Tx) error {
		tx.BumpPolicyVersion(ctx)
		return errors.New("roll back")
	})
	view(t, s, func(tx store.Tx) error {
		if v, _ := tx.PolicyVersion(ctx); v != 3 {
			t.Errorf("version after a rolled-back bump = %d, want 3", v)
		}
		return nil
	})
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testPolicyActions(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := time.Date(2026, 11, 26, 7, 0, 0, 123456000, time.UTC)
	docs := map[string]string{"a1": `{"kind":"block","z":1,"a":2}`, "a2": `{"kind":"sanitize"}`}
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"a2", "a1"} {
			if err := tx.PutPolicyAction(ctx, &store.PolicyAction{ID: id, CreatedAt: at, Doc: json.RawMessage(docs[id])}); err != nil {
				return err
			}
		}
		return nil
	})
	var dupErr error
	s.Update(ctx, func(tx store.Tx) error {
		dupErr = tx.PutPolicyAction(ctx, &store.PolicyAction{ID: "a1", CreatedAt: at, Doc: json.RawMessage(`{}`)})
		return dupErr
	})
	if !errors.Is(dupErr, store.ErrConflict) {
		t.Errorf("duplicate id: %v, want ErrConflict", dupErr)
	}
	var as []*store.PolicyAction
	view(t, s, func(tx store.Tx) (err error) { as, err = tx.ListPolicyActions(ctx); return err })
	if len(as) != 2 || as[0].ID != "a1" || as[1].ID != "a2" {
		t.Fatalf("list = %+v, want a1, a2", as)
	}
	if string(as[0].Doc) != docs["a1"] || !as[0].CreatedAt.Equal(at) {
		t.Errorf("a1 round trip: %s at %s", as[0].Doc, as[0].CreatedAt)
	}
	var again error
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeletePolicyAction(ctx, "a1"); err != nil {
			return err
		}
		again = tx.DeletePolicyAction(ctx, "a1")
		return nil
	})
	if !errors.Is(again, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", again)
	}
	view(t, s, func(tx store.Tx) (err error) { as, err = tx.ListPolicyActions(ctx); return err })
	if len(as) != 1 || as[0].ID != "a2" {
		t.Errorf("after delete: %+v", as)
	}
}
