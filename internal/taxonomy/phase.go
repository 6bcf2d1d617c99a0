package taxonomy

import (
	"errors"
	"fmt"
	"strings"
)

// Phase is a stage of the incident lifecycle (NIST SP 800-61 Rev. 2).
type Phase string

// The phases, in lifecycle order.
const (
	PhaseDetection      Phase = "detection"
	PhaseContainment    Phase = "containment"
	PhaseEradication    Phase = "eradication"
	PhaseRecovery       Phase = "recovery"
	PhaseLessonsLearned Phase = "lessons_learned"
	PhaseClosed         Phase = "closed"
)

// ErrUnknownPhase is wrapped by ParsePhase's error for a name that is not a phase.
var ErrUnknownPhase = errors.New("unknown phase")

var phases = [...]Phase{
	PhaseDetection,
	PhaseContainment,
	PhaseEradication,
	PhaseRecovery,
	PhaseLessonsLearned,
	PhaseClosed,
}

var phaseTitles = map[Phase]string{
	PhaseDetection:      "Detection & analysis",
	PhaseContainment:    "Containment",
	PhaseEradication:    "Eradication",
	PhaseRecovery:       "Recovery",
	PhaseLessonsLearned: "Lessons learned",
	PhaseClosed:         "Closed",
}

// Phases returns the phases in lifecycle order. The slice is the caller's.
func Phases() []Phase {
	return append([]Phase(nil), phases[:]...)
}

// ParsePhase returns the phase named exactly s.
func ParsePhase(s string) (Phase, error) {
	if p := Phase(s); p.Valid() {
		return p, nil
	}
	names := make([]string, len(phases))
	for i, p := range phases {
		names[i] = string(p)
	}
	return "", fmt.Errorf("%w %q; valid phases: %s", ErrUnknownPhase, s, strings.Join(names, ", "))
}

// Index returns p's position in Phases, or -1 if p is not a phase.
func (p Phase) Index() int {
	for i, q := range phases {
		if p == q {
			return i
		}
	}
	return -1
}

// Valid reports whether p is one of the phases.
func (p Phase) Valid() bool { return p.Index() >= 0 }

// Next returns the phase after p. It returns false for PhaseClosed, which has
// no successor, and for anything that is not a phase.
func (p Phase) Next() (Phase, bool) {
	i := p.Index()
	if i < 0 || i+1 >= len(phases) {
		return "", false
	}
	return phases[i+1], true
}

// Title is p's name for people. Something that is not a phase is shown as it is.
func (p Phase) Title() string {
	if t, ok := phaseTitles[p]; ok {
		return t
	}
	return string(p)
}
