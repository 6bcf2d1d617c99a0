package dataset

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Thresholds for LabelShift: a shift must be both significant and
// material, since with large datasets a negligible change is significant.
const (
	ShiftPValue = 0.001 // chi-square test of homogeneity
	ShiftJS     = 0.005 // Jensen–Shannon divergence in bits (0.005 ≈ a 50/50 split moving to 58/42)
)

// LabelShift compares the label distributions of two datasets.
type LabelShift struct {
	Labels  []string       `json:"labels"` // union, sorted
	CountsA map[string]int `json:"counts_a"`
	CountsB map[string]int `json:"counts_b"`
	// ChiSquare is Pearson's statistic for the 2×k table, with DF = k−1
	// degrees of freedom and its p-value.
	ChiSquare float64 `json:"chi_square"`
	DF        int     `json:"df"`
	PValue    float64 `json:"p_value"`
	// JS is the Jensen–Shannon divergence of the two distributions in bits
	// (0 for equal distributions, 1 for disjoint ones).
	JS float64 `json:"js_divergence"`
	// Shifted is PValue < ShiftPValue and JS ≥ ShiftJS.
	Shifted bool `json:"shifted"`
}

// LabelShiftOf compares two label counts.
func LabelShiftOf(a, b map[string]int) LabelShift {
	s := LabelShift{CountsA: a, CountsB: b, PValue: 1}
	for l := range a {
		s.Labels = append(s.Labels, l)
	}
	for l := range b {
		if _, ok := a[l]; !ok {
			s.Labels = append(s.Labels, l)
		}
	}
	slices.Sort(s.Labels)
	var na, nb float64
	for _, l := range s.Labels {
		na += float64(a[l])
		nb += float64(b[l])
	}
	if na == 0 || nb == 0 {
		return s
	}
	n := na + nb
	for _, l := range s.Labels {
		ca, cb := float64(a[l]), float64(b[l])
		col := ca + cb
		if col == 0 {
			continue
		}
		s.DF++
		for _, c := range [][2]float64{{ca, na}, {cb, nb}} {
			e := c[1] * col / n
			s.ChiSquare += (c[0] - e) * (c[0] - e) / e
		}
		pa, pb := ca/na, cb/nb
		m := (pa + pb) / 2
		if pa > 0 {
			s.JS += pa / 2 * math.Log2(pa/m)
		}
		if pb > 0 {
			s.JS += pb / 2 * math.Log2(pb/m)
		}
	}
	s.DF--
	if s.DF > 0 {
		s.PValue = chiSquareSurvival(s.ChiSquare, s.DF)
	}
	s.JS = max(s.JS, 0)
	s.Shifted = s.PValue < ShiftPValue && s.JS >= ShiftJS
	return s
}

// CompareLabels counts the labels of the datasets at pathA and pathB and
// compares them.
func CompareLabels(ctx context.Context, pathA, pathB string, fields Fields) (*LabelShift, error) {
	a, err := LabelCounts(ctx, pathA, fields)
	if err != nil {
		return nil, err
	}
	b, err := LabelCounts(ctx, pathB, fields)
	if err != nil {
		return nil, err
	}
	s := LabelShiftOf(a, b)
	return &s, nil
}

// LabelCounts counts the label field's values over the records of the file
// or folder at path.
func LabelCounts(ctx context.Context, path string, fields Fields) (map[string]int, error) {
	files, err := recordFiles(path)
	if err != nil {
		return nil, fmt.Errorf("label counts: %w", err)
	}
	fields = fields.withDefaults()
	counts := map[string]int{}
	err = eachLabeled(ctx, files, fields, func(r labeled) error {
		if r.ok {
			if _, ok := counts[r.label]; !ok && len(counts) == MaxLabels {
				return fmt.Errorf("label field %q has more than %d distinct values", fields.Label, MaxLabels)
			}
			counts[r.label]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("label counts %s: %w", path, err)
	}
	return counts, nil
}

// chiSquareSurvival is P(X ≥ x) for X chi-square distributed with df
// degrees of freedom: the regularised upper incomplete gamma Q(df/2, x/2).
func chiSquareSurvival(x float64, df int) float64 {
	if x <= 0 {
		return 1
	}
	return gammaQ(float64(df)/2, x/2)
}

// gammaQ is the regularised upper incomplete gamma function, by its series
// below a+1 and its continued fraction above (Numerical Recipes §6.2).
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1.0; n < 1000; n++ {
			term *= x / (a + n)
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return max(0, 1-sum*math.Exp(-x+a*math.Log(x)-lg))
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1.0; i < 1000; i++ {
		an := -i * (i - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}
