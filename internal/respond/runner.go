package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/airlock-ir/airlock/internal/containment"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/respond/playbook"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Step statuses on the timeline (incident.StepRecord.Status).
const (
	StatusStarted  = "started"  // about to act; a crash after this is recovered, not repeated
	StatusDone     = "done"     // acted
	StatusFailed   = "failed"   // gave up after its retries
	StatusSkipped  = "skipped"  // nothing to do, or the capability is missing
	StatusWaiting  = "waiting"  // for a responder's approval
	StatusApproved = "approved" // a responder approved it
	StatusDeclined = "declined" // a responder declined it; it is skipped
	StatusAssigned = "assigned" // a manual step handed to a person as a task
)

// RunnerIncidents is what the runner needs of the incident service.
type RunnerIncidents interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
	Timeline(ctx context.Context, id string, afterSeq int64, limit int) ([]*incident.TimelineEntry, error)
	RecordStep(ctx context.Context, a incident.Actor, id string, r incident.StepRecord) (*incident.TimelineEntry, error)
	CreateTask(ctx context.Context, a incident.Actor, incidentID string, in incident.TaskInput) (*incident.Task, error)
	Tasks(ctx context.Context, incidentID string) ([]*incident.Task, error)
	Transition(ctx context.Context, a incident.Actor, id string, to taxonomy.Phase, note string) (*incident.Incident, error)
	Update(ctx context.Context, a incident.Actor, id string, ifVersion int64, p incident.Patch) (*incident.Incident, error)
	AttachEvidence(ctx context.Context, a incident.Actor, incidentID string, in incident.EvidenceInput, r io.Reader) (*incident.Evidence, error)
	Evidence(ctx context.Context, incidentID string) ([]*incident.Evidence, error)
	List(ctx context.Context, f store.IncidentFilter) ([]*incident.Incident, string, error)
}

var _ RunnerIncidents = (*incident.Service)(nil)

// Containment puts policy actions in force and lifts them.
type Containment interface {
	Add(ctx context.Context, a incident.Actor, req containment.Request) (*policy.Action, error)
	Remove(ctx context.Context, a incident.Actor, id, reason string) (*policy.Action, error)
	Current() policy.Policy
}

var _ Containment = (*containment.Service)(nil)

// EventSource freezes the events related to an incident as evidence.
type EventSource interface {
	// Related writes, as JSON lines, the recorded events since since that
	// name one of the entities, and returns how many it wrote.
	Related(ctx context.Context, ents []event.Entity, since time.Time, w io.Writer) (int, error)
}

// Notifier posts a message to a named channel.
type Notifier interface {
	Notify(ctx context.Context, channel string, m Message) error
}

// Message is what a notify step sends.
type Message struct {
	Incident string         `json:"incident"`
	Title    string         `json:"title"`
	Type     string         `json:"type"`
	Severity event.Severity `json:"severity"`
	Step     string         `json:"step"`
	Text     string         `json:"text"`
}

// Scanner verifies the model artefacts an incident names.
type Scanner interface {
	VerifyModels(ctx context.Context, inc *incident.Incident) (summary string, err error)
}

// ErrNotAvailable marks a step whose capability this deployment lacks.
var ErrNotAvailable = errors.New("not available")

// Permanent wraps an error that retrying cannot fix.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// RunnerOptions configure the runner.
type RunnerOptions struct {
	Playbooks   func() map[string]*playbook.Playbook // by incident type; read on every advance so reloads apply
	Containment Containment
	Events      EventSource // nil: collect_evidence steps are skipped
	Notifier    Notifier    // nil: notify steps are skipped
	Scanner     Scanner     // nil: scan steps are skipped
	// Owner is who a transition step names as the incident's owner when it
	// has none (leaving detection needs an owner): the on-call rota, a team.
	// Empty: such a transition fails until a person takes the incident.
	Owner string
	// MaxEvidenceBytes bounds what a collect_evidence step keeps; default
	// 256 MiB.
	MaxEvidenceBytes int64
	Log              *slog.Logger
	Now              func() time.Time
	// RetryDelay is the first wait before a retry; it doubles each time.
	// Default 200ms.
	RetryDelay time.Duration
}

// Runner runs each open incident's playbook. It keeps no state of its own:
// what each step did is on the incident's timeline, so a restart (or a
// second runner) picks up where the last one stopped, and a step whose
// action landed but whose result was not recorded is recognised, not
// repeated.
type Runner struct {
	inc  RunnerIncidents
	opts RunnerOptions

	mu      sync.Mutex
	queued  map[string]bool
	wake    chan struct{}
	running sync.WaitGroup
}

// NewRunner returns a runner; call Run to start it.
func NewRunner(inc RunnerIncidents, opts RunnerOptions) *Runner {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 200 * time.Millisecond
	}
	if opts.MaxEvidenceBytes <= 0 {
		opts.MaxEvidenceBytes = 256 << 20
	}
	return &Runner{inc: inc, opts: opts, queued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Enqueue asks the runner to advance an incident's playbook. It never
// blocks.
func (r *Runner) Enqueue(id string) {
	r.mu.Lock()
	r.queued[id] = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Resume enqueues every open incident: after a restart, each playbook goes
// on from its last recorded step.
func (r *Runner) Resume(ctx context.Context) error {
	f := store.IncidentFilter{Open: true, Limit: 500}
	for {
		page, next, err := r.inc.List(ctx, f)
		if err != nil {
			return err
		}
		for _, inc := range page {
			r.Enqueue(inc.ID)
		}
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}

// Run advances queued incidents until ctx ends. Every second it also lifts
// the actions of closed incidents that their playbook step said to lift.
func (r *Runner) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.running.Wait()
			return
		case <-r.wake:
		case <-tick.C:
			r.liftClosed(ctx)
		}
		for {
			id := r.next()
			if id == "" {
				break
			}
			if err := r.Advance(ctx, id); err != nil && ctx.Err() == nil {
				r.opts.Log.Error("playbook not advanced", "incident", id, "err", err)
			}
		}
	}
}

func (r *Runner) next() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.queued {
		delete(r.queued, id)
		return id
	}
	return ""
}

// stepState is what the timeline says of one step.
type stepState struct {
	status  string
	ref     string
	attempt int
	auto    bool            // the last record says it ran without a person
	targets map[string]bool // every policy target any record covered
}

// records reads the playbook's step records from the incident's
// timeline, oldest first.
func (r *Runner) records(ctx context.Context, id, pb string) ([]incident.StepRecord, error) {
	var out []incident.StepRecord
	var after int64
	for {
		page, err := r.inc.Timeline(ctx, id, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			after = e.Seq
			var rec incident.StepRecord
			if e.Kind == incident.KindPlaybookStep && json.Unmarshal(e.Body, &rec) == nil && rec.Playbook == pb {
				out = append(out, rec)
			}
		}
		if len(page) < 1000 {
			return out, nil
		}
	}
}

// states is where each step stands: its last record wins, keeping the
// last reference any record gave.
func (r *Runner) states(ctx context.Context, id, pb string) (map[string]stepState, error) {
	recs, err := r.records(ctx, id, pb)
	if err != nil {
		return nil, err
	}
	out := map[string]stepState{}
	for _, rec := range recs {
		prev := out[rec.Step]
		st := stepState{status: rec.Status, ref: rec.Ref, attempt: rec.Attempt, auto: rec.Auto, targets: prev.targets}
		if st.ref == "" {
			st.ref = prev.ref
		}
		for _, t := range rec.Targets {
			if st.targets == nil {
				st.targets = map[string]bool{}
			}
			st.targets[t] = true
		}
		out[rec.Step] = st
	}
	return out, nil
}

// Advance runs the incident's playbook from where its timeline says it
// stands, until it ends or waits for a person.
func (r *Runner) Advance(ctx context.Context, id string) error {
	r.running.Add(1)
	defer r.running.Done()
	inc, err := r.inc.Get(ctx, id)
	if err != nil {
		return err
	}
	if inc.Phase == taxonomy.PhaseClosed {
		return nil
	}
	pb := r.opts.Playbooks()[string(inc.Type)]
	if pb == nil {
		return nil
	}
	states, err := r.states(ctx, id, pb.Name)
	if err != nil {
		return err
	}
	for i := range pb.Steps {
		step := &pb.Steps[i]
		st := states[step.ID]
		switch st.status {
		case StatusDeclined:
			if step.Kind == playbook.KindApproval {
				return nil // a declined checkpoint stops the playbook
			}
			continue
		case StatusDone, StatusSkipped:
			if r.newAttackers(inc, step, st) {
				// A caller joined the incident after the step ran: the step
				// covers them too (those it covered, even if a person has
				// lifted their action since, are not touched again).
				if _, err := r.execute(ctx, inc, pb, step, stepState{targets: st.targets}, false); err != nil {
					return err
				}
			}
			continue
		case StatusAssigned:
			continue
		case StatusFailed:
			if step.Critical {
				return nil // the playbook stopped here; a person takes over
			}
			continue
		case StatusWaiting:
			return nil // the steps after it wait for the decision
		case "":
			if step.NeedsApproval(inc.Severity) {
				_, err := r.record(ctx, inc, pb, step, incident.StepRecord{Status: StatusWaiting, Detail: "waiting for a responder's approval"})
				return err
			}
		}
		// "", approved, or started (a crash mid-step): act.
		approved := st.status == StatusApproved || (st.status == StatusStarted && step.NeedsApproval(inc.Severity))
		res, err := r.execute(ctx, inc, pb, step, st, approved)
		if err != nil {
			return err // the record could not be written: try again later
		}
		if res == StatusFailed && step.Critical {
			return nil
		}
		if step.Kind == playbook.KindTransition && res == StatusDone {
			if inc, err = r.inc.Get(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// execute runs one step with retries and records the outcome; it returns
// the status recorded.
func (r *Runner) execute(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step, st stepState, approved bool) (string, error) {
	auto := step.Mode == playbook.ModeAuto && !approved
	if st.status == StatusStarted {
		// A previous run recorded "started" and stopped: see whether the
		// step's effect is already there before acting again.
		if ref, ok := r.landed(ctx, inc, pb, step); ok {
			return r.finishWith(ctx, inc, pb, step, incident.StepRecord{Status: StatusDone, Auto: auto, Attempt: st.attempt,
				Detail: "recovered after a restart: the step had taken effect", Ref: ref, Targets: r.covered(inc, step)})
		}
	}
	if _, err := r.record(ctx, inc, pb, step, incident.StepRecord{Status: StatusStarted, Auto: auto, Attempt: st.attempt + 1}); err != nil {
		return "", err
	}
	delay := r.opts.RetryDelay
	var lastErr error
	attempt := 1
	for ; ; attempt++ {
		detail, ref, err := r.act(ctx, inc, pb, step, st.targets)
		switch {
		case err == nil:
			status := StatusDone
			if step.Kind == playbook.KindTask {
				status = StatusAssigned
			}
			return r.finishWith(ctx, inc, pb, step, incident.StepRecord{Status: status, Auto: auto, Attempt: attempt, Detail: detail, Ref: ref, Targets: r.covered(inc, step)})
		case errors.Is(err, ErrNotAvailable):
			return r.finish(ctx, inc, pb, step, StatusSkipped, auto, attempt, err.Error(), "")
		}
		lastErr = err
		var perm *Permanent
		if errors.As(err, &perm) || attempt > step.Retries || ctx.Err() != nil {
			break
		}
		r.opts.Log.Warn("playbook step failed; retrying", "incident", inc.ID, "step", step.ID, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay *= 2
	}
	return r.finish(ctx, inc, pb, step, StatusFailed, auto, attempt, lastErr.Error(), "")
}

func (r *Runner) finish(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step, status string, auto bool, attempt int, detail, ref string) (string, error) {
	return r.finishWith(ctx, inc, pb, step, incident.StepRecord{Status: status, Auto: auto, Attempt: attempt, Detail: detail, Ref: ref})
}

func (r *Runner) finishWith(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step, rec incident.StepRecord) (string, error) {
	_, err := r.record(ctx, inc, pb, step, rec)
	if err == nil {
		r.opts.Log.Info("playbook step", "incident", inc.ID, "playbook", pb.Name, "step", step.ID, "status", rec.Status)
	}
	return rec.Status, err
}

// covered lists the policy targets a policy step now covers.
func (r *Runner) covered(inc *incident.Incident, step *playbook.Step) []string {
	if step.Kind != playbook.KindPolicy {
		return nil
	}
	var out []string
	for _, t := range r.targets(inc, step.Action.Target) {
		out = append(out, describeTarget(t))
	}
	return out
}

func (r *Runner) record(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step, rec incident.StepRecord) (*incident.TimelineEntry, error) {
	rec.Playbook, rec.Step, rec.Kind, rec.Title = pb.Name, step.ID, string(step.Kind), step.Title
	return r.inc.RecordStep(ctx, Actor, inc.ID, rec)
}

// tag marks what a step made, so that its effect can be found again.
func tag(pb *playbook.Playbook, step *playbook.Step) string {
	return "[playbook " + pb.Name + "/" + step.ID + "]"
}

// landed looks for the effect of a step that was started but not recorded
// as finished.
func (r *Runner) landed(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step) (string, bool) {
	t := tag(pb, step)
	switch step.Kind {
	case playbook.KindPolicy:
		var refs []string
		for _, a := range r.opts.Containment.Current().Actions {
			if a.Incident == inc.ID && strings.HasPrefix(a.Reason, t) {
				refs = append(refs, a.ID)
			}
		}
		// Every target of the step must have its action; otherwise the
		// step runs again and adds only the missing ones (see act).
		if len(refs) > 0 && len(refs) >= len(r.targets(inc, step.Action.Target)) {
			return strings.Join(refs, ","), true
		}
	case playbook.KindTask:
		tasks, err := r.inc.Tasks(ctx, inc.ID)
		if err == nil {
			for _, tk := range tasks {
				if strings.HasSuffix(tk.Title, t) {
					return tk.ID, true
				}
			}
		}
	case playbook.KindCollectEvidence:
		ev, err := r.inc.Evidence(ctx, inc.ID)
		if err == nil {
			for _, e := range ev {
				if strings.HasPrefix(e.Name, "playbook-"+step.ID+"-") {
					return e.SHA256, true
				}
			}
		}
	case playbook.KindTransition:
		if cur, err := r.inc.Get(ctx, inc.ID); err == nil && string(cur.Phase) == step.To {
			return "", true
		}
	}
	return "", false
}

// act does what the step says, once. A policy step leaves alone the
// targets in done, which earlier runs covered.
func (r *Runner) act(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step, done map[string]bool) (detail, ref string, err error) {
	switch step.Kind {
	case playbook.KindPolicy:
		return r.actPolicy(ctx, inc, pb, step, done)
	case playbook.KindCollectEvidence:
		return r.actCollect(ctx, inc, step)
	case playbook.KindNotify:
		if r.opts.Notifier == nil {
			return "", "", fmt.Errorf("no notification channel is configured: %w", ErrNotAvailable)
		}
		text, err := step.RenderMessage(playbook.MessageData{
			Incident: playbook.MessageIncident{ID: inc.ID, Title: inc.Title, Type: string(inc.Type), Severity: inc.Severity.String()},
			Step:     playbook.MessageStep{Title: step.Title},
		})
		if err != nil {
			return "", "", &Permanent{err}
		}
		ch := step.Channel
		if ch == "" {
			ch = "default"
		}
		m := Message{Incident: inc.ID, Title: inc.Title, Type: string(inc.Type), Severity: inc.Severity, Step: step.ID, Text: text}
		if err := r.opts.Notifier.Notify(ctx, ch, m); err != nil {
			return "", "", err
		}
		return "sent to " + ch, "", nil
	case playbook.KindScan:
		if r.opts.Scanner == nil {
			return "", "", fmt.Errorf("model verification: %w in this deployment", ErrNotAvailable)
		}
		s, err := r.opts.Scanner.VerifyModels(ctx, inc)
		return s, "", err
	case playbook.KindTask:
		title := clip(step.Task.Title, 150) + " " + tag(pb, step)
		in := incident.TaskInput{Title: &title}
		if step.Task.Assignee != "" {
			in.Owner = &step.Task.Assignee
		}
		if step.Task.Due > 0 {
			due := r.opts.Now().Add(time.Duration(step.Task.Due)).UTC()
			in.Due = &due
		}
		tk, err := r.inc.CreateTask(ctx, Actor, inc.ID, in)
		if err != nil {
			return "", "", &Permanent{err}
		}
		return "task " + tk.ID, tk.ID, nil
	case playbook.KindApproval:
		return "approved", "", nil
	case playbook.KindTransition:
		to, err := taxonomy.ParsePhase(step.To)
		if err != nil {
			return "", "", &Permanent{err}
		}
		cur, err := r.inc.Get(ctx, inc.ID)
		if err != nil {
			return "", "", err
		}
		if cur.Phase == to {
			return "already in " + step.To, "", nil
		}
		detail := "moved to " + step.To
		if cur.Phase == taxonomy.PhaseDetection && (cur.Owner == "" || cur.Summary == "") && r.opts.Owner != "" {
			// Leaving detection needs an owner and a summary: the playbook
			// hands the incident to the configured owner.
			p := incident.Patch{}
			if cur.Owner == "" {
				p.Owner = &r.opts.Owner
				detail += ", owned by " + r.opts.Owner
			}
			if cur.Summary == "" {
				sum := "Opened by Airlock; the alerts and playbook steps are on the timeline."
				p.Summary = &sum
			}
			if _, err := r.inc.Update(ctx, Actor, inc.ID, cur.Version, p); err != nil {
				return "", "", err
			}
		}
		if _, err := r.inc.Transition(ctx, Actor, inc.ID, to, "playbook "+pb.Name+", step "+step.ID); err != nil {
			var ce *incident.CriteriaError
			if errors.As(err, &ce) {
				return "", "", &Permanent{err}
			}
			return "", "", err
		}
		return detail, "", nil
	}
	return "", "", &Permanent{fmt.Errorf("unknown step kind %q", step.Kind)}
}

// newAttackers reports whether a policy step aimed at the attacker has
// targets in the incident that no record of it covered.
func (r *Runner) newAttackers(inc *incident.Incident, step *playbook.Step, st stepState) bool {
	if step.Kind != playbook.KindPolicy || step.Action.Target != playbook.TargetAttacker || st.targets == nil {
		return false
	}
	for _, t := range r.targets(inc, step.Action.Target) {
		if !st.targets[describeTarget(t)] {
			return true
		}
	}
	return false
}

// targets resolves a playbook target to policy targets for this incident.
// The attacker is its API keys and users; its IP addresses only when it has
// neither, since an address is often shared (NAT, a proxy, an office) and
// blocking it would refuse innocent callers too.
func (r *Runner) targets(inc *incident.Incident, target string) []policy.Target {
	var out []policy.Target
	identified := slices.ContainsFunc(inc.Entities, func(e event.Entity) bool {
		return e.Kind == event.EntityAPIKey || e.Kind == event.EntityUser
	})
	for _, e := range inc.Entities {
		if target == playbook.TargetAttacker && e.Kind == event.EntityIP && identified {
			continue
		}
		var t policy.Target
		switch {
		case target == playbook.TargetAttacker && e.Kind == event.EntityAPIKey:
			t.APIKeyHash = e.Value
		case target == playbook.TargetAttacker && e.Kind == event.EntityUser:
			t.User = e.Value
		case target == playbook.TargetAttacker && e.Kind == event.EntityIP:
			t.IP = e.Value
		case target == playbook.TargetRoute && e.Kind == event.EntityRoute:
			t.Route = e.Value
		case (target == playbook.TargetModel || target == playbook.TargetModelVersion) && e.Kind == event.EntityModel:
			t.Model = e.Value
		default:
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if target == playbook.TargetAll {
		out = []policy.Target{{}}
	}
	return out
}

func (r *Runner) actPolicy(ctx context.Context, inc *incident.Incident, pb *playbook.Playbook, step *playbook.Step, covered map[string]bool) (string, string, error) {
	spec := step.Action
	targets := r.targets(inc, spec.Target)
	if len(targets) == 0 {
		return "", "", fmt.Errorf("the incident names no %s to apply %s to: %w", spec.Target, spec.Kind, ErrNotAvailable)
	}
	t := tag(pb, step)
	lift := spec.Lift
	if lift == "" {
		lift = playbook.LiftOnClose
	}
	existing := map[policy.Target]string{}
	for _, a := range r.opts.Containment.Current().Actions {
		if a.Incident == inc.ID && strings.HasPrefix(a.Reason, t) {
			existing[a.Target] = a.ID
		}
	}
	var refs, done []string
	for _, target := range targets {
		if id, ok := existing[target]; ok { // added before a restart
			refs = append(refs, id)
			continue
		}
		if covered[describeTarget(target)] { // covered before, and lifted since by a person
			continue
		}
		req := containment.Request{
			Kind: spec.Kind, Target: containment.TargetRequest{Target: target}, Params: spec.Params,
			Reason:   fmt.Sprintf("%s %s (lift: %s)", t, clip(step.Title, 300), lift),
			Incident: inc.ID,
		}
		if spec.TTL > 0 {
			req.TTL = time.Duration(spec.TTL).String()
		}
		act, err := r.opts.Containment.Add(ctx, Actor, req)
		if err != nil {
			var ve *policy.ValidationError
			if errors.As(err, &ve) {
				return "", "", &Permanent{err}
			}
			return "", "", err
		}
		refs = append(refs, act.ID)
		done = append(done, describeTarget(target))
	}
	return fmt.Sprintf("%s on %s", spec.Kind, strings.Join(done, ", ")), strings.Join(refs, ","), nil
}

func describeTarget(t policy.Target) string {
	b, _ := json.Marshal(t)
	return string(b)
}

func (r *Runner) actCollect(ctx context.Context, inc *incident.Incident, step *playbook.Step) (string, string, error) {
	if r.opts.Events == nil {
		return "", "", fmt.Errorf("no event log to collect from: %w", ErrNotAvailable)
	}
	window := time.Duration(step.Window)
	if window <= 0 {
		window = 15 * time.Minute
	}
	since := r.opts.Now().Add(-window)
	if s := inc.Milestones.Started; s != nil && s.Before(since) {
		since = *s
	}
	pr, pw := io.Pipe()
	var n int
	go func() {
		var err error
		n, err = r.opts.Events.Related(ctx, inc.Entities, since, pw)
		pw.CloseWithError(err)
	}()
	name := fmt.Sprintf("playbook-%s-events-%s.jsonl", step.ID, r.opts.Now().UTC().Format("20060102T150405Z"))
	ev, err := r.inc.AttachEvidence(ctx, Actor, inc.ID, incident.EvidenceInput{
		Name: name, MediaType: "application/x-ndjson", Source: "airlock event log", MaxBytes: r.opts.MaxEvidenceBytes,
	}, pr)
	pr.Close()
	if errors.Is(err, incident.ErrTooLarge) {
		return "", "", &Permanent{err}
	}
	if err != nil {
		return "", "", err
	}
	return fmt.Sprintf("%d related events since %s kept as %s", n, since.UTC().Format(time.RFC3339), ev.SHA256[:12]), ev.SHA256, nil
}

// liftClosed removes the actions of closed incidents that their playbook
// step said to lift on close.
func (r *Runner) liftClosed(ctx context.Context) {
	phases := map[string]taxonomy.Phase{}
	for _, a := range r.opts.Containment.Current().Actions {
		if a.Incident == "" || !strings.HasPrefix(a.Reason, "[playbook ") || !strings.Contains(a.Reason, "(lift: "+playbook.LiftOnClose+")") {
			continue
		}
		ph, ok := phases[a.Incident]
		if !ok {
			inc, err := r.inc.Get(ctx, a.Incident)
			if err != nil {
				continue
			}
			ph, phases[a.Incident] = inc.Phase, inc.Phase
		}
		if ph != taxonomy.PhaseClosed {
			continue
		}
		if _, err := r.opts.Containment.Remove(ctx, Actor, a.ID, "incident closed; the playbook lifts this action on close"); err != nil {
			r.opts.Log.Error("action not lifted", "action", a.ID, "incident", a.Incident, "err", err)
		}
	}
}

// ErrNotWaiting refuses a decision on a step that is not waiting for one.
var ErrNotWaiting = errors.New("step is not waiting for approval")

// Decide records a responder's approval (or refusal) of a waiting step and
// lets the playbook go on.
func (r *Runner) Decide(ctx context.Context, a incident.Actor, id, stepID string, approve bool, note string) error {
	inc, err := r.inc.Get(ctx, id)
	if err != nil {
		return err
	}
	pb := r.opts.Playbooks()[string(inc.Type)]
	if pb == nil {
		return fmt.Errorf("incident %s has no playbook: %w", id, store.ErrNotFound)
	}
	step, ok := pb.Step(stepID)
	if !ok {
		return fmt.Errorf("playbook %s has no step %q: %w", pb.Name, stepID, store.ErrNotFound)
	}
	states, err := r.states(ctx, id, pb.Name)
	if err != nil {
		return err
	}
	if states[stepID].status != StatusWaiting {
		return fmt.Errorf("%w: step %s of incident %s is %q", ErrNotWaiting, stepID, id, states[stepID].status)
	}
	status := StatusApproved
	if !approve {
		status = StatusDeclined
	}
	rec := incident.StepRecord{Playbook: pb.Name, Step: step.ID, Kind: string(step.Kind), Title: step.Title, Status: status, Detail: note}
	if _, err := r.inc.RecordStep(ctx, a, id, rec); err != nil {
		return err
	}
	r.Enqueue(id)
	return nil
}

// StepView is one step of an incident's playbook as it stands.
type StepView struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Kind   string `json:"kind"`
	Mode   string `json:"mode"`
	Status string `json:"status"` // "" when not reached
	Ref    string `json:"ref,omitempty"`
}

// PlaybookView is an incident's playbook and how far it got.
type PlaybookView struct {
	Playbook string     `json:"playbook"`
	Steps    []StepView `json:"steps"`
	// Executed counts steps that acted (done or failed); Automatic those of
	// them that ran without a person.
	Executed       int     `json:"executed"`
	Automatic      int     `json:"automatic"`
	AutomationRate float64 `json:"automation_rate"`
}

// View returns the incident's playbook state, read from its timeline.
func (r *Runner) View(ctx context.Context, id string) (*PlaybookView, error) {
	inc, err := r.inc.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	pb := r.opts.Playbooks()[string(inc.Type)]
	if pb == nil {
		return &PlaybookView{Steps: []StepView{}}, nil
	}
	states, err := r.states(ctx, id, pb.Name)
	if err != nil {
		return nil, err
	}
	v := &PlaybookView{Playbook: pb.Name, Steps: []StepView{}}
	for _, s := range pb.Steps {
		st := states[s.ID]
		v.Steps = append(v.Steps, StepView{ID: s.ID, Title: s.Title, Kind: string(s.Kind), Mode: string(s.Mode), Status: st.status, Ref: st.ref})
		if st.status == StatusDone || st.status == StatusFailed || st.status == StatusAssigned {
			v.Executed++
			if st.auto {
				v.Automatic++
			}
		}
	}
	if v.Executed > 0 {
		v.AutomationRate = float64(v.Automatic) / float64(v.Executed)
	}
	return v, nil
}
