package extraction

import "math"

// PRADA (Juuti et al., 2019) detects model extraction from the distances
// between a client's successive queries: each new query's distance to the
// nearest earlier one. Natural queries give a spread, roughly bell-shaped
// distribution of those distances; a synthetic attack (a template with
// slots filled in, or perturbations of seed inputs) gives one that is
// bunched up or shifted. PRADA tests the distribution for normality with
// Shapiro–Wilk; here the distance is the Hamming distance between SimHashes,
// which is discrete and bounded (0–64), so the test is the two-sample
// Kolmogorov–Smirnov test of the caller's distances against everyone's:
//
//	D = max over d of |F_caller(d) − F_all(d)|
//
// flagged when D exceeds both the critical value at α = 0.001,
// 1.95·sqrt((n+m)/(n·m)), and a minimum effect size (Config.PradaD), with n
// the caller's samples and m everyone's. The distances are kept in
// distanceBins bins of binWidth bits.

const (
	binWidth     = 4
	distanceBins = 64/binWidth + 1
	ksAlpha001   = 1.95
	// After this many samples a caller's histogram is halved, so that it
	// follows the caller's recent behaviour and its counts stay small.
	pradaDecay = 1024
	// The reference decays the same way, on a longer scale.
	referenceDecay = 1 << 20
)

type distanceHist struct {
	bins [distanceBins]uint16
	n    uint16
}

func (h *distanceHist) add(d int) {
	h.bins[d/binWidth]++
	h.n++
	if h.n >= pradaDecay {
		h.n = 0
		for i := range h.bins {
			h.bins[i] /= 2
			h.n += h.bins[i]
		}
	}
}

// reference is the distance distribution of all callers.
type reference struct {
	bins [distanceBins]float64
	n    float64
}

func (r *reference) add(d int) {
	r.bins[d/binWidth]++
	r.n++
	if r.n >= referenceDecay {
		r.n /= 2
		for i := range r.bins {
			r.bins[i] /= 2
		}
	}
}

// ks returns the Kolmogorov–Smirnov statistic of h against r and the
// critical value at α = 0.001.
func ks(h *distanceHist, r *reference) (d, critical float64) {
	n := float64(h.n)
	if n == 0 || r.n == 0 {
		return 0, 1
	}
	var fc, fr float64
	for i := range h.bins {
		fc += float64(h.bins[i]) / n
		fr += r.bins[i] / r.n
		d = max(d, math.Abs(fc-fr))
	}
	return d, ksAlpha001 * math.Sqrt((n+r.n)/(n*r.n))
}

// mean distance of a histogram, for the alert's summary.
func (h *distanceHist) mean() float64 {
	if h.n == 0 {
		return 0
	}
	s := 0.0
	for i, c := range h.bins {
		s += float64(c) * (float64(i)*binWidth + binWidth/2.0)
	}
	return s / float64(h.n)
}

func (r *reference) mean() float64 {
	if r.n == 0 {
		return 0
	}
	s := 0.0
	for i, c := range r.bins {
		s += c * (float64(i)*binWidth + binWidth/2.0)
	}
	return s / r.n
}
