package detect

import "math"

// Baseline is a robust running estimate of one measure of one entity (its
// requests per minute, say): an exponentially weighted mean and variance.
// Two things make it robust against the attacks it is meant to expose:
// once warm, each sample is clipped to Limit(Clip) before it is learned, so
// a burst raises the baseline by at most Clip spreads and cannot teach the
// detector that bursts are normal; and the spread has floors, so a caller
// whose traffic never varied does not alert on its first extra request.
//
// The zero value is an empty baseline. Parameters are passed in, not
// stored, so that a baseline costs 24 bytes per entity.
type Baseline struct {
	Mean, Var float64
	N         uint32 // samples learned (saturates)
}

// BaselineParams say how a Baseline learns and what counts as far from it.
type BaselineParams struct {
	Alpha float64 // weight of a new sample once warm, e.g. 0.1
	Warm  uint32  // samples before the baseline is trusted
	K     float64 // spreads above the mean that count as anomalous
	Clip  float64 // spreads above the mean a learned sample is clipped to
	// Floors on the spread: an absolute one, one relative to the mean, and
	// for counts the Poisson spread sqrt(mean).
	AbsFloor, RelFloor float64
	Poisson            bool
}

// Warm reports whether the baseline has learned enough samples to judge by.
func (b *Baseline) Warm(p BaselineParams) bool { return b.N >= p.Warm }

// Spread is the standard deviation, raised to its floors.
func (b *Baseline) Spread(p BaselineParams) float64 {
	s := max(math.Sqrt(max(b.Var, 0)), p.AbsFloor, p.RelFloor*math.Abs(b.Mean))
	if p.Poisson {
		s = max(s, math.Sqrt(max(b.Mean, 0)))
	}
	return s
}

// Limit is the value above which a sample is k spreads high.
func (b *Baseline) Limit(p BaselineParams, k float64) float64 {
	return b.Mean + k*b.Spread(p)
}

// Anomalous reports whether x is more than p.K spreads above a warm baseline.
func (b *Baseline) Anomalous(x float64, p BaselineParams) bool {
	return b.Warm(p) && x > b.Limit(p, p.K)
}

// Add learns one sample. Until the baseline is warm every sample weighs at
// least 1/n, so that the first samples are averaged rather than forgotten.
func (b *Baseline) Add(x float64, p BaselineParams) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return
	}
	if b.N == 0 {
		b.Mean, b.Var, b.N = x, 0, 1
		return
	}
	if x == 0 && b.Mean == 0 && b.Var == 0 {
		b.count(1) // a baseline of zeros learning a zero stays as it is
		return
	}
	// A warm baseline clips x to Limit(p, p.Clip), whose spread is at
	// least the floors: x at most the limit worked out with the floors
	// alone needs no clip, nor the spread's square root.
	if b.Warm(p) && p.Clip > 0 {
		if floor := max(p.AbsFloor, p.RelFloor*math.Abs(b.Mean)); !(x <= b.Mean+p.Clip*floor) {
			x = min(x, b.Limit(p, p.Clip))
		}
	}
	a := max(p.Alpha, 1/(float64(b.N)+1))
	d := x - b.Mean
	b.Mean += a * d
	b.Var = (1 - a) * (b.Var + a*d*d)
	b.count(1)
}

// count counts n samples learned, saturating.
func (b *Baseline) count(n int) {
	if uint64(b.N)+uint64(n) >= math.MaxUint32 {
		b.N = math.MaxUint32
	} else {
		b.N += uint32(n)
	}
}

// AddZeros learns n samples of zero: the idle periods between two busy
// ones. Once each sample weighs Alpha, n zeros have a closed form, so a long
// idle spell costs one power, not n updates: with r = 1 − Alpha, the mean
// becomes mean·rⁿ and the variance rⁿ·(var + mean²·(1 − rⁿ)).
func (b *Baseline) AddZeros(n int, p BaselineParams) {
	if n > 0 && b.N > 0 && b.Mean == 0 && b.Var == 0 {
		b.count(n) // zeros teach a baseline of zeros nothing but their number
		return
	}
	for n > 0 && (b.N == 0 || 1/(float64(b.N)+1) > p.Alpha) {
		b.Add(0, p)
		n--
	}
	if n <= 0 {
		return
	}
	rn := math.Pow(1-p.Alpha, float64(n))
	b.Var = rn * (b.Var + b.Mean*b.Mean*(1-rn))
	b.Mean *= rn
	b.count(n)
}
