package detect

import (
	"math"
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
