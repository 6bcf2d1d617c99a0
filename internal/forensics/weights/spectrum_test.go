package weights

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkSpectrum1024(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 1024
	d := make([]float32, n*n)
	var energy float64
	for i := range d {
		d[i] = float32(rng.NormFloat64())
		energy += float64(d[i]) * float64(d[i])
	}
	for b.Loop() {
		spectrumOf(d, n, n, energy)
	}
}

func TestSpectrumKnownSingularValues(t *testing.T) {
	// d = Σ σ_k e_{p(k)} e_{q(k)}ᵀ on distinct rows and columns: its
	// singular values are exactly σ.
	rows, cols := 70, 90
	sigma := []float64{5, 3, 2, 1, 0.5}
	d := make([]float32, rows*cols)
	var energy float64
	for k, s := range sigma {
		d[(3*k+1)*cols+(7*k+2)] = float32(s)
		energy += s * s
	}
	sp := spectrumOf(d, rows, cols, energy)
	for k, want := range sigma[:4] {
		if !near(sp.Sigma[k], want, 1e-6) {
			t.Errorf("σ%d = %g, want %g", k+1, sp.Sigma[k], want)
		}
	}
	if !near(sp.Top1, 25/energy, 1e-9) || !near(sp.Top4, 39/energy, 1e-9) {
		t.Errorf("top1 %g top4 %g", sp.Top1, sp.Top4)
	}
}

func TestJacobiEigenvalues(t *testing.T) {
	// [[2,1],[1,2]] has eigenvalues 1 and 3.
	eig := jacobiEigenvalues([]float64{2, 1, 1, 2}, 2)
	lo, hi := min(eig[0], eig[1]), max(eig[0], eig[1])
	if !near(lo, 1, 1e-12) || !near(hi, 3, 1e-12) {
		t.Errorf("eigenvalues %v", eig)
	}
}

func TestSpectrumTinyRankOne(t *testing.T) {
	// A rank-one delta far below 1 in magnitude is still rank one: the
	// tests of dependence are relative.
	rng := rand.New(rand.NewPCG(8, 8))
	rows, cols := 50, 40
	d := make([]float32, rows*cols)
	var energy float64
	u, v := make([]float64, rows), make([]float64, cols)
	for i := range u {
		u[i] = rng.NormFloat64() * 1e-6
	}
	for j := range v {
		v[j] = rng.NormFloat64() * 1e-6
	}
	for i := range rows {
		for j := range cols {
			d[i*cols+j] = float32(u[i] * v[j])
			energy += float64(d[i*cols+j]) * float64(d[i*cols+j])
		}
	}
	sp := spectrumOf(d, rows, cols, energy)
	if sp.Top1 < 0.999 || len(sp.Sigma) != 1 {
		t.Errorf("spectrum = %+v, want rank one", sp)
	}
}
