package promptinject

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// EvalReport is a detector's result on a labelled set of texts: overall,
// and per set since a blend hides the sets that miss.
type EvalReport struct {
	N                int     `json:"n"`
	TPR              float64 `json:"tpr"`
	FPR              float64 `json:"fpr"`
	Precision        float64 `json:"precision"`
	Recall           float64 `json:"recall"`
	F1               float64 `json:"f1"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
	// P99ms2K is the p99 over the texts of at most 2 KB.
	P99ms2K float64   `json:"p99_2k_ms"`
	Sets    []SetEval `json:"sets"`
}

// SetEval is the result on one set. Rate is the TPR of an attack set and
// the FPR of a benign one; Label says which.
type SetEval struct {
	Set     string  `json:"set"`
	Label   int     `json:"label"`
	N       int     `json:"n"`
	Flagged int     `json:"flagged"`
	Rate    float64 `json:"rate"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
}

// Evaluate scores every example, in its role, one at a time on the calling
// goroutine, and reports the confusion figures and the latency per text.
// Examples without a Set are reported under "unlabelled" with their label.
// A first, untimed call builds what the detector builds on first use.
func Evaluate(d *Detector, examples []Example) EvalReport {
	d.Score("warm up: build the tables that are built on first use")
	var rep EvalReport
	var tp, fp, tn, fn int
	var all, small []time.Duration
	bySet := map[string]*SetEval{}
	setTimes := map[string][]time.Duration{}
	var order []string
	for _, ex := range examples {
		t0 := time.Now()
		r := d.ScoreFor(ex.Role, ex.Text)
		dt := time.Since(t0)
		all = append(all, dt)
		if len(ex.Text) <= windowBytes {
			small = append(small, dt)
		}
		name := ex.Set
		if name == "" {
			name = fmt.Sprintf("unlabelled/%d", ex.Label)
		}
		s := bySet[name]
		if s == nil {
			s = &SetEval{Set: name, Label: ex.Label}
			bySet[name] = s
			order = append(order, name)
		}
		s.N++
		setTimes[name] = append(setTimes[name], dt)
		switch {
		case r.Attack && ex.Label == 1:
			tp++
			s.Flagged++
		case r.Attack:
			fp++
			s.Flagged++
		case ex.Label == 1:
			fn++
		default:
			tn++
		}
	}
	rep.N = len(examples)
	rep.TPR = ratio(tp, tp+fn)
	rep.FPR = ratio(fp, fp+tn)
	rep.Precision = ratio(tp, tp+fp)
	rep.Recall = rep.TPR
	if rep.Precision+rep.Recall > 0 {
		rep.F1 = 2 * rep.Precision * rep.Recall / (rep.Precision + rep.Recall)
	}
	rep.BalancedAccuracy = (rep.TPR + 1 - rep.FPR) / 2
	rep.P50ms, rep.P99ms = quantileMS(all, 0.50), quantileMS(all, 0.99)
	rep.P99ms2K = quantileMS(small, 0.99)
	for _, name := range order {
		s := bySet[name]
		s.Rate = ratio(s.Flagged, s.N)
		s.P50ms, s.P99ms = quantileMS(setTimes[name], 0.50), quantileMS(setTimes[name], 0.99)
		rep.Sets = append(rep.Sets, *s)
	}
	return rep
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// quantileMS is the q-quantile of ds in milliseconds (nearest rank).
func quantileMS(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(q*float64(len(s))+0.999999) - 1
	k = min(max(k, 0), len(s)-1)
	return float64(s[k]) / float64(time.Millisecond)
}

// WriteTable prints the report as a table: one row per set, then the
// totals.
func (r EvalReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "set\tkind\tn\tflagged\trate\tp50 ms\tp99 ms\t")
	for _, s := range r.Sets {
		kind := "attack: TPR"
		if s.Label == 0 {
			kind = "benign: FPR"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", s.Set, kind, s.N, s.Flagged, s.Rate, s.P50ms, s.P99ms)
	}
	fmt.Fprintf(tw, "all\t\t%d\t\t\t%.3f\t%.3f\t\n", r.N, r.P50ms, r.P99ms)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "TPR %.3f  FPR %.3f  precision %.3f  recall %.3f  F1 %.3f  balanced accuracy %.3f  p99 (<= 2 KB) %.3f ms\n",
		r.TPR, r.FPR, r.Precision, r.Recall, r.F1, r.BalancedAccuracy, r.P99ms2K)
	return err
}
