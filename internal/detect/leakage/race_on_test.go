//go:build race

package leakage

// raceEnabled relaxes time limits: the race detector makes code about ten
// times slower.
const raceEnabled = true
