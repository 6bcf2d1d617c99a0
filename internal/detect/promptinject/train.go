package promptinject

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// TrainOptions are the training hyper-parameters. The zero value means the
// defaults, which are what the shipped model was trained with.
type TrainOptions struct {
	HashBits     uint8   // buckets are 1 << HashBits; default 18
	Epochs       int     // passes over the training units; default 15
	LearningRate float64 // AdaGrad base rate; default 0.2
	L2           float64 // L2 penalty on the weights a unit touches; default 1e-6
	// SetBalance is the exponent of the per-set weight: 1 gives every set
	// the same total weight within its class, a negative value stands for
	// 0, which weighs every example the same. Default 0.5.
	SetBalance float64
	Folds      int    // cross-validation folds for the thresholds; default 5
	Seed       uint64 // shuffle seed; default 1
	// TargetTPR and TargetFPR are the per-set goals the thresholds are
	// chosen to meet; defaults 0.90 and 0.03.
	TargetTPR, TargetFPR float64
	// GateMargin is the margin over the targets, in validation, that the
	// evidence gate must leave every set; default 0.1 (a tenth of the
	// allowance: 1 point of TPR, 0.3 points of FPR).
	GateMargin float64
	// Progress, if set, is told what training is doing.
	Progress func(stage string)

	nonNegative bool // n-gram weights may not go below zero
}

func (o TrainOptions) withDefaults() TrainOptions {
	switch {
	case o.HashBits == 0:
		o.HashBits = 18
	case o.HashBits < 6:
		o.HashBits = 6
	case o.HashBits > maxHashBits:
		o.HashBits = maxHashBits
	}
	if o.Epochs == 0 {
		o.Epochs = 15
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.2
	}
	if o.L2 == 0 {
		o.L2 = 1e-6
	}
	switch {
	case o.SetBalance == 0:
		o.SetBalance = 0.5
	case o.SetBalance < 0:
		o.SetBalance = 0
	}
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.TargetTPR == 0 {
		o.TargetTPR = 0.90
	}
	if o.TargetFPR == 0 {
		o.TargetFPR = 0.03
	}
	if o.GateMargin == 0 {
		o.GateMargin = 0.1
	}
	return o
}

// Report says what training did and how the model did in validation.
type Report struct {
	Examples      int // given to Train
	TrainExamples int // of them in the training split
	Units         int // windows and payloads trained on
	// The thresholds chosen on the logits of the full and the evidence
	// model; EvidenceGate is false when no gate kept the validation
	// margin and the evidence model's threshold was left open.
	FullThreshold, EvidenceThreshold float64
	EvidenceGate                     bool
	// Validation is the out-of-fold result per set on the training split:
	// each example scored by the models of the fold that did not see it,
	// at the chosen thresholds.
	Validation []SetMetrics
	// Test is filled by TrainFromDir: the shipped model on the held-out
	// split, which training never saw.
	Test *EvalReport `json:",omitempty"`
	// Other is the training of the other-language model (Model.Other),
	// when there is one; the fields above are the English model's, but
	// for ModelBytes and Duration, which are the whole model's.
	Other      *Report `json:",omitempty"`
	ModelBytes int
	Duration   time.Duration
}

// SetMetrics is the share of one set's examples flagged: the TPR of an
// attack set, the FPR of a benign one.
type SetMetrics struct {
	Set     string
	Label   int
	N       int
	Flagged int
	Rate    float64
}

// trainUnit is the feature vector of one unit of a training example.
type trainUnit struct {
	idx    []uint32
	hits   []int32
	inv    float64 // 1/sqrt(len(idx)): the hashed features are L2-normalised
	y      float64
	weight float64
}

// Train fits a model on the examples of the training split (Split(ex) ==
// "train"); the others are ignored. The thresholds are chosen on
// out-of-fold scores of a k-fold cross-validation within the training
// split (see chooseThresholds), then both models are fitted on the whole
// training split. Training is deterministic: the same examples and options
// give the same model, byte for byte.
func Train(examples []Example, opts TrainOptions) (*Model, Report) {
	start := time.Now()
	opts = opts.withDefaults()
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	rep := Report{Examples: len(examples)}
	var train []Example
	for _, ex := range examples {
		if Split(ex) == "train" {
			train = append(train, ex)
		}
	}
	rep.TrainExamples = len(train)

	progress(fmt.Sprintf("extracting features of %d examples", len(train)))
	e := defaultEngine()
	vecs := featurize(train, opts, e)
	for _, v := range vecs {
		rep.Units += len(v)
	}

	folds := make([]int, len(train))
	for i, ex := range train {
		folds[i] = validationFold(ex.Text, opts.Folds)
	}
	// Out-of-fold logits: each example scored by models that never saw it.
	oof := make([][]logitPair, len(train))
	ruleFlag := make([]bool, len(train))
	evOpts := opts
	evOpts.nonNegative = true
	for k := range opts.Folds {
		progress(fmt.Sprintf("cross-validation fold %d of %d", k+1, opts.Folds))
		var units []trainUnit
		for i, v := range vecs {
			if folds[i] != k {
				units = append(units, v...)
			}
		}
		m := &Model{HashBits: opts.HashBits, Full: fit(units, opts, e), Evidence: fit(units, evOpts, e)}
		d, err := New(m)
		if err != nil {
			panic(err) // fit makes well-formed models
		}
		for i, ex := range train {
			if folds[i] == k {
				oof[i], ruleFlag[i] = d.examine(ex.Text, viewOf(ex.Role))
			}
		}
	}
	tf, te, gate := chooseThresholds(train, oof, ruleFlag, opts)
	rep.FullThreshold, rep.EvidenceThreshold, rep.EvidenceGate = tf, te, gate
	rep.Validation = flaggedBySet(train, flagger(oof, ruleFlag, tf, te))

	progress("fitting the final models")
	var all []trainUnit
	for _, v := range vecs {
		all = append(all, v...)
	}
	m := &Model{HashBits: opts.HashBits, Full: fit(all, opts, e), Evidence: fit(all, evOpts, e)}
	m.Full.Threshold, m.Evidence.Threshold = tf, te
	if b, err := m.MarshalBinary(); err == nil {
		rep.ModelBytes = len(b)
	}
	rep.Duration = time.Since(start)
	return m, rep
}

// featurize turns each example into the feature vectors of its units, with
// the example's label and weight shared among them.
func featurize(train []Example, opts TrainOptions, e *ruleEngine) [][]trainUnit {
	setSize := map[string]int{}
	setsInClass := map[int]int{}
	for _, ex := range train {
		if setSize[ex.Set] == 0 {
			setsInClass[ex.Label]++
		}
		setSize[ex.Set]++
	}
	// A set's weight relative to equal weighting, raised to SetBalance:
	// small sets count more than their size, not as much as large ones.
	// (math.Pow with 0.5 is math.Sqrt, exact on every platform.)
	weight := func(ex Example) float64 {
		equal := float64(len(train)) / float64(2*setsInClass[ex.Label]*setSize[ex.Set])
		return math.Pow(equal, opts.SetBalance)
	}
	sc := newScratch(opts.HashBits, e)
	out := make([][]trainUnit, len(train))
	for i, ex := range train {
		us := units(ex.Text)
		w := weight(ex) / float64(len(us))
		for _, u := range us {
			a := analyse(u, false, e, sc)
			tu := trainUnit{idx: slices.Clone(a.idx), y: float64(ex.Label), weight: w}
			for _, h := range a.hits {
				tu.hits = append(tu.hits, int32(h))
			}
			if len(tu.idx) > 0 {
				tu.inv = 1 / math.Sqrt(float64(len(tu.idx)))
			}
			out[i] = append(out[i], tu)
		}
	}
	return out
}

// fit runs AdaGrad on the weighted logistic loss. Every product that
// feeds a sum is rounded explicitly (float64(a*b)) so that no platform
// fuses it into a multiply-add: the result is the same bits everywhere.
func fit(units []trainUnit, opts TrainOptions, e *ruleEngine) Linear {
	n := 1 << opts.HashBits
	w := make([]float64, n)
	g2 := make([]float64, n)
	rw := make([]float64, len(e.rules))
	rg2 := make([]float64, len(e.rules))
	var b, bg2 float64
	const eps = 1e-8
	lr, l2 := opts.LearningRate, opts.L2
	order := make([]int, len(units))
	for i := range order {
		order[i] = i
	}
	rng := splitmix(opts.Seed)
	for range opts.Epochs {
		for i := len(order) - 1; i > 0; i-- {
			j := int(rng.next() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, k := range order {
			u := &units[k]
			var s float64
			for _, i := range u.idx {
				s += w[i]
			}
			z := b + float64(s*u.inv)
			for _, r := range u.hits {
				z += rw[r]
			}
			g := float64((detSigmoid(z) - u.y) * u.weight)
			bg2 += float64(g * g)
			b -= float64(lr*g) / (math.Sqrt(bg2) + eps)
			gi := float64(g * u.inv)
			for _, i := range u.idx {
				gr := gi + float64(l2*w[i])
				g2[i] += float64(gr * gr)
				w[i] -= float64(lr*gr) / (math.Sqrt(g2[i]) + eps)
				if opts.nonNegative && w[i] < 0 {
					w[i] = 0
				}
			}
			for _, r := range u.hits {
				gr := g + float64(l2*rw[r])
				rg2[r] += float64(gr * gr)
				rw[r] -= float64(lr*gr) / (math.Sqrt(rg2[r]) + eps)
			}
		}
	}
	q, scale := quantize(w)
	l := Linear{Bias: b, Scale: scale, Weights: q, RuleWeights: map[string]float64{}}
	for i, r := range e.rules {
		if rw[i] != 0 {
			l.RuleWeights[r.ID] = rw[i]
		}
	}
	return l
}

// auxiliarySet reports whether a set is trained on but left out of the
// threshold's choice: the derived sets, which are there to teach the
// classifier that a language is not an attack, and whose texts (system
// prompts above all) are not what users send.
func auxiliarySet(set string) bool {
	return set == SetSystemPrompts || set == SetJudgeQuestions
}

// logitPair is one unit's logits, full and evidence model.
type logitPair struct{ full, ev float64 }

// flagger says which examples the classifier flags at thresholds tf, te:
// those a rule flags alone, and those with a unit over both thresholds.
func flagger(oof [][]logitPair, ruleFlag []bool, tf, te float64) func(i int) bool {
	return func(i int) bool {
		if ruleFlag[i] {
			return true
		}
		for _, p := range oof[i] {
			if p.full >= tf && p.ev >= te {
				return true
			}
		}
		return false
	}
}

// gateOff is the evidence threshold when no gate is used.
const gateOff = -1000

// chooseThresholds picks the thresholds on the out-of-fold logits.
//
// The margin of a set over its target is (TPR - TargetTPR) / (1 -
// TargetTPR) for an attack set and (TargetFPR - FPR) / TargetFPR for a
// benign one; the auxiliary sets do not count. The full model's threshold
// is the one (on a grid of 0.05) that gives the worst set the largest
// margin, the middle one if several do. The evidence model can then only
// veto: its threshold is the highest (on a grid of 0.1) at which every set
// still keeps a margin of GateMargin, or of the full model's own worst
// margin if that is smaller. What the veto rejects is text in which the
// corpora show no sign of an attack; how often such text is benign the
// corpora cannot say, so the veto is made as strict as they allow.
func chooseThresholds(train []Example, oof [][]logitPair, ruleFlag []bool, opts TrainOptions) (tf, te float64, gate bool) {
	worst := func(tf, te float64) float64 {
		w := math.Inf(1)
		for _, m := range flaggedBySet(train, flagger(oof, ruleFlag, tf, te)) {
			if auxiliarySet(m.Set) {
				continue
			}
			if m.Label == 1 {
				w = min(w, (m.Rate-opts.TargetTPR)/(1-opts.TargetTPR))
			} else {
				w = min(w, (opts.TargetFPR-m.Rate)/opts.TargetFPR)
			}
		}
		return w
	}
	bestW := math.Inf(-1)
	var best []float64
	for k := -120; k <= 120; k++ {
		t := float64(k) / 20
		switch w := worst(t, gateOff); {
		case w > bestW:
			bestW, best = w, []float64{t}
		case w == bestW:
			best = append(best, t)
		}
	}
	tf = best[len(best)/2]
	need := min(opts.GateMargin, bestW)
	for k := 30; k >= -60; k-- {
		t := float64(k) / 10
		if worst(tf, t) >= need {
			return tf, t, true
		}
	}
	return tf, gateOff, false
}

// flaggedBySet counts, per set, the examples flagged(i) says are attacks.
func flaggedBySet(ex []Example, flagged func(i int) bool) []SetMetrics {
	bySet := map[string]*SetMetrics{}
	var order []string
	for i, e := range ex {
		m := bySet[e.Set]
		if m == nil {
			m = &SetMetrics{Set: e.Set, Label: e.Label}
			bySet[e.Set] = m
			order = append(order, e.Set)
		}
		m.N++
		if flagged(i) {
			m.Flagged++
		}
	}
	out := make([]SetMetrics, 0, len(order))
	for _, s := range order {
		m := bySet[s]
		m.Rate = float64(m.Flagged) / float64(m.N)
		out = append(out, *m)
	}
	return out
}

// examine returns the logits, minus the thresholds, of every unit of
// text, and whether a rule flags it alone.
func (d *Detector) examine(text string, v view) (logits []logitPair, ruleFlag bool) {
	sc := d.pool.Get().(*scratch)
	defer d.pool.Put(sc)
	by := d.scorerFor(text)
	for _, u := range units(text) {
		uv := d.verdict(analyse(u, v == viewDocument, d.eng, sc), v, by)
		logits = append(logits, logitPair{uv.zFull, uv.zEv})
		ruleFlag = ruleFlag || uv.floor >= 0.5
	}
	return logits, ruleFlag
}

// TrainRouted trains the model Default ships: the English model on every
// set but SetEverydayOther, and Model.Other, which scores the texts that
// do not read as English, on all of them. Ordinary requests in other
// languages teach the classifier that a language is not an attack; the
// English model is better without them, because without them being
// English counts in a text's favour.
func TrainRouted(examples []Example, opts TrainOptions) (*Model, Report) {
	var english []Example
	for _, ex := range examples {
		if ex.Set != SetEverydayOther {
			english = append(english, ex)
		}
	}
	m, rep := Train(english, opts)
	other, orep := Train(examples, opts)
	m.Other = other
	rep.Other = &orep
	rep.Duration += orep.Duration
	if b, err := m.MarshalBinary(); err == nil {
		rep.ModelBytes = len(b)
	}
	return m, rep
}

// TrainFromDir trains on the corpora under dataDir with the default
// options, writes the model file to out, and reports, including the
// model's result on the held-out split.
func TrainFromDir(dataDir string, out io.Writer) (Report, error) {
	examples, err := LoadCorpus(dataDir)
	if err != nil {
		return Report{}, err
	}
	m, rep := TrainRouted(examples, TrainOptions{})
	b, err := m.MarshalBinary()
	if err != nil {
		return rep, err
	}
	if _, err := io.Copy(out, bytes.NewReader(b)); err != nil {
		return rep, fmt.Errorf("write model: %w", err)
	}
	d, err := New(m)
	if err != nil {
		return rep, err
	}
	var test []Example
	for _, ex := range examples {
		if Split(ex) == "test" {
			test = append(test, ex)
		}
	}
	ev := Evaluate(d, test)
	rep.Test = &ev
	return rep, nil
}

// splitmix is SplitMix64: a fixed, portable generator, so that shuffles do
// not depend on a library's choice of algorithm.
type splitmixState struct{ s uint64 }

func splitmix(seed uint64) *splitmixState { return &splitmixState{seed} }

func (r *splitmixState) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// detSigmoid is the logistic function computed the same way on every
// platform: math.Exp uses FMA instructions where the CPU has them.
func detSigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + detExp(-z))
	}
	e := detExp(z)
	return e / (1 + e)
}

// detExp is exp(x) for x <= 0, to about 1e-15 relative error, by range
// reduction to |r| <= ln2/2 and a Taylor polynomial.
func detExp(x float64) float64 {
	if x < -700 {
		return 0
	}
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
	)
	k := math.Floor(float64(x*log2e) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	p := 1.0 / 479001600 // 1/12!
	for _, c := range [...]float64{1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = float64(p*r) + c
	}
	return math.Ldexp(p, int(k))
}
