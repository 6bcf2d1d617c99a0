package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

var auditTests = []subtest{
	{"AppendAssignsIDs", testAuditIDs},
	{"RoundTrip", testAuditRoundTrip},
	{"ListNewestFirst", testAuditListOrder},
	{"ListFilters", testAuditFilters},
	{"ListPages", testAuditPages},
	{"ListPageSizes", testAuditPageSizes},
}

// appendAudit appends entries in one transaction each, as the API does.
func appendAudit(t *testing.T, s store.Store, es ...*store.AuditEntry) {
	t.Helper()
	for _, a := range es {
		update(t, s, func(tx store.Tx) error { return tx.AppendAudit(t.Context(), a) })
	}
}

func auditEntry(i int, actor, action string) *store.AuditEntry {
	return &store.AuditEntry{
		At: at(time.Duration(i) * time.Second), Actor: actor, Role: "responder", Addr: "192.0.2.1",
		Action: action, Target: fmt.Sprintf("target-%d", i),
	}
}

func listAudit(t *testing.T, s store.Store, f store.AuditFilter) []*store.AuditEntry {
	t.Helper()
	var out []*store.AuditEntry
	seen := map[int64]bool{}
	for range 10000 {
		var page []*store.AuditEntry
		var next string
		view(t, s, func(tx store.Tx) (err error) {
			page, next, err = tx.ListAudit(t.Context(), f)
			return err
		})
		for _, a := range page {
			if seen[a.ID] {
				t.Fatalf("audit entry %d listed twice (cursor %q)", a.ID, f.Cursor)
			}
			seen[a.ID] = true
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		if len(page) == 0 {
			t.Fatalf("empty audit page with a next cursor %q", next)
		}
		f.Cursor = next
	}
	t.Fatal("ListAudit cursors never end")
	return nil
}

func auditIDs(es []*store.AuditEntry) []int64 {
	out := make([]int64, len(es))
	for i, a := range es {
		out[i] = a.ID
	}
	return out
}

func testAuditIDs(t *testing.T, s store.Store) {
	var prev int64
	for i := range 12 {
		a := auditEntry(i, "alice", "incident.update")
		appendAudit(t, s, a)
		if a.ID <= prev {
			t.Errorf("entry %d got ID %d, not above the previous %d", i, a.ID, prev)
		}
		prev = a.ID
	}
	// Several in one transaction, too.
	var got []int64
	update(t, s, func(tx store.Tx) error {
		for i := range 3 {
			a := auditEntry(100+i, "bob", "token.create")
			if err := tx.AppendAudit(t.Context(), a); err != nil {
				return err
			}
			got = append(got, a.ID)
		}
		return nil
	})
	for _, id := range got {
		if id <= prev {
			t.Errorf("IDs in one transaction %v: %d is not above %d", got, id, prev)
		}
		prev = id
	}
}

func testAuditRoundTrip(t *testing.T, s store.Store) {
	withDetail := auditEntry(1, "alice", "incident.transition")
	withDetail.At = at(time.Second + 123*time.Microsecond)
	withDetail.Detail = json.RawMessage(`{"to":"containment","from":"detection","n":[1,2.5]}`)
	noDetail := auditEntry(2, "gateway-1", "policy.apply")
	noDetail.Role, noDetail.Addr, noDetail.Target = "gateway", "", ""
	appendAudit(t, s, withDetail, noDetail)

	got := listAudit(t, s, store.AuditFilter{})
	if len(got) != 2 {
		t.Fatalf("ListAudit returned %d entries, want 2", len(got))
	}
	if string(got[1].Detail) != string(withDetail.Detail) {
		t.Errorf("Detail = %s, want the exact bytes %s", got[1].Detail, withDetail.Detail)
	}
	var m map[string]any
	if err := json.Unmarshal(got[1].Detail, &m); err != nil || m["to"] != "containment" {
		t.Errorf("Detail does not decode: %v, %v", m, err)
	}
	if len(got[0].Detail) != 0 {
		t.Errorf("an entry without detail came back with %q", got[0].Detail)
	}
	sameTime(t, "At", got[1].At, withDetail.At)
	// Nil and empty detail are the same absence.
	got[0].Detail = nil
	deepEqual(t, "ListAudit", got, []*store.AuditEntry{noDetail, withDetail})
}

func testAuditListOrder(t *testing.T, s store.Store) {
	if got := listAudit(t, s, store.AuditFilter{}); len(got) != 0 {
		t.Errorf("empty store: %d audit entries", len(got))
	}
	var es []*store.AuditEntry
	for i := range 15 {
		es = append(es, auditEntry(i, "alice", "incident.update"))
	}
	appendAudit(t, s, es...)
	slices.Reverse(es)
	deepEqual(t, "ListAudit newest first", listAudit(t, s, store.AuditFilter{}), es)
}

func testAuditFilters(t *testing.T, s store.Store) {
	type pair struct{ actor, action string }
	pairs := []pair{
		{"alice", "incident.create"}, {"bob", "incident.create"}, {"alice", "token.revoke"},
		{"carol", "evidence.read"}, {"alice", "incident.create"}, {"bob", "token.revoke"},
		{"alice", "evidence.read"}, {"bob", "incident.create"},
	}
	var es []*store.AuditEntry
	for i, p := range pairs {
		es = append(es, auditEntry(i, p.actor, p.action))
	}
	appendAudit(t, s, es...)
	for _, f := range []store.AuditFilter{
		{Actor: "alice"}, {Actor: "bob"}, {Actor: "nobody"},
		{Action: "incident.create"}, {Action: "token.revoke"},
		{Actor: "alice", Action: "incident.create"}, {Actor: "bob", Action: "evidence.read"},
		{Actor: "alice", Limit: 2}, {Action: "incident.create", Limit: 1},
	} {
		want := []int64{}
		for i := len(es) - 1; i >= 0; i-- {
			if (f.Actor == "" || f.Actor == es[i].Actor) && (f.Action == "" || f.Action == es[i].Action) {
				want = append(want, es[i].ID)
			}
		}
		deepEqual(t, fmt.Sprintf("ListAudit(%+v)", f), auditIDs(listAudit(t, s, f)), want)
	}
}

func testAuditPages(t *testing.T, s store.Store) {
	// More than nine entries, so that IDs of different lengths meet in one
	// list: a cursor compared as text instead of a number would misplace them.
	var es []*store.AuditEntry
	update(t, s, func(tx store.Tx) error {
		for i := range 23 {
			a := auditEntry(i, "alice", "incident.update")
			if err := tx.AppendAudit(t.Context(), a); err != nil {
				return err
			}
			es = append(es, a)
		}
		return nil
	})
	slices.Reverse(es)

	var pages []int
	f := store.AuditFilter{Limit: 5}
	var got []*store.AuditEntry
	for range 100 {
		var page []*store.AuditEntry
		var next string
		view(t, s, func(tx store.Tx) (err error) {
			page, next, err = tx.ListAudit(t.Context(), f)
			return err
		})
		pages = append(pages, len(page))
		got = append(got, page...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	deepEqual(t, "audit paged 5 at a time", auditIDs(got), auditIDs(es))
	deepEqual(t, "page sizes", pages, []int{5, 5, 5, 5, 3})
	deepEqual(t, "audit paged 3 at a time, filtered", auditIDs(listAudit(t, s, store.AuditFilter{Actor: "alice", Limit: 3})), auditIDs(es))
}

func testAuditPageSizes(t *testing.T, s store.Store) {
	const n = 520
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			if err := tx.AppendAudit(t.Context(), auditEntry(i, "alice", "incident.update")); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		limit    int
		min, max int
	}{{0, 50, 50}, {10000, 1, 500}} {
		var page []*store.AuditEntry
		var next string
		view(t, s, func(tx store.Tx) (err error) {
			page, next, err = tx.ListAudit(t.Context(), store.AuditFilter{Limit: c.limit})
			return err
		})
		if len(page) < c.min || len(page) > c.max || next == "" {
			t.Errorf("Limit %d: %d entries, cursor %q; want %d to %d and a cursor", c.limit, len(page), next, c.min, c.max)
		}
	}
	if got := listAudit(t, s, store.AuditFilter{Limit: 10000}); len(got) != n {
		t.Errorf("paging through all: %d entries, want %d", len(got), n)
	}
}
