package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

var evidenceTests = []subtest{
	{"PutBlobIdempotent", testPutBlobIdempotent},
	{"GetBlobUnknown", testGetBlobUnknown},
	{"ListBlobs", testListBlobs},
	{"AttachAndList", testAttachEvidence},
	{"AttachDuplicateID", testAttachEvidenceDuplicate},
	{"CustodyChain", testCustodyChain},
	{"CustodyOutOfChain", testCustodyConflicts},
	{"CustodyUnknownBlob", testCustodyUnknownBlob},
}

func getBlob(t *testing.T, s store.Store, digest string) *store.Blob {
	t.Helper()
	var b *store.Blob
	view(t, s, func(tx store.Tx) (err error) {
		b, err = tx.GetBlob(t.Context(), digest)
		return err
	})
	return b
}

func putBlobs(t *testing.T, s store.Store, bs ...*store.Blob) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, b := range bs {
			if err := tx.PutBlob(t.Context(), b); err != nil {
				return err
			}
		}
		return nil
	})
}

func custody(digest string, seq int64, prev, hash string) *store.Custody {
	return &store.Custody{
		SHA256:     digest,
		Seq:        seq,
		At:         at(time.Duration(seq)*time.Minute + 17*time.Microsecond),
		Actor:      "bob",
		Action:     "accessed",
		IncidentID: "incident-1",
		Addr:       "198.51.100.4",
		Detail:     fmt.Sprintf("read %d", seq),
		PrevHash:   prev,
		Hash:       hash,
	}
}

func listCustody(t *testing.T, s store.Store, digest string) []*store.Custody {
	t.Helper()
	var out []*store.Custody
	view(t, s, func(tx store.Tx) (err error) {
		out, err = tx.ListCustody(t.Context(), digest)
		return err
	})
	return out
}

func testPutBlobIdempotent(t *testing.T, s store.Store) {
	digest := sha("model.safetensors")
	first := &store.Blob{SHA256: digest, Size: 1 << 20, CreatedAt: at(0)}
	putBlobs(t, s, first)
	want := &store.Blob{SHA256: digest, Size: 1 << 20, CreatedAt: at(0)}
	deepEqual(t, "GetBlob", getBlob(t, s, digest), want)

	// Putting a known digest again is a no-op, whatever else it says.
	putBlobs(t, s, &store.Blob{SHA256: digest, Size: 1 << 20, CreatedAt: at(0)})
	putBlobs(t, s, &store.Blob{SHA256: digest, Size: 7, CreatedAt: at(time.Hour)})
	deepEqual(t, "GetBlob after repeated puts", getBlob(t, s, digest), want)

	// Including for the custody chain: a repeated put does not reset it.
	c := custody(digest, 1, "", "c1")
	update(t, s, func(tx store.Tx) error { return tx.AppendCustody(t.Context(), c) })
	putBlobs(t, s, &store.Blob{SHA256: digest, Size: 1 << 20, CreatedAt: at(0)})
	if b := getBlob(t, s, digest); b.CustodyLen != 1 || b.CustodyHead != "c1" {
		t.Errorf("custody head after a repeated put = (%d, %q), want (1, \"c1\")", b.CustodyLen, b.CustodyHead)
	}
	deepEqual(t, "custody after a repeated put", listCustody(t, s, digest), []*store.Custody{c})

	var all []*store.Blob
	view(t, s, func(tx store.Tx) (err error) {
		all, err = tx.ListBlobs(t.Context())
		return err
	})
	if len(all) != 1 {
		t.Errorf("ListBlobs after repeated puts of one digest: %d blobs", len(all))
	}
}

func testGetBlobUnknown(t *testing.T, s store.Store) {
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.GetBlob(t.Context(), sha("nothing"))
		return err
	})
	wantErr(t, "GetBlob of an unknown digest", err, store.ErrNotFound)
}

func testListBlobs(t *testing.T, s store.Store) {
	var got []*store.Blob
	view(t, s, func(tx store.Tx) (err error) {
		got, err = tx.ListBlobs(t.Context())
		return err
	})
	if len(got) != 0 {
		t.Errorf("empty store: ListBlobs returned %d blobs", len(got))
	}

	want := []*store.Blob{
		{SHA256: sha("a"), Size: 1, CreatedAt: at(time.Second)},
		{SHA256: sha("b"), Size: 22, CreatedAt: at(2*time.Second + time.Microsecond)},
		{SHA256: sha("c"), Size: 333, CreatedAt: at(3 * time.Second)},
	}
	putBlobs(t, s, want...)
	update(t, s, func(tx store.Tx) error {
		return tx.AppendCustody(t.Context(), custody(want[1].SHA256, 1, "", "head-b"))
	})
	want[1].CustodyLen, want[1].CustodyHead = 1, "head-b"

	view(t, s, func(tx store.Tx) (err error) {
		got, err = tx.ListBlobs(t.Context())
		return err
	})
	bySHA := func(a, b *store.Blob) int { return cmp.Compare(a.SHA256, b.SHA256) }
	slices.SortFunc(got, bySHA)
	slices.SortFunc(want, bySHA)
	deepEqual(t, "ListBlobs", got, want)
}

func sortEvidence(evs []*store.Evidence) []*store.Evidence {
	slices.SortFunc(evs, func(a, b *store.Evidence) int { return cmp.Compare(a.ID, b.ID) })
	return evs
}

func testAttachEvidence(t *testing.T, s store.Store) {
	incs := createIncidents(t, s, 3)
	x, y := sha("x"), sha("y")
	putBlobs(t, s, &store.Blob{SHA256: x, Size: 10, CreatedAt: base}, &store.Blob{SHA256: y, Size: 20, CreatedAt: base})

	ev := func(incident, digest, name string, size int64, d time.Duration) *store.Evidence {
		return &store.Evidence{
			ID: newID(t), IncidentID: incident, SHA256: digest, Name: name, MediaType: "application/json",
			Size: size, Source: "gateway", CollectedBy: "alice", CollectedAt: at(d),
		}
	}
	e1 := ev(incs[0], x, "requests.jsonl", 10, time.Second+time.Microsecond)
	e2 := ev(incs[0], y, "weights.diff", 20, 2*time.Second)
	e3 := ev(incs[1], x, "requests (copy).jsonl", 10, 3*time.Second)
	e3.MediaType, e3.Source = "application/x-ndjson", ""
	update(t, s, func(tx store.Tx) error {
		for _, e := range []*store.Evidence{e1, e2, e3} {
			if err := tx.AttachEvidence(t.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})

	list := func(byBlob bool, key string) []*store.Evidence {
		t.Helper()
		var out []*store.Evidence
		view(t, s, func(tx store.Tx) (err error) {
			if byBlob {
				out, err = tx.ListEvidenceByBlob(t.Context(), key)
			} else {
				out, err = tx.ListEvidence(t.Context(), key)
			}
			return err
		})
		return sortEvidence(out)
	}
	deepEqual(t, "ListEvidence(first incident)", list(false, incs[0]), sortEvidence([]*store.Evidence{e1, e2}))
	deepEqual(t, "ListEvidence(second incident)", list(false, incs[1]), []*store.Evidence{e3})
	deepEqual(t, "ListEvidenceByBlob(x)", list(true, x), sortEvidence([]*store.Evidence{e1, e3}))
	deepEqual(t, "ListEvidenceByBlob(y)", list(true, y), []*store.Evidence{e2})
	if got := list(false, incs[2]); len(got) != 0 {
		t.Errorf("ListEvidence of an incident without evidence: %d items", len(got))
	}
	if got := list(true, sha("z")); len(got) != 0 {
		t.Errorf("ListEvidenceByBlob of an unknown digest: %d items", len(got))
	}
	for _, e := range list(false, incs[0]) {
		sameTime(t, "CollectedAt of "+e.Name, e.CollectedAt, map[string]time.Time{e1.ID: e1.CollectedAt, e2.ID: e2.CollectedAt}[e.ID])
	}
}

func testAttachEvidenceDuplicate(t *testing.T, s store.Store) {
	inc := createIncidents(t, s, 1)[0]
	digest := sha("x")
	putBlobs(t, s, &store.Blob{SHA256: digest, Size: 1, CreatedAt: base})
	e := &store.Evidence{ID: newID(t), IncidentID: inc, SHA256: digest, Name: "first", MediaType: "text/plain", Size: 1, CollectedBy: "a", CollectedAt: base}
	update(t, s, func(tx store.Tx) error { return tx.AttachEvidence(t.Context(), e) })

	dup := *e
	dup.Name = "second"
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.AttachEvidence(t.Context(), &dup) })
	wantErr(t, "AttachEvidence with a used id", err, store.ErrConflict)

	var got []*store.Evidence
	view(t, s, func(tx store.Tx) (err error) {
		got, err = tx.ListEvidence(t.Context(), inc)
		return err
	})
	deepEqual(t, "evidence after the refused duplicate", got, []*store.Evidence{e})
}

func testCustodyChain(t *testing.T, s store.Store) {
	a, b := sha("a"), sha("b")
	putBlobs(t, s, &store.Blob{SHA256: a, Size: 1, CreatedAt: base}, &store.Blob{SHA256: b, Size: 2, CreatedAt: base})
	if got := listCustody(t, s, a); len(got) != 0 {
		t.Errorf("custody of a new blob: %d entries", len(got))
	}

	c1 := custody(a, 1, "", "a1")
	c1.Action, c1.IncidentID, c1.Addr, c1.Detail = "collected", "", "", "" // the optional fields empty
	c2 := custody(a, 2, "a1", "a2")
	c3 := custody(a, 3, "a2", "a3")
	c3.Action, c3.Detail = "exported", "to case file 7, ünïcode"
	other := custody(b, 1, "", "b1")
	update(t, s, func(tx store.Tx) error {
		for _, c := range []*store.Custody{c1, c2, other} {
			if err := tx.AppendCustody(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.AppendCustody(t.Context(), c3) })

	got := listCustody(t, s, a)
	deepEqual(t, "ListCustody in seq order", got, []*store.Custody{c1, c2, c3})
	for i, c := range got {
		sameTime(t, fmt.Sprintf("custody %d At", i+1), c.At, []*store.Custody{c1, c2, c3}[i].At)
	}
	deepEqual(t, "ListCustody of the other blob", listCustody(t, s, b), []*store.Custody{other})
	if blob := getBlob(t, s, a); blob.CustodyLen != 3 || blob.CustodyHead != "a3" {
		t.Errorf("blob custody head = (%d, %q), want (3, \"a3\")", blob.CustodyLen, blob.CustodyHead)
	}
	if blob := getBlob(t, s, b); blob.CustodyLen != 1 || blob.CustodyHead != "b1" {
		t.Errorf("other blob custody head = (%d, %q), want (1, \"b1\")", blob.CustodyLen, blob.CustodyHead)
	}
}

func testCustodyConflicts(t *testing.T, s store.Store) {
	digest := sha("a")
	putBlobs(t, s, &store.Blob{SHA256: digest, Size: 1, CreatedAt: base})
	c1, c2 := custody(digest, 1, "", "h1"), custody(digest, 2, "h1", "h2")
	update(t, s, func(tx store.Tx) error {
		if err := tx.AppendCustody(t.Context(), c1); err != nil {
			return err
		}
		return tx.AppendCustody(t.Context(), c2)
	})
	for _, c := range []*store.Custody{
		custody(digest, 4, "h2", "x"), // skips a seq
		custody(digest, 2, "h1", "x"), // forks at an existing seq
		custody(digest, 3, "h1", "x"), // right seq, wrong prev
		custody(digest, 3, "", "x"),   // right seq, no prev
		custody(digest, 1, "", "x"),   // restarts the chain
	} {
		var aerr error
		update(t, s, func(tx store.Tx) error {
			aerr = tx.AppendCustody(t.Context(), c)
			return nil // commit whatever the refused append may have left
		})
		wantErr(t, fmt.Sprintf("AppendCustody seq %d after prev %q", c.Seq, c.PrevHash), aerr, store.ErrConflict)
	}
	if b := getBlob(t, s, digest); b.CustodyLen != 2 || b.CustodyHead != "h2" {
		t.Errorf("custody head after refused appends = (%d, %q), want (2, \"h2\")", b.CustodyLen, b.CustodyHead)
	}
	deepEqual(t, "custody after refused appends", listCustody(t, s, digest), []*store.Custody{c1, c2})

	c3 := custody(digest, 3, "h2", "h3")
	update(t, s, func(tx store.Tx) error { return tx.AppendCustody(t.Context(), c3) })
	deepEqual(t, "custody after a good append", listCustody(t, s, digest), []*store.Custody{c1, c2, c3})
}

func testCustodyUnknownBlob(t *testing.T, s store.Store) {
	digest := sha("never stored")
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.AppendCustody(t.Context(), custody(digest, 1, "", "h1")) })
	wantErr(t, "AppendCustody to an unknown blob", err, store.ErrNotFound)
	if got := listCustody(t, s, digest); len(got) != 0 {
		t.Errorf("custody of an unknown blob: %d entries", len(got))
	}
}
