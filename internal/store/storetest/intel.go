package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/airlock-ir/airlock/internal/store"
)

var intelTests = []subtest{
	{"ReplaceAndList", testIntelReplace},
	{"Paging", testIntelPaging},
	{"Delete", testIntelDelete},
}

func indicators(n int, typ string) []store.IntelIndicator {
	out := make([]store.IntelIndicator, n)
	for i := range out {
		v := fmt.Sprintf("198.51.100.%d", i)
		doc, _ := json.Marshal(map[string]string{"type": typ, "value": v})
		out[i] = store.IntelIndicator{Type: typ, Value: v, Doc: doc}
	}
	return out
}

func testIntelReplace(t *testing.T, s store.Store) {
	f := &store.IntelFeed{Name: "abuse", ImportedAt: at(0), ImportedBy: "rita", SHA256: "aa"}
	update(t, s, func(tx store.Tx) error { return tx.ReplaceIntelFeed(t.Context(), f, indicators(3, "ip")) })
	// Re-importing replaces the feed's indicators, not adds to them.
	f2 := &store.IntelFeed{Name: "abuse", ImportedAt: at(1), ImportedBy: "sam", SHA256: "bb"}
	update(t, s, func(tx store.Tx) error { return tx.ReplaceIntelFeed(t.Context(), f2, indicators(2, "cidr")) })
	other := &store.IntelFeed{Name: "keys", ImportedAt: at(2), ImportedBy: "rita", SHA256: "cc"}
	update(t, s, func(tx store.Tx) error { return tx.ReplaceIntelFeed(t.Context(), other, indicators(1, "api_key_hash")) })

	var feeds []*store.IntelFeed
	var inds []store.IntelIndicator
	view(t, s, func(tx store.Tx) (err error) {
		if feeds, err = tx.ListIntelFeeds(t.Context()); err != nil {
			return err
		}
		inds, _, err = tx.ListIntelIndicators(t.Context(), "abuse", 0, "")
		return err
	})
	if len(feeds) != 2 || feeds[0].Name != "abuse" || feeds[0].Count != 2 || feeds[0].ImportedBy != "sam" || !feeds[0].ImportedAt.Equal(at(1)) || feeds[1].Name != "keys" {
		t.Errorf("feeds %+v", feeds)
	}
	if len(inds) != 2 || inds[0].Type != "cidr" || inds[0].Seq != 1 || inds[1].Seq != 2 || inds[0].Feed != "abuse" {
		t.Errorf("indicators %+v", inds)
	}
	var doc map[string]string
	if err := json.Unmarshal(inds[1].Doc, &doc); err != nil || doc["value"] != inds[1].Value {
		t.Errorf("document %s", inds[1].Doc)
	}
}

func testIntelPaging(t *testing.T, s store.Store) {
	for _, name := range []string{"b", "a"} {
		f := &store.IntelFeed{Name: name, ImportedAt: at(0), ImportedBy: "rita", SHA256: name}
		update(t, s, func(tx store.Tx) error { return tx.ReplaceIntelFeed(t.Context(), f, indicators(5, "ip")) })
	}
	var got []string
	cursor := ""
	for range 20 {
		var page []store.IntelIndicator
		view(t, s, func(tx store.Tx) (err error) {
			page, cursor, err = tx.ListIntelIndicators(t.Context(), "", 3, cursor)
			return err
		})
		for _, ind := range page {
			got = append(got, fmt.Sprintf("%s/%d", ind.Feed, ind.Seq))
		}
		if cursor == "" {
			break
		}
	}
	want := []string{"a/1", "a/2", "a/3", "a/4", "a/5", "b/1", "b/2", "b/3", "b/4", "b/5"}
	if !slices.Equal(got, want) {
		t.Errorf("paged %v, want %v", got, want)
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, _, err := tx.ListIntelIndicators(t.Context(), "", 3, "garbage")
		return err
	})
	wantErr(t, "ListIntelIndicators with a bad cursor", err, store.ErrInvalid)
}

func testIntelDelete(t *testing.T, s store.Store) {
	f := &store.IntelFeed{Name: "gone", ImportedAt: at(0), ImportedBy: "rita", SHA256: "x"}
	update(t, s, func(tx store.Tx) error { return tx.ReplaceIntelFeed(t.Context(), f, indicators(2, "ip")) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteIntelFeed(t.Context(), "gone") })
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteIntelFeed(t.Context(), "gone") })
	wantErr(t, "DeleteIntelFeed of a deleted feed", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		inds, _, err := tx.ListIntelIndicators(t.Context(), "gone", 0, "")
		if len(inds) != 0 {
			t.Errorf("indicators of a deleted feed remain: %v", inds)
		}
		return err
	})
}
