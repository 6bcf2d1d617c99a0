package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/airlock-ir/airlock/internal/forensics/weights"
)

func modelStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model stats", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: airlock model stats PATH (a safetensors, GGUF or PyTorch zip file)")
	}
	st, err := weights.Stats(ctx, pos[0])
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if *asJSON {
		return printJSONValue(stdout, st)
	}
	fmt.Fprintf(stdout, "%s: %s, %s, %d tensors\n", st.Path, st.Format, fmtBytes(st.Size), len(st.Tensors))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENSOR\tDTYPE\tSHAPE\tMEAN\tSTD\tMIN\tMAX\tKURTOSIS\tNAN\tINF\tLOW-BYTE H")
	for _, t := range st.Tensors {
		if !t.Measured {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\n", t.Name, t.DType, fmtShape(t.Shape))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%.2f\n", t.Name, t.DType, fmtShape(t.Shape),
			fmtStat(t.Mean), fmtStat(t.Std), fmtStat(t.Min), fmtStat(t.Max), fmtStat(t.Kurtosis), t.NaN, t.PosInf+t.NegInf, t.LowByteEntropy)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range st.Tensors {
		if t.NotMeasured != "" {
			fmt.Fprintf(stdout, "%s: not measured: %s\n", t.Name, t.NotMeasured)
		}
	}
	return nil
}

func modelDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model diff", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: airlock model diff A B (two safetensors, GGUF or PyTorch zip files)")
	}
	d, err := weights.Diff(ctx, pos[0], pos[1])
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if *asJSON {
		if err := printJSONValue(stdout, d); err != nil {
			return err
		}
	} else {
		printWeightDiff(stdout, d)
	}
	if d.Verdict != weights.Identical {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

func printWeightDiff(w io.Writer, d *weights.DiffReport) {
	fmt.Fprintf(w, "verdict: %s\n", d.Verdict)
	if d.Reason != "" {
		fmt.Fprintf(w, "  %s\n", d.Reason)
	}
	fmt.Fprintf(w, "tensors: %d in common, %d changed, %d added, %d removed, %d reshaped\n", d.Common, d.Changed, d.Added, d.Removed, d.Reshaped)
	if len(d.Tensors) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENSOR\tSTATUS\tSHAPE\tCHANGED\tREL L2\tMAX ABS\tCOSINE\tTOP-1 ENERGY\tLOW-RANK")
	for _, t := range d.Tensors {
		shape := fmtShape(t.ShapeA)
		if t.Status == weights.Added || t.Status == weights.Reshaped {
			shape = fmtShape(t.ShapeB)
		}
		if !t.Compared {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\t-\t-\n", t.Name, t.Status, shape)
			continue
		}
		top1, low := "-", "-"
		if s := t.Spectrum; s != nil {
			top1 = strconv.FormatFloat(s.Top1, 'f', 3, 64)
			low = yesOrNo(s.LowRank())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Status, shape, t.ChangedElements, t.Elements,
			fmtStat(t.RelL2), fmtStat(t.MaxAbs), strconv.FormatFloat(t.Cosine, 'f', 6, 64), top1, low)
	}
	tw.Flush()
	for _, t := range d.Tensors {
		if t.NotCompared != "" {
			fmt.Fprintf(w, "%s: compared by bytes only: %s\n", t.Name, t.NotCompared)
		}
	}
}

func fmtShape(s []uint64) string {
	if len(s) == 0 {
		return "scalar"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatUint(d, 10)
	}
	return strings.Join(parts, "x")
}

// fmtStat writes a statistic with four significant digits.
func fmtStat(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }
