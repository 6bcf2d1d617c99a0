package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a run.
type Options struct {
	// Model overrides the scenario's model name (which picks the route).
	Model string
	// Progress receives one line per thing that happened, as it happens.
	Progress func(line string)
	// Established and EstablishedFor must be what the target's
	// detect.credential says: the stolen-key scenario uses the key this
	// many times over this long before stealing it. [20, 10m]
	Established    int
	EstablishedFor time.Duration
	// PoisonedVersion is the version the poisoned-model scenario
	// registers. [v2-drill-<run id>, new for every run]
	PoisonedVersion string
	// KnownGoodVersion is the X-Model-Version the poisoned model's traffic
	// must be served by once contained; empty accepts any version but the
	// poisoned one.
	KnownGoodVersion string
	// Close walks the drill's incident to closed once it is scored (the
	// playbook's actions are lifted with it), so that the deployment is
	// left as it was and the next drill starts afresh.
	Close bool
}

// Result is how a run went.
type Result struct {
	Name      string   `json:"name"`
	Passed    bool     `json:"passed"`
	Detected  bool     `json:"detected"`
	Contained bool     `json:"contained"`
	TTD       *float64 `json:"ttd_seconds"` // first attack request → incident seen; null if never
	TTC       *float64 `json:"ttc_seconds"` // first attack request → containment seen at the gateway
	// BenignErrors counts benign requests that did not get an answer.
	BenignRequests int `json:"benign_requests"`
	BenignErrors   int `json:"benign_errors"`
	AttackRequests int `json:"attack_requests"`
	// StoppedBy is what containment looked like to the attacker.
	StoppedBy string   `json:"stopped_by,omitempty"`
	Incident  string   `json:"incident,omitempty"`
	Type      string   `json:"type,omitempty"`
	Alerts    []string `json:"alerts,omitempty"` // distinct, in the order they joined
	Playbook  string   `json:"playbook,omitempty"`
	// Steps that acted, and those of them that ran without a person (GET
	// /api/v1/incidents/{id}/playbook: executed, automatic).
	StepsAutomatic int      `json:"steps_automatic"`
	StepsExecuted  int      `json:"steps_executed"`
	Decisions      []string `json:"decisions,omitempty"` // what the drill decided as the responder
	Closed         bool     `json:"closed,omitempty"`
	Problems       []string `json:"problems,omitempty"`
	// Seconds is how long the run took.
	Seconds float64 `json:"seconds"`
}

// Run plays the scenario against the target and scores it. Problems that
// stop a run (the API refuses the token, the gateway is down) are in the
// result's Problems.
func Run(ctx context.Context, t Target, sc *Scenario, o Options) *Result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the watch for the incident ends with the run
	r := newRun(t.normalised(), sc, o)
	if err := r.preflight(ctx); err != nil {
		r.problem("%v", err)
	} else {
		sc.play(ctx, r)
	}
	r.score()
	if o.Close && r.res.Incident != "" {
		if err := r.closeIncident(ctx); err != nil {
			r.res.Problems = append(r.res.Problems, "closing the drill's incident: "+err.Error())
		} else {
			r.res.Closed = true
		}
	}
	r.res.Seconds = secs(time.Since(r.start))
	return r.res
}

// run is one scenario being played.
type run struct {
	t     Target
	o     Options
	sc    *Scenario
	res   *Result
	id    string // new for every run; in every identity it makes up
	model string
	start time.Time

	// marker is an entity only this run's attack has: the incident it
	// opens names it.
	marker entity
	before map[string]bool // incidents open before the attack

	mu          sync.Mutex
	firstAttack time.Time
	found       *incidentView
	foundAt     time.Time
	otherTypes  []string // incidents naming the marker but not of an expected type
	absorbed    string   // an incident open before the attack that its alerts joined
	containedAt time.Time
	benignSeen  map[string]bool // benign failures already reported
}

func newRun(t Target, sc *Scenario, o Options) *run {
	var b [3]byte
	rand.Read(b[:])
	r := &run{t: t, o: o, sc: sc, res: &Result{Name: sc.Name}, id: hex.EncodeToString(b[:]), model: sc.Model, start: time.Now(),
		benignSeen: map[string]bool{}}
	if o.Model != "" {
		r.model = o.Model
	}
	if r.o.Established <= 0 {
		r.o.Established = 20
	}
	if r.o.EstablishedFor <= 0 {
		r.o.EstablishedFor = 10 * time.Minute
	}
	if r.o.PoisonedVersion == "" {
		r.o.PoisonedVersion = "v2-drill-" + r.id
	}
	return r
}

func (r *run) say(format string, args ...any) {
	if r.o.Progress != nil {
		r.o.Progress(fmt.Sprintf(format, args...))
	}
}

func (r *run) problem(format string, args ...any) {
	r.mu.Lock()
	r.res.Problems = append(r.res.Problems, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// preflight checks that the API takes the token before any traffic goes.
func (r *run) preflight(ctx context.Context) error {
	if r.t.Gateway == "" || r.t.API == "" || r.t.Token == "" {
		return errors.New("a gateway URL, an API URL and a token are needed")
	}
	if _, err := r.t.openIncidents(ctx); err != nil {
		return fmt.Errorf("the API does not answer as expected: %w", err)
	}
	return nil
}

// Identities. Addresses come from the documentation ranges (RFC 5737):
// benign callers from 192.0.2.0/24, attackers from 203.0.113.0/24, an
// application's own network from 198.51.100.0/24. A process hands out
// 254 addresses before it repeats one, so the scenarios of one demo never
// share an attacker's address.
const (
	benignNet   = "192.0.2"
	attackerNet = "203.0.113"
	ownerNet    = "198.51.100"
)

var addrSeq atomic.Uint32

func init() {
	n, _ := rand.Int(rand.Reader, big.NewInt(254))
	addrSeq.Store(uint32(n.Int64()))
}

func (r *run) addr(net string) string {
	return fmt.Sprintf("%s.%d", net, 1+addrSeq.Add(1)%254)
}

func (r *run) key(role string) string { return "sk-drill-" + r.id + "-" + role }

func (r *run) benignCallers(n int) []caller {
	out := make([]caller, n)
	for i := range out {
		role := fmt.Sprintf("customer-%d", i+1)
		out[i] = caller{role: role, key: r.key(role), ip: r.addr(benignNet)}
	}
	return out
}

// attacker is a caller whose user field marks the run: the incident its
// attack opens names that user.
func (r *run) attacker(role string) caller {
	c := caller{role: role, key: r.key(role), ip: r.addr(attackerNet), user: "drill-" + r.id + "-" + role}
	r.marker = entity{Kind: "user", Value: c.user}
	return c
}

// attackStarts records the first attack request and starts watching the
// API for the incident it must open. Call it before sending it.
func (r *run) attackStarts(ctx context.Context) {
	// Incidents open before the attack are not this run's, even when its
	// alerts join one of them.
	r.before = map[string]bool{}
	if incs, err := r.t.openIncidents(ctx); err == nil {
		for _, inc := range incs {
			r.before[inc.ID] = true
		}
	}
	r.mu.Lock()
	r.firstAttack = time.Now()
	r.mu.Unlock()
	go r.watch(ctx)
}

// watch polls the open incidents until one names the marker and is of an
// expected type, or the detection deadline has long passed.
func (r *run) watch(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	give := time.Now().Add(r.sc.DetectWithin + r.sc.ContainWithin)
	for {
		incs, err := r.t.openIncidents(ctx)
		if err == nil {
			for i := range incs {
				inc := &incs[i]
				if !inc.has(r.marker) {
					continue
				}
				if r.before[inc.ID] {
					r.mu.Lock()
					r.absorbed = inc.ID
					r.mu.Unlock()
					continue
				}
				if slices.Contains(r.sc.IncidentTypes, inc.Type) {
					r.mu.Lock()
					r.found, r.foundAt = inc, time.Now()
					r.mu.Unlock()
					return
				}
				r.mu.Lock()
				if s := inc.Type + " " + inc.ID; !slices.Contains(r.otherTypes, s) {
					r.otherTypes = append(r.otherTypes, s)
				}
				r.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Now().After(give) {
			return
		}
	}
}

// detection returns the incident, waiting until the detection deadline
// (with a second's grace, so that a late detection is told apart from none).
func (r *run) detection(ctx context.Context) *incidentView {
	r.mu.Lock()
	deadline := r.firstAttack.Add(r.sc.DetectWithin + time.Second)
	r.mu.Unlock()
	for {
		r.mu.Lock()
		found := r.found
		r.mu.Unlock()
		if found != nil || time.Now().After(deadline) || ctx.Err() != nil {
			return found
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// detectedAt is when the incident was opened: the server's creation time
// when it lies between the first attack request and the poll that saw the
// incident (so that the two clocks agree well enough), else the poll's
// time, which is at most one poll interval late. Call with mu held.
func (r *run) detectedAt() time.Time {
	if c := r.found.CreatedAt; !c.IsZero() && !c.Before(r.firstAttack) && c.Before(r.foundAt) {
		return c
	}
	return r.foundAt
}

// contained records the moment containment was seen, once.
func (r *run) contained(at time.Time, how string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.containedAt.IsZero() {
		return false
	}
	r.containedAt, r.res.StoppedBy = at, how
	return true
}

// since is the time from the first attack request to t.
func (r *run) since(t time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return t.Sub(r.firstAttack)
}

// benignDone counts a benign request and reports the first failure of
// each kind.
func (r *run) benignDone(c caller, rep reply) {
	r.mu.Lock()
	r.res.BenignRequests++
	if rep.ok() {
		r.mu.Unlock()
		return
	}
	r.res.BenignErrors++
	first := !r.benignSeen[rep.String()]
	r.benignSeen[rep.String()] = true
	r.mu.Unlock()
	if first {
		r.say("benign request from %s failed: %s", c.role, rep)
	}
}

// decision is what the drill, as the responder, answers a step that waits.
type decision struct {
	approve bool
	note    string
}

// finish confirms the containment holds, collects the incident's alerts
// and lets its playbook settle, deciding the steps that wait as given.
func (r *run) finish(ctx context.Context, decide map[string]decision) {
	inc := r.detection(ctx)
	if inc == nil {
		return
	}
	r.res.Incident, r.res.Type = inc.ID, inc.Type
	r.collectAlerts(ctx)
	r.sayPlaybook(r.settle(ctx, decide, nil))
}

// sayPlaybook tells what the playbook did: the steps that acted by
// themselves, and those that wait for a person.
func (r *run) sayPlaybook(v *playbookView) {
	if v == nil {
		return
	}
	var auto, people []string
	for _, s := range v.Steps {
		switch {
		case s.Status == "done" && s.Mode != "approval":
			auto = append(auto, s.ID)
		case s.Status == "done" || s.Status == "assigned" || s.Status == "waiting":
			people = append(people, s.ID+" ("+s.Status+")")
		}
	}
	r.say("playbook %s: %d of %d steps that acted ran by themselves (%s); for people: %s",
		v.Playbook, v.Automatic, v.Executed, orNone(auto), orNone(people))
}

// collectAlerts reads the incident's alerts, waiting a little for the
// expected ones: an alert raised by a later event of the attack may join
// after the incident opened.
func (r *run) collectAlerts(ctx context.Context) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		seen, err := r.t.alerts(ctx, r.res.Incident)
		if err != nil {
			r.problem("reading the incident's alerts: %v", err)
			return
		}
		r.res.Alerts = r.res.Alerts[:0]
		for _, a := range seen {
			if !slices.Contains(r.res.Alerts, a.name()) {
				r.res.Alerts = append(r.res.Alerts, a.name())
			}
		}
		missing := r.missingAlerts(seen)
		if len(missing) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			for _, m := range missing {
				r.problem("no %s alert joined the incident (it has %s)", m, orNone(r.res.Alerts))
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *run) missingAlerts(seen []alertSeen) []string {
	var missing []string
	for _, want := range r.sc.Alerts {
		if !slices.ContainsFunc(seen, func(a alertSeen) bool { return a.matches(want) }) {
			missing = append(missing, want)
		}
	}
	return missing
}

// settle follows the incident's playbook until no step is under way,
// deciding the steps that wait for a responder as decide says (a step
// without a decision is left waiting). until, when set, ends the wait as
// soon as it is true of the playbook. It returns the last state read.
func (r *run) settle(ctx context.Context, decide map[string]decision, until func(*playbookView) bool) *playbookView {
	decided := map[string]bool{}
	deadline := time.Now().Add(r.sc.ContainWithin)
	var v *playbookView
	for {
		var err error
		if v, err = r.t.playbook(ctx, r.res.Incident); err != nil {
			r.problem("reading the playbook: %v", err)
			return nil
		}
		r.res.Playbook, r.res.StepsAutomatic, r.res.StepsExecuted = v.Playbook, v.Automatic, v.Executed
		if until != nil && until(v) {
			return v
		}
		busy, blocked := false, false
		for _, s := range v.Steps {
			switch s.Status {
			case "waiting":
				d, ok := decide[s.ID]
				if !ok || decided[s.ID] {
					blocked = true
					break
				}
				decided[s.ID] = true
				verb := "declines"
				if d.approve {
					verb = "approves"
				}
				r.say("the responder (this drill) %s step %s: %s", verb, s.ID, d.note)
				r.res.Decisions = append(r.res.Decisions, strings.TrimSuffix(verb, "s")+" "+s.ID)
				if err := r.t.decide(ctx, r.res.Incident, s.ID, d.approve, d.note); err != nil {
					r.problem("deciding step %s: %v", s.ID, err)
					return v
				}
				busy = true
			case "started", "approved":
				busy = true
			case "failed":
				blocked = true // a critical step that failed stops the playbook
			case "":
				if !blocked {
					busy = true // not reached yet
				}
			}
			if blocked {
				break
			}
		}
		if !busy {
			return v
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.problem("the playbook %s did not settle within %s", v.Playbook, r.sc.ContainWithin)
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// score turns what was seen into the result.
func (r *run) score() {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	if r.firstAttack.IsZero() {
		if len(res.Problems) == 0 {
			res.Problems = append(res.Problems, "no attack was sent")
		}
		return
	}
	if r.found != nil {
		res.Detected = true
		res.Incident, res.Type = r.found.ID, r.found.Type
		ttd := r.detectedAt().Sub(r.firstAttack)
		res.TTD = ptr(secs(ttd))
		if ttd > r.sc.DetectWithin {
			res.Problems = append(res.Problems, fmt.Sprintf("detected after %s, later than %s", round(ttd), r.sc.DetectWithin))
		}
	} else {
		msg := fmt.Sprintf("no %s incident naming the attacker (%s %s) opened", strings.Join(r.sc.IncidentTypes, " or "), r.marker.Kind, r.marker.Value)
		if len(r.otherTypes) > 0 {
			msg += "; incidents of other types did: " + strings.Join(r.otherTypes, ", ")
		}
		if r.sc.missed != "" {
			msg += "; check: " + r.sc.missed
		}
		if r.absorbed != "" {
			msg = fmt.Sprintf("the attack's alerts joined incident %s, open since before this drill: correlation folds alerts that "+
				"share a caller or a model version into an open incident of their category, and that incident's playbook does not run "+
				"again for a new attacker; close it (or drill on a route of its own) and run again", r.absorbed)
		}
		res.Problems = append(res.Problems, msg)
	}
	if !r.containedAt.IsZero() {
		res.Contained = true
		ttc := r.containedAt.Sub(r.firstAttack)
		res.TTC = ptr(secs(ttc))
		if ttc > r.sc.ContainWithin {
			res.Problems = append(res.Problems, fmt.Sprintf("contained after %s, later than %s", round(ttc), r.sc.ContainWithin))
		}
	} else {
		res.Problems = append(res.Problems, "the attack was not contained")
	}
	if res.BenignErrors > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d of %d benign requests failed", res.BenignErrors, res.BenignRequests))
	}
	res.Passed = res.Detected && res.Contained && res.BenignErrors == 0 && len(res.Problems) == 0
}

func ptr(f float64) *float64 { return &f }

// secs is d in seconds, to the millisecond.
func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
