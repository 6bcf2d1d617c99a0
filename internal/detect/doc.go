// Package detect owns what every detector shares: the Detector and Sink
// interfaces, the Engine that runs each event through every detector, the
// bounded per-entity State detectors keep, the robust Baseline they compare
// against, and the alert helpers (Fingerprint, Entities, Excerpt).
//
// Each detector family is a subpackage (extraction, anomaly, leakage, rules,
// promptinject); this package knows none of them. A detector sees one event
// at a time on the engine's goroutine, so its state needs no lock; it must
// be fast and must not block, because the engine runs every detector in turn
// and a slow one holds up the rest.
//
// Memory is bounded by construction: per-entity state lives in a State with
// a maximum number of entries (one not used lately evicted first, by CLOCK) and an age
// after which an entry is forgotten, so a flood of a million distinct callers
// costs no more than the maximum.
//
// A detector that panics is recovered, counted, and turned into a
// "detector_failed" alert: a failure must never look like a quiet stream.
//
// The package does no I/O and must not import the gateway, the store or any
// other consumer of alerts.
package detect
