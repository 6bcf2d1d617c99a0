//go:build race

package intel

// raceEnabled shrinks the randomised comparisons: the race detector makes
// code about ten times slower.
const raceEnabled = true
