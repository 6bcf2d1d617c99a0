package anomaly

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

// TestRouteLimitsFollowBaselines: a route's limits for the current bucket
// are its baselines' own, through busy and idle minutes, and after the
// route has aged out and come back.
func TestRouteLimitsFollowBaselines(t *testing.T) {
	h := newHarness(t)
	h.d = New(Config{CallerTTL: time.Minute}) // routes age out after 24 minutes
	rng := rand.New(rand.NewPCG(7, 8))
	checked := 0
	for minute := range 120 {
		if minute == 60 {
			h.now = h.now.Add(2 * time.Hour)
		}
		if minute%9 == 4 {
			h.now = h.now.Add(time.Duration(1+rng.IntN(5)) * time.Minute) // idle
		}
		n := 20 + rng.IntN(200)
		h.minute(n, func(i int) event.Event {
			ev := event.Event{APIKeyHash: fmt.Sprint("kh_", i%40), TokensIn: rng.IntN(900), LatencyMS: 100 + 900*rng.Float64()}
			if rng.IntN(30) == 0 {
				ev.Status = 503
			}
			return ev
		})
		h.d.routes.Range(func(_ string, rs *routeSeries) bool {
			for m := range numMeasures {
				if want := rs.base[m].Limit(h.d.params[m], h.d.params[m].K); math.Float64bits(rs.limits[m]) != math.Float64bits(want) {
					t.Fatalf("minute %d, %s: limit %v, baseline's %v", minute, measureNames[m], rs.limits[m], want)
				}
			}
			checked++
			return true
		})
	}
	if checked < 100 {
		t.Fatalf("routes checked %d times", checked)
	}
}
