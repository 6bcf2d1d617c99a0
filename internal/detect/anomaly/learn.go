package anomaly

import (
	"math"

	"github.com/airlock-ir/airlock/internal/detect"
)

// learn teaches b one closed bucket's value v and then gap idle buckets:
// b.Add(v, p) followed by b.AddZeros(gap, p), bit for bit
// (TestLearnMatchesBaseline), but cheaper where it matters. Most callers
// are seen now and then, so nearly every event of theirs closes a bucket,
// and a young baseline learns each idle bucket as its own zero, with a
// square root per zero for the clip. A zero needs no clip (it is below
// every limit, the mean being never negative), nor does a value below the
// limit's floors; a baseline that has only learned zeros stays at zero and
// only counts them; and the closed form's power comes from zeroDecay,
// which holds math.Pow's own results.
func learn(b *detect.Baseline, v float64, gap int, p *detect.BaselineParams) {
	if v != 0 || b.N == 0 {
		add(b, v, p)
	} else {
		addZero(b, p)
	}
	if gap > 0 {
		addZeros(b, gap, p)
	}
}

// add is b.Add(x, p). A warm baseline clips x to Limit(p, p.Clip), whose
// spread is at least its floors; x at most the limit worked out with the
// floors alone is not clipped, and the spread's square root is not needed.
func add(b *detect.Baseline, x float64, p *detect.BaselineParams) {
	if b.N == 0 || math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(b.Mean) || math.IsNaN(b.Var) {
		b.Add(x, *p)
		return
	}
	if b.Warm(*p) && p.Clip > 0 {
		if floor := max(p.AbsFloor, p.RelFloor*math.Abs(b.Mean)); !(x <= b.Mean+p.Clip*floor) {
			x = min(x, b.Limit(*p, p.Clip))
		}
	}
	a := max(p.Alpha, 1/(float64(b.N)+1))
	d := x - b.Mean
	b.Mean += a * d
	b.Var = (1 - a) * (b.Var + a*d*d)
	countZeros(b, 1)
}

// addZero is b.Add(0, p) for a baseline with N > 0.
func addZero(b *detect.Baseline, p *detect.BaselineParams) {
	if b.Mean < 0 || math.IsNaN(b.Mean) || math.IsInf(b.Mean, 0) {
		b.Add(0, *p) // never so, as samples are not negative; but then the clip would matter
		return
	}
	if b.Mean == 0 && b.Var == 0 {
		countZeros(b, 1)
		return
	}
	a := max(p.Alpha, 1/(float64(b.N)+1))
	d := 0 - b.Mean
	b.Mean += a * d
	b.Var = (1 - a) * (b.Var + a*d*d)
	countZeros(b, 1)
}

// addZeros is b.AddZeros(n, p).
func addZeros(b *detect.Baseline, n int, p *detect.BaselineParams) {
	if b.N > 0 && b.Mean == 0 && b.Var == 0 {
		countZeros(b, n)
		return
	}
	for n > 0 && (b.N == 0 || 1/(float64(b.N)+1) > p.Alpha) {
		if b.N == 0 {
			b.Add(0, *p)
		} else {
			addZero(b, p)
		}
		n--
	}
	if n <= 0 {
		return
	}
	rn := decay(p.Alpha, n)
	b.Var = rn * (b.Var + b.Mean*b.Mean*(1-rn))
	b.Mean *= rn
	countZeros(b, n)
}

// countZeros counts n samples learned (zeros or not), saturating as
// Baseline does.
func countZeros(b *detect.Baseline, n int) {
	if uint64(b.N)+uint64(n) >= math.MaxUint32 {
		b.N = math.MaxUint32
	} else {
		b.N += uint32(n)
	}
}

// decayAlpha is the learning rate of every baseline the detector keeps;
// zeroDecay[n] is math.Pow(1-decayAlpha, n).
const decayAlpha = 0.05

var zeroDecay = func() (t [256]float64) {
	alpha := float64(decayAlpha) // rounded as a BaselineParams field holds it
	for n := range t {
		t[n] = math.Pow(1-alpha, float64(n))
	}
	return t
}()

// decay is (1 − alpha)ⁿ as Baseline.AddZeros computes it.
func decay(alpha float64, n int) float64 {
	if alpha == decayAlpha && n < len(zeroDecay) {
		return zeroDecay[n]
	}
	return math.Pow(1-alpha, float64(n))
}
