package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

var incidentTests = []subtest{
	{"RoundTrip", testIncidentRoundTrip},
	{"RoundTripEmpty", testIncidentRoundTripEmpty},
	{"DuplicateID", testIncidentDuplicate},
	{"GetUnknown", testIncidentGetUnknown},
	{"Update", testIncidentUpdate},
	{"UpdateStale", testIncidentUpdateStale},
	{"UpdateUnknown", testIncidentUpdateUnknown},
	{"ListNewestFirst", testIncidentListOrder},
	{"ListByRiskAndOpen", testIncidentListByRisk},
	{"ListFilters", testIncidentListFilters},
	{"ListPages", testIncidentListPages},
	{"ListPageSizes", testIncidentListPageSizes},
	{"ListIDs", testIncidentListIDs},
}

// fullIncident sets every field a caller can set.
func fullIncident(id string) *store.Incident {
	return &store.Incident{
		ID:       id,
		Title:    "System prompt leaked through the support assistant",
		Type:     "system_prompt_override",
		Category: taxonomy.CategoryPromptInjection,
		Severity: event.SeverityHigh,
		Priority: 2,
		Phase:    taxonomy.PhaseContainment,
		Summary:  "Repeated override attempts from one key; ünïcode and \"quotes\" <kept>.",
		Entities: []event.Entity{
			{Kind: event.EntityAPIKey, Value: "k_3f9a"},
			{Kind: event.EntityIP, Value: "203.0.113.7"},
			{Kind: event.EntityModel, Value: "support-bot"},
		},
		ATLAS:        []string{"AML.T0051.000", "AML.T0054"},
		Owner:        "alice",
		Participants: []string{"alice", "bob"},
		Milestones: store.Milestones{
			Started:      ptr(at(-2 * time.Hour)),
			Detected:     ptr(at(-90 * time.Minute)),
			Acknowledged: ptr(at(-80*time.Minute + time.Microsecond)),
			Contained:    ptr(at(-time.Hour)),
			Eradicated:   ptr(at(-30 * time.Minute)),
			Recovered:    ptr(at(-10 * time.Minute)),
			Closed:       ptr(at(-time.Minute)),
		},
		Impact: store.Impact{
			AffectedUsers:  1234,
			DataExposed:    "system prompt",
			BusinessImpact: "support answers degraded for 40 minutes",
			Cost:           1999.95,
			Currency:       "EUR",
		},
		Containment: []store.Containment{
			{Ref: "policy:v42/block/k_3f9a", Summary: "block the key", Since: at(-time.Hour), By: "playbook"},
			{Ref: "manual", Summary: "rotated the upstream credential", Since: at(-59*time.Minute + 7*time.Microsecond), By: "bob"},
		},
		ContainmentWaiver: "n/a",
		RootCause:         "the system prompt was not isolated from user input",
		Recovery:          store.Recovery{IntegrityVerified: true, ValidationPassed: true},
		Review:            store.Review{Done: true, Summary: "add an output filter for prompt fragments"},
		CreatedAt:         at(-89 * time.Minute),
		CreatedBy:         "detector:prompt_override",
		UpdatedAt:         at(-time.Minute),
	}
}

// newIncident is the least an incident needs to be stored.
func newIncident(id string, phase taxonomy.Phase, typ taxonomy.TypeID, sev event.Severity) *store.Incident {
	return &store.Incident{
		ID: id, Title: "incident " + id, Type: typ, Category: taxonomy.CategoryModelCompromise,
		Severity: sev, Priority: 3, Phase: phase, CreatedAt: base, CreatedBy: "test", UpdatedAt: base,
	}
}

// createIncidents stores n minimal incidents and returns their IDs.
func createIncidents(t *testing.T, s store.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID(t)
	}
	update(t, s, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.CreateIncident(t.Context(), newIncident(id, taxonomy.PhaseDetection, "jailbreak", event.SeverityLow)); err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

func getIncident(t *testing.T, s store.Store, id string) *store.Incident {
	t.Helper()
	var inc *store.Incident
	view(t, s, func(tx store.Tx) (err error) {
		inc, err = tx.GetIncident(t.Context(), id)
		return err
	})
	return inc
}

func testIncidentRoundTrip(t *testing.T, s store.Store) {
	inc := fullIncident(newID(t))
	update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) })
	if inc.Version < 1 {
		t.Errorf("CreateIncident set Version %d, want at least 1", inc.Version)
	}
	want := *fullIncident(inc.ID)
	want.Version = inc.Version

	got := getIncident(t, s, inc.ID)
	deepEqual(t, "GetIncident", got, &want)
	sameOptTime(t, "Milestones.Acknowledged", got.Milestones.Acknowledged, want.Milestones.Acknowledged)
	if got.TimelineLen != 0 || got.TimelineHead != "" {
		t.Errorf("new incident timeline = (%d, %q), want (0, \"\")", got.TimelineLen, got.TimelineHead)
	}

	// A list carries the same, whole record.
	var list []*store.Incident
	view(t, s, func(tx store.Tx) (err error) {
		list, _, err = tx.ListIncidents(t.Context(), store.IncidentFilter{})
		return err
	})
	if len(list) != 1 {
		t.Fatalf("ListIncidents returned %d incidents, want 1", len(list))
	}
	deepEqual(t, "ListIncidents[0]", list[0], &want)
}

func testIncidentRoundTripEmpty(t *testing.T, s store.Store) {
	inc := newIncident(newID(t), taxonomy.PhaseDetection, "jailbreak", event.SeverityMedium)
	update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) })
	got := getIncident(t, s, inc.ID)
	if got.Milestones != (store.Milestones{}) {
		t.Errorf("Milestones = %+v, want none reached", got.Milestones)
	}
	if len(got.Entities) != 0 || len(got.ATLAS) != 0 || len(got.Containment) != 0 || len(got.Participants) != 0 {
		t.Errorf("empty lists came back with items: %+v", got)
	}
	if got.Title != inc.Title || got.Severity != inc.Severity || got.Phase != inc.Phase || got.Type != inc.Type {
		t.Errorf("got %+v, want %+v", got, inc)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, inc.CreatedAt)
}

func testIncidentDuplicate(t *testing.T, s store.Store) {
	id := newID(t)
	first := newIncident(id, taxonomy.PhaseDetection, "jailbreak", event.SeverityLow)
	update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), first) })

	second := newIncident(id, taxonomy.PhaseClosed, "model_backdoor", event.SeverityCritical)
	second.Title = "impostor"
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.CreateIncident(t.Context(), second) })
	wantErr(t, "CreateIncident with a used id", err, store.ErrConflict)

	if got := getIncident(t, s, id); got.Title != first.Title || got.Phase != first.Phase {
		t.Errorf("after the refused duplicate: %q in %s, want %q in %s", got.Title, got.Phase, first.Title, first.Phase)
	}
}

func testIncidentGetUnknown(t *testing.T, s store.Store) {
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.GetIncident(t.Context(), newID(t))
		return err
	})
	wantErr(t, "GetIncident of an unknown id", err, store.ErrNotFound)
}

func testIncidentUpdate(t *testing.T, s store.Store) {
	inc := fullIncident(newID(t))
	update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) })

	got := getIncident(t, s, inc.ID)
	v := got.Version
	got.Title = "renamed"
	got.Phase = taxonomy.PhaseEradication
	got.Severity = event.SeverityCritical
	got.Type = "model_extraction"
	got.Milestones.Eradicated = ptr(at(time.Second + 3*time.Microsecond))
	got.Impact.AffectedUsers = 99
	got.Containment = got.Containment[:1]
	got.Review = store.Review{}
	got.UpdatedAt = at(time.Second)
	update(t, s, func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), got) })
	if got.Version != v+1 {
		t.Errorf("UpdateIncident left Version %d, want %d", got.Version, v+1)
	}

	after := getIncident(t, s, inc.ID)
	deepEqual(t, "incident after UpdateIncident", after, got)

	// The indexed fields follow the update, not just the record.
	var byPhase []*store.Incident
	view(t, s, func(tx store.Tx) (err error) {
		byPhase, _, err = tx.ListIncidents(t.Context(), store.IncidentFilter{Phase: taxonomy.PhaseEradication, Type: "model_extraction", Severity: event.SeverityCritical})
		return err
	})
	if len(byPhase) != 1 || byPhase[0].ID != inc.ID {
		t.Errorf("filter on the updated phase, type and severity found %d incidents, want the updated one", len(byPhase))
	}

	// And it can be updated again from the version it now has.
	after.Title = "renamed twice"
	update(t, s, func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), after) })
	if after.Version != v+2 {
		t.Errorf("second UpdateIncident left Version %d, want %d", after.Version, v+2)
	}
}

func testIncidentUpdateStale(t *testing.T, s store.Store) {
	inc := fullIncident(newID(t))
	update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) })

	fresh, stale := getIncident(t, s, inc.ID), getIncident(t, s, inc.ID)
	fresh.Title = "first writer"
	update(t, s, func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), fresh) })

	staleVersion := stale.Version
	stale.Title = "second writer"
	stale.Phase = taxonomy.PhaseClosed
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), stale) })
	wantErr(t, "UpdateIncident with a stale version", err, store.ErrConflict)
	if stale.Version != staleVersion {
		t.Errorf("refused UpdateIncident changed the caller's Version to %d, want %d", stale.Version, staleVersion)
	}

	// Even when the caller commits after the refusal, nothing changed.
	var uerr error
	update(t, s, func(tx store.Tx) error {
		uerr = tx.UpdateIncident(t.Context(), stale)
		return nil
	})
	wantErr(t, "UpdateIncident with a stale version", uerr, store.ErrConflict)
	deepEqual(t, "incident after refused updates", getIncident(t, s, inc.ID), fresh)
}

func testIncidentUpdateUnknown(t *testing.T, s store.Store) {
	inc := newIncident(newID(t), taxonomy.PhaseDetection, "jailbreak", event.SeverityLow)
	inc.Version = 1
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), inc) })
	wantErr(t, "UpdateIncident of an unknown id", err, store.ErrNotFound)
	err = s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.GetIncident(t.Context(), inc.ID)
		return err
	})
	wantErr(t, "GetIncident after UpdateIncident of an unknown id", err, store.ErrNotFound)
}

// listAll pages through ListIncidents and fails on a page that repeats an
// incident or on a cursor that does not move.
func listAll(t *testing.T, s store.Store, f store.IncidentFilter) (ids []string, pages []int) {
	t.Helper()
	seen := map[string]bool{}
	for range 10000 {
		var page []*store.Incident
		var next string
		view(t, s, func(tx store.Tx) (err error) {
			page, next, err = tx.ListIncidents(t.Context(), f)
			return err
		})
		pages = append(pages, len(page))
		for _, inc := range page {
			if seen[inc.ID] {
				t.Fatalf("incident %s listed twice (page %d, cursor %q)", inc.ID, len(pages), f.Cursor)
			}
			seen[inc.ID] = true
			ids = append(ids, inc.ID)
		}
		if next == "" {
			return ids, pages
		}
		if len(page) == 0 {
			t.Fatalf("empty page with a next cursor %q", next)
		}
		f.Cursor = next
	}
	t.Fatal("ListIncidents cursors never end")
	return nil, nil
}

func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

func testIncidentListOrder(t *testing.T, s store.Store) {
	var got []string
	view(t, s, func(tx store.Tx) error {
		list, next, err := tx.ListIncidents(t.Context(), store.IncidentFilter{})
		if len(list) != 0 || next != "" {
			return fmt.Errorf("empty store listed %d incidents, cursor %q", len(list), next)
		}
		return err
	})

	ids := createIncidents(t, s, 7)
	// Stored out of order, listed newest first all the same.
	more := []string{newID(t), newID(t), newID(t)}
	update(t, s, func(tx store.Tx) error {
		for _, i := range []int{1, 2, 0} {
			if err := tx.CreateIncident(t.Context(), newIncident(more[i], taxonomy.PhaseDetection, "jailbreak", event.SeverityLow)); err != nil {
				return err
			}
		}
		return nil
	})
	ids = append(ids, more...)
	got, _ = listAll(t, s, store.IncidentFilter{})
	deepEqual(t, "ListIncidents order", got, newestFirst(ids))
}

func testIncidentListFilters(t *testing.T, s store.Store) {
	type row struct {
		phase taxonomy.Phase
		typ   taxonomy.TypeID
		sev   event.Severity
	}
	rows := []row{
		{taxonomy.PhaseDetection, "jailbreak", event.SeverityLow},
		{taxonomy.PhaseDetection, "model_extraction", event.SeverityHigh},
		{taxonomy.PhaseContainment, "jailbreak", event.SeverityHigh},
		{taxonomy.PhaseContainment, "model_backdoor", event.SeverityCritical},
		{taxonomy.PhaseRecovery, "jailbreak", event.SeverityHigh},
		{taxonomy.PhaseClosed, "model_extraction", event.SeverityLow},
		{taxonomy.PhaseDetection, "jailbreak", event.SeverityHigh},
		{taxonomy.PhaseContainment, "jailbreak", event.SeverityHigh},
	}
	ids := make([]string, len(rows))
	update(t, s, func(tx store.Tx) error {
		for i, r := range rows {
			ids[i] = newID(t)
			if err := tx.CreateIncident(t.Context(), newIncident(ids[i], r.phase, r.typ, r.sev)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, f := range []store.IncidentFilter{
		{},
		{Phase: taxonomy.PhaseDetection},
		{Phase: taxonomy.PhaseContainment},
		{Phase: taxonomy.PhaseEradication},
		{Type: "jailbreak"},
		{Type: "model_extraction"},
		{Severity: event.SeverityHigh},
		{Severity: event.SeverityMedium},
		{Phase: taxonomy.PhaseContainment, Type: "jailbreak"},
		{Phase: taxonomy.PhaseContainment, Type: "jailbreak", Severity: event.SeverityHigh},
		{Phase: taxonomy.PhaseDetection, Severity: event.SeverityLow},
		{Type: "jailbreak", Severity: event.SeverityHigh, Limit: 2},
	} {
		var want []string
		for i, r := range rows {
			if (f.Phase == "" || f.Phase == r.phase) && (f.Type == "" || f.Type == r.typ) && (f.Severity == 0 || f.Severity == r.sev) {
				want = append(want, ids[i])
			}
		}
		got, _ := listAll(t, s, f)
		if want == nil {
			want = []string{}
		}
		if got == nil {
			got = []string{}
		}
		deepEqual(t, fmt.Sprintf("ListIncidents(%+v)", f), got, newestFirst(want))
	}
}

func testIncidentListPages(t *testing.T, s store.Store) {
	ids := createIncidents(t, s, 23)
	got, pages := listAll(t, s, store.IncidentFilter{Limit: 5})
	deepEqual(t, "incidents paged 5 at a time", got, newestFirst(ids))
	deepEqual(t, "page sizes", pages, []int{5, 5, 5, 5, 3})

	// A page that ends exactly at the last incident has no next cursor.
	_, pages = listAll(t, s, store.IncidentFilter{Limit: 23})
	deepEqual(t, "page sizes with Limit 23", pages, []int{23})
}

func testIncidentListPageSizes(t *testing.T, s store.Store) {
	const n = 520
	ids := createIncidents(t, s, n)
	var list []*store.Incident
	var next string
	view(t, s, func(tx store.Tx) (err error) {
		list, next, err = tx.ListIncidents(t.Context(), store.IncidentFilter{})
		return err
	})
	if len(list) != 50 || next == "" {
		t.Errorf("default page: %d incidents, cursor %q; want 50 and a cursor", len(list), next)
	}
	view(t, s, func(tx store.Tx) (err error) {
		list, next, err = tx.ListIncidents(t.Context(), store.IncidentFilter{Limit: 10000})
		return err
	})
	if len(list) == 0 || len(list) > 500 || next == "" {
		t.Errorf("Limit 10000: %d incidents, cursor %q; want at most 500 and a cursor", len(list), next)
	}
	got, _ := listAll(t, s, store.IncidentFilter{Limit: 10000})
	deepEqual(t, "all incidents in pages of at most 500", got, newestFirst(ids))
}

func testIncidentListIDs(t *testing.T, s store.Store) {
	var got []string
	view(t, s, func(tx store.Tx) (err error) {
		got, err = tx.ListIncidentIDs(t.Context())
		return err
	})
	if len(got) != 0 {
		t.Errorf("empty store: ListIncidentIDs = %v", got)
	}
	ids := createIncidents(t, s, 6)
	view(t, s, func(tx store.Tx) (err error) {
		got, err = tx.ListIncidentIDs(t.Context())
		return err
	})
	// The order is not part of the contract; the set is.
	slices.Sort(got)
	deepEqual(t, "ListIncidentIDs", got, slices.Sorted(slices.Values(ids)))
}

func testIncidentListByRisk(t *testing.T, s store.Store) {
	risks := []float64{10, 80, 0, 55.5, 80, 99}
	var ids []string
	for i, r := range risks {
		phase := taxonomy.PhaseDetection
		if i == 5 {
			phase = taxonomy.PhaseClosed
		}
		inc := newIncident(newID(t), phase, "jailbreak", event.SeverityLow)
		inc.Risk = r
		update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) })
		ids = append(ids, inc.ID)
	}
	got, pages := listAll(t, s, store.IncidentFilter{ByRisk: true, Open: true, Limit: 2})
	// Equal risks: the newest first. The closed one (risk 99) is left out.
	want := []string{ids[4], ids[1], ids[3], ids[0], ids[2]}
	if !slices.Equal(got, want) || !slices.Equal(pages, []int{2, 2, 1}) {
		t.Errorf("by risk, open only: %v in pages %v, want %v in pages [2 2 1]", got, pages, want)
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, _, err := tx.ListIncidents(t.Context(), store.IncidentFilter{ByRisk: true, Cursor: "not-an-offset"})
		return err
	})
	wantErr(t, "ListIncidents by risk with a malformed cursor", err, store.ErrInvalid)
}
