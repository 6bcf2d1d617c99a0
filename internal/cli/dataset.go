package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/airlock-ir/airlock/internal/forensics/dataset"
)

const datasetUsage = `usage: airlock dataset <subcommand> [flags]

  manifest PATH [--id-field id]         per-file and per-record SHA-256, Merkle roots
  diff A B [--id-field id]              files and records added, removed, changed
  poison PATH [--text-field text] [--label-field label] [--id-field id]
                                        trigger candidates and conflicting near-duplicates
  shift A B [--label-field label]       has the label distribution moved?

PATH is a JSON Lines, CSV or TSV file, or a folder of files. Every subcommand
takes --json. Exit status: 0, or 1 when diff finds a difference or shift a
shift; 2 misuse or an error.`

func runDataset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("%s", datasetUsage)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, datasetUsage)
		return nil
	}
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"manifest": datasetManifest, "diff": datasetDiff, "poison": datasetPoison, "shift": datasetShift,
	}[args[0]]
	if sub == nil {
		return usageError("unknown subcommand %q\n%s", args[0], datasetUsage)
	}
	return sub(ctx, args[1:], stdout, stderr)
}

// datasetFailed is a command that could not do its job: exit status 2.
func datasetFailed(err error) error { return &exitError{code: 2, err: err} }

func datasetManifest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dataset manifest", stderr)
	asJSON := fs.Bool("json", false, "print the manifest, every record hash included, as JSON")
	idField := fs.String("id-field", dataset.DefaultIDField, "the field that keys records")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: airlock dataset manifest PATH [--id-field id] [--json]")
	}
	m, err := dataset.ManifestOf(ctx, pos[0], dataset.ManifestOptions{IDField: *idField})
	if err != nil {
		return datasetFailed(err)
	}
	if *asJSON {
		return printJSONValue(stdout, m)
	}
	records := 0
	for _, f := range m.Files {
		records += len(f.Records)
	}
	fmt.Fprintf(stdout, "%s: %d files, %d records\nroot %s\n", m.Path, len(m.Files), records, m.Root)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tFORMAT\tRECORDS\tSIZE\tSHA256\tRECORD ROOT\tNOTE")
	for _, f := range m.Files {
		note := ""
		if f.Invalid > 0 {
			note = fmt.Sprintf("%d invalid records", f.Invalid)
		}
		if f.Error != "" {
			note = truncate(f.Error, 80)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", f.Path, dash(string(f.Format)), len(f.Records), f.Size, f.SHA256, dash(f.RecordRoot), note)
	}
	tw.Flush()
	for _, s := range m.Skipped {
		fmt.Fprintf(stdout, "skipped %s (not a regular file)\n", s)
	}
	return nil
}

func datasetDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dataset diff", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	idField := fs.String("id-field", dataset.DefaultIDField, "the field that keys records")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: airlock dataset diff A B [--id-field id] [--json]")
	}
	d, err := dataset.Diff(ctx, pos[0], pos[1], dataset.ManifestOptions{IDField: *idField})
	if err != nil {
		return datasetFailed(err)
	}
	if *asJSON {
		if err := printJSONValue(stdout, d); err != nil {
			return err
		}
	} else {
		printDatasetDiff(stdout, d)
	}
	if !d.Identical {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

// maxListedRecords bounds the records a table lists per kind of change.
const maxListedRecords = 20

func printDatasetDiff(w io.Writer, d *dataset.ManifestDiff) {
	fmt.Fprintf(w, "%s\nroot A %s\nroot B %s\n", d, d.RootA, d.RootB)
	for _, f := range d.AddedFiles {
		fmt.Fprintf(w, "added file   %s\n", f)
	}
	for _, f := range d.RemovedFiles {
		fmt.Fprintf(w, "removed file %s\n", f)
	}
	for _, f := range d.ChangedFiles {
		name := f.PathA
		if f.PathB != f.PathA {
			name += " → " + f.PathB
		}
		fmt.Fprintf(w, "changed file %s\n", name)
		if !f.RecordLevel {
			fmt.Fprintln(w, "  (not a record format, or unreadable: only the bytes are known to differ)")
			continue
		}
		if f.Reordered {
			fmt.Fprintln(w, "  same records, reordered (or formatting outside records changed)")
		}
		if f.DuplicateKeys > 0 {
			fmt.Fprintf(w, "  %d keys carried by more than one record\n", f.DuplicateKeys)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		list := func(what string, n int, row func(i int) string) {
			for i := range min(n, maxListedRecords) {
				fmt.Fprintf(tw, "  %s\t%s\n", what, row(i))
			}
			if n > maxListedRecords {
				fmt.Fprintf(tw, "  %s\t(%d more: use --json)\n", what, n-maxListedRecords)
			}
		}
		list("added", len(f.Added), func(i int) string { return recordName(f.Added[i].Key, "B", f.Added[i].Line) })
		list("removed", len(f.Removed), func(i int) string { return recordName(f.Removed[i].Key, "A", f.Removed[i].Line) })
		list("changed", len(f.Changed), func(i int) string {
			c := f.Changed[i]
			return fmt.Sprintf("%s (A line %d, B line %d)", dash(c.Key), c.LineA, c.LineB)
		})
		tw.Flush()
	}
}

func recordName(key, side string, line int64) string {
	if key == "" {
		return fmt.Sprintf("%s line %d", side, line)
	}
	return fmt.Sprintf("%s (%s line %d)", key, side, line)
}

func datasetPoison(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dataset poison", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	var fields dataset.Fields
	fs.StringVar(&fields.Text, "text-field", "text", "the field holding the text")
	fs.StringVar(&fields.Label, "label-field", "label", "the field holding the label")
	fs.StringVar(&fields.ID, "id-field", dataset.DefaultIDField, "the field that identifies a record")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: airlock dataset poison PATH [--text-field text] [--label-field label] [--json]")
	}
	rep, err := dataset.Poisoning(ctx, pos[0], dataset.PoisonOptions{Fields: fields})
	if err != nil {
		return datasetFailed(err)
	}
	if *asJSON {
		return printJSONValue(stdout, rep)
	}
	fmt.Fprintf(stdout, "%d labelled records (%d skipped), labels: %s\n", rep.Records, rep.Skipped, fmtLabelCounts(rep.Labels))
	if rep.Approximate {
		fmt.Fprintln(stdout, "(n-gram counts are approximate: the vocabulary outgrew its memory bound)")
	}
	if len(rep.Triggers) == 0 {
		fmt.Fprintln(stdout, "trigger candidates: none")
	} else {
		fmt.Fprintln(stdout, "trigger candidates (rare n-grams tied to one label), strongest first:")
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NGRAM\tLABEL\tSUPPORT\tPURITY\tBASE RATE\tFLIP SHARE\tSCORE\tRECORDS")
		for _, tr := range rep.Triggers {
			fmt.Fprintf(tw, "  %q\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n", tr.NGram, tr.Label, tr.Support, tr.Purity, tr.BaseRate, tr.FlipShare, tr.Score, recordRefs(tr.Records, 3))
		}
		tw.Flush()
	}
	if len(rep.Conflicts) == 0 {
		fmt.Fprintln(stdout, "conflicting near-duplicates: none")
		return nil
	}
	fmt.Fprintln(stdout, "conflicting near-duplicates (same or nearly the same text, different labels):")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  A\tLABEL A\tB\tLABEL B\tSIMILARITY")
	for i, c := range rep.Conflicts {
		if i == maxListedRecords {
			fmt.Fprintf(tw, "  (%d more: use --json)\n", len(rep.Conflicts)-maxListedRecords)
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.2f\n", recordRef(c.A), c.LabelA, recordRef(c.B), c.LabelB, c.Similarity)
	}
	tw.Flush()
	if rep.ConflictsTruncated {
		fmt.Fprintln(stdout, "(more pairs exist than are listed)")
	}
	return nil
}

func recordRef(r dataset.RecordRef) string {
	s := fmt.Sprintf("%s:%d", r.File, r.Line)
	if r.ID != "" {
		s += " (" + r.ID + ")"
	}
	return s
}

func recordRefs(rs []dataset.RecordRef, n int) string {
	parts := make([]string, 0, min(len(rs), n))
	for i, r := range rs {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(rs)-n))
			break
		}
		parts = append(parts, recordRef(r))
	}
	return strings.Join(parts, ", ")
}

// fmtLabelCounts writes "neg 500, pos 480" in label order.
func fmtLabelCounts(m map[string]int) string {
	var parts []string
	for _, l := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", l, m[l]))
	}
	return strings.Join(parts, ", ")
}

func datasetShift(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dataset shift", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	var fields dataset.Fields
	fs.StringVar(&fields.Label, "label-field", "label", "the field holding the label")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: airlock dataset shift A B [--label-field label] [--json]")
	}
	s, err := dataset.CompareLabels(ctx, pos[0], pos[1], fields)
	if err != nil {
		return datasetFailed(err)
	}
	if *asJSON {
		if err := printJSONValue(stdout, s); err != nil {
			return err
		}
	} else {
		var na, nb int
		for _, l := range s.Labels {
			na += s.CountsA[l]
			nb += s.CountsB[l]
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LABEL\tA\tSHARE A\tB\tSHARE B")
		for _, l := range s.Labels {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%d\t%.3f\n", l, s.CountsA[l], shareOf(s.CountsA[l], na), s.CountsB[l], shareOf(s.CountsB[l], nb))
		}
		tw.Flush()
		verdict := "no shift"
		if s.Shifted {
			verdict = "SHIFTED"
		}
		fmt.Fprintf(stdout, "chi-square %.2f (df %d), p = %.3g; Jensen-Shannon divergence %.4f bits: %s (shift: p < %g and JS ≥ %g)\n",
			s.ChiSquare, s.DF, s.PValue, s.JS, verdict, dataset.ShiftPValue, dataset.ShiftJS)
	}
	if s.Shifted {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

func shareOf(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}
