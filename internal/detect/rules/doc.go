// Package rules runs detection rules that operators write in YAML: named
// selections of event fields (equals, in, contains, regex, gt, lt), a
// condition that combines them with and, or and not, and an optional count
// or distinct count over a window, grouped by a field, with a threshold.
// The format is documented in docs/detectors.md under "User rules".
//
// A rule file is compiled whole or not at all: Parse and Load report every
// problem with its file, line, rule and field. A Detector runs one compiled
// RuleSet; Watch polls the file and swaps in each good version, keeping the
// last good rules (and reporting the error) when a version is bad.
//
// Memory is bounded: each aggregated rule keeps a detect.State of groups,
// and a count_distinct group keeps at most its threshold of values. An
// event without the group's field, or without the field a count_distinct
// rule counts, is in no group: it creates none and keeps none alive.
package rules
