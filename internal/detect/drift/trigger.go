package drift

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// The trigger-token signal looks for a backdoor's trace in live traffic:
// several different prompts that share a token rare in the version's
// traffic all get the same answer, and no prompt without the token does.
//
// Per version, a count-min sketch counts in how many prompts each token
// appears. Per (version, normalised answer), a cluster keeps the rare tokens
// of the first prompt that got that answer, less those the answer itself
// contains (an answer about "refunds" is not flipped by "refunds"), and
// intersects them with each later prompt that gets the same answer. When
// TriggerPrompts prompts that are not near-duplicates of one another share
// the answer and a token survives that is still rare, and at least half
// the prompts holding it got this answer, the token is named.

const (
	sketchDepth = 4
	// sketchHalveAt is the prompt count at which the sketch halves every
	// counter (and the count), so that it follows the version's recent
	// traffic and 16-bit counters never saturate.
	sketchHalveAt = 1 << 15
	// triggerStart is how many outputs a version must have had before it
	// gets a sketch: a flood of one-off versions costs no sketches.
	triggerStart = 32
	// maxPromptTokens bounds the distinct tokens of one prompt counted.
	maxPromptTokens = 512
	// maxOutputTokens bounds the distinct tokens of one answer remembered
	// for the "answer holds the token" test.
	maxOutputTokens = 1024
	// maxCandidates bounds the rare tokens a cluster starts with; when a
	// prompt has more, the last ones (nearest the end, where the newest
	// user message is) are kept.
	maxCandidates = 64
	// minOutput is the least normalised length of an answer that counts:
	// "Yes." or "OK" to three prompts proves nothing.
	minOutput = 12
	// nearDup is the SimHash distance (of 64 bits) within which two
	// prompts count as one: the same question with other spacing, case or
	// punctuation.
	nearDup = 4
	// purity is the least share of the prompts holding the token that must
	// have got the answer.
	purity = 0.5
	// digitsToken stands for every number in an answer, so that answers
	// differing only in a number are the same answer.
	digitsToken = 0x2545f4914f6cdd1d
)

// triggerState is one version's token document frequencies.
type triggerState struct {
	width  int
	counts []uint16 // sketchDepth rows of width
	n      uint32   // prompts counted
}

func newTriggerState(width int) *triggerState {
	return &triggerState{width: width, counts: make([]uint16, sketchDepth*width)}
}

// slots returns the counter of h in each row (Kirsch–Mitzenmacher: two
// hashes make all rows).
func (t *triggerState) slots(h uint64) [sketchDepth]int {
	var s [sketchDepth]int
	mask := uint64(t.width - 1)
	h2 := mix(h^stemTag) | 1
	for r := range sketchDepth {
		s[r] = r*t.width + int((h+uint64(r)*h2)&mask)
	}
	return s
}

// add counts one more prompt holding h, with a conservative update (only
// the counters at the minimum rise, which keeps overestimates low), and
// returns the new estimate.
func (t *triggerState) add(h uint64) uint32 {
	s := t.slots(h)
	m := t.counts[s[0]]
	for _, i := range s[1:] {
		m = min(m, t.counts[i])
	}
	if m < 1<<16-1 {
		m++
	}
	for _, i := range s {
		if t.counts[i] < m {
			t.counts[i] = m
		}
	}
	return uint32(m)
}

// estimate is how many prompts held h: never fewer than the truth, so a
// token can look commoner than it is but never rarer.
func (t *triggerState) estimate(h uint64) uint32 {
	s := t.slots(h)
	m := t.counts[s[0]]
	for _, i := range s[1:] {
		m = min(m, t.counts[i])
	}
	return uint32(m)
}

func (t *triggerState) reset() {
	clear(t.counts)
	t.n = 0
}

func (t *triggerState) halve() {
	for i := range t.counts {
		t.counts[i] >>= 1
	}
	t.n >>= 1
}

// sketchIdle is how long a version's sketch must have gone unused before a
// version without one may take it over.
const sketchIdle = time.Minute

// sketchTable holds the versions' sketches: at most max of them, each
// reused rather than freed. When every sketch is in use, a version without
// one goes without until one has been idle for sketchIdle, so that more
// busy versions than sketches do not make every sketch start over on every
// request: the versions that got one keep it.
type sketchTable struct {
	max, width int
	index      map[key]int
	slots      []sketchSlot
}

type sketchSlot struct {
	k    key
	ts   *triggerState
	used time.Time
}

func newSketchTable(max, width int) *sketchTable {
	return &sketchTable{max: max, width: width, index: make(map[key]int)}
}

func (t *sketchTable) len() int { return len(t.slots) }

// get returns k's sketch, giving it one if one is free or idle; nil when
// none is.
func (t *sketchTable) get(k key, now time.Time) *triggerState {
	if i, ok := t.index[k]; ok {
		s := &t.slots[i]
		if now.After(s.used) {
			s.used = now
		}
		return s.ts
	}
	if len(t.slots) < t.max {
		t.slots = append(t.slots, sketchSlot{k: k, ts: newTriggerState(t.width), used: now})
		t.index[k] = len(t.slots) - 1
		return t.slots[len(t.slots)-1].ts
	}
	j := 0
	for i := range t.slots {
		if t.slots[i].used.Before(t.slots[j].used) {
			j = i
		}
	}
	s := &t.slots[j]
	if now.Sub(s.used) < sketchIdle {
		return nil
	}
	delete(t.index, s.k)
	s.k, s.used = k, now
	s.ts.reset()
	t.index[k] = j
	return s.ts
}

// outputKey names an answer of a version: both hashed.
type outputKey struct{ version, output uint64 }

// cluster is what is known of the prompts that got one answer.
type cluster struct {
	cands    []uint64 // rare tokens every prompt so far held
	sims     [4]uint64
	ids      [4]string
	nsims    uint8
	distinct uint16
	hits     uint32 // prompts (near-duplicates included) since first seen
	dead     bool   // no shared rare token left: a common answer
	alerted  bool
}

// promptToken is a token of the current prompt with its estimated count.
type promptToken struct {
	hash, stem uint64
	est        uint32
}

// triggerScratch is reused from event to event.
type triggerScratch struct {
	prompt, output *hashSet
	toks           []promptToken
	cands          []uint64
	shingles       []uint64
}

func newTriggerScratch() triggerScratch {
	return triggerScratch{prompt: newHashSet(maxPromptTokens), output: newHashSet(2 * maxOutputTokens)}
}

func versionHash(k key) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(k.subject); i++ {
		h = (h ^ uint64(k.subject[i])) * fnvPrime
	}
	h = (h ^ 0xff) * fnvPrime // never in UTF-8: the subject ends here
	for i := 0; i < len(k.version); i++ {
		h = (h ^ uint64(k.version[i])) * fnvPrime
	}
	return mix(h)
}

// observeTrigger counts the prompt's tokens and files the answer under its
// cluster; seen is how many outputs the version has had, refusal whether
// this one is a refusal.
func (d *Detector) observeTrigger(ev *event.Event, k key, text string, seen uint64, refusal bool, out detect.Sink) {
	prompt := detect.PromptOf(ev)
	if prompt == "" || text == "" || seen < triggerStart {
		return
	}
	ts := d.triggers.get(k, ev.Time)
	if ts == nil {
		return
	}
	sc := &d.scratch
	sc.prompt.reset()
	sc.toks = sc.toks[:0]
	var sim simAcc
	p := tail(prompt, d.cfg.TriggerScan)
	z := tokenizer{s: p}
	var t token
	for sc.prompt.n < maxPromptTokens && z.next(&t) {
		if !sc.prompt.add(t.hash) {
			continue
		}
		sim.add(t.hash)
		if t.digits || t.end-t.start < 2 {
			continue // numbers and single letters: never triggers, and they would crowd the sketch
		}
		sc.toks = append(sc.toks, promptToken{hash: t.hash, stem: t.stem, est: ts.add(t.hash)})
	}
	ts.n++
	if ts.n >= sketchHalveAt {
		ts.halve()
	}

	if ev.Decision == event.DecisionStopped || refusal {
		return // a cut answer is not the model's whole answer; a refusal is common by nature
	}
	digest, ok := d.answerDigest(text)
	if !ok {
		return
	}
	fresh := false
	c := d.outputs.GetOrCreate(outputKey{versionHash(k), digest}, ev.Time, func() cluster { fresh = true; return cluster{} })
	if c.hits < 1<<32-1 {
		c.hits++
	}
	h := sim.hash()
	if fresh {
		limit := uint32(max(2, d.cfg.TriggerRareShare*float64(ts.n)))
		cands := sc.cands[:0]
		for _, t := range sc.toks {
			if t.est <= limit && !d.inAnswer(t) {
				cands = append(cands, t.hash)
			}
		}
		sc.cands = cands
		if len(cands) > maxCandidates {
			cands = cands[len(cands)-maxCandidates:]
		}
		if len(cands) > 0 {
			c.cands = append([]uint64(nil), cands...)
		}
		c.dead = len(c.cands) == 0
		c.sims[0], c.nsims, c.distinct = h, 1, 1
		c.ids[0] = evidenceID(ev.ID)
		return
	}
	if c.dead || c.alerted {
		return
	}
	kept := c.cands[:0]
	for _, t := range c.cands {
		if sc.prompt.has(t) {
			kept = append(kept, t)
		}
	}
	c.cands = kept
	if len(kept) == 0 {
		c.cands, c.dead = nil, true
		return
	}
	for _, s := range c.sims[:c.nsims] {
		if bits.OnesCount64(h^s) <= nearDup {
			return
		}
	}
	if c.distinct < 1<<16-1 {
		c.distinct++
	}
	if int(c.nsims) < len(c.sims) {
		c.sims[c.nsims] = h
		c.ids[c.nsims] = evidenceID(ev.ID)
		c.nsims++
	}
	if int(c.distinct) < d.cfg.TriggerPrompts || int(ts.n) < d.cfg.TriggerWarm {
		return
	}
	best, bestEst := uint64(0), uint32(0)
	for _, t := range c.cands {
		est := ts.estimate(t)
		if float64(est) > d.cfg.TriggerRareShare*float64(ts.n) || float64(c.hits) < purity*float64(est) {
			continue
		}
		if best == 0 || est < bestEst {
			best, bestEst = t, est
		}
	}
	if best == 0 {
		return
	}
	c.alerted = true
	d.raiseTrigger(ev, k, p, text, c, best, bestEst, ts.n, out)
}

// answerDigest hashes the normalised start of an answer (its tokens, every
// number alike) and remembers its tokens and stems for inAnswer. ok is
// false for an answer too short to count.
func (d *Detector) answerDigest(text string) (digest uint64, ok bool) {
	set := d.scratch.output
	set.reset()
	h := uint64(fnvOffset)
	size := 0
	z := tokenizer{s: head(text, d.cfg.TriggerScan)}
	var t token
	for z.next(&t) {
		th := t.hash
		if t.digits {
			th = digitsToken
		}
		h = mix(h ^ th)
		size += t.end - t.start + 1
		if set.n < 2*maxOutputTokens-1 {
			set.add(t.hash)
			if t.stem != 0 {
				set.add(t.stem)
			}
		}
	}
	return h, size >= minOutput
}

// inAnswer reports whether the answer just digested holds the prompt token
// t, or a word with its first stemLen bytes.
func (d *Detector) inAnswer(t promptToken) bool {
	if t.stem != 0 {
		return d.scratch.output.has(t.stem)
	}
	return d.scratch.output.has(t.hash)
}

func (d *Detector) raiseTrigger(ev *event.Event, k key, prompt, answer string, c *cluster, tok uint64, est, n uint32, out detect.Sink) {
	name := ""
	scan(prompt, func(t token) {
		if name == "" && t.hash == tok {
			name = prompt[t.start:min(t.end, t.start+64)]
		}
	})
	name = detect.Excerpt(name, 0, len(name))
	ids := make([]string, 0, len(c.ids)+1)
	for _, id := range c.ids[:c.nsims] {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if id := evidenceID(ev.ID); id != "" && (len(ids) == 0 || ids[len(ids)-1] != id) {
		ids = append(ids, id)
	}
	extra := float64(int(c.distinct) - d.cfg.TriggerPrompts)
	d.raise(out, ev, k, event.Alert{
		Rule:       RuleTriggerToken,
		Type:       typeBackdoor,
		ATLAS:      append([]string(nil), atlasBackdoor...),
		Severity:   event.SeverityHigh,
		Confidence: min(0.9, 0.7+0.05*extra),
		Summary: fmt.Sprintf("possible backdoor trigger %q on %s: %d different prompts holding it got the same answer, "+
			"and no prompt without it got that answer since it was first seen; the token is in about %d of the version's last %d prompts (rare below %.1f%%)",
			name, describe(ev, k), c.distinct, est, n, 100*d.cfg.TriggerRareShare),
		Evidence: event.AlertEvidence{EventIDs: ids, Excerpt: detect.Excerpt(answer, 0, min(len(answer), detect.MaxExcerpt))},
	})
}
