//go:build !race

package promptinject

const raceEnabled = false
