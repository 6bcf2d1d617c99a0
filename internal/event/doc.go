// Package event is Airlock's shared vocabulary: the severities and entities
// that detectors, incidents and the gateway all speak of. It imports nothing
// of ours, so every other package may depend on it.
package event
