package respond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Actor is who the responder acts as on timelines and in the audit log.
var Actor = incident.Actor{Name: "airlock (respond)", Role: "system"}

// Options configure correlation and scoring. The zero value works.
type Options struct {
	// Window: an alert joins an open incident whose last alert is at most
	// this old. Default 1h.
	Window time.Duration
	// HalfLife is how fast risk fades when no alert comes. Default 6h.
	HalfLife time.Duration
	// Criticality weighs risk by the asset: route or model name → factor in
	// [0.1, 10]; default 1.
	Criticality map[string]float64
	// MaxEntities bounds the per-entity risk table. Default 100,000.
	MaxEntities int
	Now         func() time.Time
	Log         *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	if o.HalfLife <= 0 {
		o.HalfLife = 6 * time.Hour
	}
	if o.MaxEntities <= 0 {
		o.MaxEntities = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Incidents is what correlation needs of the incident service.
type Incidents interface {
	Create(ctx context.Context, a incident.Actor, in incident.NewIncident) (*incident.Incident, error)
	JoinAlert(ctx context.Context, a incident.Actor, id string, l incident.AlertLink) (*incident.Incident, error)
	LinkDuplicate(ctx context.Context, a incident.Actor, incidentID, alertID string) error
	List(ctx context.Context, f store.IncidentFilter) ([]*incident.Incident, string, error)
}

var _ Incidents = (*incident.Service)(nil)

// open is what correlation remembers of an open incident.
type open struct {
	id        string
	category  taxonomy.Category
	types     []string // alert types seen, in order
	callers   []event.Entity
	lastAlert time.Time
	risk      float64
	riskAt    time.Time
	escalated bool
}

// Correlator groups alerts into incidents. Handle is safe for concurrent
// use; alerts are correlated one at a time.
type Correlator struct {
	inc  Incidents
	opts Options

	mu       sync.Mutex
	byID     map[string]*open
	byEntity map[event.Entity][]*open
	byFP     map[string]string // alert fingerprint → incident id
	entities map[event.Entity]*entityRisk

	created, joined, duplicates atomic.Uint64
	onOpen, onJoin              []func(*incident.Incident)
}

type entityRisk struct {
	risk float64
	at   time.Time
}

// NewCorrelator returns a correlator; call Load before Handle.
func NewCorrelator(inc Incidents, opts Options) *Correlator {
	return &Correlator{
		inc: inc, opts: opts.withDefaults(),
		byID: map[string]*open{}, byEntity: map[event.Entity][]*open{}, byFP: map[string]string{},
		entities: map[event.Entity]*entityRisk{},
	}
}

// OnOpen registers f to be called with each incident correlation opens
// (the playbook runner starts there).
func (c *Correlator) OnOpen(f func(*incident.Incident)) { c.onOpen = append(c.onOpen, f) }

// OnJoin registers f to be called with an incident an alert joined (the
// runner extends steps aimed at the attacker to callers new to it).
func (c *Correlator) OnJoin(f func(*incident.Incident)) { c.onJoin = append(c.onJoin, f) }

// Load indexes the open incidents, so that correlation resumes after a
// restart where it stopped.
func (c *Correlator) Load(ctx context.Context) error {
	f := store.IncidentFilter{Open: true, Limit: 500}
	for {
		page, next, err := c.inc.List(ctx, f)
		if err != nil {
			return fmt.Errorf("load open incidents: %w", err)
		}
		c.mu.Lock()
		for _, inc := range page {
			o := &open{
				id: inc.ID, category: inc.Category, types: []string{string(inc.Type)},
				lastAlert: inc.UpdatedAt, risk: inc.Risk, riskAt: inc.UpdatedAt,
			}
			c.index(o, inc.Entities)
		}
		c.mu.Unlock()
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}

// Closed forgets an incident that is closed: later alerts open a new one.
func (c *Correlator) Closed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget(id)
}

func (c *Correlator) forget(id string) {
	o := c.byID[id]
	if o == nil {
		return
	}
	delete(c.byID, id)
	for _, e := range o.callers {
		c.byEntity[e] = slices.DeleteFunc(c.byEntity[e], func(x *open) bool { return x == o })
		if len(c.byEntity[e]) == 0 {
			delete(c.byEntity, e)
		}
	}
	for fp, iid := range c.byFP {
		if iid == id {
			delete(c.byFP, fp)
		}
	}
}

// correlating says which entities tie alerts together: callers and model
// versions. A route or a model is shared by all traffic and ties nothing.
func correlating(e event.Entity) bool {
	switch e.Kind {
	case event.EntityAPIKey, event.EntityUser, event.EntityIP, event.EntityModelVersion:
		return true
	}
	return false
}

func (c *Correlator) index(o *open, ents []event.Entity) {
	c.byID[o.id] = o
	for _, e := range ents {
		if correlating(e) && !slices.Contains(o.callers, e) {
			o.callers = append(o.callers, e)
			c.byEntity[e] = append(c.byEntity[e], o)
		}
	}
}

// Result says what Handle did with an alert.
type Result struct {
	Incident   *incident.Incident // nil for a duplicate
	IncidentID string
	Created    bool
	Duplicate  bool
	Escalated  string
}

// Handle correlates one stored alert: a repeat of an alert an open incident
// has is linked without a timeline entry; an alert sharing a caller or model
// version with an open incident of its category, whose last alert is within
// the window, joins it; any other opens an incident.
func (c *Correlator) Handle(ctx context.Context, a *store.Alert) (Result, error) {
	if a.Incident != "" {
		return Result{IncidentID: a.Incident, Duplicate: true}, nil // already correlated (a restart replays)
	}
	typ, err := taxonomy.LookupType(a.Type)
	if err != nil {
		return Result{}, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()

	if id, ok := c.byFP[a.Fingerprint]; ok && a.Fingerprint != "" {
		err := c.inc.LinkDuplicate(ctx, Actor, id, a.ID)
		switch {
		case errors.Is(err, incident.ErrClosed):
			c.forget(id) // closed behind our back (through the API): correlate afresh
		case err != nil:
			return Result{}, err
		default:
			c.duplicates.Add(1)
			return Result{IncidentID: id, Duplicate: true}, nil
		}
	}

	contribution := c.contribution(a)
	c.scoreEntities(a, contribution, now)
	for {
		o := c.match(a, typ.Category, now)
		if o == nil {
			break
		}
		res, err := c.join(ctx, o, a, contribution, now)
		if errors.Is(err, incident.ErrClosed) {
			c.forget(o.id)
			continue
		}
		return res, err
	}
	return c.create(ctx, a, typ, contribution, now)
}

// join folds the alert into the open incident o.
func (c *Correlator) join(ctx context.Context, o *open, a *store.Alert, contribution float64, now time.Time) (Result, error) {
	link := c.link(a)
	types := o.types
	escalated := o.escalated
	if !slices.Contains(types, a.Type) {
		if stage := multiStage(types, a.Type); stage != "" && !escalated {
			link.Escalation, escalated = stage, true
		}
		types = append(slices.Clip(types), a.Type)
	}
	risk := min(decay(o.risk, o.riskAt, now, c.opts.HalfLife)+contribution, 100)
	link.Risk = round1(risk)
	inc, err := c.inc.JoinAlert(ctx, Actor, o.id, link)
	if err != nil {
		return Result{}, err
	}
	o.types, o.escalated, o.risk, o.riskAt, o.lastAlert = types, escalated, risk, now, now
	c.index(o, a.Entities)
	c.byFP[a.Fingerprint] = o.id
	c.joined.Add(1)
	for _, f := range c.onJoin {
		f(inc)
	}
	return Result{Incident: inc, IncidentID: inc.ID, Escalated: link.Escalation}, nil
}

// create opens an incident from the alert.
func (c *Correlator) create(ctx context.Context, a *store.Alert, typ taxonomy.IncidentType, contribution float64, now time.Time) (Result, error) {
	risk := round1(min(contribution, 100))
	started := a.Time
	inc, err := c.inc.Create(ctx, Actor, incident.NewIncident{
		Title:    clip(fmt.Sprintf("%s: %s", typ.Name, a.Summary), 200),
		Type:     a.Type,
		Severity: a.Severity,
		Summary:  fmt.Sprintf("Opened by the %s detector (%s, confidence %.2f): %s", a.Detector, a.Rule, a.Confidence, a.Summary),
		Entities: a.Entities,
		ATLAS:    a.ATLAS,
		Started:  &started,
		Detected: &started,
	})
	if err != nil {
		return Result{}, err
	}
	link := c.link(a)
	link.Risk = risk
	if inc, err = c.inc.JoinAlert(ctx, Actor, inc.ID, link); err != nil {
		return Result{}, err
	}
	o := &open{id: inc.ID, category: typ.Category, types: []string{a.Type}, lastAlert: now, risk: risk, riskAt: now}
	c.index(o, a.Entities)
	c.byFP[a.Fingerprint] = inc.ID
	c.created.Add(1)
	for _, f := range c.onOpen {
		f(inc)
	}
	return Result{Incident: inc, IncidentID: inc.ID, Created: true}, nil
}

// ties are the entities that tie an alert to an open incident: its
// callers; only an alert about no caller (drift, a registry event) is tied
// by its model version. Two callers attacking the same model are two
// incidents, each contained on its own.
func ties(ents []event.Entity) []event.Entity {
	var callers, versions []event.Entity
	for _, e := range ents {
		switch e.Kind {
		case event.EntityAPIKey, event.EntityUser, event.EntityIP:
			callers = append(callers, e)
		case event.EntityModelVersion:
			versions = append(versions, e)
		}
	}
	if len(callers) > 0 {
		return callers
	}
	return versions
}

// match finds the open incident the alert joins: the most recently active
// one it fits sharing a tying entity, within the window.
func (c *Correlator) match(a *store.Alert, cat taxonomy.Category, now time.Time) *open {
	var best *open
	for _, e := range ties(a.Entities) {
		for _, o := range c.byEntity[e] {
			// An alert fits an incident of its category, or one it is the
			// next stage of (architecture probing, then model extraction).
			fits := o.category == cat || multiStage(o.types, a.Type) != ""
			if !fits || now.Sub(o.lastAlert) > c.opts.Window {
				continue
			}
			if best == nil || o.lastAlert.After(best.lastAlert) {
				best = o
			}
		}
	}
	return best
}

func (c *Correlator) link(a *store.Alert) incident.AlertLink {
	return incident.AlertLink{
		AlertID: a.ID, Detector: a.Detector, Rule: a.Rule, Type: a.Type, Severity: a.Severity,
		Confidence: a.Confidence, Summary: a.Summary, Entities: a.Entities, ATLAS: a.ATLAS, At: a.Time,
	}
}

// stages are attack sequences whose later step, from the same caller,
// makes an incident worse than either alert alone.
var stages = []struct{ before, after, why string }{
	{"model_architecture_inference", "model_extraction", "architecture probing followed by extraction from the same caller"},
	{"model_architecture_inference", "training_data_extraction", "architecture probing followed by data extraction from the same caller"},
	{"membership_inference", "training_data_extraction", "membership probing followed by data extraction"},
	{"system_prompt_override", "context_manipulation", "system-prompt extraction followed by indirect injection"},
	{"jailbreak", "instruction_injection", "a jailbreak followed by injected instructions"},
	{"instruction_injection", "system_prompt_override", "injection followed by system-prompt extraction"},
}

func multiStage(seen []string, next string) string {
	for _, s := range stages {
		if s.after == next && slices.Contains(seen, s.before) {
			return s.why
		}
	}
	return ""
}

// Severity weights of the risk score.
var severityWeight = map[event.Severity]float64{
	event.SeverityLow: 5, event.SeverityMedium: 15, event.SeverityHigh: 30, event.SeverityCritical: 50,
}

// contribution is one alert's addition to risk: severity weight × confidence
// × the criticality of the asset it concerns.
func (c *Correlator) contribution(a *store.Alert) float64 {
	conf := a.Confidence
	if conf <= 0 || conf > 1 || math.IsNaN(conf) {
		conf = 0.5
	}
	return severityWeight[a.Severity] * conf * c.criticality(a.Entities)
}

func (c *Correlator) criticality(ents []event.Entity) float64 {
	f := 1.0
	for _, e := range ents {
		if e.Kind != event.EntityRoute && e.Kind != event.EntityModel {
			continue
		}
		if v, ok := c.opts.Criticality[e.Value]; ok {
			f = max(f, min(max(v, 0.1), 10))
		}
	}
	return f
}

func decay(risk float64, at, now time.Time, half time.Duration) float64 {
	if dt := now.Sub(at); dt > 0 {
		return risk * math.Exp2(-dt.Hours()/half.Hours())
	}
	return risk
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// scoreEntities adds the alert's contribution to each caller it names.
func (c *Correlator) scoreEntities(a *store.Alert, contribution float64, now time.Time) {
	for _, e := range a.Entities {
		if !correlating(e) {
			continue
		}
		r := c.entities[e]
		if r == nil {
			if len(c.entities) >= c.opts.MaxEntities {
				c.evictEntity(now)
			}
			r = &entityRisk{at: now}
			c.entities[e] = r
		}
		r.risk = min(decay(r.risk, r.at, now, c.opts.HalfLife)+contribution, 100)
		r.at = now
	}
}

// evictEntity drops the entity with the lowest risk now. A scan, but rare:
// only when the table is full.
func (c *Correlator) evictEntity(now time.Time) {
	var worst event.Entity
	lowest := math.Inf(1)
	for e, r := range c.entities {
		if v := decay(r.risk, r.at, now, c.opts.HalfLife); v < lowest {
			worst, lowest = e, v
		}
	}
	delete(c.entities, worst)
}

// EntityRisk is one caller's or model version's risk now.
type EntityRisk struct {
	Entity event.Entity `json:"entity"`
	Risk   float64      `json:"risk"`
}

// Entities returns the entities with the highest risk now, at most n.
func (c *Correlator) Entities(n int) []EntityRisk {
	c.mu.Lock()
	now := c.opts.Now()
	out := make([]EntityRisk, 0, len(c.entities))
	for e, r := range c.entities {
		out = append(out, EntityRisk{Entity: e, Risk: round1(decay(r.risk, r.at, now, c.opts.HalfLife))})
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b EntityRisk) int {
		if a.Risk != b.Risk {
			if a.Risk > b.Risk {
				return -1
			}
			return 1
		}
		if a.Entity.Kind != b.Entity.Kind {
			return compareStrings(string(a.Entity.Kind), string(b.Entity.Kind))
		}
		return compareStrings(a.Entity.Value, b.Entity.Value)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Counters are correlation's totals.
type Counters struct {
	Created, Joined, Duplicates uint64
}

// Counters returns them.
func (c *Correlator) Counters() Counters {
	return Counters{Created: c.created.Load(), Joined: c.joined.Load(), Duplicates: c.duplicates.Load()}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
