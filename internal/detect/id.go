package detect

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// idGen makes UUIDv7 alert IDs from the engine's clock rather than the
// wall clock, so that IDs sort with alert times in replays and tests too.
// Within one millisecond the 12-bit rand_a field counts up (RFC 9562,
// method 1), so IDs made in one millisecond sort in the order made.
type idGen struct {
	lastMS int64
	seq    uint16
}

func (g *idGen) next(now time.Time) string {
	var u uuid.UUID
	ms := now.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	if ms <= g.lastMS {
		// Same millisecond, or the clock went back: stay after the last ID.
		ms = g.lastMS
		g.seq++
		if g.seq > 0xfff {
			ms++
			g.seq = 0
		}
	} else {
		g.seq = 0
	}
	g.lastMS = ms
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(ms))
	copy(u[0:6], ts[2:8])
	rand.Read(u[8:]) // never fails (crypto/rand panics rather than return an error)
	u[6] = 0x70 | byte(g.seq>>8)&0x0f
	u[7] = byte(g.seq)
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}
