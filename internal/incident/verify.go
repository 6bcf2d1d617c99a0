package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/airlock-ir/airlock/internal/store"
)

// Problem is one thing verification found wrong.
type Problem struct {
	Incident string `json:"incident,omitempty"`
	Seq      int64  `json:"seq,omitempty"`    // timeline entry
	SHA256   string `json:"sha256,omitempty"` // evidence blob
	Message  string `json:"message"`
}

func (p Problem) String() string {
	where := ""
	switch {
	case p.Incident != "" && p.Seq != 0:
		where = fmt.Sprintf("incident %s, timeline entry %d: ", p.Incident, p.Seq)
	case p.Incident != "" && p.SHA256 != "":
		where = fmt.Sprintf("incident %s, evidence %s: ", p.Incident, p.SHA256)
	case p.Incident != "":
		where = fmt.Sprintf("incident %s: ", p.Incident)
	case p.SHA256 != "":
		where = fmt.Sprintf("evidence %s: ", p.SHA256)
	}
	return where + p.Message
}

// Report is the result of a verification.
type Report struct {
	OK        bool      `json:"ok"`
	Incidents int       `json:"incidents"`
	Entries   int64     `json:"entries"`
	Blobs     int       `json:"blobs"`
	Problems  []Problem `json:"problems"`
}

func (r *Report) add(p Problem) { r.Problems = append(r.Problems, p) }

// Verify re-checks one incident: its timeline chain, that the incident
// record matches the state the chain last recorded, and every evidence file
// attached to it.
func (s *Service) Verify(ctx context.Context, id string) (*Report, error) {
	r := &Report{Problems: []Problem{}}
	err := s.st.View(ctx, func(tx store.Tx) error {
		checked := map[string]bool{}
		return s.verifyIncident(ctx, tx, id, r, checked)
	})
	if err != nil {
		return nil, err
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

// VerifyAll re-checks every incident and every evidence blob, attached or not.
func (s *Service) VerifyAll(ctx context.Context) (*Report, error) {
	r := &Report{Problems: []Problem{}}
	err := s.st.View(ctx, func(tx store.Tx) error {
		ids, err := tx.ListIncidentIDs(ctx)
		if err != nil {
			return err
		}
		checked := map[string]bool{}
		for _, id := range ids {
			if err := s.verifyIncident(ctx, tx, id, r, checked); err != nil {
				return err
			}
		}
		blobs, err := tx.ListBlobs(ctx)
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if !checked[b.SHA256] {
				if err := s.verifyBlob(ctx, tx, "", b, r); err != nil {
					return err
				}
				checked[b.SHA256] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

func (s *Service) verifyIncident(ctx context.Context, tx store.Tx, id string, r *Report, checked map[string]bool) error {
	inc, err := tx.GetIncident(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		// A record that no longer decodes was altered.
		r.add(Problem{Incident: id, Message: fmt.Sprintf("record cannot be read: %v", err)})
		return nil
	}
	r.Incidents++
	entries, err := tx.ListTimeline(ctx, id, 0, 0)
	if err != nil {
		return err
	}
	r.Entries += int64(len(entries))
	prev := ""
	state := ""
	attachments := map[string]map[string]any{}
	for i, e := range entries {
		want := int64(i + 1)
		if e.Seq != want {
			r.add(Problem{Incident: id, Seq: e.Seq, Message: fmt.Sprintf("out of sequence: expected entry %d here (entries removed or reordered)", want)})
		}
		if e.PrevHash != prev {
			r.add(Problem{Incident: id, Seq: e.Seq, Message: "does not link to the entry before it (entries removed, inserted or reordered)"})
		}
		if timelineHash(e) != e.Hash {
			r.add(Problem{Incident: id, Seq: e.Seq, Message: "content does not match its hash (entry altered)"})
		}
		var body map[string]any
		if err := json.Unmarshal(e.Body, &body); err != nil {
			r.add(Problem{Incident: id, Seq: e.Seq, Message: "body is not valid JSON (entry altered)"})
		}
		if d, ok := body["state_sha256"].(string); ok {
			state = d
		}
		if e.Kind == KindEvidenceAttached {
			if evID, ok := body["evidence"].(string); ok {
				attachments[evID] = body
			}
		}
		prev = e.Hash
	}
	if int64(len(entries)) != inc.TimelineLen || prev != inc.TimelineHead {
		r.add(Problem{Incident: id, Message: fmt.Sprintf("timeline has %d entries ending in %.12s, but the incident's head records %d ending in %.12s (entries removed or added)",
			len(entries), prev, inc.TimelineLen, inc.TimelineHead)})
	}
	if state == "" {
		r.add(Problem{Incident: id, Message: "timeline records no state of the incident"})
	} else if stateDigest(inc) != state {
		r.add(Problem{Incident: id, Message: "incident record does not match the state its timeline last recorded (record altered)"})
	}

	evs, err := tx.ListEvidence(ctx, id)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		rec, ok := attachments[ev.ID]
		if !ok {
			r.add(Problem{Incident: id, SHA256: ev.SHA256, Message: fmt.Sprintf("attachment %s is not on the timeline (added outside Airlock)", ev.ID)})
		} else {
			want, _ := json.Marshal(evidenceBody(ev))
			var wantMap map[string]any
			json.Unmarshal(want, &wantMap)
			for k, v := range wantMap {
				if fmt.Sprint(rec[k]) != fmt.Sprint(v) {
					r.add(Problem{Incident: id, SHA256: ev.SHA256, Message: fmt.Sprintf("attachment %s: %s differs from what the timeline recorded (metadata altered)", ev.ID, k)})
				}
			}
			delete(attachments, ev.ID)
		}
		if checked[ev.SHA256] {
			continue
		}
		checked[ev.SHA256] = true
		b, err := tx.GetBlob(ctx, ev.SHA256)
		if err != nil {
			r.add(Problem{Incident: id, SHA256: ev.SHA256, Message: fmt.Sprintf("blob record missing: %v", err)})
			continue
		}
		if err := s.verifyBlob(ctx, tx, id, b, r); err != nil {
			return err
		}
	}
	for evID, rec := range attachments {
		r.add(Problem{Incident: id, SHA256: fmt.Sprint(rec["sha256"]), Message: fmt.Sprintf("attachment %s is on the timeline but its record is gone (evidence removed)", evID)})
	}
	return nil
}

func (s *Service) verifyBlob(ctx context.Context, tx store.Tx, incidentID string, b *store.Blob, r *Report) error {
	r.Blobs++
	add := func(msg string) { r.add(Problem{Incident: incidentID, SHA256: b.SHA256, Message: msg}) }
	if !ValidDigest(b.SHA256) {
		add("digest is malformed (record altered)")
		return nil
	}
	sum, size, err := s.blobs.Hash(b.SHA256)
	switch {
	case errors.Is(err, os.ErrNotExist):
		add("file is missing (evidence removed)")
	case err != nil:
		add(fmt.Sprintf("file cannot be read: %v", err))
	case sum != b.SHA256:
		add(fmt.Sprintf("file content hashes to %s (evidence altered)", sum))
	case size != b.Size:
		add(fmt.Sprintf("file is %d bytes, recorded as %d", size, b.Size))
	}
	cs, err := tx.ListCustody(ctx, b.SHA256)
	if err != nil {
		return err
	}
	prev := ""
	for i, c := range cs {
		if c.Seq != int64(i+1) || c.PrevHash != prev {
			add(fmt.Sprintf("custody entry %d does not link to the one before it (custody removed or reordered)", c.Seq))
		}
		if custodyHash(c) != c.Hash {
			add(fmt.Sprintf("custody entry %d does not match its hash (custody altered)", c.Seq))
		}
		prev = c.Hash
	}
	if int64(len(cs)) != b.CustodyLen || prev != b.CustodyHead {
		add(fmt.Sprintf("custody has %d entries, its head records %d (custody removed or added)", len(cs), b.CustodyLen))
	}
	return nil
}
