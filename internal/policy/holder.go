package policy

import "sync/atomic"

// Holder keeps the snapshot in force. Readers Load it without locks on
// every request; writers Store newer versions. The version never goes
// backwards, so a late, older snapshot cannot undo a newer containment.
// The zero Holder holds Empty().
type Holder struct {
	current atomic.Pointer[Snapshot]
}

// NewHolder returns a Holder with initial in force, or Empty() if nil.
func NewHolder(initial *Snapshot) *Holder {
	if initial == nil {
		initial = Empty()
	}
	h := &Holder{}
	h.current.Store(initial)
	return h
}

// Load returns the snapshot in force.
func (h *Holder) Load() *Snapshot {
	if s := h.current.Load(); s != nil {
		return s
	}
	return Empty()
}

// Store puts s in force and reports true, unless s is nil or its version is
// not newer than the one in force; then nothing changes and it reports
// false.
func (h *Holder) Store(s *Snapshot) bool {
	if s == nil {
		return false
	}
	for {
		cur := h.current.Load()
		inForce := Empty().version
		if cur != nil {
			inForce = cur.version
		}
		if s.version <= inForce {
			return false
		}
		if h.current.CompareAndSwap(cur, s) {
			return true
		}
	}
}
