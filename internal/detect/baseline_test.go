package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBaseline(t *testing.T) {
	p := BaselineParams{Alpha: 0.1, Warm: 5, K: 4, Clip: 3, AbsFloor: 1, RelFloor: 0.1, Poisson: true}
	var b Baseline
	for range 50 {
		b.Add(100, p)
	}
	if math.Abs(b.Mean-100) > 1e-9 || b.Spread(p) != 10 {
		t.Errorf("mean %v spread %v: a constant series has the floor as spread", b.Mean, b.Spread(p))
	}
	if b.Anomalous(130, p) || !b.Anomalous(150, p) {
		t.Error("limit should be mean + 4 spreads = 140")
	}
	// A huge outlier moves the mean by at most Clip spreads times alpha.
	b.Add(1e9, p)
	if b.Mean > 100+0.1*30+1e-9 {
		t.Errorf("mean %v after an outlier: it was not clipped", b.Mean)
	}
	// Idle periods decay it.
	b.AddZeros(1000, p)
	if b.Mean > 1 || b.N < 1000 {
		t.Errorf("mean %v n %d after 1000 idle periods", b.Mean, b.N)
	}
	// The closed form agrees with learning the zeros one by one.
	one, many := Baseline{Mean: 50, Var: 40, N: 100}, Baseline{Mean: 50, Var: 40, N: 100}
	for range 37 {
		one.Add(0, p)
	}
	many.AddZeros(37, p)
	if math.Abs(one.Mean-many.Mean) > 1e-9 || math.Abs(one.Var-many.Var) > 1e-9 || one.N != many.N {
		t.Errorf("one by one %+v, closed form %+v", one, many)
	}
	var cold Baseline
	if cold.Anomalous(1e9, p) {
		t.Error("a cold baseline judges nothing")
	}
	cold.Add(math.NaN(), p)
	if cold.N != 0 {
		t.Error("NaN learned")
	}
}

// TestBaselineAtMaxCount: a baseline whose count has saturated keeps
// learning with weight Alpha; 1/(N+1) must not wrap to a division by zero.
func TestBaselineAtMaxCount(t *testing.T) {
	p := BaselineParams{Alpha: 0.05, Warm: 10, K: 4}
	b := Baseline{Mean: 10, Var: 4, N: math.MaxUint32}
	b.Add(12, p)
	if math.IsNaN(b.Mean) || math.IsNaN(b.Var) || math.Abs(b.Mean-10.1) > 1e-9 || b.N != math.MaxUint32 {
		t.Fatalf("after Add: %+v", b)
	}
	b.AddZeros(3, p)
	if math.IsNaN(b.Mean) || b.Mean <= 0 || b.Mean >= 10.1 || b.N != math.MaxUint32 {
		t.Fatalf("after AddZeros: %+v", b)
	}
}

// referenceBaseline is Baseline as first written: Add clips every sample
// of a warm baseline, AddZeros learns zeros one by one until the closed
// form applies. Baseline's shortcuts must leave the same bits.
type referenceBaseline struct{ Baseline }

func (b *referenceBaseline) add(x float64, p BaselineParams) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	if b.N == 0 {
		b.Mean, b.Var, b.N = x, 0, 1
		return
	}
	if b.Warm(p) && p.Clip > 0 {
		x = min(x, b.Limit(p, p.Clip))
	}
	a := max(p.Alpha, 1/(float64(b.N)+1))
	d := x - b.Mean
	b.Mean += a * d
	b.Var = (1 - a) * (b.Var + a*d*d)
	if b.N < math.MaxUint32 {
		b.N++
	}
}

func (b *referenceBaseline) addZeros(n int, p BaselineParams) {
	for n > 0 && (b.N == 0 || 1/(float64(b.N)+1) > p.Alpha) {
		b.add(0, p)
		n--
	}
	if n <= 0 {
		return
	}
	rn := math.Pow(1-p.Alpha, float64(n))
	b.Var = rn * (b.Var + b.Mean*b.Mean*(1-rn))
	b.Mean *= rn
	if uint64(b.N)+uint64(n) >= math.MaxUint32 {
		b.N = math.MaxUint32
	} else {
		b.N += uint32(n)
	}
}

// TestBaselineMatchesReference: Add and AddZeros leave a baseline bit for
// bit as the reference does, for the anomaly detector's parameters and
// others, with values mostly zero (errors, refusals), small counts and
// large ones, spikes that are clipped, and idle spells short and long.
func TestBaselineMatchesReference(t *testing.T) {
	count := BaselineParams{Alpha: 0.05, Warm: 10, K: 4, Clip: 3, AbsFloor: 1, RelFloor: 0.25, Poisson: true}
	params := []BaselineParams{
		count,
		{Alpha: 0.05, Warm: 10, K: 4, Clip: 3, AbsFloor: 100, RelFloor: 0.25},
		{Alpha: 0.05, Warm: 10, K: 4, Clip: 3, AbsFloor: 5, RelFloor: 0.2},
		{Alpha: 0.2, Warm: 3, K: 4, Clip: 2, AbsFloor: 0.5, RelFloor: 0.1, Poisson: true},
		{Alpha: 0.01, Warm: 50, K: 6},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	same := func(a Baseline, b referenceBaseline) bool {
		return math.Float64bits(a.Mean) == math.Float64bits(b.Mean) && math.Float64bits(a.Var) == math.Float64bits(b.Var) && a.N == b.N
	}
	for pi, p := range params {
		for trial := range 200 {
			var got Baseline
			var want referenceBaseline
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
					gap = 1 << 20 // the longest idle spell the anomaly detector passes
				}
				before := got
				got.Add(v, p)
				got.AddZeros(gap, p)
				want.add(v, p)
				want.addZeros(gap, p)
				if !same(got, want) {
					t.Fatalf("params %d trial %d step %d: %+v with %v and %d zeros = %+v, want %+v", pi, trial, step, before, v, gap, got, want.Baseline)
				}
			}
		}
	}
	// Near and at saturation the count stops where the reference's does.
	for _, n := range []uint32{math.MaxUint32 - 3, math.MaxUint32 - 2, math.MaxUint32} {
		for _, mean := range []float64{0, 2} {
			got := Baseline{Mean: mean, N: n}
			want := referenceBaseline{got}
			got.Add(0, count)
			got.AddZeros(5, count)
			want.add(0, count)
			want.addZeros(5, count)
			if !same(got, want) {
				t.Errorf("N %d mean %v: %+v, want %+v", n, mean, got, want.Baseline)
			}
		}
	}
}
