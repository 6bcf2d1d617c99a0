package drift

import (
	"fmt"
	"hash/crc32"
	"math/bits"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/swar"
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
	// startFloor and startRare set how common a token may be and still be
	// kept when a cluster starts: in at most startFloor prompts, or in
	// startRare times the share that makes a trigger.
	startFloor = 8
	startRare  = 2
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
	prefix promptPrefix
}

func newTriggerState(width int) *triggerState {
	return &triggerState{width: width, counts: make([]uint16, sketchDepth*width)}
}

// slots returns the counter of h in each row (Kirsch–Mitzenmacher: the
// two halves of h, which is well mixed, make all rows). They are
// returned one by one: an array result is stored and loaded back with
// wider loads than its stores, which stalls store forwarding.
func (t *triggerState) slots(h uint64) (s0, s1, s2, s3 int) {
	mask := uint64(t.width - 1)
	h2 := h>>32 | 1
	w := t.width
	return int(h & mask), w + int((h+h2)&mask), 2*w + int((h+2*h2)&mask), 3*w + int((h+3*h2)&mask)
}

// add counts w more prompts holding h, with a conservative update (only
// the counters at the minimum rise, which keeps overestimates low), and
// returns the new estimate.
func (t *triggerState) add(h uint64, w uint32) uint32 {
	s0, s1, s2, s3 := t.slots(h)
	c := t.counts
	_ = c[s3] // s0 < s1 < s2 < s3
	m := uint16(min(uint32(min(c[s0], c[s1], c[s2], c[s3]))+w, 1<<16-1))
	c[s0], c[s1], c[s2], c[s3] = max(c[s0], m), max(c[s1], m), max(c[s2], m), max(c[s3], m)
	return uint32(m)
}

// A version's sketch counts every prompt until it has counted
// sampleFrom, then one prompt in sampleStride, each for sampleStride
// prompts: a sample of that size still tells a token in 1% of prompts from
// one in 0.1%, and the sketch's counts stay in prompts, so every test on
// them reads the same. (The halving every sketchHalveAt prompts keeps the
// count above sampleFrom once it is reached.) Which prompts are the sample
// is decided by a hash of the whole prompt, not by their order, so that
// traffic with a period (every tenth request from one client) is not
// always in the sample or never; and it is the same on a replay.
const (
	sampleFrom   = 4096
	sampleStride = 4
)

// weight is how many prompts the tokens of the prompt whose hash is ph
// count for in the sketch: 0 when it is not one of the sample.
func (t *triggerState) weight(ph uint64) uint32 {
	switch {
	case t.n < sampleFrom:
		return 1
	case mix(ph)%sampleStride == 0:
		return sampleStride
	}
	return 0
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// promptHash is a hash of the prompt: its SHA-256 as the gateway recorded
// it, else a CRC of the text read (the tail of at most TriggerScan bytes;
// CRC-32C is computed in hardware, a fraction of the cost of tokenising).
func promptHash(ev *event.Event, prompt string) uint64 {
	if len(ev.PromptSHA256) >= 8 {
		return swar.Load64(ev.PromptSHA256, 0) // eight hex digits: 32 bits, which mix spreads
	}
	return uint64(crc32.Checksum([]byte(prompt), castagnoli)) | uint64(len(prompt))<<32
}

// count records that one more prompt was seen, halving the sketch when
// its count reaches sketchHalveAt.
func (t *triggerState) count() {
	t.n++
	if t.n >= sketchHalveAt {
		t.halve()
	}
}

// estimate is how many prompts held h: never fewer than the truth, so a
// token can look commoner than it is but never rarer.
func (t *triggerState) estimate(h uint64) uint32 {
	s0, s1, s2, s3 := t.slots(h)
	c := t.counts
	_ = c[s3]
	return uint32(min(c[s0], c[s1], c[s2], c[s3]))
}

func (t *triggerState) reset() {
	clear(t.counts)
	t.n = 0
	t.prefix.reset()
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

// getFor is get for the version whose state is vs, trying the slot it had
// last before the index.
func (t *sketchTable) getFor(k key, vs *versionState, now time.Time) *triggerState {
	if i := int(vs.sketch) - 1; i >= 0 && i < len(t.slots) && t.slots[i].k == k {
		s := &t.slots[i]
		if now.After(s.used) {
			s.used = now
		}
		return s.ts
	}
	ts := t.get(k, now)
	if ts != nil {
		vs.sketch = int32(t.index[k] + 1)
	}
	return ts
}

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

// cluster is what is known of the prompts that got one answer, from the
// second (see onceTable).
type cluster struct {
	cands    []uint64 // rare tokens every prompt since the second held
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
	token
	est uint32
}

// tokenBatch is how many tokens the tokenizer reads at a time.
const tokenBatch = 256

// maxAnswerTokens bounds the tokens of an answer kept for inAnswer; an
// answer with more, which inAnswer rarely needs, is read again.
const maxAnswerTokens = 4 * maxOutputTokens

// triggerScratch is reused from event to event.
type triggerScratch struct {
	prompt, output *hashSet
	toks           []promptToken
	cands          []uint64
	shingles       []uint64
	batch          []token // tokens read, tokenBatch at a time

	// The set of a kept opening's tokens the prompt opens with, nil if
	// none: with prompt, the prompt's distinct tokens.
	opening *hashSet

	// The answer just digested: its text; once prepareAnswer has read
	// them, its first tokens, where reading stopped after them, and
	// whether output holds its tokens and stems instead.
	answer     string
	answerToks []token
	answerRest tokenizer
	answerSet  bool
}

// inPrompt reports whether the current prompt holds the token h.
func (sc *triggerScratch) inPrompt(h uint64) bool {
	return sc.opening != nil && sc.opening.has(h) || sc.prompt.has(h)
}

func newTriggerScratch() triggerScratch {
	return triggerScratch{
		prompt: newHashSet(maxPromptTokens), output: newHashSet(2 * maxOutputTokens),
		batch: make([]token, 0, tokenBatch), answerToks: make([]token, 0, maxAnswerTokens),
	}
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
// cluster; vs is the version's state, refusal whether this answer is a
// refusal.
func (d *Detector) observeTrigger(ev *event.Event, k key, vs *versionState, text string, refusal bool, out detect.Sink) {
	prompt := detect.PromptOf(ev)
	if prompt == "" || text == "" || vs.seen < triggerStart {
		return
	}
	ts := d.triggers.getFor(k, vs, ev.Time)
	if ts == nil {
		return
	}
	// The answer first: its cluster says whether the prompt's tokens are
	// needed beyond the sketch's count. A cut answer is not the model's
	// whole answer, and a refusal is common by nature: neither is
	// clustered. start: the answer's second prompt, which starts its
	// cluster; live: a later one the cluster still wants.
	ph := promptHash(ev, tail(prompt, d.cfg.TriggerScan))
	var c *cluster
	start := false
	if ev.Decision != event.DecisionStopped && !refusal {
		if digest, ok := d.answerDigest(text); ok {
			if vs.vhash == 0 {
				vs.vhash = versionHash(k)
			}
			ak := outputKey{vs.vhash, digest} // the answer, of this version
			slot, mark := d.once.slot(ak)
			if slot.clusters&mark != 0 { // else it has no cluster
				if got, found := d.outputs.Get(ak, ev.Time); found {
					c = got
					if c.hits < 1<<32-1 {
						c.hits++
					}
				}
			}
			if c == nil && d.once.again(slot, ak, ph, ev.Time) {
				c = d.outputs.GetOrCreate(ak, ev.Time, func() cluster { return cluster{hits: 2} })
				d.marked(slot, mark)
				start = true
			}
		}
	}
	live := c != nil && !start && !c.dead && !c.alerted
	w := ts.weight(ph)
	if w == 0 && !start && !live {
		ts.count() // neither the sketch nor a cluster needs the tokens
		return
	}
	sc := &d.scratch
	sc.prompt.reset()
	sc.toks = sc.toks[:0]
	var sim detect.SimHash
	p := tail(prompt, d.cfg.TriggerScan)
	z := tokenizer{s: p}
	// The tokens of a kept opening come first, as reading them would
	// give them; reading resumes after them. kept is how many distinct
	// tokens they are, and sc.opening their set, nil when none is kept.
	kept := 0
	sc.opening = nil
	pp := &ts.prefix
	reuse := !d.noPrefix && pp.opens(p)
	if reuse {
		sim = pp.sim
		for i := range pp.toks {
			if t := &pp.toks[i]; !t.digits && t.end-t.start >= 2 {
				sc.toks = append(sc.toks, promptToken{})
				pt := &sc.toks[len(sc.toks)-1] // field by field: see tokenizer.fill
				pt.hash, pt.start, pt.end = t.hash, t.start, t.end
			}
		}
		kept, sc.opening, z.i = len(pp.toks), pp.set, pp.end
	}
	for kept+sc.prompt.n < maxPromptTokens {
		batch := z.fill(sc.batch[:0])
		if len(batch) == 0 {
			break
		}
		// The tokens new to this prompt, moved to the front of batch
		// without branching on which are: it is data, and a branch on it
		// would often be guessed wrong.
		fresh := 0
		for i := range batch {
			if kept+sc.prompt.n >= maxPromptTokens {
				break
			}
			t := &batch[i]
			var isNew int
			if sc.opening == nil || !sc.opening.has(t.hash) {
				isNew = sc.prompt.insert(t.hash)
			}
			f := &batch[fresh] // fresh ≤ i
			f.hash, f.start, f.end, f.digits = t.hash, t.start, t.end, t.digits
			fresh += isNew
		}
		for i := range batch[:fresh] {
			t := &batch[i]
			sim.Add(t.hash)
			// Numbers and single letters are never triggers, and they
			// would crowd the sketch.
			keep := b2i(!t.digits && t.end-t.start >= 2)
			sc.toks = append(sc.toks, promptToken{})
			pt := &sc.toks[len(sc.toks)-1] // field by field: see tokenizer.fill
			pt.hash, pt.start, pt.end = t.hash, t.start, t.end
			sc.toks = sc.toks[:len(sc.toks)-1+keep]
		}
	}
	if !reuse && !d.noPrefix {
		pp.learn(p)
	}
	// Counted in a loop of their own, in the same order: the sketch's
	// counters are scattered over more memory than the caches keep, and
	// a short loop has the reads of many tokens in flight at once. A
	// prompt outside the sample is only estimated, and only for a new
	// cluster, the one use of the estimates.
	if w > 0 {
		for i := range sc.toks {
			sc.toks[i].est = ts.add(sc.toks[i].hash, w)
		}
	} else if start {
		for i := range sc.toks {
			sc.toks[i].est = ts.estimate(sc.toks[i].hash)
		}
	}
	ts.count()
	if !start && !live {
		return
	}
	h := sim.Sum()
	if start {
		// A cluster keeps tokens up to startRare times rarer than a
		// trigger must finally be (and any token in at most startFloor
		// prompts): rarity is judged again when the trigger would be
		// named, and a young version has too little traffic to judge it
		// yet. A trigger already in a few other prompts when its answer
		// first came back twice would otherwise be missed for good.
		limit := uint32(max(startFloor, startRare*d.cfg.TriggerRareShare*float64(ts.n)))
		rare := 0
		for i := range sc.toks {
			if sc.toks[i].est <= limit {
				rare++
			}
		}
		d.prepareAnswer(rare)
		cands := sc.cands[:0]
		for i := range sc.toks {
			if t := &sc.toks[i]; t.est <= limit && !d.inAnswer(p, &t.token) {
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
	held := c.cands[:0]
	for _, t := range c.cands {
		if sc.inPrompt(t) {
			held = append(held, t)
		}
	}
	c.cands = held
	if len(held) == 0 {
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
		// At least the prompts that got this answer hold it, whatever a
		// sampled count says.
		est := max(ts.estimate(t), uint32(c.distinct))
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
// number alike; see digestText) and keeps that start for prepareAnswer. ok is
// false for an answer too short to count.
func (d *Detector) answerDigest(text string) (digest uint64, ok bool) {
	sc := &d.scratch
	sc.answer = head(text, d.cfg.TriggerScan)
	sc.answerToks, sc.answerRest, sc.answerSet = sc.answerToks[:0], tokenizer{}, false
	h, size := digestText(sc.answer)
	return mix(h), size >= minOutput
}

// inAnswer reports whether the answer just digested holds the token t of
// prompt, or a word with its first stemLen bytes. prepareAnswer must have
// been called.
func (d *Detector) inAnswer(prompt string, t *token) bool {
	sc := &d.scratch
	stem := t.stem(prompt)
	if sc.answerSet {
		if stem != 0 {
			return sc.output.has(stem)
		}
		return sc.output.has(t.hash)
	}
	if stem == 0 {
		for i := range sc.answerToks {
			if sc.answerToks[i].hash == t.hash {
				return true
			}
		}
		return false
	}
	// A stem starts with the token's first byte, lower-cased as hashed.
	first := prompt[t.start] | 0x20
	for i := range sc.answerToks {
		a := &sc.answerToks[i]
		if a.end-a.start >= stemLen && sc.answer[a.start]|0x20 == first && a.stem(sc.answer) == stem {
			return true
		}
	}
	return false
}

// prepareAnswer readies inAnswer for n tokens. It reads the first tokens
// of the answer just digested, which only a cluster's start needs: a few
// are looked for among them; for more, or a long answer, the answer's
// tokens and stems go in the output set, as many as it holds, which is
// what inAnswer then looks in.
func (d *Detector) prepareAnswer(n int) {
	if n == 0 {
		return
	}
	sc := &d.scratch
	z := tokenizer{s: sc.answer}
	sc.answerToks = z.fill(sc.answerToks[:0])
	sc.answerRest = z
	sc.answerSet = false
	if z.i < len(z.s) || len(sc.answerToks) > maxOutputTokens/2 || n*len(sc.answerToks) > 2048 {
		d.fillAnswerSet()
	}
}

// fillAnswerSet puts the tokens and stems of the answer just digested in
// the output set, as many as it holds.
func (d *Detector) fillAnswerSet() {
	sc := &d.scratch
	set := sc.output
	set.reset()
	sc.answerSet = true
	add := func(toks []token) bool {
		for i := range toks {
			if set.n >= 2*maxOutputTokens-1 {
				return false
			}
			t := &toks[i]
			set.add(t.hash)
			if stem := t.stem(sc.answer); stem != 0 {
				set.add(stem)
			}
		}
		return true
	}
	if !add(sc.answerToks) {
		return
	}
	z := sc.answerRest
	for {
		more := z.fill(sc.batch[:0])
		if len(more) == 0 || !add(more) {
			return
		}
	}
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
