package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

var timelineTests = []subtest{
	{"AppendAndList", testTimelineAppendAndList},
	{"BodyBytesExact", testTimelineBodyBytes},
	{"LastWhenEmpty", testTimelineLastEmpty},
	{"AppendOutOfChain", testTimelineConflicts},
	{"AppendUnknownIncident", testTimelineUnknownIncident},
	{"ChainsPerIncident", testTimelinePerIncident},
	{"UpdateIncidentKeepsHead", testTimelineHeadSurvivesUpdate},
}

// sha is a real-looking SHA-256 digest, in hex, for test content s.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// entry is timeline entry seq of an incident, chained after prev. The store
// does not compute hashes, so any distinct strings serve.
func entry(incidentID string, seq int64, prev, hash string) *store.TimelineEntry {
	return &store.TimelineEntry{
		IncidentID: incidentID,
		Seq:        seq,
		At:         at(time.Duration(seq)*time.Second + time.Duration(seq)*time.Microsecond),
		Actor:      "alice",
		Kind:       "note",
		Body:       json.RawMessage(fmt.Sprintf(`{"seq":%d}`, seq)),
		PrevHash:   prev,
		Hash:       hash,
	}
}

// appendChain appends n entries after the incident's current head (len
// entries, last hash prev), with hashes "<id>/1", "<id>/2", ...
func appendChain(t *testing.T, s store.Store, incidentID string, from int64, prev string, n int) []*store.TimelineEntry {
	t.Helper()
	var out []*store.TimelineEntry
	update(t, s, func(tx store.Tx) error {
		for i := range int64(n) {
			seq := from + i + 1
			e := entry(incidentID, seq, prev, fmt.Sprintf("%s/%d", incidentID, seq))
			if err := tx.AppendTimeline(t.Context(), e); err != nil {
				return fmt.Errorf("append %d: %w", seq, err)
			}
			out = append(out, e)
			prev = e.Hash
		}
		return nil
	})
	return out
}

func listTimeline(t *testing.T, s store.Store, id string, after int64, limit int) []*store.TimelineEntry {
	t.Helper()
	var out []*store.TimelineEntry
	view(t, s, func(tx store.Tx) (err error) {
		out, err = tx.ListTimeline(t.Context(), id, after, limit)
		return err
	})
	return out
}

func checkHead(t *testing.T, s store.Store, id string, wantLen int64, wantHead string) {
	t.Helper()
	inc := getIncident(t, s, id)
	if inc.TimelineLen != wantLen || inc.TimelineHead != wantHead {
		t.Errorf("incident timeline head = (%d, %q), want (%d, %q)", inc.TimelineLen, inc.TimelineHead, wantLen, wantHead)
	}
}

func testTimelineAppendAndList(t *testing.T, s store.Store) {
	id := createIncidents(t, s, 1)[0]
	es := appendChain(t, s, id, 0, "", 5)
	checkHead(t, s, id, 5, es[4].Hash)

	var last *store.TimelineEntry
	view(t, s, func(tx store.Tx) (err error) {
		last, err = tx.LastTimelineEntry(t.Context(), id)
		return err
	})
	deepEqual(t, "LastTimelineEntry", last, es[4])

	deepEqual(t, "ListTimeline(0, 0)", listTimeline(t, s, id, 0, 0), es)
	deepEqual(t, "ListTimeline(2, 0)", listTimeline(t, s, id, 2, 0), es[2:])
	deepEqual(t, "ListTimeline(1, 2)", listTimeline(t, s, id, 1, 2), es[1:3])
	deepEqual(t, "ListTimeline(0, 10)", listTimeline(t, s, id, 0, 10), es)
	if got := listTimeline(t, s, id, 5, 0); len(got) != 0 {
		t.Errorf("ListTimeline after the last entry returned %d entries", len(got))
	}
	for i, e := range listTimeline(t, s, id, 0, 0) {
		sameTime(t, fmt.Sprintf("entry %d At", i+1), e.At, es[i].At)
	}

	// The chain goes on from the head it now has, in a later transaction.
	more := appendChain(t, s, id, 5, es[4].Hash, 1)
	checkHead(t, s, id, 6, more[0].Hash)
}

func testTimelineBodyBytes(t *testing.T, s store.Store) {
	id := createIncidents(t, s, 1)[0]
	bodies := []string{
		`{"b":1,"a":2}`,
		`{ "z" : [1, 2.50, 1e3, "x"] ,"a":null,  "a2":{} }`,
		`{"text":"ünïcode \u00e9 \"quoted\" <tag> &amp;","n":12345678901234567890}`,
		`[]`,
		`{"nested":{"y":true,"x":false}}` + "\n",
	}
	prev := ""
	update(t, s, func(tx store.Tx) error {
		for i, b := range bodies {
			e := entry(id, int64(i+1), prev, sha(b))
			e.Body = json.RawMessage(b)
			if err := tx.AppendTimeline(t.Context(), e); err != nil {
				return err
			}
			prev = e.Hash
		}
		return nil
	})
	for i, e := range listTimeline(t, s, id, 0, 0) {
		if string(e.Body) != bodies[i] {
			t.Errorf("entry %d body = %q, want the exact bytes %q", i+1, e.Body, bodies[i])
		}
		if e.Hash != sha(bodies[i]) {
			t.Errorf("entry %d hash = %q, want %q", i+1, e.Hash, sha(bodies[i]))
		}
	}
}

func testTimelineLastEmpty(t *testing.T, s store.Store) {
	id := createIncidents(t, s, 1)[0]
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.LastTimelineEntry(t.Context(), id)
		return err
	})
	wantErr(t, "LastTimelineEntry of an empty timeline", err, store.ErrNotFound)
	err = s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.LastTimelineEntry(t.Context(), newID(t))
		return err
	})
	wantErr(t, "LastTimelineEntry of an unknown incident", err, store.ErrNotFound)
	if got := listTimeline(t, s, id, 0, 0); len(got) != 0 {
		t.Errorf("ListTimeline of an empty timeline returned %d entries", len(got))
	}
}

func testTimelineConflicts(t *testing.T, s store.Store) {
	id := createIncidents(t, s, 1)[0]

	// The first entry must be seq 1 with an empty PrevHash.
	for _, e := range []*store.TimelineEntry{entry(id, 2, "", "x"), entry(id, 0, "", "x"), entry(id, 1, "nothing", "x")} {
		var aerr error
		update(t, s, func(tx store.Tx) error {
			aerr = tx.AppendTimeline(t.Context(), e)
			return nil // commit whatever the refused append may have left
		})
		wantErr(t, fmt.Sprintf("first append with seq %d, prev %q", e.Seq, e.PrevHash), aerr, store.ErrConflict)
	}
	checkHead(t, s, id, 0, "")

	es := appendChain(t, s, id, 0, "", 2)
	head := es[1].Hash
	for _, e := range []*store.TimelineEntry{
		entry(id, 4, head, "x"),       // skips a seq
		entry(id, 2, es[0].Hash, "x"), // forks the chain at an existing seq
		entry(id, 3, es[0].Hash, "x"), // right seq, wrong prev
		entry(id, 3, "", "x"),         // right seq, no prev
		entry(id, 1, "", "x"),         // restarts the chain
	} {
		var aerr error
		update(t, s, func(tx store.Tx) error {
			aerr = tx.AppendTimeline(t.Context(), e)
			return nil
		})
		wantErr(t, fmt.Sprintf("append seq %d after prev %q", e.Seq, e.PrevHash), aerr, store.ErrConflict)
	}
	checkHead(t, s, id, 2, head)
	deepEqual(t, "timeline after refused appends", listTimeline(t, s, id, 0, 0), es)

	// The refused appends did not poison the chain.
	more := appendChain(t, s, id, 2, head, 1)
	checkHead(t, s, id, 3, more[0].Hash)
}

func testTimelineUnknownIncident(t *testing.T, s store.Store) {
	id := newID(t)
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.AppendTimeline(t.Context(), entry(id, 1, "", "h1")) })
	wantErr(t, "AppendTimeline to an unknown incident", err, store.ErrNotFound)
	if got := listTimeline(t, s, id, 0, 0); len(got) != 0 {
		t.Errorf("timeline of an unknown incident has %d entries", len(got))
	}
}

func testTimelinePerIncident(t *testing.T, s store.Store) {
	ids := createIncidents(t, s, 2)
	a := appendChain(t, s, ids[0], 0, "", 3)
	b := appendChain(t, s, ids[1], 0, "", 1)
	checkHead(t, s, ids[0], 3, a[2].Hash)
	checkHead(t, s, ids[1], 1, b[0].Hash)
	deepEqual(t, "first incident's timeline", listTimeline(t, s, ids[0], 0, 0), a)
	deepEqual(t, "second incident's timeline", listTimeline(t, s, ids[1], 0, 0), b)
}

// The timeline head is moved by AppendTimeline alone: an incident read
// before an append and saved after it must not roll the head back, or
// trailing entries could be removed unnoticed.
func testTimelineHeadSurvivesUpdate(t *testing.T, s store.Store) {
	inc := newIncident(newID(t), taxonomy.PhaseDetection, "jailbreak", event.SeverityLow)
	update(t, s, func(tx store.Tx) error { return tx.CreateIncident(t.Context(), inc) })
	before := getIncident(t, s, inc.ID)
	es := appendChain(t, s, inc.ID, 0, "", 2)

	before.Title = "saved after the append"
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), before) })
	if err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatalf("UpdateIncident: %v", err)
	}
	checkHead(t, s, inc.ID, 2, es[1].Hash)
	deepEqual(t, "timeline", listTimeline(t, s, inc.ID, 0, 0), es)

	// Updating the current record keeps the head too.
	cur := getIncident(t, s, inc.ID)
	cur.Title = "saved again"
	update(t, s, func(tx store.Tx) error { return tx.UpdateIncident(t.Context(), cur) })
	checkHead(t, s, inc.ID, 2, es[1].Hash)
	if cur.TimelineLen != 2 || cur.TimelineHead != es[1].Hash {
		t.Errorf("GetIncident after appends: head (%d, %q), want (2, %q)", cur.TimelineLen, cur.TimelineHead, es[1].Hash)
	}
}
