package anomaly

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// TestLearnMatchesBaseline: learn leaves a baseline bit for bit as
// Baseline.Add and Baseline.AddZeros do, for the detector's own parameters
// and others, with values mostly zero (errors, refusals), small counts and
// large ones, and idle spells short and long.
func TestLearnMatchesBaseline(t *testing.T) {
	d := New(Config{})
	params := append([]detect.BaselineParams{}, d.params[:]...)
	params = append(params,
		detect.BaselineParams{Alpha: 0.2, Warm: 3, K: 4, Clip: 2, AbsFloor: 0.5, RelFloor: 0.1, Poisson: true},
		detect.BaselineParams{Alpha: 0.01, Warm: 50, K: 6, AbsFloor: 0, RelFloor: 0})
	rng := rand.New(rand.NewPCG(5, 6))
	same := func(a, b detect.Baseline) bool {
		return math.Float64bits(a.Mean) == math.Float64bits(b.Mean) && math.Float64bits(a.Var) == math.Float64bits(b.Var) && a.N == b.N
	}
	for pi, p := range params {
		for trial := range 200 {
			var got, want detect.Baseline
			zeroShare := rng.Float64()
			for step := range 300 {
				var v float64
				switch r := rng.Float64(); {
				case r < zeroShare:
				case r < zeroShare+(1-zeroShare)/2:
					v = float64(1 + rng.IntN(5))
				case r < zeroShare+(1-zeroShare)*0.95:
					v = 1000 * rng.Float64()
				default:
					v = 1e6 * rng.Float64() // a spike, clipped once warm
				}
				gap := 0
				switch rng.IntN(4) {
				case 1:
					gap = 1 + rng.IntN(20)
				case 2:
					gap = rng.IntN(600)
				}
				if trial == 0 && step == 100 {
					gap = 1 << 20 // the longest idle spell update passes
				}
				before := got
				learn(&got, v, gap, &p)
				want.Add(v, p)
				if gap > 0 {
					want.AddZeros(gap, p)
				}
				if !same(got, want) {
					t.Fatalf("params %d trial %d step %d: learn(%+v, %v, %d) = %+v, want %+v", pi, trial, step, before, v, gap, got, want)
				}
			}
		}
	}
	// Near saturation the count stops where Baseline's does. (At
	// math.MaxUint32 itself Baseline's 1/(N+1) wraps to 1/0 and its mean
	// becomes NaN; learn keeps a zero baseline at zero there.)
	for _, n := range []uint32{math.MaxUint32 - 3, math.MaxUint32 - 2} {
		for _, mean := range []float64{0, 2} {
			got := detect.Baseline{Mean: mean, N: n}
			want := got
			learn(&got, 0, 5, &params[0])
			want.Add(0, params[0])
			want.AddZeros(5, params[0])
			if !same(got, want) {
				t.Errorf("N %d mean %v: %+v, want %+v", n, mean, got, want)
			}
		}
	}
}

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
