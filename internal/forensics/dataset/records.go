package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// Format is a file's record format, known from its extension.
type Format string

// The record formats. Files of any other kind are hashed whole.
const (
	FormatJSONL Format = "jsonl" // .jsonl, .ndjson: one JSON value per line
	FormatCSV   Format = "csv"   // .csv: a header row, then one record per row
	FormatTSV   Format = "tsv"   // .tsv: the same, tab-separated
)

// MaxRecordBytes is the default bound on one JSON line; a longer one stops
// the file's record scan with an error (the file is still hashed whole).
const MaxRecordBytes = 64 << 20

func formatOf(name string) Format {
	switch strings.ToLower(path.Ext(name)) {
	case ".jsonl", ".ndjson":
		return FormatJSONL
	case ".csv":
		return FormatCSV
	case ".tsv":
		return FormatTSV
	}
	return ""
}

// record is one record as a scan yields it; it is valid only during the
// callback.
type record struct {
	line int64 // 1-based line where the record starts
	// canonical is the encoding its hash covers: for JSON, the value
	// re-marshalled with sorted keys, numbers as written and no HTML
	// escaping; for CSV, each column's name and value, length-prefixed, in
	// column order. An invalid record's canonical form is its raw bytes.
	canonical []byte
	invalid   bool           // not valid JSON, or a row of the wrong width
	obj       map[string]any // JSON object fields (nil for other JSON values)
	header    []string       // CSV columns
	row       []string       // CSV values
}

// field returns the value of a top-level field as text: strings as they
// are, other JSON values in their canonical JSON form.
func (r *record) field(name string) (string, bool) {
	if r.obj != nil {
		v, ok := r.obj[name]
		if !ok || v == nil {
			return "", false
		}
		if s, ok := v.(string); ok {
			return s, true
		}
		b, err := canonicalJSON(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	for i, h := range r.header {
		if h == name && i < len(r.row) {
			return r.row[i], true
		}
	}
	return "", false
}

// scanRecords reads the records of a file of format f from r and calls fn
// for each; a JSON line may be at most maxLine bytes.
func scanRecords(ctx context.Context, r io.Reader, f Format, maxLine int, fn func(*record) error) error {
	switch f {
	case FormatJSONL:
		return scanJSONL(ctx, r, maxLine, fn)
	case FormatCSV:
		return scanCSV(ctx, r, ',', fn)
	case FormatTSV:
		return scanCSV(ctx, r, '\t', fn)
	}
	return fmt.Errorf("no records in format %q", f)
}

func scanJSONL(ctx context.Context, r io.Reader, maxLine int, fn func(*record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, min(64<<10, maxLine)), maxLine)
	var rec record
	for line := int64(1); sc.Scan(); line++ {
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue // blank lines hold no record
		}
		rec = record{line: line}
		v, err := decodeJSONLine(raw)
		if err == nil {
			rec.canonical, err = canonicalJSON(v)
		}
		if err != nil {
			rec.invalid, rec.canonical = true, raw
		} else {
			rec.obj, _ = v.(map[string]any)
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("a line is longer than %d bytes", maxLine)
		}
		return err
	}
	return nil
}

// decodeJSONLine decodes exactly one JSON value, keeping numbers as
// written. Invalid UTF-8 is refused rather than silently replaced, so two
// different lines never canonicalise alike.
func decodeJSONLine(raw []byte) (any, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value on the line")
	}
	return v, nil
}

// canonicalJSON is v's canonical encoding: encoding/json sorts map keys,
// and HTML escaping is off so text is kept as it is.
func canonicalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func scanCSV(ctx context.Context, r io.Reader, comma rune, fn func(*record) error) error {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1 // widths are checked against the header below
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return err
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	cr.ReuseRecord = true
	var buf []byte
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		buf = buf[:0]
		for i, v := range row {
			name := ""
			if i < len(header) {
				name = header[i]
			}
			buf = appendField(buf, []byte(name))
			buf = appendField(buf, []byte(v))
		}
		rec := record{line: int64(line), canonical: buf, invalid: len(row) != len(header), header: header, row: row}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}
