package weights

import "math"

// moments accumulates count, mean and the second to fourth central moments
// in one pass (Welford's update extended to the fourth moment, after
// Terriberry), which stays accurate where sums of powers would cancel.
// Non-finite values are counted apart and kept out of the moments.
type moments struct {
	n                   uint64
	mean, m2, m3, m4    float64
	min, max            float64
	nan, posInf, negInf uint64
}

func (m *moments) add(x float64) {
	switch {
	case math.IsNaN(x):
		m.nan++
		return
	case math.IsInf(x, 1):
		m.posInf++
		return
	case math.IsInf(x, -1):
		m.negInf++
		return
	}
	if m.n == 0 {
		m.min, m.max = x, x
	}
	m.min = min(m.min, x)
	m.max = max(m.max, x)
	n1 := float64(m.n)
	m.n++
	n := float64(m.n)
	delta := x - m.mean
	dn := delta / n
	dn2 := dn * dn
	term1 := delta * dn * n1
	m.mean += dn
	m.m4 += term1*dn2*(n*n-3*n+3) + 6*dn2*m.m2 - 4*dn*m.m3
	m.m3 += term1*dn*(n-2) - 3*dn*m.m2
	m.m2 += term1
}

// std is the population standard deviation.
func (m *moments) std() float64 {
	if m.n == 0 {
		return 0
	}
	return math.Sqrt(m.m2 / float64(m.n))
}

// excessKurtosis is n·M4/M2² − 3: 0 for a normal distribution, large for
// heavy tails (outlier weights). It is 0 when undefined (fewer than two
// distinct values).
func (m *moments) excessKurtosis() float64 {
	if m.n < 2 || m.m2 == 0 {
		return 0
	}
	return float64(m.n)*m.m4/(m.m2*m.m2) - 3
}

// byteHistogram counts byte values.
type byteHistogram [256]uint64

// entropy is the Shannon entropy of the histogram in bits (0 to 8).
func (h *byteHistogram) entropy() float64 {
	var total uint64
	for _, c := range h {
		total += c
	}
	if total == 0 {
		return 0
	}
	var e float64
	for _, c := range h {
		if c > 0 {
			p := float64(c) / float64(total)
			e -= p * math.Log2(p)
		}
	}
	return max(e, 0) // -0 and rounding below zero
}
