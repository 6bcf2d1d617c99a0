package incident_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

func refs(inc *incident.Incident) []string {
	var out []string
	for _, c := range inc.Containment {
		out = append(out, c.Ref)
	}
	return out
}

func TestAppendContainment(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID

	since := e.clock.Advance(time.Minute)
	en := e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "blocked key k_3f9a", Ref: "block-1"})
	if en.Kind != incident.KindContainment || en.Seq != 2 || en.Actor != alice.Name || !en.At.Equal(since) {
		t.Errorf("entry = %+v", en)
	}
	var body map[string]any
	json.Unmarshal(en.Body, &body)
	if body["text"] != "blocked key k_3f9a" || body["ref"] != "block-1" || body["state_sha256"] == nil {
		t.Errorf("containment body = %s; want text, ref and the state digest", en.Body)
	}
	inc := e.get(t, id)
	if len(inc.Containment) != 1 {
		t.Fatalf("Containment = %+v, want one measure", inc.Containment)
	}
	c := inc.Containment[0]
	if c.Ref != "block-1" || c.Summary != "blocked key k_3f9a" || c.By != alice.Name || !c.Since.Equal(since) {
		t.Errorf("measure = %+v", c)
	}
	e.verifyOK(t, id)

	e.clock.Advance(time.Minute)
	e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "filter DAN prompts", Ref: "filter-2"})
	// No ref: Airlock names the measure after its timeline entry.
	auto := e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "disabled the plugin by hand"})
	wantAuto := fmt.Sprintf("manual-%d", auto.Seq)
	if got := refs(e.get(t, id)); !slices.Equal(got, []string{"block-1", "filter-2", wantAuto}) {
		t.Errorf("refs = %v", got)
	}
	e.verifyOK(t, id)

	// Lifting the middle one keeps the others in order.
	e.append(t, id, incident.Entry{Kind: incident.KindContainmentLifted, Text: "filter replaced by a model fix", Ref: "filter-2"})
	if got := refs(e.get(t, id)); !slices.Equal(got, []string{"block-1", wantAuto}) {
		t.Errorf("refs after lifting filter-2 = %v", got)
	}
	e.append(t, id, incident.Entry{Kind: incident.KindContainmentLifted, Text: "plugin back", Ref: wantAuto})
	e.append(t, id, incident.Entry{Kind: incident.KindContainmentLifted, Text: "key unblocked", Ref: "block-1"})
	inc = e.get(t, id)
	if inc.Containment == nil || len(inc.Containment) != 0 {
		t.Errorf("Containment = %#v, want empty", inc.Containment)
	}
	e.verifyOK(t, id)

	// A lifted measure may be put back in force.
	e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "blocked again", Ref: "block-1"})
	if got := refs(e.get(t, id)); !slices.Equal(got, []string{"block-1"}) {
		t.Errorf("refs = %v", got)
	}
	e.verifyOK(t, id)
}

func TestAppendRefused(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID
	e.append(t, id, incident.Entry{Kind: incident.KindContainment, Text: "blocked", Ref: "block-1"})

	for _, tc := range []struct {
		name string
		en   incident.Entry
		want []string
	}{
		{"lift an unknown ref", incident.Entry{Kind: incident.KindContainmentLifted, Text: "x", Ref: "block-9"}, []string{`no containment "block-9" is in force`}},
		{"lift without a ref", incident.Entry{Kind: incident.KindContainmentLifted, Text: "x"}, []string{"ref: required"}},
		{"duplicate ref", incident.Entry{Kind: incident.KindContainment, Text: "again", Ref: "block-1"}, []string{`containment "block-1" is already in force`}},
		{"unknown kind", incident.Entry{Kind: "phase_changed", Text: "forged"}, append([]string{`kind: "phase_changed" is not one of`}, incident.PostableKinds...)},
		{"empty kind", incident.Entry{Text: "x"}, []string{`kind: "" is not one of note, action, communication, containment, containment_lifted`}},
		{"empty text", incident.Entry{Kind: incident.KindNote, Text: "  "}, []string{"text: required"}},
		{"control characters", incident.Entry{Kind: incident.KindNote, Text: "a\x1bb"}, []string{"text: contains control characters"}},
		{"invalid UTF-8", incident.Entry{Kind: incident.KindNote, Text: "\xc3\x28"}, []string{"text: not valid UTF-8"}},
		{"too long", incident.Entry{Kind: incident.KindNote, Text: strings.Repeat("x", 64<<10+1)}, []string{"text: 65537 bytes"}},
		{"multi-line ref", incident.Entry{Kind: incident.KindContainment, Text: "x", Ref: "a\nb"}, []string{"ref: must be one line"}},
		{"every problem at once", incident.Entry{Kind: "bogus", Text: "", Ref: "a\tb"}, []string{"kind:", "text: required", "ref: must be one line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.get(t, id)
			auditBefore := len(e.audit(t))
			en, err := e.svc.Append(e.ctx, alice, id, tc.en)
			if en != nil {
				t.Errorf("Append returned an entry with an error: %+v", en)
			}
			containsAll(t, "problems", asValidation(t, err), tc.want)
			after := e.get(t, id)
			if after.TimelineLen != before.TimelineLen || after.Version != before.Version || !slices.Equal(refs(after), refs(before)) {
				t.Errorf("refused Append changed the incident")
			}
			if n := len(e.audit(t)); n != auditBefore {
				t.Errorf("refused Append wrote %d audit entries", n-auditBefore)
			}
		})
	}
	e.verifyOK(t, id)

	if _, err := e.svc.Append(e.ctx, alice, "01900000-0000-7000-8000-000000000000", incident.Entry{Kind: incident.KindNote, Text: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Append to an unknown incident: err = %v, want store.ErrNotFound", err)
	}
	if _, err := e.svc.Timeline(e.ctx, "01900000-0000-7000-8000-000000000000", 0, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Timeline of an unknown incident: err = %v, want store.ErrNotFound", err)
	}
}

func TestTimelineChainAndPaging(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID
	kinds := []string{incident.KindNote, incident.KindAction, incident.KindCommunication, incident.KindNote}
	for i, k := range kinds {
		e.clock.Advance(time.Second)
		e.append(t, id, incident.Entry{Kind: k, Text: fmt.Sprintf("entry %d", i)})
	}
	tl := e.timeline(t, id)
	if len(tl) != 1+len(kinds) {
		t.Fatalf("timeline has %d entries", len(tl))
	}
	prev := ""
	for i, en := range tl {
		if en.Seq != int64(i+1) || en.PrevHash != prev || en.Hash == "" || en.IncidentID != id {
			t.Errorf("entry %d: seq %d prev %.8s hash %.8s, want seq %d prev %.8s", i, en.Seq, en.PrevHash, en.Hash, i+1, prev)
		}
		if i > 0 && en.Kind != kinds[i-1] {
			t.Errorf("entry %d kind %s, want %s", i, en.Kind, kinds[i-1])
		}
		prev = en.Hash
	}
	if inc := e.get(t, id); inc.TimelineLen != int64(len(tl)) || inc.TimelineHead != prev {
		t.Errorf("head = %d/%.8s, want %d/%.8s", inc.TimelineLen, inc.TimelineHead, len(tl), prev)
	}
	page, err := e.svc.Timeline(e.ctx, id, 2, 2)
	if err != nil || len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("Timeline(after 2, limit 2) = %v entries, %v", len(page), err)
	}
	e.verifyOK(t, id)
}

func TestConcurrentAppends(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, basic()).ID
	const n = 20
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		errs      []error
	)
	for i := range n {
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				_, err := e.svc.Append(e.ctx, alice, id, incident.Entry{Kind: incident.KindNote, Text: fmt.Sprintf("note %d", i)})
				if errors.Is(err, store.ErrConflict) && attempt < 10 {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				return
			}
		})
		if i%5 == 0 {
			e.clock.Advance(time.Millisecond)
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("Append: %v", err)
	}
	if conflicts > 0 {
		// The store serialises writers, so a conflict here means it no
		// longer does: worth knowing even though a retry covers it.
		t.Errorf("%d appends hit store.ErrConflict and had to be retried", conflicts)
	}
	tl := e.timeline(t, id)
	if len(tl) != n+1 {
		t.Fatalf("timeline has %d entries, want %d", len(tl), n+1)
	}
	seen := map[string]bool{}
	for _, en := range tl[1:] {
		var b struct{ Text string }
		json.Unmarshal(en.Body, &b)
		if seen[b.Text] {
			t.Errorf("%q recorded twice", b.Text)
		}
		seen[b.Text] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct notes, want %d", len(seen), n)
	}
	if got := e.get(t, id).TimelineLen; got != n+1 {
		t.Errorf("TimelineLen = %d, want %d", got, n+1)
	}
	r, err := e.svc.Verify(e.ctx, id)
	if err != nil || !r.OK || r.Entries != n+1 {
		t.Fatalf("Verify = %+v, %v", r, err)
	}
	e.verifyOK(t, id)
	audit := 0
	for _, a := range e.audit(t) {
		if a.Action == "incident.timeline.note" {
			audit++
		}
	}
	if audit != n {
		t.Errorf("%d note audit entries, want %d", audit, n)
	}
}

// Concurrent writers of the whole incident: with the same If-Match version
// exactly one wins, the others learn that their copy is stale.
func TestConcurrentUpdatesWithIfMatch(t *testing.T) {
	e := newEnv(t)
	inc := e.create(t, basic())
	const n = 10
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, results[i] = e.svc.Update(e.ctx, alice, inc.ID, inc.Version, incident.Patch{Summary: ptr(fmt.Sprintf("summary %d", i))})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case errors.Is(err, incident.ErrPrecondition):
		default:
			t.Errorf("Update: %v, want nil or ErrPrecondition", err)
		}
	}
	if won != 1 {
		t.Errorf("%d updates won, want exactly 1", won)
	}
	got := e.get(t, inc.ID)
	if got.Version != inc.Version+1 || got.TimelineLen != 2 {
		t.Errorf("version %d timeline %d, want %d and 2", got.Version, got.TimelineLen, inc.Version+1)
	}
	e.verifyOK(t, inc.ID)
}
