package anomaly

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// Name is the detector's name in alerts.
const Name = "anomaly"

// The rules, as they appear in alerts: per caller, then per route.
const (
	RuleRate          = "anomaly.rate"
	RuleTokens        = "anomaly.tokens"
	RuleErrors        = "anomaly.errors"
	RuleRefusals      = "anomaly.refusals"
	RuleLatency       = "anomaly.latency"
	RuleRouteRate     = "anomaly.route_rate"
	RuleRouteTokens   = "anomaly.route_tokens"
	RuleRouteErrors   = "anomaly.route_errors"
	RuleRouteRefusals = "anomaly.route_refusals"
	RuleRouteLatency  = "anomaly.route_latency"
	RuleNewCallers    = "anomaly.new_callers"
)

// measure is one thing counted per bucket.
type measure uint8

const (
	mRequests measure = iota
	mTokens
	mErrors
	mRefusals
	mLatency // the bucket's mean latency
	mNew     // callers first seen in the bucket (routes only)
	numMeasures
)

var measureNames = [numMeasures]string{"requests", "tokens", "server errors", "refusals", "mean latency (ms)", "new callers"}

// A rule per measure, for callers and for routes ("" where none).
var (
	callerRules = [numMeasures]string{RuleRate, RuleTokens, RuleErrors, RuleRefusals, RuleLatency, ""}
	routeRules  = [numMeasures]string{RuleRouteRate, RuleRouteTokens, RuleRouteErrors, RuleRouteRefusals, RuleRouteLatency, RuleNewCallers}
	ruleATLAS   = [numMeasures][]string{
		mRequests: {"AML.T0029", "AML.T0034"}, // denial of AI service, cost harvesting
		mTokens:   {"AML.T0034", "AML.T0029"},
		mErrors:   {"AML.T0029"},
		mRefusals: {"AML.T0040"}, // probing the inference API for what gets through
		mLatency:  {"AML.T0029"}, // sponge inputs that make inference slow
		mNew:      {"AML.T0040", "AML.T0029"},
	}
)

// series is one entity's current bucket and its baselines.
type series struct {
	bucket int64 // index of the current bucket; noBucket before the first event
	cur    [numMeasures]float64
	latN   uint32
	fired  uint8 // measures alerted on this bucket
	base   [numMeasures]detect.Baseline
	first  string // the bucket's first event
}

// noBucket is before every bucket, whatever the event times.
const noBucket = math.MinInt64

func newSeries() series { return series{bucket: noBucket} }

// routeSeries is a route's series with its limits for the current bucket.
// A busy route is judged on every event, and its baselines, hence its
// limits, only change when a bucket closes.
type routeSeries struct {
	series
	limits [numMeasures]float64 // Baseline.Limit(p, p.K) of each measure
}

func newRouteSeries() routeSeries { return routeSeries{series: newSeries()} }

// Detector is the anomaly detector. It is not safe for concurrent use; the
// engine calls it from one goroutine.
type Detector struct {
	cfg                 Config
	params              [numMeasures]detect.BaselineParams
	callers             *detect.State[uint64, series] // by callerKey
	seed                maphash.Seed
	routes              *detect.State[string, routeSeries]
	bucket              int64
	callerMin, routeMin [numMeasures]float64
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector with cfg's thresholds (zero fields take defaults).
func New(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	d := &Detector{
		cfg:     cfg,
		callers: detect.NewState[uint64, series](cfg.MaxCallers, cfg.CallerTTL),
		seed:    maphash.MakeSeed(),
		routes:  detect.NewState[string, routeSeries](cfg.MaxRoutes, 24*cfg.CallerTTL),
		bucket:  int64(cfg.Bucket),
	}
	count := detect.BaselineParams{Alpha: 0.05, Warm: uint32(cfg.WarmBuckets), K: cfg.K, Clip: 3, AbsFloor: 1, RelFloor: 0.25, Poisson: true}
	d.params = [numMeasures]detect.BaselineParams{
		mRequests: count,
		mTokens:   {Alpha: 0.05, Warm: uint32(cfg.WarmBuckets), K: cfg.K, Clip: 3, AbsFloor: 100, RelFloor: 0.25},
		mErrors:   count,
		mRefusals: count,
		mLatency:  {Alpha: 0.05, Warm: uint32(cfg.WarmBuckets), K: cfg.K, Clip: 3, AbsFloor: 5, RelFloor: 0.2},
		mNew:      count,
	}
	d.callerMin = [numMeasures]float64{float64(cfg.MinRate), float64(cfg.MinTokens), float64(cfg.MinErrors), float64(cfg.MinRefusals), 0, 0}
	d.routeMin = [numMeasures]float64{float64(cfg.RouteMinRate), float64(cfg.RouteMinTokens), float64(cfg.RouteMinErrors), float64(cfg.RouteMinRefusals), 0, float64(cfg.MinNewCallers)}
	return d
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Callers is how many callers' baselines are held.
func (d *Detector) Callers() int { return d.callers.Len() }

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	b := ev.Time.UnixNano() / d.bucket
	var add [numMeasures]float64
	add[mRequests] = 1
	add[mTokens] = float64(max(ev.TokensIn, 0) + max(ev.TokensOut, 0))
	if ev.Status >= 500 {
		add[mErrors] = 1
	}
	if refused(ev, detect.OutputOf(ev)) {
		add[mRefusals] = 1
	}
	latency := ev.LatencyMS
	if latency < 0 || latency != latency {
		latency = 0
	}
	add[mLatency] = latency

	fresh := false
	who, hasCaller := detect.Caller(ev)
	if hasCaller {
		s := d.callers.GetOrCreate(d.callerKey(who), ev.Time, func() series { fresh = true; return newSeries() })
		d.update(s, b, &add, callerMeasures)
		d.check(ev, s, nil, who, out)
	}
	route := routeName(ev)
	if route == "" {
		return
	}
	if fresh {
		add[mNew] = 1
	}
	rs := d.routes.GetOrCreate(route, ev.Time, newRouteSeries)
	if d.update(&rs.series, b, &add, numMeasures) {
		for m := range numMeasures {
			rs.limits[m] = rs.base[m].Limit(d.params[m], d.params[m].K)
		}
	}
	d.check(ev, &rs.series, &rs.limits, event.Entity{Kind: event.EntityRoute, Value: route}, out)
}

// callerKey is who's key in d.callers: a seeded 64-bit hash of the
// entity, kind and value, so that finding a caller compares integers and
// never reads the key text again. Two callers share a baseline with a
// chance of about n²/2⁶⁵, and no caller can choose a key that collides.
func (d *Detector) callerKey(who event.Entity) uint64 {
	return maphash.Comparable(d.seed, who)
}

// callerMeasures are the measures judged per caller: all but mNew, which
// only routes count, so a caller's series neither counts nor learns it.
const callerMeasures = mNew

// update adds one event to s, first closing its bucket if the event is in a
// later one: the closed bucket's values are learned, then a zero for every
// idle bucket in between. Only the first n measures are kept. It reports
// whether s moved to a new bucket, and so whether its baselines changed.
func (d *Detector) update(s *series, b int64, add *[numMeasures]float64, n measure) bool {
	turned := b > s.bucket
	if turned {
		if s.bucket != noBucket {
			gap := int(min(b-s.bucket-1, 1<<20))
			for m := range n {
				v, idle := s.cur[m], gap
				if measure(m) == mLatency {
					if s.latN == 0 {
						continue // no latency seen: nothing to learn
					}
					v /= float64(s.latN)
					idle = 0 // an idle bucket has no latency
				}
				s.base[m].Add(v, d.params[m])
				s.base[m].AddZeros(idle, d.params[m])
			}
		}
		s.bucket, s.cur, s.latN, s.fired, s.first = b, [numMeasures]float64{}, 0, 0, ""
	}
	for m := range n {
		s.cur[m] += add[m]
	}
	if add[mLatency] > 0 {
		s.latN++
	}
	return turned
}

// check raises an alert for each measure of s that has just become
// anomalous in the current bucket (at most one per measure per bucket).
// A route's series comes with its baselines' limits (routeSeries.limits);
// a caller's, seldom over its minimums, has them worked out when needed.
func (d *Detector) check(ev *event.Event, s *series, limits *[numMeasures]float64, subject event.Entity, out detect.Sink) {
	isRoute := limits != nil
	if s.first == "" {
		s.first = ev.ID
	}
	mins, rules := &d.callerMin, &callerRules
	latN := d.cfg.MinLatencyN
	if isRoute {
		mins, rules, latN = &d.routeMin, &routeRules, d.cfg.RouteMinLatencyN
	}
	for m := range numMeasures {
		if rules[m] == "" || s.fired&(1<<m) != 0 {
			continue
		}
		v, base, p := s.cur[m], &s.base[m], &d.params[m]
		var limit float64
		switch {
		case measure(m) == mLatency:
			if int(s.latN) < latN || !base.Warm(*p) {
				continue
			}
			v /= float64(s.latN)
			limit = max(baseLimit(s, limits, m, p), d.cfg.LatencyRatio*base.Mean)
		case v < mins[m]:
			continue
		case base.Warm(*p):
			limit = max(mins[m], baseLimit(s, limits, m, p))
		case !isRoute && measure(m) == mRequests:
			limit = float64(d.cfg.ColdRate) // a caller without a baseline: only a flood counts
		case !isRoute:
			limit = d.cfg.ColdFactor * mins[m]
		default:
			continue
		}
		if v <= limit {
			continue
		}
		s.fired |= 1 << m
		d.raise(ev, s, measure(m), v, limit, isRoute, subject, rules[m], out)
	}
}

// baseLimit is the value K spreads above measure m's baseline: a route's
// from its limits, a caller's worked out.
func baseLimit(s *series, limits *[numMeasures]float64, m measure, p *detect.BaselineParams) float64 {
	if limits != nil {
		return limits[m]
	}
	return s.base[m].Limit(*p, p.K)
}

func (d *Detector) raise(ev *event.Event, s *series, m measure, v, limit float64, isRoute bool, subject event.Entity, rule string, out detect.Sink) {
	base := &s.base[m]
	p := d.params[m]
	sum := fmt.Sprintf("%s: %s in the current %s reached %.0f, above its limit of %.0f", subject, measureNames[m], d.cfg.Bucket, v, limit)
	conf := 0.5
	if base.Warm(p) {
		sum += fmt.Sprintf(" (baseline %.1f ± %.1f per %s)", base.Mean, base.Spread(p), d.cfg.Bucket)
		conf = min(0.9, 0.5+0.1*(v/limit))
	} else {
		sum += " (a caller without a baseline yet)"
		conf = 0.4
	}
	sev := event.SeverityMedium
	if v > 3*limit {
		sev = event.SeverityHigh
	}
	var entities []event.Entity
	if isRoute {
		entities = []event.Entity{subject}
		if m := detect.EntityValue(ev.Model); m != "" {
			entities = append(entities, event.Entity{Kind: event.EntityModel, Value: m})
		}
	} else {
		entities = detect.Entities(ev)
	}
	ids := []string{s.first}
	if ev.ID != s.first {
		ids = append(ids, ev.ID)
	}
	out.Raise(event.Alert{
		Detector:    Name,
		Rule:        rule,
		Type:        "api_endpoint_attack",
		ATLAS:       slices.Clone(ruleATLAS[m]),
		Severity:    sev,
		Confidence:  conf,
		Summary:     sum,
		Entities:    entities,
		Evidence:    event.AlertEvidence{EventIDs: ids},
		Fingerprint: detect.Fingerprint(Name, rule, []event.Entity{subject}),
	})
}

// routeName is the route an event is judged with: the gateway's route, or
// for events from other systems their endpoint.
func routeName(ev *event.Event) string {
	if ev.Route != "" {
		return detect.EntityValue(ev.Route)
	}
	return detect.EntityValue(ev.Endpoint)
}
