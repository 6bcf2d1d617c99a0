package anomaly

import (
	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// refused reports whether a request was refused: by the gateway because of
// what the caller sent (a prompt filter, a size or parameter limit, a
// malformed request), or by the model, whose answer opens with a refusal
// (detect.Refused).
// Requests stopped by containment already in force (blocked, rate limited,
// endpoint disabled) are not counted: that incident is already open.
func refused(ev *event.Event, output string) bool {
	switch ev.Decision {
	case event.DecisionFiltered, event.DecisionTooLarge, event.DecisionBadRequest, event.DecisionStopped:
		return true
	case event.DecisionBlocked, event.DecisionRateLimited, event.DecisionDisabled:
		return false
	}
	return detect.Refused(output)
}
