package incident

import (
	"fmt"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// exitCriteria lists what is missing before inc may leave its phase forward.
// Each entry names the field that satisfies it, so a person knows what to do.
func exitCriteria(inc *Incident, tasks []*Task) []string {
	var unmet []string
	switch inc.Phase {
	case taxonomy.PhaseDetection:
		if strings.TrimSpace(inc.Owner) == "" {
			unmet = append(unmet, "owner: nobody owns the incident (set owner)")
		}
		if strings.TrimSpace(inc.Summary) == "" {
			unmet = append(unmet, "summary: the analysis is not written up (set summary)")
		}
	case taxonomy.PhaseContainment:
		if len(inc.Containment) == 0 && strings.TrimSpace(inc.ContainmentWaiver) == "" {
			unmet = append(unmet, "containment: no containment measure is in force and no reason why none is needed is recorded (add a containment timeline entry or set containment_waiver)")
		}
	case taxonomy.PhaseEradication:
		if strings.TrimSpace(inc.RootCause) == "" {
			unmet = append(unmet, "root_cause: the root cause is not recorded (set root_cause)")
		}
	case taxonomy.PhaseRecovery:
		if !inc.Recovery.IntegrityVerified {
			unmet = append(unmet, "recovery.integrity_verified: model and system integrity are not verified")
		}
		if !inc.Recovery.ValidationPassed {
			unmet = append(unmet, "recovery.validation_passed: functional, security and performance validation has not passed")
		}
	case taxonomy.PhaseLessonsLearned:
		if !inc.Review.Done {
			unmet = append(unmet, "review.done: the post-incident review is not done")
		}
		for _, t := range tasks {
			if t.Kind == TaskActionItem && t.Status != TaskCancelled && strings.TrimSpace(t.Owner) == "" {
				unmet = append(unmet, fmt.Sprintf("action item %s (%q) has no owner", t.ID, t.Title))
			}
		}
	}
	return unmet
}

// transitionUnmet lists why a move from inc.Phase to to is refused, or nil.
func transitionUnmet(inc *Incident, tasks []*Task, to taxonomy.Phase, note string) []string {
	from := inc.Phase
	switch {
	case to == from:
		return []string{fmt.Sprintf("phase: the incident is already in %s", to)}
	case to.Index() < from.Index():
		if strings.TrimSpace(note) == "" {
			return []string{fmt.Sprintf("note: moving back from %s to %s needs a reason", from, to)}
		}
		return nil
	}
	unmet := exitCriteria(inc, tasks)
	if next, _ := from.Next(); next != to {
		skipped := taxonomy.Phases()[from.Index()+1 : to.Index()]
		names := make([]string, len(skipped))
		for i, p := range skipped {
			names[i] = string(p)
		}
		unmet = append([]string{fmt.Sprintf("phase: cannot skip %s; the next phase after %s is %s",
			strings.Join(names, ", "), from, next)}, unmet...)
	}
	return unmet
}

// applyMilestones stamps the milestone a forward move reaches, the first
// time only, and clears "closed" when an incident is reopened.
func applyMilestones(inc *Incident, from, to taxonomy.Phase, now time.Time) {
	m := &inc.Milestones
	set := func(p **time.Time) {
		if *p == nil {
			t := now
			*p = &t
		}
	}
	if to.Index() < from.Index() {
		if from == taxonomy.PhaseClosed {
			m.Closed = nil
		}
		return
	}
	switch to {
	case taxonomy.PhaseContainment:
		set(&m.Acknowledged)
	case taxonomy.PhaseEradication:
		set(&m.Acknowledged)
		set(&m.Contained)
	case taxonomy.PhaseRecovery:
		set(&m.Eradicated)
	case taxonomy.PhaseLessonsLearned:
		set(&m.Recovered)
	case taxonomy.PhaseClosed:
		set(&m.Closed)
	}
}

// milestoneOrder checks that the milestones that are set are in order.
func milestoneOrder(m *Milestones) []string {
	seq := []struct {
		name string
		t    *time.Time
	}{
		{"started", m.Started}, {"detected", m.Detected}, {"acknowledged", m.Acknowledged},
		{"contained", m.Contained}, {"eradicated", m.Eradicated}, {"recovered", m.Recovered}, {"closed", m.Closed},
	}
	var bad []string
	var lastName string
	var last *time.Time
	for _, s := range seq {
		if s.t == nil {
			continue
		}
		if last != nil && s.t.Before(*last) {
			bad = append(bad, fmt.Sprintf("milestones.%s (%s) is before milestones.%s (%s)",
				s.name, formatTime(*s.t), lastName, formatTime(*last)))
		}
		last, lastName = s.t, s.name
	}
	return bad
}
