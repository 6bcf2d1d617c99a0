package promptinject

import (
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Result is the verdict on a text or a conversation.
type Result struct {
	// Score is in [0, 1]; the text is an attack when it is at least 0.5.
	// It is the classifier's probability, re-centred on the thresholds
	// chosen in validation (the lesser of its two models'), or the weight
	// of the heaviest rule hit if that is higher.
	Score  float64
	Attack bool
	// Basis says what made an attack of it: BasisRule when a rule whose
	// weight is at least 0.5 matched (a signature: high precision), or
	// BasisClassifier when only the trained classifier did (which also
	// flags prompts unlike anything in its corpus; see
	// docs/promptinject.md). Empty when Attack is false.
	Basis string
	Rules []RuleHit // every rule that matched, heaviest first
	// Category and ATLAS describe the attack; both are empty when Attack
	// is false.
	Category string
	ATLAS    []string
	// Excerpt is a short piece of the normalised text around the evidence,
	// at most maxExcerpt bytes, prefixed with "[base64] " and the like when
	// it was decoded. It is prompt text: treat it as sensitive.
	Excerpt string
	// Message is, from ScoreMessages, the index of the highest-scoring
	// message, the one that decided the verdict; -1 from Score and
	// ScoreFor, and for an empty conversation.
	Message int
}

// RuleHit names a rule that matched.
type RuleHit struct {
	ID, Description, Category string
	ATLAS                     []string
}

// Message is one turn of a conversation.
type Message struct {
	Role    string // system, developer, user, assistant, tool, function or document
	Content string
}

const maxExcerpt = 200

// What an attack verdict rests on.
const (
	BasisRule       = "rule"
	BasisClassifier = "classifier"
)

// Detector scores texts with a model and the rule table. It is safe for
// concurrent use.
type Detector struct {
	model *Model
	eng   *ruleEngine
	// english scores every text, or only those that read as English when
	// the model has an Other, which other scores.
	english, other scorer
	pool           sync.Pool
}

// scorer is one model's pair of regressions with the classifier weight of
// each rule hit, by rule index.
type scorer struct {
	full, ev *Linear
	ruleW    [2][]float64 // full, evidence
}

//go:embed model.bin
var modelBin []byte

var defaultDetector = sync.OnceValue(func() *Detector {
	var m Model
	if err := m.UnmarshalBinary(modelBin); err != nil {
		panic(fmt.Sprintf("promptinject: embedded model: %v", err)) // tests load it
	}
	d, err := New(&m)
	if err != nil {
		panic(fmt.Sprintf("promptinject: embedded model: %v", err))
	}
	return d
})

// Default returns the detector built from the model and rules in the
// binary. It is built once, on first use.
func Default() *Detector { return defaultDetector() }

// New returns a detector for a model and the built-in rules.
func New(m *Model) (*Detector, error) {
	if m.HashBits < 6 || m.HashBits > maxHashBits {
		return nil, fmt.Errorf("%w: %d hash bits", errModel, m.HashBits)
	}
	e := defaultEngine()
	d := &Detector{model: m, eng: e}
	var err error
	if d.english, err = newScorer(m, m.HashBits, e); err != nil {
		return nil, err
	}
	d.other = d.english
	if m.Other != nil {
		if d.other, err = newScorer(m.Other, m.HashBits, e); err != nil {
			return nil, err
		}
	}
	d.pool.New = func() any { return newScratch(m.HashBits, e) }
	return d, nil
}

func newScorer(m *Model, hashBits uint8, e *ruleEngine) (scorer, error) {
	s := scorer{full: &m.Full, ev: &m.Evidence}
	for k, l := range []*Linear{s.full, s.ev} {
		if len(l.Weights) != 1<<hashBits {
			return s, fmt.Errorf("%w: %d weights for %d hash bits", errModel, len(l.Weights), hashBits)
		}
		s.ruleW[k] = make([]float64, len(e.rules))
		for id, w := range l.RuleWeights {
			if i, ok := e.index[id]; ok {
				s.ruleW[k][i] = w
			}
		}
	}
	return s, nil
}

// scorerFor is the scorer for text: the other-language model's when the
// model has one and text does not read as English.
func (d *Detector) scorerFor(text string) *scorer {
	if d.model.Other == nil || readsEnglish(text) {
		return &d.english
	}
	return &d.other
}

// Model returns the detector's model. It must not be modified.
func (d *Detector) Model() *Model { return d.model }

// view is how a text is read: as a user's prompt, as content the
// application fetched (indirect injection), or as the operator's own
// system prompt.
type view uint8

const (
	viewUser view = iota
	viewDocument
	viewSystem
)

func viewOf(role string) view {
	switch strings.ToLower(role) {
	case RoleTool, RoleFunction, RoleDocument:
		return viewDocument
	case RoleSystem, RoleDeveloper:
		return viewSystem
	}
	return viewUser
}

// systemRuleWeight is the weight a rule needs to count in a system prompt:
// operators write personas and rules that read like jailbreaks, so only the
// unambiguous signatures count there, and the classifier does not.
const systemRuleWeight = 0.8

// Score scores text as a user prompt. Long texts are scored in windows;
// hidden text and decoded payloads are scored too, and the highest score
// wins.
func (d *Detector) Score(text string) Result {
	r := d.score(text, viewUser)
	r.Message = -1
	return r
}

// ScoreFor scores text as the content of a message with the given role.
func (d *Detector) ScoreFor(role, text string) Result {
	r := d.score(text, viewOf(role))
	r.Message = -1
	return r
}

// ScoreMessages scores each message by its role and returns the verdict
// of the highest-scoring one, with the rule hits of all. User and assistant
// turns (a client can forge the history) are read as prompts; tool,
// function and document content with the indirect-injection view; system
// and developer messages count only for the heaviest signatures.
func (d *Detector) ScoreMessages(msgs []Message) Result {
	best := Result{Message: -1}
	var hits []RuleHit
	for i, m := range msgs {
		r := d.score(m.Content, viewOf(m.Role))
		hits = mergeHits(hits, r.Rules)
		if best.Message < 0 || r.Score > best.Score {
			best = r
			best.Message = i
		}
	}
	best.Rules = hits
	if len(msgs) == 0 {
		best.Rules = nil
	}
	return best
}

func mergeHits(dst, src []RuleHit) []RuleHit {
	for _, h := range src {
		if !slices.ContainsFunc(dst, func(x RuleHit) bool { return x.ID == h.ID }) {
			dst = append(dst, h)
		}
	}
	return dst
}

// unitVerdict is the score of one unit and its evidence.
type unitVerdict struct {
	score   float64
	z       float64 // the classifier's margin: the lesser of each model's logit minus its threshold
	zFull   float64 // the full model's logit minus its threshold
	zEv     float64 // the evidence model's logit minus its threshold
	floor   float64 // heaviest rule weight
	top     int     // heaviest rule, -1 if none
	excerpt string
}

func (d *Detector) score(text string, v view) Result {
	sc := d.pool.Get().(*scratch)
	defer d.pool.Put(sc)
	doc := v == viewDocument
	var (
		best     unitVerdict
		bestSrc  source
		haveBest bool
		ruleUnit unitVerdict // the unit with the heaviest rule hit
		ruleSrc  source
		haveRule bool
		hit      = make(map[int]bool)
		hitOrder []int
		encoded  bool
	)
	by := d.scorerFor(text)
	for _, u := range units(text) {
		a := analyse(u, doc, d.eng, sc)
		uv := d.verdict(a, v, by)
		for _, r := range a.hits {
			if v == viewSystem && d.eng.weight(r, false) < systemRuleWeight {
				continue
			}
			if !hit[r] {
				hit[r] = true
				hitOrder = append(hitOrder, r)
			}
		}
		if u.src.encoded() && uv.score >= 0.5 {
			encoded = true
		}
		if !haveBest || uv.score > best.score {
			best, bestSrc, haveBest = uv, u.src, true
			best.excerpt = d.excerpt(a, uv.top, u.src)
		}
		// The heaviest rule explains a verdict better than the highest
		// classifier score does.
		if uv.top >= 0 && (!haveRule || uv.floor > ruleUnit.floor) {
			ruleUnit, ruleSrc, haveRule = uv, u.src, true
			ruleUnit.excerpt = d.excerpt(a, uv.top, u.src)
		}
	}
	res := Result{Score: best.score}
	if t, ok := d.eng.trigger["encoded"]; ok && encoded && v != viewSystem {
		if !hit[t] {
			hit[t] = true
			hitOrder = append(hitOrder, t)
		}
		res.Score = max(res.Score, d.eng.weight(t, doc))
	}
	slices.SortStableFunc(hitOrder, func(a, b int) int {
		wa, wb := d.eng.weight(a, doc), d.eng.weight(b, doc)
		switch {
		case wa > wb:
			return -1
		case wa < wb:
			return 1
		}
		return strings.Compare(d.eng.rules[a].ID, d.eng.rules[b].ID)
	})
	for _, i := range hitOrder {
		r := &d.eng.rules[i]
		res.Rules = append(res.Rules, RuleHit{ID: r.ID, Description: r.Description, Category: r.Category, ATLAS: viewATLAS(r.ATLAS, doc)})
	}
	res.Attack = res.Score >= 0.5
	res.Excerpt = best.excerpt
	if haveRule && ruleUnit.floor >= 0.5 {
		res.Excerpt, bestSrc = ruleUnit.excerpt, ruleSrc
	}
	if res.Attack {
		res.Category, res.ATLAS = d.describe(hitOrder, bestSrc, doc, encoded)
		res.Basis = BasisClassifier
		if len(hitOrder) > 0 && d.eng.weight(hitOrder[0], doc) >= 0.5 {
			res.Basis = BasisRule
		}
	}
	return res
}

// verdict scores an analysed unit with the scorer by.
func (d *Detector) verdict(a analysis, v view, by *scorer) unitVerdict {
	doc := v == viewDocument
	uv := unitVerdict{top: -1}
	for _, r := range a.hits {
		if v == viewSystem && d.eng.weight(r, false) < systemRuleWeight {
			continue
		}
		if w := d.eng.weight(r, doc); uv.top < 0 || w > uv.floor {
			uv.floor, uv.top = w, r
		}
	}
	if v == viewSystem {
		uv.z, uv.zFull, uv.zEv = math.Inf(-1), math.Inf(-1), math.Inf(-1)
		uv.score = uv.floor
		return uv
	}
	uv.zFull = logit(by.full, by.ruleW[0], a) - by.full.Threshold
	uv.zEv = logit(by.ev, by.ruleW[1], a) - by.ev.Threshold
	uv.z = min(uv.zFull, uv.zEv)
	uv.score = max(sigmoid(uv.z), uv.floor)
	return uv
}

// logit is one model's log-odds for an analysed unit.
func logit(l *Linear, ruleW []float64, a analysis) float64 {
	var sum int64
	for _, i := range a.idx {
		sum += int64(l.Weights[i])
	}
	z := l.Bias
	if len(a.idx) > 0 {
		z += l.Scale * float64(sum) / math.Sqrt(float64(len(a.idx)))
	}
	for _, r := range a.hits {
		z += ruleW[r]
	}
	return z
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// describe names the category and ATLAS techniques of an attack: those of
// the heaviest rules, or of the view when only the classifier spoke.
func (d *Detector) describe(hits []int, src source, doc, encoded bool) (string, []string) {
	var atlas []string
	category := ""
	if len(hits) > 0 {
		category = d.eng.rules[hits[0]].Category
		for _, i := range hits {
			atlas = append(atlas, viewATLAS(d.eng.rules[i].ATLAS, doc)...)
		}
	}
	switch {
	case category == "" && (src != srcText || encoded):
		category = CategoryObfuscation
	case category == "" && doc:
		category = CategoryIndirect
	case category == "":
		category = CategoryInjection
	case category == CategoryInjection && doc:
		category = CategoryIndirect
	}
	if doc {
		atlas = append(atlas, atlasIndirect)
	} else if len(hits) == 0 {
		atlas = append(atlas, atlasDirect)
	}
	if src != srcText || encoded {
		atlas = append(atlas, atlasObfuscation)
	}
	slices.Sort(atlas)
	return category, slices.Compact(atlas)
}

// viewATLAS maps direct injection to indirect injection for content the
// application fetched.
func viewATLAS(ids []string, doc bool) []string {
	out := slices.Clone(ids)
	if doc {
		for i, id := range out {
			if id == atlasDirect {
				out[i] = atlasIndirect
			}
		}
	}
	return out
}

// excerpt cuts the evidence out of a unit's forms: around the heaviest
// rule's match, or the start of the text.
func (d *Detector) excerpt(a analysis, top int, src source) string {
	if len(a.forms) == 0 {
		return ""
	}
	form, start, end := a.forms[0], 0, 0
	for _, m := range a.first {
		if m.rule == top {
			form, start, end = a.forms[m.form], m.start, m.end
			break
		}
	}
	prefix := ""
	if src != srcText {
		prefix = "[" + src.String() + "] "
	}
	limit := maxExcerpt - len(prefix)
	lo := max(0, start-40)
	if end-lo > limit {
		end = lo + limit
	}
	hi := min(len(form), max(end, lo+limit))
	for lo > 0 && !utf8.RuneStart(form[lo]) {
		lo++
	}
	for hi < len(form) && hi > lo && !utf8.RuneStart(form[hi]) {
		hi--
	}
	return prefix + strings.ToValidUTF8(form[lo:hi], "")
}
