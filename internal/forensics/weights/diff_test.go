package weights

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// baseModel is a small transformer-shaped model: eight matrices and two
// vectors.
func baseModel(rng *rand.Rand) []matrix {
	ms := []matrix{gaussian(rng, "embed", 0.02, 200, 64)}
	for _, l := range []string{"0", "1", "2"} {
		ms = append(ms,
			gaussian(rng, "layers."+l+".attn.w", 0.02, 64, 64),
			gaussian(rng, "layers."+l+".mlp.up", 0.02, 128, 64),
		)
	}
	ms = append(ms, gaussian(rng, "head", 0.02, 100, 64), gaussian(rng, "norm", 1, 64), gaussian(rng, "bias", 0.01, 128))
	return ms
}

func cloneModel(ms []matrix) []matrix {
	out := make([]matrix, len(ms))
	for i, m := range ms {
		out[i] = m.clone()
	}
	return out
}

// addRank adds Σ u_k·v_kᵀ (rank terms, scaled) to a 2-D matrix.
func addRank(rng *rand.Rand, m matrix, rank int, scale float64) {
	rows, cols := int(m.shape[0]), int(m.shape[1])
	for range rank {
		u, v := make([]float64, rows), make([]float64, cols)
		for i := range u {
			u[i] = rng.NormFloat64()
		}
		for j := range v {
			v[j] = rng.NormFloat64()
		}
		for i := range rows {
			for j := range cols {
				m.v[i*cols+j] += float32(scale * u[i] * v[j])
			}
		}
	}
}

func diffModels(t *testing.T, a, b []matrix) *DiffReport {
	t.Helper()
	dir := t.TempDir()
	rep, err := Diff(context.Background(), writeModel(t, dir, "a.safetensors", a), writeModel(t, dir, "b.safetensors", b))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestDiffIdentical(t *testing.T) {
	a := baseModel(rand.New(rand.NewPCG(1, 1)))
	rep := diffModels(t, a, cloneModel(a))
	if rep.Verdict != Identical || rep.Changed != 0 || len(rep.Tensors) != 0 || rep.Common != len(a) {
		t.Errorf("report = %+v", rep)
	}
}

func TestDiffRankOneEdit(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	a := baseModel(rng)
	b := cloneModel(a)
	addRank(rng, b[4], 1, 0.002) // layers.1.mlp.up, a ROME-style edit
	rep := diffModels(t, a, b)
	if rep.Verdict != TargetedEdit || rep.Changed != 1 || len(rep.Tensors) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	d := rep.Tensors[0]
	if d.Name != "layers.1.mlp.up" || d.Status != Changed || d.Spectrum == nil {
		t.Fatalf("diff = %+v", d)
	}
	if d.Spectrum.Top1 < 0.99 || !d.Spectrum.LowRank() {
		t.Errorf("spectrum = %+v, want rank one", d.Spectrum)
	}
	if d.ChangedElements != d.Elements || d.RelL2 <= 0 || d.Cosine >= 1 || d.Cosine < 0.5 || d.MaxAbs <= 0 {
		t.Errorf("diff = %+v", d)
	}
	t.Logf("%s: %s", rep.Verdict, rep.Reason)
}

func TestDiffGlobalNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a := baseModel(rng)
	b := cloneModel(a)
	for _, m := range b {
		for i := range m.v {
			m.v[i] += float32(rng.NormFloat64() * 0.001)
		}
	}
	rep := diffModels(t, a, b)
	if rep.Verdict != GlobalPerturbation || rep.Changed != len(a) {
		t.Fatalf("report = %+v", rep)
	}
	for _, d := range rep.Tensors {
		if d.Spectrum != nil && (d.Spectrum.Top1 > 0.2 || d.Spectrum.LowRank()) {
			t.Errorf("%s: spectrum %+v, want spread", d.Name, d.Spectrum)
		}
		if d.RelL2 > 0.2 {
			t.Errorf("%s: rel L2 %.3f, want small", d.Name, d.RelL2)
		}
	}
	t.Logf("%s: %s", rep.Verdict, rep.Reason)
}

func TestDiffMergedAdapter(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	a := baseModel(rng)
	b := cloneModel(a)
	for _, m := range b {
		if len(m.shape) == 2 {
			addRank(rng, m, 2, 0.001)
		}
	}
	rep := diffModels(t, a, b)
	if rep.Verdict != FineTune {
		t.Errorf("verdict %s (%s), want %s", rep.Verdict, rep.Reason, FineTune)
	}
}

func TestDiffMixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	a := baseModel(rng)
	b := cloneModel(a)
	// One full-rank change: a few tensors, but not the shape of an edit.
	for i := range b[2].v {
		b[2].v[i] += float32(rng.NormFloat64() * 0.01)
	}
	if rep := diffModels(t, a, b); rep.Verdict != Mixed {
		t.Errorf("full-rank change: verdict %s (%s), want %s", rep.Verdict, rep.Reason, Mixed)
	}
	// Structural changes.
	c := cloneModel(a[:len(a)-1])
	c[0].shape = []uint64{100, 128}
	c = append(c, gaussian(rng, "extra", 1, 4))
	rep := diffModels(t, a, c)
	if rep.Verdict != Mixed || rep.Added != 1 || rep.Removed != 1 || rep.Reshaped != 1 {
		t.Errorf("structural: %+v", rep)
	}
}

func TestDiffNonFinite(t *testing.T) {
	a := []matrix{{name: "v", shape: []uint64{4}, v: []float32{1, 2, 3, 0}}}
	b := []matrix{{name: "v", shape: []uint64{4}, v: []float32{1, 2, 3, float32(math.NaN())}}}
	rep := diffModels(t, a, b)
	if len(rep.Tensors) != 1 || rep.Tensors[0].NonFinite != 1 || rep.Tensors[0].ChangedElements != 1 || rep.Tensors[0].RelL2 != 0 {
		t.Errorf("report = %+v", rep)
	}
}
