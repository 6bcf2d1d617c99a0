//go:build !race

package leakage

const raceEnabled = false
