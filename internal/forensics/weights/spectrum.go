package weights

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Spectrum says how concentrated a matrix delta is: the share of its
// energy (squared Frobenius norm) held by its leading singular values. A
// rank-one edit u·vᵀ has Top1 = 1; noise or a full fine-tune spreads its
// energy over many directions and has Top1 near (√rows+√cols)²/(rows·cols)
// for Gaussian noise, a few percent for real layer sizes.
type Spectrum struct {
	Rows int `json:"rows"`
	Cols int `json:"cols"`
	// Sigma holds the leading singular values, largest first (up to 4).
	Sigma []float64 `json:"sigma"`
	Top1  float64   `json:"top1_energy"` // σ1² / ‖Δ‖F²
	Top4  float64   `json:"top4_energy"` // (σ1²+…+σ4²) / ‖Δ‖F²
}

// LowRankEnergy is the share of a delta's energy that its top singular
// value (or, for matrices at least lowRankMinDim on each side, its top four)
// must hold for the delta to count as low-rank.
const LowRankEnergy = 0.9

// lowRankMinDim: below it even noise piles its energy into four
// directions, so only the top-1 share is trusted there.
const lowRankMinDim = 64

// LowRank reports whether the delta is concentrated in at most four
// directions (see LowRankEnergy).
func (s *Spectrum) LowRank() bool {
	return s.Top1 >= LowRankEnergy || s.Top4 >= LowRankEnergy && min(s.Rows, s.Cols) >= lowRankMinDim
}

// Subspace iteration parameters: the subspace is a little wider than the
// four values reported (oversampling sharpens the fourth) and two power
// iterations separate singular values whose gaps are small (Halko,
// Martinsson and Tropp find one or two enough in practice).
const (
	spectrumRank   = 4
	spectrumWidth  = spectrumRank + 4
	spectrumPowers = 2
)

// block is one row of a rows×spectrumWidth matrix.
type block = [spectrumWidth]float64

// spectrumOf estimates the leading singular values of the rows×cols
// row-major matrix d by randomized subspace iteration (Halko, Martinsson
// and Tropp 2011): project onto a random subspace, sharpen it with power
// iterations, then take the exact spectrum of the small projected matrix.
// energy is ‖d‖F², computed by the caller while loading d. The random
// start is seeded, so the result is reproducible.
func spectrumOf(d []float32, rows, cols int, energy float64) *Spectrum {
	s := &Spectrum{Rows: rows, Cols: cols}
	if energy == 0 || rows == 0 || cols == 0 {
		return s
	}
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]block, cols)
	for i := range z {
		for j := range z[i] {
			z[i][j] = rng.NormFloat64()
		}
	}
	y := make([]block, rows)
	mulInto(y, d, z, cols)
	orthonormalize(y)
	for range spectrumPowers {
		mulTransposeInto(z, d, y, cols)
		orthonormalize(z)
		mulInto(y, d, z, cols)
		orthonormalize(y)
	}
	// With Q = y orthonormal, B = Qᵀd; the eigenvalues of B·Bᵀ = (dᵀQ)ᵀ(dᵀQ)
	// are the squared singular values of B, which approximate d's leading
	// ones. Columns of Q that orthonormalize zeroed (d has lower rank than
	// the subspace) contribute zero eigenvalues.
	mulTransposeInto(z, d, y, cols)
	const l = spectrumWidth
	g := make([]float64, l*l)
	for _, row := range z {
		for i := range l {
			for j := range l {
				g[i*l+j] += row[i] * row[j]
			}
		}
	}
	eig := jacobiEigenvalues(g, l)
	slices.SortFunc(eig, func(a, b float64) int { return cmp.Compare(b, a) })
	var cum float64
	for i, e := range eig[:spectrumRank] {
		if e <= energy*1e-12 {
			break // numerically zero: the matrix has no more directions
		}
		cum += e
		s.Sigma = append(s.Sigma, math.Sqrt(e))
		if i == 0 {
			s.Top1 = min(e/energy, 1)
		}
	}
	s.Top4 = min(cum/energy, 1)
	return s
}

// mulInto sets y (rows×w) = d (rows×cols) · z (cols×w).
func mulInto(y []block, d []float32, z []block, cols int) {
	for i := range y {
		var acc block
		for k, v := range d[i*cols : i*cols+cols] {
			if v == 0 {
				continue
			}
			f, zk := float64(v), &z[k]
			for j := range acc {
				acc[j] += f * zk[j]
			}
		}
		y[i] = acc
	}
}

// mulTransposeInto sets z (cols×w) = dᵀ · y (rows×w).
func mulTransposeInto(z []block, d []float32, y []block, cols int) {
	clear(z)
	for i := range y {
		yi := &y[i]
		for k, v := range d[i*cols : i*cols+cols] {
			if v == 0 {
				continue
			}
			f, zk := float64(v), &z[k]
			for j := range zk {
				zk[j] += f * yi[j]
			}
		}
	}
}

// orthonormalize makes the columns of a orthonormal by modified
// Gram–Schmidt, run twice for stability. A column that depends on the
// previous ones (the matrix has lower rank than the subspace, or fewer
// rows) becomes zero.
func orthonormalize(a []block) {
	for range 2 {
		for j := range spectrumWidth {
			before := columnNorm(a, j)
			for p := range j {
				var dot float64
				for i := range a {
					dot += a[i][j] * a[i][p]
				}
				for i := range a {
					a[i][j] -= dot * a[i][p]
				}
			}
			// What is left of a dependent column is rounding error, small
			// relative to the column it was.
			scale := 0.0
			if after := columnNorm(a, j); after > 1e-10*before {
				scale = 1 / after
			}
			for i := range a {
				a[i][j] *= scale
			}
		}
	}
}

func columnNorm(a []block, j int) float64 {
	var sum float64
	for i := range a {
		sum += a[i][j] * a[i][j]
	}
	return math.Sqrt(sum)
}

// jacobiEigenvalues returns the eigenvalues of the symmetric n×n matrix a
// (destroyed) by cyclic Jacobi rotations; n is at most spectrumWidth.
func jacobiEigenvalues(a []float64, n int) []float64 {
	for sweep := 0; sweep < 100; sweep++ {
		var off, diag float64
		for i := range n {
			diag += a[i*n+i] * a[i*n+i]
			for j := i + 1; j < n; j++ {
				off += a[i*n+j] * a[i*n+j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := range n {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				if apq == 0 {
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n { // rotate columns p and q
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p] = c*akp - s*akq
					a[k*n+q] = s*akp + c*akq
				}
				for k := range n { // rotate rows p and q
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k] = c*apk - s*aqk
					a[q*n+k] = s*apk + c*aqk
				}
			}
		}
	}
	eig := make([]float64, n)
	for i := range n {
		eig[i] = a[i*n+i]
	}
	return eig
}
