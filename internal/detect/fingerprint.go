package detect

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/airlock-ir/airlock/internal/event"
)

// Fingerprint identifies "the same alert again": the detector, its rule and
// the entities the alert is about, in any order. Detectors pass the
// entities that define the subject (the caller for a per-caller signal, the
// route for a per-route one), not incidental ones such as the IP of a key
// that rotates addresses.
func Fingerprint(detector, rule string, entities []event.Entity) string {
	es := slices.Clone(entities)
	slices.SortFunc(es, func(a, b event.Entity) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
	})
	es = slices.Compact(es)
	h := sha256.New()
	// Lengths before values, so that no two different inputs concatenate
	// to the same bytes.
	write := func(s string) {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(detector)
	write(rule)
	for _, e := range es {
		write(string(e.Kind))
		write(e.Value)
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
