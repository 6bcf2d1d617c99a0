package detect

import "github.com/airlock-ir/airlock/internal/event"

// Sink receives alerts. The engine's sink stamps, de-duplicates and forwards
// them; Raise must not block for long, since it runs on the detection path.
type Sink interface{ Raise(event.Alert) }

// SinkFunc adapts a function to a Sink.
type SinkFunc func(event.Alert)

// Raise calls f.
func (f SinkFunc) Raise(a event.Alert) { f(a) }

// Detector is one detector family.
type Detector interface {
	// Name is the detector's name in alerts and statistics, e.g. "extraction".
	Name() string
	// Observe sees one event; it must be fast and must not block. It may
	// raise alerts through out. The engine calls it from one goroutine at a
	// time; ev and its strings must not be kept beyond the call except as
	// bounded per-entity state.
	Observe(ev *event.Event, out Sink)
}
