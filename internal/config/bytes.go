package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bytes is a size in bytes. In YAML it is a plain integer ("512") or a whole
// number with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB,
// TB (powers of 1000), e.g. "64KiB" or "2 GB".
type Bytes int64

// Binary size units.
const (
	KiB Bytes = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

type sizeUnit struct {
	name string
	size Bytes
}

// sizeUnits is ordered largest first so that String picks the shortest exact
// form; "B" is parsed but never printed.
var sizeUnits = []sizeUnit{
	{"TiB", TiB}, {"TB", 1e12},
	{"GiB", GiB}, {"GB", 1e9},
	{"MiB", MiB}, {"MB", 1e6},
	{"KiB", KiB}, {"KB", 1e3},
}

const unitList = "B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"

// parseBytes reads the textual form of a size. Messages are phrased to follow
// `invalid size "...": `.
func parseBytes(s string) (Bytes, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	if s[0] == '-' {
		return 0, fmt.Errorf("sizes cannot be negative")
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("want a whole number of bytes, optionally with a unit (%s)", unitList)
	}
	digits, unit := s[:i], strings.TrimSpace(s[i:])
	if strings.HasPrefix(unit, ".") || strings.HasPrefix(unit, ",") {
		return 0, fmt.Errorf("want a whole number, e.g. \"1536MiB\" rather than \"1.5GiB\"")
	}
	mult, err := unitSize(unit)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(digits, 10, 63)
	if err != nil || n > uint64(math.MaxInt64/int64(mult)) {
		return 0, fmt.Errorf("too large (the largest size is %d bytes)", int64(math.MaxInt64))
	}
	return Bytes(n) * mult, nil
}

func unitSize(unit string) (Bytes, error) {
	switch unit {
	case "", "B":
		return 1, nil
	case "kB": // the SI spelling
		return 1e3, nil
	}
	for _, u := range sizeUnits {
		if unit == u.name {
			return u.size, nil
		}
	}
	for _, u := range sizeUnits {
		if strings.EqualFold(unit, u.name) {
			return 0, fmt.Errorf("unknown unit %q (did you mean %q?)", unit, u.name)
		}
	}
	return 0, fmt.Errorf("unknown unit %q (want %s)", unit, unitList)
}

// String returns the size with the largest unit that divides it exactly,
// e.g. "1MiB" or "2KB", and a plain number of bytes otherwise. Parsing the
// result gives b back.
func (b Bytes) String() string {
	if b > 0 {
		for _, u := range sizeUnits {
			if b%u.size == 0 {
				return strconv.FormatInt(int64(b/u.size), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "want a size such as 512, \"64KiB\" or \"1GiB\", got %s", describeKind(n))
	}
	v, err := parseBytes(n.Value)
	if err != nil {
		return nodeError(n, "invalid size %q: %v", n.Value, err)
	}
	*b = v
	return nil
}

// MarshalYAML implements yaml.Marshaler: a plain integer when no unit fits,
// otherwise the String form.
func (b Bytes) MarshalYAML() (any, error) {
	s := b.String()
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int64(b), nil
	}
	return s, nil
}
