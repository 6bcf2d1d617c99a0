package drift

import "math"

// smoothing is the pseudo-count added to every bin that either histogram
// uses before PSI is computed. PSI takes the logarithm of a ratio of
// proportions, which is infinite for a bin empty on one side; the usual
// remedy is a small epsilon, but a fixed epsilon such as 1e-4 makes one
// stray output in an empty bin worth as much as a real shift. Half a count
// (Jeffreys' prior) keeps a lone output in a new bin cheap, about 0.01 with
// the default windows, while a bin that really fills still counts in full.
// Bins empty on both sides are left out: they carry no information, and
// smoothing them would only add a bias that grows with the number of bins.
const smoothing = 0.5

// poolShare is the least share of the reference a bin must hold to be
// compared on its own. PSI is customarily computed over about ten bins
// cut at the reference's deciles, so that every bin is well filled; the
// features here have fixed bins (log2 lengths, categories), and bins the
// reference barely uses would make PSI mostly noise at these sample sizes.
// So before PSI, ordered bins (lengths) are merged with their neighbours
// until each holds at least poolShare of the reference, and categories
// below it are pooled into one "other". A shift into bins the reference
// never used still shows in full: their counts land in a neighbour's (or
// the "other") group, which the reference barely fills.
const poolShare = 0.05

// pool merges the bins of ref and cur as poolShare says, into the first
// bins of pr and pc, and returns how many groups it made.
func pool(ref, cur []uint32, ordered bool, pr, pc *[maxBins]uint32) int {
	var total uint64
	for _, c := range ref {
		total += uint64(c)
	}
	need := uint64(poolShare * float64(total))
	n := 0
	if !ordered {
		// Each well-filled category alone; the rest in the last group.
		var or, oc uint32
		for i := range ref {
			if uint64(ref[i]) >= need && ref[i] > 0 {
				pr[n], pc[n] = ref[i], cur[i]
				n++
			} else {
				or += ref[i]
				oc += cur[i]
			}
		}
		if or|oc != 0 {
			pr[n], pc[n] = or, oc
			n++
		}
		return n
	}
	var gr uint64
	var gc uint32
	open := false
	for i := range ref {
		gr += uint64(ref[i])
		gc += cur[i]
		open = true
		if gr >= need && gr > 0 {
			pr[n], pc[n] = uint32(gr), gc
			n++
			gr, gc, open = 0, 0, false
		}
	}
	if open && gr|uint64(gc) != 0 {
		if n > 0 { // too little for a group of its own: the last group takes it
			pr[n-1] += uint32(gr)
			pc[n-1] += gc
		} else {
			pr[n], pc[n] = uint32(gr), gc
			n++
		}
	}
	return n
}

// psi is the population stability index of cur against ref:
// Σ (c − r) · ln(c / r) over the bins, with c and r the smoothed
// proportions. It is zero for equal distributions and grows without bound;
// the customary reading is below 0.1 stable, 0.1 to 0.25 a moderate shift,
// 0.25 and above a significant one.
func psi(ref, cur []uint32) float64 {
	var nr, nc float64
	used := 0
	for i := range ref {
		if ref[i]|cur[i] != 0 {
			used++
			nr += float64(ref[i])
			nc += float64(cur[i])
		}
	}
	if nr == 0 || nc == 0 {
		return 0
	}
	dr, dc := nr+smoothing*float64(used), nc+smoothing*float64(used)
	s := 0.0
	for i := range ref {
		if ref[i]|cur[i] == 0 {
			continue
		}
		r := (float64(ref[i]) + smoothing) / dr
		c := (float64(cur[i]) + smoothing) / dc
		s += (c - r) * math.Log(c/r)
	}
	return max(s, 0)
}

// js is the Jensen–Shannon divergence of the two distributions, in bits, so
// in [0, 1]: the mean Kullback–Leibler divergence of each from their
// average. Unlike PSI it needs no smoothing (the average is never zero
// where either is not) and is bounded, so it stays readable for a shift
// into bins the reference never used.
func js(ref, cur []uint32) float64 {
	var nr, nc float64
	for i := range ref {
		nr += float64(ref[i])
		nc += float64(cur[i])
	}
	if nr == 0 || nc == 0 {
		return 0
	}
	s := 0.0
	for i := range ref {
		p, q := float64(ref[i])/nr, float64(cur[i])/nc
		m := (p + q) / 2
		if p > 0 {
			s += p * math.Log2(p/m)
		}
		if q > 0 {
			s += q * math.Log2(q/m)
		}
	}
	return min(max(s/2, 0), 1)
}
