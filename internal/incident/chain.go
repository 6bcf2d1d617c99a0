package incident

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/airlock-ir/airlock/internal/store"
)

// chainHash hashes fields with a domain tag, each field length-prefixed so no
// choice of contents can make two different field lists hash alike.
func chainHash(tag string, fields ...string) string {
	h := sha256.New()
	h.Write([]byte(tag))
	for _, f := range fields {
		h.Write([]byte{'\n'})
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func timelineHash(e *store.TimelineEntry) string {
	return chainHash("airlock-timeline-v1", e.IncidentID, strconv.FormatInt(e.Seq, 10),
		formatTime(e.At), e.Actor, e.Kind, string(e.Body), e.PrevHash)
}

func custodyHash(c *store.Custody) string {
	return chainHash("airlock-custody-v1", c.SHA256, strconv.FormatInt(c.Seq, 10),
		formatTime(c.At), c.Actor, c.Action, c.IncidentID, c.Addr, c.Detail, c.PrevHash)
}
