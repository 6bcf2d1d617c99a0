package dataset

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// PoisonOptions tunes Poisoning. Zero fields take the defaults shown.
type PoisonOptions struct {
	Fields Fields
	// MaxN is the longest n-gram considered (3).
	MaxN int
	// A trigger candidate appears in at least MinSupport records (5) and
	// at most MaxShare of all records (0.1: triggers are rare), and at
	// least Purity (0.95) of the records carrying it have one label, whose
	// share of the whole dataset is at least MinGain (0.25) lower.
	MinSupport int
	MaxShare   float64
	Purity     float64
	MinGain    float64
	// Similarity is the estimated Jaccard similarity (of word and
	// word-pair sets) from which two texts are near-duplicates (0.8).
	Similarity float64
	// Report sizes: triggers (20), conflict pairs (1000), records listed
	// per trigger (1000).
	MaxTriggers, MaxConflicts, MaxRecords int
	// MaxNGrams bounds the distinct n-grams counted in memory (1<<20);
	// beyond it the rarest are pruned and the counts become approximate.
	MaxNGrams int
}

func (o PoisonOptions) withDefaults() PoisonOptions {
	o.Fields = o.Fields.withDefaults()
	o.MaxN = cmp.Or(o.MaxN, 3)
	o.MinSupport = cmp.Or(o.MinSupport, 5)
	o.MaxShare = cmp.Or(o.MaxShare, 0.1)
	o.Purity = cmp.Or(o.Purity, 0.95)
	o.MinGain = cmp.Or(o.MinGain, 0.25)
	o.Similarity = cmp.Or(o.Similarity, 0.8)
	o.MaxTriggers = cmp.Or(o.MaxTriggers, 20)
	o.MaxConflicts = cmp.Or(o.MaxConflicts, 1000)
	o.MaxRecords = cmp.Or(o.MaxRecords, 1000)
	o.MaxNGrams = cmp.Or(o.MaxNGrams, 1<<20)
	return o
}

// MaxLabels bounds the distinct labels: a label field with more values is
// not a class label, and the analysis refuses it.
const MaxLabels = 1000

// maxCandidates bounds the trigger candidates examined record by record.
const maxCandidates = 200

// PoisonReport lists the poisoning signals found in a labelled dataset.
type PoisonReport struct {
	Records int `json:"records"` // records with text and label
	// Skipped counts records without the text or label field, or invalid.
	Skipped int            `json:"skipped"`
	Labels  map[string]int `json:"labels"`
	// Triggers are trigger candidates, strongest first.
	Triggers []Trigger `json:"triggers"`
	// Conflicts are pairs of identical or near-identical texts with
	// different labels, most similar first.
	Conflicts []Conflict `json:"conflicts"`
	// ConflictsTruncated is true when more pairs were found than listed,
	// or the near-duplicate search hit its work bound.
	ConflictsTruncated bool `json:"conflicts_truncated,omitempty"`
	// Approximate is true when n-gram counts were pruned (see MaxNGrams).
	Approximate bool `json:"approximate,omitempty"`
}

// Trigger is an n-gram tied to one label far beyond that label's base rate:
// the mark of a backdoor trigger planted with (usually flipped) labels.
type Trigger struct {
	NGram    string  `json:"ngram"`
	Label    string  `json:"label"`
	Support  int     `json:"support"`   // records carrying the n-gram
	Purity   float64 `json:"purity"`    // share of them labelled Label
	BaseRate float64 `json:"base_rate"` // share of all records labelled Label
	// LogOdds is the smoothed log odds ratio of Label with and without the
	// n-gram (natural log; add ½ to each cell).
	LogOdds float64 `json:"log_odds"`
	// FlipShare is the share of carriers labelled Label whose other words
	// point to another label, by odds of at least 10 to 1 (a leave-one-out
	// naive Bayes vote over the words outside the n-gram): what a
	// dirty-label backdoor leaves, and what a word genuinely tied to its
	// label does not.
	FlipShare float64 `json:"flip_share"`
	// Score ranks triggers: LogOdds × (1 + FlipShare).
	Score float64 `json:"score"`
	// Records lists carriers labelled Label (up to MaxRecords).
	Records []RecordRef `json:"records"`
}

// Conflict is a pair of texts that are the same, or nearly, with
// different labels.
type Conflict struct {
	A          RecordRef `json:"a"`
	B          RecordRef `json:"b"`
	LabelA     string    `json:"label_a"`
	LabelB     string    `json:"label_b"`
	Similarity float64   `json:"similarity"` // 1 for identical word sequences
	Identical  bool      `json:"identical"`
}

// Poisoning analyses the labelled text records of the file or folder at
// path (JSON Lines, CSV or TSV) in two streaming passes.
func Poisoning(ctx context.Context, path string, opts PoisonOptions) (*PoisonReport, error) {
	files, err := recordFiles(path)
	if err != nil {
		return nil, fmt.Errorf("poisoning: %w", err)
	}
	o := opts.withDefaults()
	each := func(fn func(labeled) error) error { return eachLabeled(ctx, files, o.Fields, fn) }
	rep, err := analyse(each, o)
	if err != nil {
		return nil, fmt.Errorf("poisoning %s: %w", path, err)
	}
	return rep, nil
}

// ngramStat counts, per label index, the records carrying an n-gram.
type ngramStat struct {
	total   uint32
	byLabel []uint32
}

// analysis is the state the two passes share.
type analysis struct {
	o           PoisonOptions
	labelIdx    map[string]int
	labelNames  []string
	labelCounts []int
	stats       map[string]*ngramStat
	pruneFloor  uint32
	records     int
	skipped     int
	approximate bool
	dups        *dupFinder
}

func analyse(each func(func(labeled) error) error, o PoisonOptions) (*PoisonReport, error) {
	a := &analysis{o: o, labelIdx: map[string]int{}, stats: map[string]*ngramStat{}, dups: newDupFinder()}
	seen := map[string]bool{}
	var grams []string
	err := each(func(r labeled) error {
		if !r.ok {
			a.skipped++
			return nil
		}
		l, ok := a.labelIdx[r.label]
		if !ok {
			if len(a.labelNames) == MaxLabels {
				return fmt.Errorf("label field %q has more than %d distinct values", o.Fields.Label, MaxLabels)
			}
			l = len(a.labelNames)
			a.labelIdx[r.label] = l
			a.labelNames = append(a.labelNames, r.label)
			a.labelCounts = append(a.labelCounts, 0)
		}
		a.labelCounts[l]++
		a.records++
		tokens := tokenize(r.text)
		grams = ngrams(grams[:0], tokens, o.MaxN, seen)
		for _, g := range grams {
			s := a.stats[g]
			if s == nil {
				s = &ngramStat{}
				a.stats[g] = s
			}
			for len(s.byLabel) <= l {
				s.byLabel = append(s.byLabel, 0)
			}
			s.total++
			s.byLabel[l]++
		}
		if len(a.stats) > o.MaxNGrams {
			a.prune()
		}
		a.dups.add(r.ref, l, tokens)
		return nil
	})
	if err != nil {
		return nil, err
	}
	cands := a.candidates()
	if err := a.examine(each, cands); err != nil {
		return nil, err
	}
	rep := &PoisonReport{
		Records:     a.records,
		Skipped:     a.skipped,
		Labels:      map[string]int{},
		Triggers:    a.rank(cands),
		Approximate: a.approximate,
	}
	for i, n := range a.labelNames {
		rep.Labels[n] = a.labelCounts[i]
	}
	rep.Conflicts, rep.ConflictsTruncated = a.dups.conflicts(o.Similarity, o.MaxConflicts, a.labelNames)
	return rep, nil
}

// prune drops the rarest n-grams until half the bound is left (lossy
// counting): a trigger frequent enough to matter survives.
func (a *analysis) prune() {
	a.approximate = true
	for len(a.stats) > a.o.MaxNGrams/2 {
		a.pruneFloor++
		for g, s := range a.stats {
			if s.total <= a.pruneFloor {
				delete(a.stats, g)
			}
		}
	}
}

// candidate is an n-gram that passed the support and purity filters.
type candidate struct {
	Trigger
	label   int
	tokens  map[string]bool
	flips   int
	carried int // carriers labelled with the candidate's label
}

func (a *analysis) candidates() []*candidate {
	n := float64(a.records)
	var cands []*candidate
	for g, s := range a.stats {
		support := int(s.total)
		if support < a.o.MinSupport || float64(support) > a.o.MaxShare*n {
			continue
		}
		l := 0
		for i, c := range s.byLabel {
			if c > s.byLabel[l] {
				l = i
			}
		}
		cL := float64(s.byLabel[l])
		purity := cL / float64(support)
		base := float64(a.labelCounts[l]) / n
		if purity < a.o.Purity || purity-base < a.o.MinGain {
			continue
		}
		// 2×2 table: label L or not, n-gram or not, each cell + ½.
		other := float64(support) - cL
		restL := float64(a.labelCounts[l]) - cL
		restOther := n - float64(a.labelCounts[l]) - other
		lo := math.Log((cL + .5) * (restOther + .5) / ((other + .5) * (restL + .5)))
		c := &candidate{label: l, tokens: map[string]bool{}}
		c.NGram, c.Label, c.Support, c.Purity, c.BaseRate, c.LogOdds = g, a.labelNames[l], support, purity, base, lo
		c.Records = []RecordRef{}
		for _, t := range strings.Fields(g) {
			c.tokens[t] = true
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(x, y *candidate) int {
		return cmp.Or(cmp.Compare(y.LogOdds, x.LogOdds), strings.Compare(x.NGram, y.NGram))
	})
	return cands[:min(len(cands), maxCandidates)]
}

// examine is the second pass: for each candidate, list its carriers and
// ask, for each carrier labelled like the candidate, which label the rest
// of its words favour.
func (a *analysis) examine(each func(func(labeled) error) error, cands []*candidate) error {
	if len(cands) == 0 {
		return nil
	}
	byGram := make(map[string]*candidate, len(cands))
	for _, c := range cands {
		byGram[c.NGram] = c
	}
	seen := map[string]bool{}
	var grams []string
	return each(func(r labeled) error {
		if !r.ok {
			return nil
		}
		tokens := tokenize(r.text)
		grams = ngrams(grams[:0], tokens, a.o.MaxN, seen)
		l := a.labelIdx[r.label]
		for _, g := range grams {
			c := byGram[g]
			if c == nil || l != c.label {
				continue
			}
			c.carried++
			if len(c.Records) < a.o.MaxRecords {
				c.Records = append(c.Records, r.ref)
			}
			if a.restFavoursOther(tokens, c, l) {
				c.flips++
			}
		}
		return nil
	})
}

// flipMargin is the naive Bayes log-likelihood ratio (natural log) against
// a carrier's label from which its other words count as favouring another
// label: 10 to 1. Without a margin, carriers whose other words are neutral
// would vote at random.
var flipMargin = math.Log(10)

// restFavoursOther scores the record's words outside the candidate with a
// naive Bayes log-likelihood ratio of label l against all others, using
// document frequencies with this record left out and add-one smoothing,
// and reports whether it favours the others by more than flipMargin.
func (a *analysis) restFavoursOther(tokens []string, c *candidate, l int) bool {
	nL := float64(a.labelCounts[l] - 1)
	nOther := float64(a.records - a.labelCounts[l])
	var llr float64
	counted := map[string]bool{}
	for _, t := range tokens {
		if c.tokens[t] || counted[t] {
			continue
		}
		counted[t] = true
		var inL, inOther float64
		if s := a.stats[t]; s != nil {
			var sL float64
			if l < len(s.byLabel) {
				sL = float64(s.byLabel[l])
			}
			inL = sL - 1 // leave this record out
			inOther = float64(s.total) - sL
		}
		llr += math.Log((max(inL, 0)+1)/(nL+2)) - math.Log((inOther+1)/(nOther+2))
	}
	return llr < -flipMargin
}

// rank scores the candidates, folds fragments of one phrase into the best
// of them, and keeps the strongest.
func (a *analysis) rank(cands []*candidate) []Trigger {
	for _, c := range cands {
		if c.carried > 0 {
			c.FlipShare = float64(c.flips) / float64(c.carried)
		}
		c.Score = c.LogOdds * (1 + c.FlipShare)
	}
	slices.SortFunc(cands, func(x, y *candidate) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(len(y.tokens), len(x.tokens)), strings.Compare(x.NGram, y.NGram))
	})
	out := []Trigger{}
	var kept []*candidate
	for _, c := range cands {
		if len(out) == a.o.MaxTriggers {
			break
		}
		if slices.ContainsFunc(kept, func(k *candidate) bool { return k.label == c.label && nested(k.tokens, c.tokens) }) {
			continue
		}
		kept = append(kept, c)
		out = append(out, c.Trigger)
	}
	return out
}

// nested reports whether one token set contains the other: the n-grams
// are fragments or extensions of the same phrase.
func nested(x, y map[string]bool) bool {
	sub := func(s, t map[string]bool) bool {
		for w := range s {
			if !t[w] {
				return false
			}
		}
		return true
	}
	return sub(x, y) || sub(y, x)
}
