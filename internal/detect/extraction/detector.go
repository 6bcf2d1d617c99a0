package extraction

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"strings"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// Name is the detector's name in alerts.
const Name = "extraction"

// The rules, as they appear in alerts.
const (
	RuleRate          = "extraction.rate"
	RuleVolume        = "extraction.volume"
	RuleDistinct      = "extraction.distinct_prompts"
	RuleNearDuplicate = "extraction.near_duplicate"
	RulePRADA         = "extraction.prada"
	RuleLogprobs      = "extraction.logprob_harvest"
	RuleDivergence    = "extraction.divergence"
	RuleProbe         = "extraction.model_probe"
)

const (
	ringSize    = 8    // recent distinct prompts per caller: the neighbour index
	minRing     = 4    // neighbours needed before a distance is a sample
	maxSimHash  = 4096 // bytes of a prompt (after the shared prefix) hashed by SimHash
	maxHashed   = 8192 // bytes compared to recognise a retry or a continued conversation
	headBytes   = 64
	maxPhrase   = 4096 // bytes of new text searched for phrases, from the start...
	tailPhrase  = 1024 // ...and from the end
	evidenceLen = 4
)

// Detector is the extraction detector. It is not safe for concurrent use;
// the engine calls it from one goroutine.
type Detector struct {
	cfg      Config
	rate     detect.BaselineParams
	callers  *detect.State[uint64, caller] // by callerKey
	routes   *detect.State[string, routePrefix]
	ref      reference
	seed     maphash.Seed
	triggers *triggerTable
	phrases  *phraseMatcher
	window   int64
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector with cfg's thresholds (zero fields take defaults).
func New(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	triggers, bits := newTriggers()
	return &Detector{
		cfg: cfg,
		rate: detect.BaselineParams{
			Alpha: 0.2, Warm: uint32(cfg.WarmWindows), K: cfg.RateK, Clip: 3,
			AbsFloor: 1, RelFloor: 0.25, Poisson: true,
		},
		callers:  detect.NewState[uint64, caller](cfg.MaxCallers, cfg.CallerTTL),
		routes:   detect.NewState[string, routePrefix](cfg.MaxRoutes, 24*cfg.CallerTTL),
		seed:     maphash.MakeSeed(),
		triggers: triggers,
		phrases:  newPhraseMatcher(bits),
		window:   int64(cfg.Window),
	}
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Callers is how many callers' state is held.
func (d *Detector) Callers() int { return d.callers.Len() }

// caller is one caller's state: the current window's counts, baselines over
// past windows, the neighbour index and the distance histogram. Every event
// reads its first fields and the ring, so they come first and the struct is
// kept small: a caller's state is seldom in the cache when its next event
// arrives, and each cache line it spans is a miss.
type caller struct {
	window                     int64 // index of the current window; noWindow before the first event
	requests                   uint32
	fired                      uint8 // rules raised this window
	ringLen, ringNext          uint8
	sinceTest                  uint8
	tokensOut                  uint64
	rateLimit, volumeLimit     float64
	first                      string // first event of the window
	prompts, near              uint32
	logprob, logitBias, probes uint32
	probeKinds, evidenceNext   uint8
	ring                       [ringSize]neighbour
	distinct                   distinctCounter
	hist                       distanceHist
	rate, volume, distinctBase detect.Baseline // read when a window closes or a rule fires
	evidence                   [evidenceLen]string
}

// neighbour is one recent distinct prompt of a caller.
type neighbour struct {
	sim  uint64 // SimHash
	full uint32 // hash of its first n bytes
	head uint16 // hash of its first headBytes, to find a continuation without hashing
	n    uint16 // at most maxHashed
}

const _ = uint16(maxHashed) // neighbour.n holds it

const (
	firedRate = 1 << iota
	firedVolume
	firedDistinct
	firedNear
	firedPRADA
	firedLogprobs
	firedDivergence
	firedProbe
)

// noWindow is before every window, whatever the event times (even before
// 1970).
const noWindow = math.MinInt64

func newCaller() caller { return caller{window: noWindow} }

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	who, ok := detect.Caller(ev)
	if !ok {
		return
	}
	// The prompt's digest is read first: its SHA-256 is seldom in the
	// cache, and its load then overlaps the caller's, instead of waiting
	// behind it.
	p := detect.PromptOf(ev)
	var digest uint64
	if p != "" {
		digest = promptDigest(ev.PromptSHA256, p)
	}
	c := d.callers.GetOrCreate(d.callerKey(who), ev.Time, newCaller)
	if w := ev.Time.UnixNano() / d.window; w > c.window {
		d.roll(c, w)
	}
	if c.first == "" {
		c.first = ev.ID
	}
	c.requests++
	if ev.TokensOut > 0 {
		c.tokensOut += uint64(ev.TokensOut)
	}
	d.volumeSignals(ev, who, c, out)
	d.logprobSignal(ev, who, c, out)
	if p != "" {
		d.promptSignals(ev, p, digest, who, c, out)
	}
}

// callerKey is who's key in the callers' state: a 64-bit seeded hash, so
// that finding a caller compares integers and never reads the key text
// again. With a seed of its own per detector, two callers share a key with
// a chance of about n²/2⁶⁵ (10⁻¹⁰ for 100,000 callers), and no caller can
// choose a key that collides.
func (d *Detector) callerKey(who event.Entity) uint64 {
	return maphash.Comparable(d.seed, who)
}

// roll closes the caller's window: its counts are learned by the baselines
// (with a zero for every idle window in between) and the next window's
// limits are set.
func (d *Detector) roll(c *caller, w int64) {
	if c.window != noWindow {
		c.rate.Add(float64(c.requests), d.rate)
		c.volume.Add(float64(c.tokensOut), d.rate)
		c.distinctBase.Add(float64(c.distinct.count()), d.rate)
		if gap := int(min(w-c.window-1, 1<<20)); gap > 0 {
			c.rate.AddZeros(gap, d.rate)
			c.volume.AddZeros(gap, d.rate)
			c.distinctBase.AddZeros(gap, d.rate)
		}
	}
	c.window = w
	c.requests, c.prompts, c.near, c.logprob, c.logitBias, c.probes = 0, 0, 0, 0, 0, 0
	c.tokensOut, c.probeKinds, c.fired, c.first = 0, 0, 0, ""
	c.evidence, c.evidenceNext = [evidenceLen]string{}, 0
	c.distinct.reset()
	if c.rate.Warm(d.rate) {
		c.rateLimit = max(float64(d.cfg.RateMin), c.rate.Limit(d.rate, d.cfg.RateK))
		c.volumeLimit = max(float64(d.cfg.VolumeMin), c.volume.Limit(d.rate, d.cfg.RateK))
	} else {
		c.rateLimit, c.volumeLimit = float64(d.cfg.ColdRate), float64(d.cfg.ColdVolume)
	}
}

func (d *Detector) volumeSignals(ev *event.Event, who event.Entity, c *caller, out detect.Sink) {
	if float64(c.requests) > c.rateLimit && c.fired&firedRate == 0 {
		c.fired |= firedRate
		warm := c.rate.Warm(d.rate)
		sum := fmt.Sprintf("%s sent %d requests in the current %s window, above its limit of %.0f", who, c.requests, d.cfg.Window, c.rateLimit)
		conf := 0.4
		if warm {
			sum += fmt.Sprintf(" (its baseline is %.1f ± %.1f per window)", c.rate.Mean, c.rate.Spread(d.rate))
			conf = 0.6
		} else {
			sum += " (a caller without a baseline yet)"
		}
		d.raise(out, ev, who, c, RuleRate, "model_extraction", []string{"AML.T0024.002"}, event.SeverityMedium, conf, sum, "")
	}
	if float64(c.tokensOut) > c.volumeLimit && c.fired&firedVolume == 0 {
		c.fired |= firedVolume
		sum := fmt.Sprintf("%s received %d output tokens in the current %s window, above its limit of %.0f", who, c.tokensOut, d.cfg.Window, c.volumeLimit)
		conf := 0.4
		if c.rate.Warm(d.rate) {
			sum += fmt.Sprintf(" (its baseline is %.0f ± %.0f per window)", c.volume.Mean, c.volume.Spread(d.rate))
			conf = 0.6
		}
		d.raise(out, ev, who, c, RuleVolume, "model_extraction", []string{"AML.T0024.002"}, event.SeverityMedium, conf, sum, "")
	}
}

func (d *Detector) logprobSignal(ev *event.Event, who event.Entity, c *caller, out detect.Sink) {
	if !ev.Logprobs && ev.TopLogprobs <= 0 && ev.LogitBias <= 0 {
		return
	}
	c.logprob++
	if ev.LogitBias > 0 {
		c.logitBias++
	}
	if c.logprob%16 == 1 {
		c.remember(ev.ID)
	}
	if c.fired&firedLogprobs != 0 || int(c.logprob) < d.cfg.LogprobMin ||
		float64(c.logprob) < d.cfg.LogprobFraction*float64(c.requests) {
		return
	}
	c.fired |= firedLogprobs
	sev, conf := event.SeverityMedium, 0.6
	if c.logitBias*2 >= c.logprob {
		// logit_bias with logprobs is how the logits themselves are read
		// out (Carlini et al., 2024), not a way to steer an answer.
		sev, conf = event.SeverityHigh, 0.75
	}
	sum := fmt.Sprintf("%s sent %d of its %d requests in the current %s window with logprobs, top_logprobs or logit_bias (%d with logit_bias): harvesting output probabilities",
		who, c.logprob, c.requests, d.cfg.Window, c.logitBias)
	d.raise(out, ev, who, c, RuleLogprobs, "model_extraction", []string{"AML.T0024.002", "AML.T0005.001"}, sev, conf, sum, "")
}

// promptSignals runs the rules that read the prompt p, whose digest is
// promptDigest's.
func (d *Detector) promptSignals(ev *event.Event, p string, digest uint64, who event.Entity, c *caller, out detect.Sink) {
	// Distinct prompts, by digest: deterministic, so that a replay of the
	// same events gives the same estimate.
	c.distinct.add(digest)
	if c.requests%8 == 0 && c.fired&firedDistinct == 0 {
		// Growth is against whatever history the caller has, even one
		// window; a caller with none is judged by the minimum alone, with
		// less confidence.
		seen := c.distinctBase.N > 0
		if n := c.distinct.count(); n >= d.cfg.DistinctMin && (!seen || float64(n) >= d.cfg.DistinctGrowth*c.distinctBase.Mean) {
			c.fired |= firedDistinct
			sum := fmt.Sprintf("%s sent about %d distinct prompts in the current %s window", who, n, d.cfg.Window)
			conf := 0.4
			if seen {
				sum += fmt.Sprintf(", %.1f times its usual %.0f", float64(n)/max(c.distinctBase.Mean, 1), c.distinctBase.Mean)
				conf = 0.6
			} else {
				sum += " (a caller without history)"
			}
			d.raise(out, ev, who, c, RuleDistinct, "model_extraction", []string{"AML.T0024.002"}, event.SeverityMedium, conf, sum, "")
		}
	}

	route := d.routes.GetOrCreate(routeKey(ev), ev.Time, func() routePrefix { return routePrefix{} })
	rest := route.strip(p)
	scan := rest[:min(len(rest), maxSimHash)]
	f := features(scan, d.triggers)
	hashed := rest[:min(len(rest), maxHashed)]
	nb := neighbour{
		sim:  f.sim,
		head: uint16(maphash.String(d.seed, hashed[:min(len(hashed), headBytes)])),
		full: uint32(maphash.String(d.seed, hashed)),
		n:    uint16(len(hashed)),
	}

	// Compare with the neighbour index: an identical prompt is a retry, one
	// that extends a neighbour is the same conversation continued; neither
	// is a probe. Otherwise the nearest neighbour's distance is a sample.
	exact, cont, contLen, nearest := false, -1, 0, 65
	for i := range int(c.ringLen) {
		e := &c.ring[i]
		if e.full == nb.full && e.n == nb.n {
			exact = true
			break
		}
		if e.head == nb.head && int(e.n) < len(hashed) && int(e.n) > contLen &&
			uint32(maphash.String(d.seed, hashed[:e.n])) == e.full {
			cont, contLen = i, int(e.n)
		}
		nearest = min(nearest, distance(e.sim, nb.sim))
	}
	if exact {
		return
	}
	if cont >= 0 {
		c.ring[cont] = nb
	} else {
		if c.ringLen >= minRing {
			d.sample(ev, nearest, who, c, out)
		}
		c.ring[c.ringNext] = nb
		c.ringNext = (c.ringNext + 1) % ringSize
		c.ringLen = min(c.ringLen+1, ringSize)
	}

	// Phrases, in what this prompt adds to the conversation.
	fresh := rest[contLen:]
	region := fresh
	if len(fresh) > maxPhrase+tailPhrase {
		region = fresh[:maxPhrase] + "\n" + fresh[len(fresh)-tailPhrase:]
	}
	if cont >= 0 || len(rest) > maxSimHash {
		f = features(region, d.triggers)
	}
	d.phraseSignals(ev, region, f, route.settled(), who, c, out)
}

// sample records the distance from a new distinct prompt to its nearest
// neighbour and runs the near-duplicate and PRADA tests.
func (d *Detector) sample(ev *event.Event, nearest int, who event.Entity, c *caller, out detect.Sink) {
	c.prompts++
	c.hist.add(nearest)
	d.ref.add(nearest)
	if nearest <= d.cfg.NearDistance {
		c.near++
		if c.near%4 == 1 {
			c.remember(ev.ID)
		}
		if c.fired&firedNear == 0 && int(c.near) >= d.cfg.NearMin && float64(c.near) >= d.cfg.NearFraction*float64(c.prompts) {
			c.fired |= firedNear
			sum := fmt.Sprintf("%s sent %d prompts in the current %s window that differ from one of its recent prompts by at most %d of 64 SimHash bits (%d%% of its new prompts): probing with small perturbations",
				who, c.near, d.cfg.Window, d.cfg.NearDistance, 100*c.near/max(c.prompts, 1))
			d.raise(out, ev, who, c, RuleNearDuplicate, "membership_inference", []string{"AML.T0024.000"}, event.SeverityMedium, 0.65, sum, "")
		}
	}
	c.sinceTest++
	if c.sinceTest < 8 || int(c.hist.n) < d.cfg.PradaMin || d.ref.n < float64(d.cfg.PradaReference) || c.fired&firedPRADA != 0 {
		return
	}
	c.sinceTest = 0
	D, crit := ks(&c.hist, &d.ref)
	if D <= crit || D <= d.cfg.PradaD {
		return
	}
	c.fired |= firedPRADA
	sum := fmt.Sprintf("%s's queries are systematic: the distances from each of its last %d prompts to the nearest earlier one (mean %.1f bits) differ from all traffic's (mean %.1f bits) with Kolmogorov–Smirnov D = %.2f (critical %.2f at α = 0.001)",
		who, c.hist.n, c.hist.mean(), d.ref.mean(), D, crit)
	d.raise(out, ev, who, c, RulePRADA, "model_extraction", []string{"AML.T0024.002", "AML.T0005.001"}, event.SeverityHigh, min(0.9, 0.5+D/2), sum, "")
}

// phraseSignals looks for divergence requests and model probes. Probes
// count only once the route's shared prefix is known, lest a system prompt
// that mentions "your system prompt" count as a probe on every request.
func (d *Detector) phraseSignals(ev *event.Event, text string, f textFeatures, routeSettled bool, who event.Entity, c *caller, out detect.Sink) {
	if f.maxRun >= d.cfg.RepeatRun && c.fired&firedDivergence == 0 {
		c.fired |= firedDivergence
		sum := fmt.Sprintf("%s sent a prompt with one word repeated %d times in a row: a divergence attack that makes a model emit memorised training data", who, f.maxRun)
		d.raise(out, ev, who, c, RuleDivergence, "training_data_extraction", []string{"AML.T0057", "AML.T0024"}, event.SeverityMedium, 0.7, sum, detect.Excerpt(text, 0, 0))
	}
	// The normalised text is made only for a rule that may still fire.
	wantDivergence := f.trigger&triggerDivergence != 0 && c.fired&firedDivergence == 0
	wantProbe := f.trigger&triggerProbe != 0 && routeSettled
	if !wantDivergence && !wantProbe {
		return
	}
	norm := d.phrases.normalise(text) // valid until the next call
	if wantDivergence {
		if m, ok := divergence(norm); ok {
			c.fired |= firedDivergence
			sum := fmt.Sprintf("%s asked the model to repeat something without end (%d words): a divergence attack that makes a model emit memorised training data", who, len(strings.Fields(m)))
			d.raise(out, ev, who, c, RuleDivergence, "training_data_extraction", []string{"AML.T0057", "AML.T0024"}, event.SeverityMedium, 0.8, sum, excerptAt(text, m))
		}
	}
	if !wantProbe {
		return
	}
	kinds, phrase := d.phrases.probes(norm, f.probeWords)
	if kinds == 0 {
		return
	}
	c.probes++
	c.probeKinds |= kinds
	c.remember(ev.ID)
	n := bits.OnesCount8(c.probeKinds)
	if c.fired&firedProbe != 0 || (int(c.probes) < d.cfg.ProbeMin && (n < 2 || c.probes < 2)) {
		return
	}
	c.fired |= firedProbe
	var names, atlas []string
	for k := range numProbeKinds {
		if c.probeKinds&(1<<k) != 0 {
			names = append(names, probeKindNames[k])
			atlas = append(atlas, probeATLAS[k])
		}
	}
	sev := event.SeverityLow
	if n >= 2 {
		sev = event.SeverityMedium
	}
	sum := fmt.Sprintf("%s asked %d questions about the model itself in the current %s window (%s), the last: %q",
		who, c.probes, d.cfg.Window, strings.Join(names, ", "), phrase)
	d.raise(out, ev, who, c, RuleProbe, "model_architecture_inference", atlas, sev, 0.5+0.1*float64(n), sum, excerptAt(text, phrase))
}

// probeATLAS is the technique each probe kind is evidence of.
var probeATLAS = [numProbeKinds]string{
	probeIdentity:     "AML.T0014", // Discover AI Model Family
	probeArchitecture: "AML.T0013", // Discover AI Model Ontology
	probeSystemPrompt: "AML.T0069", // Discover LLM System Information
}

// excerptAt returns an excerpt of text around the first word of phrase (a
// phrase found in text's normalised form).
func excerptAt(text, phrase string) string {
	w, _, _ := strings.Cut(phrase, " ")
	i := strings.Index(strings.ToLower(text), w)
	if i < 0 {
		return detect.Excerpt(text, 0, 0)
	}
	return detect.Excerpt(text, i, i+len(phrase))
}

// remember keeps id as evidence for the caller's next alert.
func (c *caller) remember(id string) {
	if id == "" {
		return
	}
	c.evidence[c.evidenceNext] = id
	c.evidenceNext = (c.evidenceNext + 1) % evidenceLen
}

func (d *Detector) raise(out detect.Sink, ev *event.Event, who event.Entity, c *caller, rule, typ string, atlas []string, sev event.Severity, conf float64, summary, excerpt string) {
	ids := make([]string, 0, evidenceLen+2)
	add := func(id string) {
		if id != "" && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(c.first)
	for i := range evidenceLen {
		add(c.evidence[(int(c.evidenceNext)+i)%evidenceLen])
	}
	add(ev.ID)
	out.Raise(event.Alert{
		Detector:    Name,
		Rule:        rule,
		Type:        typ,
		ATLAS:       atlas,
		Severity:    sev,
		Confidence:  conf,
		Summary:     summary,
		Entities:    detect.Entities(ev),
		Evidence:    event.AlertEvidence{EventIDs: ids, Excerpt: excerpt},
		Fingerprint: detect.Fingerprint(Name, rule, []event.Entity{who}),
	})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// promptDigest is 64 bits of the prompt's SHA-256 when the event carries
// it, else a hash of the text.
func promptDigest(sha, text string) uint64 {
	if len(sha) >= 16 {
		if v, ok := hex64(sha); ok {
			return v
		}
		text = sha
	}
	h := uint64(fnvOffset)
	for i := 0; i < len(text); i++ {
		h = (h ^ uint64(text[i])) * fnvPrime
	}
	return mix(h)
}

// hex64 decodes the first 16 hex digits of s (either case); ok is false
// when one is not a hex digit.
func hex64(s string) (v uint64, ok bool) {
	var bad byte
	for i := range 16 {
		c := s[i]
		d := c - '0'
		if d > 9 {
			d = (c | 0x20) - 'a' + 10
			bad |= b2u8(d < 10 || d > 15)
		}
		v = v<<4 | uint64(d)
	}
	return v, bad == 0
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// routeKey names the route whose shared prefix a prompt is stripped of,
// bounded like an entity value so that the routes' state cannot pin a
// huge string.
func routeKey(ev *event.Event) string {
	switch {
	case ev.Route != "":
		return detect.EntityValue(ev.Route)
	case ev.Model != "":
		return detect.EntityValue("model:" + ev.Model)
	default:
		return detect.EntityValue("endpoint:" + ev.Endpoint)
	}
}
