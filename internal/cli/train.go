package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/airlock-ir/airlock/internal/detect/promptinject"
)

// runTrain retrains a model shipped in the binary from the public corpora.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "promptinject" {
		return usageError("usage: airlock train promptinject --data DIR [--out FILE]")
	}
	fs := newFlags("train promptinject", stderr)
	data := fs.String("data", filepath.Join("..", "shared", "data"), "the public data folder (with promptinject/ inside)")
	out := fs.String("out", filepath.Join("internal", "detect", "promptinject", "model.bin"), "where to write the model")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "training on %s (the held-out split is never seen)...\n", *data)
	var model bytes.Buffer
	rep, err := promptinject.TrainFromDir(*data, &model)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, model.Bytes(), 0o644); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes) in %s from %d training examples", *out, model.Len(), rep.Duration.Round(1e6), rep.TrainExamples)
	if rep.Other != nil {
		fmt.Fprintf(stdout, " (%d for the other-language models)", rep.Other.TrainExamples)
	}
	fmt.Fprintln(stdout)
	if rep.Test != nil {
		printEval(stdout, rep.Test)
	}
	return nil
}

// runEval scores a labelled JSON-lines file with the shipped detector.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "promptinject" {
		return usageError("usage: airlock eval promptinject --data FILE.jsonl [--json]")
	}
	fs := newFlags("eval promptinject", stderr)
	data := fs.String("data", "", `a JSON-lines file of {"text": ..., "label": 0|1}`)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *data == "" {
		return usageError("--data is required")
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	defer f.Close()
	examples, err := promptinject.ReadJSONL(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *data, err)
	}
	rep := promptinject.Evaluate(promptinject.Default(), examples)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	printEval(stdout, &rep)
	return nil
}

func printEval(w io.Writer, r *promptinject.EvalReport) {
	fmt.Fprintf(w, "n %d  TPR %.3f  FPR %.3f  precision %.3f  recall %.3f  F1 %.3f  balanced accuracy %.3f  p50 %.3f ms  p99 %.3f ms\n",
		r.N, r.TPR, r.FPR, r.Precision, r.Recall, r.F1, r.BalancedAccuracy, r.P50ms, r.P99ms)
	if len(r.Sets) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SET\tKIND\tN\tFLAGGED\tRATE")
	for _, s := range r.Sets {
		kind := "benign (FPR)"
		if s.Label == 1 {
			kind = "attack (TPR)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\n", s.Set, kind, s.N, s.Flagged, s.Rate)
	}
	tw.Flush()
}
