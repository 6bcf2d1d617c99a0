//go:build race

package detect_test

// raceEnabled scales the flood tests down: the race detector makes every
// event about ten times slower.
const raceEnabled = true
