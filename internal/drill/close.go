package drill

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// closeIncident walks the drill's incident through the remaining phases to
// closed, writing down at each step that it was a drill. Closing lifts the
// actions its playbook put in force (within a second), so the deployment
// is left as it was, and the next drill's alerts open a new incident
// instead of joining this one.
func (r *run) closeIncident(ctx context.Context) error {
	id := r.res.Incident
	path := "/api/v1/incidents/" + id
	var inc incidentView
	if err := r.t.api(ctx, r.t.Token, "GET", path, nil, &inc); err != nil {
		return err
	}
	what := fmt.Sprintf("Drill %s (run %s) by airlock drill: simulated attack traffic, no real attacker.", r.sc.Name, r.id)
	patch := map[string]any{}
	if inc.Owner == "" {
		patch["owner"] = "airlock drill"
	}
	if inc.Summary == "" {
		patch["summary"] = what
	}
	if len(inc.Containment) == 0 {
		patch["containment_waiver"] = what
	}
	patch["root_cause"] = what
	patch["recovery"] = map[string]bool{"integrity_verified": true, "validation_passed": true}
	patch["review"] = map[string]any{"done": true, "summary": what + " Scored by the drill; see its result."}
	if err := r.t.api(ctx, r.t.Token, "PATCH", path, patch, nil); err != nil {
		return err
	}
	order := []string{"detection", "containment", "eradication", "recovery", "lessons_learned", "closed"}
	at := -1
	for i, p := range order {
		if p == inc.Phase {
			at = i
		}
	}
	if at < 0 {
		return fmt.Errorf("incident %s is in phase %q", id, inc.Phase)
	}
	for _, to := range order[at+1:] {
		if err := r.t.api(ctx, r.t.Token, "POST", path+"/transition", map[string]string{"phase": to, "note": what}, nil); err != nil {
			return fmt.Errorf("move to %s: %w", to, err)
		}
	}
	// The runner lifts the actions a playbook marked "lift: on_close" once
	// their incident is closed, every second; wait for it so that the next
	// drill starts clean. Actions marked "lift: keep", and those a person
	// added, stay.
	deadline := time.Now().Add(5 * time.Second)
	for {
		actions, err := r.t.policy(ctx)
		if err != nil {
			return err
		}
		lifting, kept := 0, 0
		for _, a := range actions {
			switch {
			case a.Incident != id:
			case strings.Contains(a.Reason, "(lift: on_close)"):
				lifting++
			default:
				kept++
			}
		}
		if lifting == 0 {
			msg := "closed incident %s; its playbook's containment actions are lifted"
			if kept > 0 {
				msg += fmt.Sprintf(" (%d that are not lifted on close stay in force)", kept)
			}
			r.say(msg, id)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("closed, but %d of its containment actions are still in force", lifting)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
