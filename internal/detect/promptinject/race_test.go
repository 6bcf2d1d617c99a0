//go:build race

package promptinject

const raceEnabled = true
