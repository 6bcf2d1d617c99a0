package event

import "fmt"

// Severity orders how bad something is. The zero value is invalid so that a
// forgotten field is caught by validation instead of silently meaning "low".
type Severity int

const (
	SeverityLow Severity = iota + 1
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"", "low", "medium", "high", "critical"}

// Severities lists every valid severity, lowest first.
func Severities() []Severity {
	return []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

func (s Severity) Valid() bool { return s >= SeverityLow && s <= SeverityCritical }

func (s Severity) String() string {
	if !s.Valid() {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts the lower-case names "low" ... "critical".
func ParseSeverity(name string) (Severity, error) {
	for i := SeverityLow; i <= SeverityCritical; i++ {
		if severityNames[i] == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want low, medium, high or critical)", name)
}

func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
