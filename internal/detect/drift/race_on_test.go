//go:build race

package drift

// raceEnabled shrinks the floods: the race detector makes code about ten
// times slower.
const raceEnabled = true
