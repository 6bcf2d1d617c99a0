// Package storetest holds the contract tests every store implementation must
// pass. A backend's own test calls Run with a function that opens a fresh,
// empty store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := open(t) // a new, empty database
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite speaks only through store.Store and store.Tx, so it checks the
// contract and not one backend's way of keeping it. Subtests do not run in
// parallel: open may hand out the same database each time, emptied.
package storetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/store"
)

// Run runs the contract suite. open returns a fresh, empty store for each
// subtest (cleanup via t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Incidents", incidentTests},
		{"Transactions", txTests},
		{"Timeline", timelineTests},
		{"Evidence", evidenceTests},
		{"Tasks", taskTests},
		{"Tokens", tokenTests},
		{"Audit", auditTests},
		{"ATLAS", atlasTests},
		{"Policy", policyTests},
		{"Alerts", alertTests},
		{"Registry", registryTests},
		{"Intel", intelTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) { st.run(t, open(t)) })
			}
		})
	}
}

type subtest struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// update runs fn in a read-write transaction and stops the test if it fails.
// fn must not call t.Fatal: a goroutine that exits inside a transaction
// leaves it open. It returns errors instead, or records what it saw.
func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view is update's read-only twin.
func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// newID returns a UUIDv7: sortable by creation, as the design asks of IDs.
func newID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("uuid: %v", err)
	}
	return id.String()
}

// base is a UTC instant with a full microsecond fraction, the finest
// precision every backend (PostgreSQL's timestamptz included) keeps.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func ptr(t time.Time) *time.Time { return &t }

// wantErr fails unless err matches target under errors.Is.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// sameTime fails unless got is the instant want is and is in UTC.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in zone %q, want UTC", what, got.Location())
	}
}

// sameOptTime is sameTime for optional times.
func sameOptTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	default:
		sameTime(t, what, *got, *want)
	}
}

// deepEqual compares with reflect.DeepEqual, which also tells a UTC time
// from the same instant in another zone, and shows both sides as JSON.
func deepEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s differs\n got: %s\nwant: %s", what, g, w)
	}
}
