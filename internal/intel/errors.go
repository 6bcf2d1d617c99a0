package intel

import (
	"errors"
	"fmt"
	"strconv"
)

// ParseError is one reason a feed was refused, at the line it concerns.
type ParseError struct {
	File   string
	Line   int
	Reason string
}

func (e *ParseError) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Reason
}

// MaxErrors bounds how many errors a refused feed lists; the rest are
// counted in a last line.
const MaxErrors = 20

// errorList collects a feed's errors.
type errorList struct {
	file    string
	errs    []error
	dropped int
}

func (l *errorList) addf(line int, format string, args ...any) {
	l.add(line, fmt.Sprintf(format, args...))
}

func (l *errorList) add(line int, reason string) {
	if len(l.errs) >= MaxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, &ParseError{File: l.file, Line: line, Reason: reason})
}

func (l *errorList) empty() bool { return len(l.errs) == 0 }

// err joins the errors, nil if there are none.
func (l *errorList) err() error {
	if l.dropped > 0 {
		return errors.Join(append(l.errs, fmt.Errorf("%s: %d more errors not shown", l.file, l.dropped))...)
	}
	return errors.Join(l.errs...)
}
