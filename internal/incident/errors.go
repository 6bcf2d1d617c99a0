package incident

import (
	"errors"
	"fmt"
	"strings"

	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// ValidationError lists everything wrong with a request; nothing was changed.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string { return "invalid: " + strings.Join(e.Problems, "; ") }

func invalid(format string, args ...any) error {
	return &ValidationError{Problems: []string{fmt.Sprintf(format, args...)}}
}

// problems collects validation failures.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// CriteriaError refuses a phase transition and says what is missing.
type CriteriaError struct {
	From, To taxonomy.Phase
	Unmet    []string
}

func (e *CriteriaError) Error() string {
	return fmt.Sprintf("cannot move from %s to %s: %s", e.From, e.To, strings.Join(e.Unmet, "; "))
}

// ErrTooLarge is returned when an upload exceeds the configured limit.
var ErrTooLarge = errors.New("too large")

// ErrPrecondition is returned when an If-Match version is stale.
var ErrPrecondition = errors.New("precondition failed")

// ErrClosed refuses to fold an alert into a closed incident: a new attack
// opens a new incident.
var ErrClosed = errors.New("incident is closed")
