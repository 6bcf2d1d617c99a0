package weights

import (
	"encoding/binary"
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// dataDir is the shared data folder holding the safetensors samples.
func dataDir(t testing.TB) string { return testcorpus.Root(t, "models/safetensors") }

// matrix is a float32 tensor under construction.
type matrix struct {
	name  string
	shape []uint64
	v     []float32
}

func (m matrix) data() tensors.TensorData {
	b := make([]byte, 0, 4*len(m.v))
	for _, x := range m.v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return tensors.TensorData{Name: m.name, DType: tensors.F32, Shape: m.shape, Data: b}
}

func (m matrix) clone() matrix {
	return matrix{name: m.name, shape: m.shape, v: append([]float32(nil), m.v...)}
}

func gaussian(rng *rand.Rand, name string, scale float64, shape ...uint64) matrix {
	n := uint64(1)
	for _, d := range shape {
		n *= d
	}
	m := matrix{name: name, shape: shape, v: make([]float32, n)}
	for i := range m.v {
		m.v[i] = float32(rng.NormFloat64() * scale)
	}
	return m
}

// writeModel writes ms as a safetensors file in dir and returns its path.
func writeModel(t testing.TB, dir, name string, ms []matrix) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts := make([]tensors.TensorData, len(ms))
	for i, m := range ms {
		ts[i] = m.data()
	}
	if err := tensors.WriteSafetensors(f, map[string]string{"format": "pt"}, ts); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeRaw writes one tensor of any dtype from its encoded bytes.
func writeRaw(t testing.TB, dir, name string, ts ...tensors.TensorData) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tensors.WriteSafetensors(f, nil, ts); err != nil {
		t.Fatal(err)
	}
	return path
}

func u16s(vs ...uint16) []byte {
	b := make([]byte, 0, 2*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
