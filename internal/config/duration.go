package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as a Go duration string such
// as "10s", "1m30s" or "250ms". Negative durations are rejected.
type Duration time.Duration

// String returns the Go form without zero tails: "1h" rather than "1h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "want a duration such as \"10s\" or \"1m30s\", got %s", describeKind(n))
	}
	s := strings.TrimSpace(n.Value)
	v, err := time.ParseDuration(s)
	switch {
	case err != nil && isNumber(s):
		return nodeError(n, "invalid duration %q: missing unit, e.g. \"%ss\"", n.Value, s)
	case err != nil:
		return nodeError(n, "invalid duration %q: want a number with a unit (ns, us, ms, s, m, h), e.g. \"10s\" or \"1m30s\"", n.Value)
	case v < 0:
		return nodeError(n, "invalid duration %q: durations cannot be negative", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}
