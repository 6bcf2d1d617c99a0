// Package config owns Airlock's YAML configuration file: its defaults, a
// strict decode (unknown keys, wrong types and malformed sizes or durations
// are errors that name the key and the line) and validation of every value
// against its bounds.
//
// Loading goes the Prometheus way: start from Default, decode the file over
// it, then Validate. A Config that Parse or Load returns is always valid, so
// callers use it without checking again.
//
// The package imports nothing of ours; it describes settings and does not
// act on them (it opens no listener and builds no logger).
package config
