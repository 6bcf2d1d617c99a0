package incident_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

func TestPriorityFor(t *testing.T) {
	for _, tc := range []struct {
		sev  event.Severity
		want int
	}{
		{event.SeverityCritical, 1},
		{event.SeverityHigh, 2},
		{event.SeverityMedium, 3},
		{event.SeverityLow, 4},
		{0, 4},
		{99, 4},
	} {
		if got := incident.PriorityFor(tc.sev); got != tc.want {
			t.Errorf("PriorityFor(%v) = %d, want %d", tc.sev, got, tc.want)
		}
	}
}

func TestCreateDefaults(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Stored()
	past := clockStart.Add(-3 * time.Hour)
	earlier := clockStart.Add(-5 * time.Hour)
	norm := func(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

	for _, tc := range []struct {
		name         string
		in           incident.NewIncident
		wantPriority int
		wantATLAS    []string // nil: the type's techniques
		wantDetected time.Time
		wantStarted  *time.Time
		wantAck      bool
	}{
		{
			name:         "critical without owner",
			in:           incident.NewIncident{Title: "Weights changed", Type: "weight_manipulation", Severity: event.SeverityCritical},
			wantPriority: 1, wantDetected: now,
		},
		{
			name:         "high with owner is acknowledged",
			in:           incident.NewIncident{Title: "Jailbreak", Type: "jailbreak", Severity: event.SeverityHigh, Owner: "alice"},
			wantPriority: 2, wantDetected: now, wantAck: true,
		},
		{
			name:         "medium keeps explicit techniques",
			in:           incident.NewIncident{Title: "Extraction", Type: "model_extraction", Severity: event.SeverityMedium, ATLAS: []string{"AML.T0051.000"}},
			wantPriority: 3, wantATLAS: []string{"AML.T0051.000"}, wantDetected: now,
		},
		{
			name: "low with explicit priority and past milestones",
			in: incident.NewIncident{Title: "  Poisoned rows  ", Type: "training_data_poisoning", Severity: event.SeverityLow,
				Priority: 2, Started: &earlier, Detected: &past},
			wantPriority: 2, wantDetected: norm(past), wantStarted: ptr(norm(earlier)),
		},
		{
			name:         "blank owner is not an acknowledgement",
			in:           incident.NewIncident{Title: "Backdoor", Type: "model_backdoor", Severity: event.SeverityLow, Owner: "   "},
			wantPriority: 4, wantDetected: now,
		},
		{
			name:         "title of exactly the maximum length",
			in:           incident.NewIncident{Title: strings.Repeat("é", 100), Type: "jailbreak", Severity: event.SeverityLow},
			wantPriority: 4, wantDetected: now,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inc, err := e.svc.Create(e.ctx, alice, tc.in)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			typ, err := taxonomy.LookupType(tc.in.Type)
			if err != nil {
				t.Fatal(err)
			}
			if inc.ID == "" {
				t.Error("no ID")
			}
			if inc.Title != strings.TrimSpace(tc.in.Title) {
				t.Errorf("Title = %q, want it trimmed", inc.Title)
			}
			if inc.Phase != taxonomy.PhaseDetection {
				t.Errorf("Phase = %q, want detection", inc.Phase)
			}
			if inc.Type != typ.ID || inc.Category != typ.Category {
				t.Errorf("Type, Category = %q, %q; want %q, %q", inc.Type, inc.Category, typ.ID, typ.Category)
			}
			wantATLAS := tc.wantATLAS
			if wantATLAS == nil {
				for _, tech := range typ.ATLAS {
					wantATLAS = append(wantATLAS, tech.ID)
				}
			}
			if len(wantATLAS) == 0 {
				t.Fatalf("type %s has no techniques: test is vacuous", typ.ID)
			}
			if !slices.Equal(inc.ATLAS, wantATLAS) {
				t.Errorf("ATLAS = %v, want %v", inc.ATLAS, wantATLAS)
			}
			if inc.Priority != tc.wantPriority {
				t.Errorf("Priority = %d, want %d", inc.Priority, tc.wantPriority)
			}
			m := inc.Milestones
			if !timeEq(m.Detected, tc.wantDetected) || m.Detected.Location() != time.UTC {
				t.Errorf("Detected = %s, want %s in UTC", fmtOpt(m.Detected), tc.wantDetected.Format(time.RFC3339Nano))
			}
			if (tc.wantStarted == nil) != (m.Started == nil) || (tc.wantStarted != nil && !m.Started.Equal(*tc.wantStarted)) {
				t.Errorf("Started = %s, want %s", fmtOpt(m.Started), fmtOpt(tc.wantStarted))
			}
			if tc.wantAck {
				if !timeEq(m.Acknowledged, now) {
					t.Errorf("Acknowledged = %s, want %s", fmtOpt(m.Acknowledged), now.Format(time.RFC3339Nano))
				}
			} else if m.Acknowledged != nil {
				t.Errorf("Acknowledged = %s, want unset without an owner", fmtOpt(m.Acknowledged))
			}
			for name, p := range map[string]*time.Time{"contained": m.Contained, "eradicated": m.Eradicated, "recovered": m.Recovered, "closed": m.Closed} {
				if p != nil {
					t.Errorf("%s = %s, want unset", name, fmtOpt(p))
				}
			}
			if inc.Containment == nil || len(inc.Containment) != 0 {
				t.Errorf("Containment = %#v, want empty and non-nil", inc.Containment)
			}
			if inc.CreatedBy != alice.Name || !inc.CreatedAt.Equal(now) || !inc.UpdatedAt.Equal(now) {
				t.Errorf("CreatedBy/At, UpdatedAt = %q/%s, %s", inc.CreatedBy, inc.CreatedAt, inc.UpdatedAt)
			}
			if inc.Version != 1 {
				t.Errorf("Version = %d, want 1", inc.Version)
			}

			// What was returned is what was stored.
			got := e.get(t, inc.ID)
			gj, _ := json.Marshal(got)
			ij, _ := json.Marshal(inc)
			if string(gj) != string(ij) {
				t.Errorf("stored incident differs from the returned one:\nstored   %s\nreturned %s", gj, ij)
			}

			tl := e.timeline(t, inc.ID)
			if len(tl) != 1 {
				t.Fatalf("timeline has %d entries, want 1", len(tl))
			}
			c := tl[0]
			if c.Kind != incident.KindCreated || c.Seq != 1 || c.Actor != alice.Name || c.PrevHash != "" || !c.At.Equal(now) {
				t.Errorf("created entry = %+v", c)
			}
			if inc.TimelineLen != 1 || inc.TimelineHead != c.Hash {
				t.Errorf("incident head = %d/%s, want 1/%s", inc.TimelineLen, inc.TimelineHead, c.Hash)
			}
			var body map[string]any
			if err := json.Unmarshal(c.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body["title"] != inc.Title || body["type"] != string(inc.Type) || body["severity"] != inc.Severity.String() {
				t.Errorf("created body = %s", c.Body)
			}
			if _, ok := body["state_sha256"].(string); !ok {
				t.Errorf("created body records no state: %s", c.Body)
			}
			e.verifyOK(t, inc.ID)
		})
	}
	if n := len(e.listIncidents(t)); n != 6 {
		t.Errorf("List returns %d incidents, want 6", n)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	now := clockStart
	future := now.Add(2 * time.Hour)
	hourAgo := now.Add(-time.Hour)
	twoHoursAgo := now.Add(-2 * time.Hour)

	for _, tc := range []struct {
		name   string
		mutate func(in *incident.NewIncident)
		want   []string // each must appear in some problem
	}{
		{"empty title", func(in *incident.NewIncident) { in.Title = " \t " }, []string{"title: required"}},
		{"unknown type", func(in *incident.NewIncident) { in.Type = "prompt_mischief" }, []string{"type:", "unknown incident type", "prompt_mischief"}},
		{"empty type", func(in *incident.NewIncident) { in.Type = "" }, []string{"type:"}},
		{"missing severity", func(in *incident.NewIncident) { in.Severity = 0 }, []string{"severity: required"}},
		{"severity out of range", func(in *incident.NewIncident) { in.Severity = 7 }, []string{"severity:"}},
		{"priority too high", func(in *incident.NewIncident) { in.Priority = 5 }, []string{"priority: 5"}},
		{"priority negative", func(in *incident.NewIncident) { in.Priority = -1 }, []string{"priority: -1"}},
		{"bad entity kind", func(in *incident.NewIncident) {
			in.Entities = append(in.Entities, event.Entity{Kind: "mac_address", Value: "00:11"})
		}, []string{"entities[1]", "mac_address"}},
		{"empty entity value", func(in *incident.NewIncident) { in.Entities = []event.Entity{{Kind: event.EntityIP, Value: " "}} }, []string{"entities[0]", "empty value"}},
		{"bad ATLAS id", func(in *incident.NewIncident) { in.ATLAS = []string{"AML.T0051", "T0051"} }, []string{`atlas[1]: "T0051"`}},
		{"ATLAS id with a suffix", func(in *incident.NewIncident) { in.ATLAS = []string{"AML.T0051.000; DROP"} }, []string{"atlas[0]"}},
		{"invalid UTF-8 in title", func(in *incident.NewIncident) { in.Title = "bad \xff\xfe title" }, []string{"title: not valid UTF-8"}},
		{"escape sequence in title", func(in *incident.NewIncident) { in.Title = "red \x1b[31m alert" }, []string{"title: contains control characters"}},
		{"NUL in title", func(in *incident.NewIncident) { in.Title = "nul\x00byte" }, []string{"title: contains control characters"}},
		{"C1 control in title", func(in *incident.NewIncident) { in.Title = "next\u0085line" }, []string{"title: contains control characters"}},
		{"over-long title", func(in *incident.NewIncident) { in.Title = strings.Repeat("a", 201) }, []string{"title: 201 bytes, more than 200"}},
		{"over-long multibyte title", func(in *incident.NewIncident) { in.Title = strings.Repeat("é", 101) }, []string{"title: 202 bytes"}},
		{"control character in summary", func(in *incident.NewIncident) { in.Summary = "a\x07b" }, []string{"summary: contains control characters"}},
		{"multi-line owner", func(in *incident.NewIncident) { in.Owner = "alice\nbob" }, []string{"owner: must be one line"}},
		{"blank participant", func(in *incident.NewIncident) { in.Participants = []string{"carol", ""} }, []string{"participants[1]: required"}},
		{"negative affected users", func(in *incident.NewIncident) { in.Impact.AffectedUsers = -3 }, []string{"impact.affected_users"}},
		{"NaN cost", func(in *incident.NewIncident) { in.Impact.Cost = math.NaN() }, []string{"impact.cost"}},
		{"infinite cost", func(in *incident.NewIncident) { in.Impact.Cost = math.Inf(1) }, []string{"impact.cost"}},
		{"lower-case currency", func(in *incident.NewIncident) { in.Impact.Currency = "eur" }, []string{"impact.currency"}},
		{"detected in the future", func(in *incident.NewIncident) { in.Detected = &future }, []string{"detected: in the future"}},
		{"started after detected", func(in *incident.NewIncident) { in.Started, in.Detected = &hourAgo, &twoHoursAgo }, []string{"milestones.detected", "before milestones.started"}},
		{"started in the future", func(in *incident.NewIncident) { in.Started = &future }, []string{"milestones.detected", "before milestones.started"}},
		{"every problem at once", func(in *incident.NewIncident) {
			in.Title = ""
			in.Type = "nope"
			in.Severity = 0
			in.Priority = 9
			in.Entities = []event.Entity{{Kind: "nope", Value: "x"}}
			in.ATLAS = []string{"AML.X1"}
			in.Started, in.Detected = &hourAgo, &twoHoursAgo
		}, []string{"title: required", "type:", "severity: required", "priority: 9", "entities[0]", "atlas[0]", "before milestones.started"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := basic()
			tc.mutate(&in)
			inc, err := e.svc.Create(e.ctx, alice, in)
			if inc != nil {
				t.Errorf("Create returned an incident with an error: %+v", inc)
			}
			ps := asValidation(t, err)
			containsAll(t, "problems", ps, tc.want)
			// One problem per expectation group: every problem is listed, none is invented.
			if tc.name != "every problem at once" && len(ps) != 1 {
				t.Errorf("got %d problems, want 1: %q", len(ps), ps)
			}
			if tc.name == "every problem at once" && len(ps) != len(tc.want) {
				t.Errorf("got %d problems, want %d: %q", len(ps), len(tc.want), ps)
			}
			if incs := e.listIncidents(t); len(incs) != 0 {
				t.Errorf("List returns %d incidents after a refused Create", len(incs))
			}
			if a := e.audit(t); len(a) != 0 {
				t.Errorf("audit has %d entries after a refused Create, first %+v", len(a), a[0])
			}
		})
	}
	r, err := e.svc.VerifyAll(e.ctx)
	if err != nil || !r.OK || r.Incidents != 0 || r.Entries != 0 || r.Blobs != 0 {
		t.Errorf("VerifyAll of an empty store = %+v, %v", r, err)
	}
}
