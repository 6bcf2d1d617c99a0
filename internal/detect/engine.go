package detect

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

// RuleDetectorFailed is the rule of the alert raised when a detector panics.
const RuleDetectorFailed = "detector_failed"

// EngineOptions configure an Engine. The zero value is usable.
type EngineOptions struct {
	// Now is the clock alerts are stamped and de-duplicated by; default
	// time.Now. A replay passes a clock that follows the replayed events.
	Now func() time.Time
	// DedupWindow is how long after an alert the same fingerprint counts as
	// a duplicate instead of being raised again; default 10 minutes,
	// negative to raise every alert.
	DedupWindow time.Duration
	// MaxFingerprints bounds the de-duplication memory; default 100,000.
	// When it is full the least recently seen fingerprint is forgotten (and
	// may then be raised again early).
	MaxFingerprints int
	// Logger receives detector failures; default discards.
	Logger *slog.Logger
}

// EngineStats counts what an engine has done since it started.
type EngineStats struct {
	Events       uint64          `json:"events"`
	Alerts       uint64          `json:"alerts"`     // raised to the sink
	Duplicates   uint64          `json:"duplicates"` // suppressed by de-duplication
	Failures     uint64          `json:"failures"`   // detector panics
	SinkFailures uint64          `json:"sink_failures"`
	Detectors    []DetectorStats `json:"detectors"`
}

// DetectorStats are one detector's counts.
type DetectorStats struct {
	Name       string `json:"name"`
	Alerts     uint64 `json:"alerts"`
	Duplicates uint64 `json:"duplicates"`
	Failures   uint64 `json:"failures"`
}

// Engine runs every event through every detector, in order, on one
// goroutine at a time. It stamps the alerts detectors raise with an ID
// (UUIDv7) and a time from its clock, fills in a missing detector name and
// fingerprint, suppresses duplicates within the de-duplication window
// (counting them instead), and hands the rest to its sink.
//
// Observe and Run may be called from any goroutine; the engine serialises
// them, so detectors need no locks of their own. A detector raises alerts
// only from within its Observe, and the sink is called with the engine's
// lock held, so it must not call back into the engine.
type Engine struct {
	mu     sync.Mutex
	dets   []engineDetector
	out    Sink
	now    func() time.Time
	window time.Duration
	seen   *State[string, dedup]
	ids    idGen
	log    *slog.Logger

	// The time of the event being observed, for the alerts it raises.
	cur time.Time

	events, alerts, dups, failures, sinkFailures uint64
}

type engineDetector struct {
	d                      Detector
	name                   string
	sink                   detectorSink
	alerts, dups, failures uint64
}

// detectorSink is the Sink a detector raises through: it knows which
// detector is raising.
type detectorSink struct {
	e *Engine
	i int
}

func (s *detectorSink) Raise(a event.Alert) { s.e.raise(s.i, a) }

type dedup struct {
	first time.Time
	count int
}

// NewEngine returns an engine over detectors, raising alerts to out.
func NewEngine(detectors []Detector, out Sink, opts EngineOptions) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DedupWindow == 0 {
		opts.DedupWindow = 10 * time.Minute
	}
	if opts.MaxFingerprints <= 0 {
		opts.MaxFingerprints = 100_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if out == nil {
		out = SinkFunc(func(event.Alert) {})
	}
	e := &Engine{
		out:    out,
		now:    opts.Now,
		window: opts.DedupWindow,
		seen:   NewState[string, dedup](opts.MaxFingerprints, max(opts.DedupWindow, 0)),
		log:    opts.Logger,
	}
	e.dets = make([]engineDetector, len(detectors))
	for i, d := range detectors {
		e.dets[i] = engineDetector{d: d, name: d.Name(), sink: detectorSink{e: e, i: i}}
	}
	return e
}

// Observe runs ev through every detector and returns when they are done. An
// event without a time is stamped with the engine's clock.
func (e *Engine) Observe(ev *event.Event) {
	if ev == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events++
	e.cur = e.now()
	if ev.Time.IsZero() {
		ev.Time = e.cur
	}
	for i := range e.dets {
		e.observe(i, ev)
	}
}

// observe runs one detector, turning a panic into a failure alert.
func (e *Engine) observe(i int, ev *event.Event) {
	defer func() {
		if r := recover(); r != nil {
			e.failed(i, ev, r)
		}
	}()
	d := &e.dets[i]
	d.d.Observe(ev, &d.sink)
}

// Run observes events until the channel is closed or ctx is done.
func (e *Engine) Run(ctx context.Context, events <-chan event.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			e.Observe(&ev)
		}
	}
}

// Stats returns the engine's counts.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := EngineStats{
		Events: e.events, Alerts: e.alerts, Duplicates: e.dups,
		Failures: e.failures, SinkFailures: e.sinkFailures,
		Detectors: make([]DetectorStats, len(e.dets)),
	}
	for i, d := range e.dets {
		s.Detectors[i] = DetectorStats{Name: d.name, Alerts: d.alerts, Duplicates: d.dups, Failures: d.failures}
	}
	return s
}

// Duplicates is how many times the alert with this fingerprint was
// suppressed since it was last raised.
func (e *Engine) Duplicates(fingerprint string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d, ok := e.seen.Get(fingerprint, e.cur); ok {
		return d.count
	}
	return 0
}

// raise is called with e.mu held, from a detector's Observe.
func (e *Engine) raise(i int, a event.Alert) {
	d := &e.dets[i]
	if a.Detector == "" {
		a.Detector = d.name
	}
	if a.Fingerprint == "" {
		a.Fingerprint = Fingerprint(a.Detector, a.Rule, a.Entities)
	}
	now := e.cur
	if e.window > 0 {
		fresh := false
		s := e.seen.GetOrCreate(a.Fingerprint, now, func() dedup { fresh = true; return dedup{first: now} })
		if !fresh && now.Sub(s.first) < e.window {
			s.count++
			d.dups++
			e.dups++
			return
		}
		*s = dedup{first: now}
	}
	a.ID = e.ids.next(now)
	a.Time = now.UTC()
	normalise(&a)
	d.alerts++
	e.alerts++
	e.deliver(a)
}

// normalise makes an alert well-formed whatever the detector filled in: a
// severity, a confidence in [0, 1], lists that are never null.
func normalise(a *event.Alert) {
	if !a.Severity.Valid() {
		a.Severity = event.SeverityMedium
	}
	if math.IsNaN(a.Confidence) {
		a.Confidence = 0
	}
	a.Confidence = min(max(a.Confidence, 0), 1)
	if a.ATLAS == nil {
		a.ATLAS = []string{}
	}
	if a.Entities == nil {
		a.Entities = []event.Entity{}
	}
	if a.Evidence.EventIDs == nil {
		a.Evidence.EventIDs = []string{}
	}
}

// deliver hands a to the sink; a sink that panics is counted and logged but
// does not take the engine down.
func (e *Engine) deliver(a event.Alert) {
	defer func() {
		if r := recover(); r != nil {
			e.sinkFailures++
			e.log.Error("alert sink failed", "alert", a.ID, "rule", a.Rule, "panic", fmt.Sprint(r))
		}
	}()
	e.out.Raise(a)
}

// failed records detector i's panic on ev and raises the failure alert: a
// detector that cannot judge an event must say so rather than stay silent.
func (e *Engine) failed(i int, ev *event.Event, r any) {
	d := &e.dets[i]
	d.failures++
	e.failures++
	msg := fmt.Sprint(r)
	if len(msg) > 200 {
		msg = msg[:200]
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	stack := debug.Stack()
	if len(stack) > 4096 {
		stack = stack[:4096]
	}
	e.log.Error("detector failed", "detector", d.name, "event", ev.ID, "panic", msg, "stack", string(stack))
	e.raise(i, event.Alert{
		Detector: d.name,
		Rule:     RuleDetectorFailed,
		// A panic on one event may have been provoked by that event: until
		// someone looks, it is treated as an attack on the endpoint's
		// defences.
		Type:       "api_endpoint_attack",
		Severity:   event.SeverityHigh,
		Confidence: 0.5,
		Summary: fmt.Sprintf("detector %s failed on event %s and gave no verdict on it (%d failures so far): %s",
			d.name, ev.ID, d.failures, msg),
		Entities:    Entities(ev),
		Evidence:    event.AlertEvidence{EventIDs: []string{ev.ID}, Excerpt: Excerpt(msg, 0, len(msg))},
		Fingerprint: Fingerprint(d.name, RuleDetectorFailed, nil),
	})
}
