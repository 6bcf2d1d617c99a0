package intel

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
)

// csvColumns are the columns a CSV feed may have; type and value are
// required.
var csvColumns = []string{"id", "type", "value", "description", "severity", "confidence", "labels", "valid_from", "valid_until", "source", "atlas"}

// listSeparator separates the labels and ATLAS techniques in one cell.
const listSeparator = ";"

// ParseCSV reads a CSV feed (see the package documentation for its
// columns). name is the feed's file name, used in errors and as the
// default source. A feed with any error is refused as a whole: the error
// lists every problem, up to MaxErrors, each a *ParseError.
func ParseCSV(name string, r io.Reader) ([]Indicator, error) {
	errs := &errorList{file: name}
	lr := &limitedReader{r: r, left: int64(maxFeedBytes)}
	cr := csv.NewReader(lr)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // counted here, so that one short row does not end the parse
	cr.ReuseRecord = true

	read := func() ([]string, int, bool) {
		rec, err := cr.Read()
		var pe *csv.ParseError
		switch {
		case err == nil:
			line, _ := cr.FieldPos(0)
			return rec, line, true
		case err == io.EOF:
		case errors.Is(err, errTooLarge):
			errs.addf(lr.lines+1, "feed is larger than %d bytes", maxFeedBytes)
		case errors.As(err, &pe):
			errs.addf(pe.Line, "column %d: %v", pe.Column, pe.Err)
		default:
			errs.addf(lr.lines+1, "read: %v", err)
		}
		return nil, 0, false
	}

	header, line, ok := read()
	if !ok {
		if errs.empty() {
			errs.add(1, "no header row: want columns such as type,value,description")
		}
		return nil, errs.err()
	}
	cols, err := parseHeader(header)
	if err != nil {
		errs.add(line, err.Error())
		return nil, errs.err()
	}

	var out []Indicator
	regexes := 0
	for {
		rec, line, ok := read()
		if !ok {
			break
		}
		if len(rec) != len(cols) {
			errs.addf(line, "%d fields, want %d (%s)", len(rec), len(cols), strings.Join(cols, ","))
			continue
		}
		ind, err := csvIndicator(name, cols, rec)
		if err != nil {
			errs.add(line, err.Error())
			continue
		}
		if isRegex(ind) {
			if regexes++; regexes == MaxRegexes+1 {
				errs.addf(line, "the feed has more than %d regex signatures", MaxRegexes)
			}
		}
		if len(out) == maxIndicators {
			errs.addf(line, "the feed has more than %d indicators", maxIndicators)
			break
		}
		out = append(out, ind)
	}
	if !errs.empty() {
		return nil, errs.err()
	}
	return out, nil
}

// parseHeader returns the header's column names, lower-cased, refusing
// unknown and repeated columns and requiring type and value.
func parseHeader(header []string) ([]string, error) {
	cols := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // spreadsheets start with a byte-order mark
		}
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("header: column %d is not valid UTF-8", i+1)
		}
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(csvColumns, h):
			return nil, fmt.Errorf("header: unknown column %q (known: %s)", clip(h), strings.Join(csvColumns, ", "))
		case slices.Contains(cols[:i], h):
			return nil, fmt.Errorf("header: column %q appears twice", h)
		}
		cols[i] = h
	}
	for _, need := range []string{"type", "value"} {
		if !slices.Contains(cols, need) {
			return nil, fmt.Errorf("header: missing column %q (have %s)", need, strings.Join(cols, ","))
		}
	}
	return cols, nil
}

func csvIndicator(name string, cols, rec []string) (Indicator, error) {
	ind := Indicator{Source: sourceName(name), Confidence: DefaultConfidence}
	for i, col := range cols {
		cell := rec[i]
		if !utf8.ValidString(cell) {
			return ind, fmt.Errorf("%s: not valid UTF-8", col)
		}
		if col != "value" && col != "description" {
			cell = strings.TrimSpace(cell)
		}
		if cell == "" && col != "value" && col != "type" {
			continue // the default
		}
		var err error
		switch col {
		case "id":
			ind.ID = cell
		case "type":
			ind.Type = Type(strings.ToLower(cell))
			if !ind.Type.valid() {
				return ind, fmt.Errorf("type: unknown indicator type %q (want one of %s)", clip(cell), typeList())
			}
		case "value":
			ind.Value = cell
		case "description":
			ind.Description = strings.TrimSpace(cell)
		case "severity":
			ind.Severity, err = event.ParseSeverity(strings.ToLower(cell))
		case "confidence":
			ind.Confidence, err = parseConfidence(cell)
		case "labels":
			ind.Labels = strings.Split(cell, listSeparator)
		case "atlas":
			ind.ATLAS = strings.Split(cell, listSeparator)
		case "valid_from":
			ind.ValidFrom, err = parseTime(cell)
		case "valid_until":
			ind.ValidUntil, err = parseTime(cell)
		case "source":
			ind.Source = cell
		}
		if err != nil {
			return ind, fmt.Errorf("%s: %v", col, err)
		}
	}
	return Normalize(ind)
}

func parseConfidence(s string) (float64, error) {
	c, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(c) || c < 0 || c > 1 {
		return 0, fmt.Errorf("%q is not a number from 0 to 1", clip(s))
	}
	return c, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q is not an RFC 3339 time such as 2025-01-31T00:00:00Z", clip(s))
	}
	return t.UTC(), nil
}

func isRegex(ind Indicator) bool {
	return ind.Type == TypePromptSignature && strings.HasPrefix(ind.Value, regexPrefix)
}

// errTooLarge is returned by a limitedReader past its limit.
var errTooLarge = errors.New("feed too large")

// limitedReader reads at most left bytes and then fails with errTooLarge,
// counting the line breaks it passes.
type limitedReader struct {
	r     io.Reader
	left  int64
	lines int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One more byte tells a feed of exactly the limit from a larger one.
		var b [1]byte
		if n, err := l.r.Read(b[:]); n == 0 {
			return 0, err
		}
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.lines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}
