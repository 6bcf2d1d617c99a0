package dataset

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// RecordRef names a record in a report: its file, the line where it starts,
// and its ID field value when it has one.
type RecordRef struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	ID   string `json:"id,omitempty"`
}

// Fields names the record fields the poisoning checks read.
type Fields struct {
	ID    string // default "id"
	Text  string // default "text"
	Label string // default "label"
}

func (f Fields) withDefaults() Fields {
	if f.ID == "" {
		f.ID = DefaultIDField
	}
	if f.Text == "" {
		f.Text = "text"
	}
	if f.Label == "" {
		f.Label = "label"
	}
	return f
}

// labeled is a record reduced to what the poisoning checks use. ok is
// false when the record lacks the text or the label field.
type labeled struct {
	ref         RecordRef
	text, label string
	ok          bool
}

// recordFiles lists the record files at path: the file itself, or every
// regular file with a record format under the folder, in path order.
func recordFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if formatOf(path) == "" {
			return nil, fmt.Errorf("%s: not a record file (want .jsonl, .ndjson, .csv or .tsv)", path)
		}
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && formatOf(p) != "" {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

// eachLabeled streams the labelled records of files.
func eachLabeled(ctx context.Context, files []string, fields Fields, fn func(labeled) error) error {
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = scanRecords(ctx, bufio.NewReaderSize(f, 256<<10), formatOf(p), MaxRecordBytes, func(r *record) error {
			l := labeled{ref: RecordRef{File: p, Line: r.line}}
			l.ref.ID, _ = r.field(fields.ID)
			var okT, okL bool
			l.text, okT = r.field(fields.Text)
			l.label, okL = r.field(fields.Label)
			l.ok = okT && okL && !r.invalid
			return fn(l)
		})
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
