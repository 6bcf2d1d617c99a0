// Package detecttest holds what detector tests share: a sink that records
// alerts, a check that an alert is complete and consistent with the
// incident taxonomy, and the words generated traffic is made of. It is
// imported only by tests and benchmarks (bench/detect).
package detecttest

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Recorder is a Sink that keeps every alert. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	Alerts []event.Alert
}

// Raise records a.
func (r *Recorder) Raise(a event.Alert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Alerts = append(r.Alerts, a)
}

// Rule returns the alerts with the given rule.
func (r *Recorder) Rule(rule string) []event.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Alert
	for _, a := range r.Alerts {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

// Rules lists the distinct rules raised, in order of first appearance.
func (r *Recorder) Rules() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.Alerts {
		if !slices.Contains(out, a.Rule) {
			out = append(out, a.Rule)
		}
	}
	return out
}

// Reset forgets the alerts recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Alerts = nil
}

// CheckAlert reports every way a detector's alert falls short: a missing
// detector, rule, summary, fingerprint or evidence; an incident type that is
// not in the taxonomy; an ATLAS technique that the type does not map to; a
// severity or confidence out of range; an invalid entity; an excerpt that is
// too long or not valid UTF-8.
func CheckAlert(t testing.TB, a event.Alert) {
	t.Helper()
	where := a.Detector + "/" + a.Rule
	if a.Detector == "" || a.Rule == "" {
		t.Errorf("%s: detector and rule must be set", where)
	}
	if strings.TrimSpace(a.Summary) == "" {
		t.Errorf("%s: empty summary", where)
	}
	if a.Fingerprint == "" {
		t.Errorf("%s: no fingerprint", where)
	}
	typ, err := taxonomy.LookupType(a.Type)
	if err != nil {
		t.Errorf("%s: %v", where, err)
	} else {
		for _, id := range a.ATLAS {
			if !slices.ContainsFunc(typ.ATLAS, func(tq taxonomy.Technique) bool { return tq.ID == id }) {
				t.Errorf("%s: ATLAS %s is not one of type %s's techniques", where, id, a.Type)
			}
		}
	}
	if len(a.ATLAS) == 0 && a.Rule != "detector_failed" {
		t.Errorf("%s: no ATLAS technique", where)
	}
	if !a.Severity.Valid() {
		t.Errorf("%s: invalid severity %d", where, a.Severity)
	}
	if a.Confidence <= 0 || a.Confidence > 1 {
		t.Errorf("%s: confidence %v out of (0, 1]", where, a.Confidence)
	}
	if len(a.Entities) == 0 {
		t.Errorf("%s: no entities", where)
	}
	for _, e := range a.Entities {
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}
	if len(a.Evidence.EventIDs) == 0 {
		t.Errorf("%s: no evidence event ids", where)
	}
	for _, id := range a.Evidence.EventIDs {
		if id == "" {
			t.Errorf("%s: empty evidence event id", where)
		}
	}
	if len(a.Evidence.Excerpt) > 400 || !utf8.ValidString(a.Evidence.Excerpt) {
		t.Errorf("%s: excerpt of %d bytes, valid UTF-8 %v", where, len(a.Evidence.Excerpt), utf8.ValidString(a.Evidence.Excerpt))
	}
}
