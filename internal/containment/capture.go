package containment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
)

// maxCaptureBatch bounds one evidence file of captured traffic.
const maxCaptureBatch = 8 << 20

// RecordCaptures keeps the traffic that capture actions select as evidence
// on their incidents: events carrying text are batched per incident and
// attached as a JSON-lines file every interval, and once more when events
// closes. Captures for actions that name no incident stay in the event log
// only.
func (s *Service) RecordCaptures(ctx context.Context, events <-chan event.Event, every time.Duration) {
	batches := map[string]*bytes.Buffer{}
	counts := map[string]int{}
	flush := func() {
		for incidentID, buf := range batches {
			if buf.Len() == 0 {
				continue
			}
			name := fmt.Sprintf("captured-traffic-%s.jsonl", s.now().UTC().Format("20060102T150405.000Z"))
			a := incident.Actor{Name: "airlock (capture)", Role: "system", Addr: "local"}
			_, err := s.inc.AttachEvidence(ctx, a, incidentID, incident.EvidenceInput{
				Name: name, MediaType: "application/x-ndjson", Source: fmt.Sprintf("gateway capture, %d requests", counts[incidentID]),
				MaxBytes: maxCaptureBatch + 1<<20,
			}, bytes.NewReader(buf.Bytes()))
			if err != nil {
				s.log.Error("captured traffic not kept as evidence", "incident", incidentID, "err", err)
			}
			delete(batches, incidentID)
			delete(counts, incidentID)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				flush()
				return
			}
			if ev.Captured == "" {
				continue
			}
			incidentID := s.incidentOf(ev.Captured)
			if incidentID == "" {
				continue
			}
			buf := batches[incidentID]
			if buf == nil {
				buf = new(bytes.Buffer)
				batches[incidentID] = buf
			}
			b, _ := json.Marshal(ev)
			buf.Write(append(b, '\n'))
			counts[incidentID]++
			if buf.Len() >= maxCaptureBatch {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// incidentOf is the incident a policy action names, if it is in force.
func (s *Service) incidentOf(actionID string) string {
	for _, a := range s.holder.Load().Policy().Actions {
		if a.ID == actionID {
			return a.Incident
		}
	}
	return ""
}
