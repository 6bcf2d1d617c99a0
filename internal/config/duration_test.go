package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                  "0s",
		250 * time.Millisecond:             "250ms",
		10 * time.Second:                   "10s",
		90 * time.Second:                   "1m30s",
		2 * time.Minute:                    "2m",
		time.Hour:                          "1h",
		90 * time.Minute:                   "1h30m",
		time.Hour + time.Second:            "1h0m1s",
		time.Hour + 500*time.Millisecond:   "1h0m0.5s",
		-time.Minute:                       "-1m",
		24*time.Hour + 10*time.Microsecond: "24h0m0.00001s",
	} {
		got := Duration(d).String()
		if got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("time.ParseDuration(%q) = %v, %v; want %v", got, back, err, d)
		}
	}
}

func TestDurationUnmarshalYAML(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "10s", want: 10 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "'250ms'", want: 250 * time.Millisecond},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "0s", want: 0},
		{in: "0", want: 0},
		{in: "10", err: `invalid duration "10": missing unit, e.g. "10s"`},
		{in: "-1s", err: `invalid duration "-1s": durations cannot be negative`},
		{in: "soon", err: `invalid duration "soon": want a number with a unit`},
		{in: "10 s", err: `invalid duration "10 s": want a number with a unit`},
		{in: "[10s]", err: `want a duration such as "10s" or "1m30s", got a list`},
		{in: "99999999h", err: `invalid duration "99999999h"`},
	} {
		var d Duration
		err := yaml.Unmarshal([]byte(tc.in), &d)
		switch {
		case tc.err == "" && (err != nil || time.Duration(d) != tc.want):
			t.Errorf("decode %q = %v, %v; want %v", tc.in, d, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("decode %q = %v, %v; want error %q", tc.in, d, err, tc.err)
		}
	}
}
