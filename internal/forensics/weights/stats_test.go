package weights

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

func TestStatsKnownValues(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	dir := t.TempDir()
	path := writeModel(t, dir, "m.safetensors", []matrix{
		{name: "x", shape: []uint64{7}, v: []float32{1, 2, 3, 4, nan, inf, -inf}},
		{name: "const", shape: []uint64{3}, v: []float32{5, 5, 5}},
		{name: "none", shape: []uint64{2}, v: []float32{nan, nan}},
	})
	fs, err := Stats(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Format != tensors.FormatSafetensors || len(fs.Tensors) != 3 {
		t.Fatalf("stats = %+v", fs)
	}
	x := fs.Tensors[0]
	// 1..4: mean 2.5, variance 1.25, fourth moment 2.5625, kurtosis 2.5625/1.25² − 3.
	if !x.Measured || x.Count != 7 || x.Mean != 2.5 || !near(x.Std, math.Sqrt(1.25), 1e-12) ||
		x.Min != 1 || x.Max != 4 || !near(x.Kurtosis, -1.36, 1e-12) || x.NaN != 1 || x.PosInf != 1 || x.NegInf != 1 {
		t.Errorf("x = %+v", x)
	}
	if c := fs.Tensors[1]; c.Mean != 5 || c.Std != 0 || c.Kurtosis != 0 || c.LowByteEntropy != 0 {
		t.Errorf("const = %+v", c)
	}
	if n := fs.Tensors[2]; n.NaN != 2 || n.Mean != 0 || n.Std != 0 {
		t.Errorf("none = %+v", n)
	}
	// Undefined statistics are 0, never NaN: the report must encode.
	if _, err := json.Marshal(fs); err != nil {
		t.Fatal(err)
	}
}

func TestStatsHalfPrecision(t *testing.T) {
	dir := t.TempDir()
	path := writeRaw(t, dir, "h.safetensors",
		// 2^-24 (smallest subnormal), 1, +Inf, NaN, -2^-14 (smallest normal), 0x03ff (largest subnormal)
		tensors.TensorData{Name: "f16", DType: tensors.F16, Shape: []uint64{6}, Data: u16s(0x0001, 0x3c00, 0x7c00, 0x7e00, 0x8400, 0x03ff)},
		// 1, 2, 2^-133 (subnormal), -Inf, NaN
		tensors.TensorData{Name: "bf16", DType: tensors.BF16, Shape: []uint64{5}, Data: u16s(0x3f80, 0x4000, 0x0001, 0xff80, 0x7fc1)},
	)
	fs, err := Stats(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	h := fs.Tensors[0]
	finite := []float64{math.Ldexp(1, -24), 1, -math.Ldexp(1, -14), math.Ldexp(1023, -24)}
	mean := (finite[0] + finite[1] + finite[2] + finite[3]) / 4
	if !near(h.Mean, mean, 1e-15) || h.Min != -math.Ldexp(1, -14) || h.Max != 1 || h.PosInf != 1 || h.NaN != 1 {
		t.Errorf("f16 = %+v, want mean %g", h, mean)
	}
	b := fs.Tensors[1]
	if !near(b.Mean, (3+math.Ldexp(1, -133))/3, 1e-15) || b.Min != math.Ldexp(1, -133) || b.Max != 2 || b.NegInf != 1 || b.NaN != 1 {
		t.Errorf("bf16 = %+v", b)
	}
}

func TestStatsDistribution(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	normal := gaussian(rng, "normal", 0.02, 256, 256)
	// The same values upcast from bfloat16: the low 16 bits are zero.
	upcast := normal.clone()
	upcast.name = "upcast"
	for i, v := range upcast.v {
		upcast.v[i] = math.Float32frombits(math.Float32bits(v) &^ 0xffff)
	}
	// Text written into the low byte of each weight.
	stego := normal.clone()
	stego.name = "stego"
	msg := []byte("exfiltrate the system prompt to attacker.example; ")
	for i, v := range stego.v {
		stego.v[i] = math.Float32frombits(math.Float32bits(v)&^0xff | uint32(msg[i%len(msg)]))
	}
	// Heavy tails: a few huge outliers.
	tails := normal.clone()
	tails.name = "tails"
	for i := 0; i < len(tails.v); i += 1000 {
		tails.v[i] = 5
	}
	path := writeModel(t, t.TempDir(), "d.safetensors", []matrix{normal, upcast, stego, tails})
	fs, err := Stats(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]TensorStats{}
	for _, s := range fs.Tensors {
		byName[s.Name] = s
	}
	n := byName["normal"]
	if !near(n.Mean, 0, 0.001) || !near(n.Std, 0.02, 0.001) || !near(n.Kurtosis, 0, 0.1) {
		t.Errorf("normal = %+v", n)
	}
	if n.LowByteEntropy < 7.9 {
		t.Errorf("normal low-byte entropy %.3f, want about 8", n.LowByteEntropy)
	}
	if e := byName["upcast"].LowByteEntropy; e != 0 {
		t.Errorf("upcast low-byte entropy %.3f, want 0", e)
	}
	if e := byName["stego"].LowByteEntropy; e > 5 {
		t.Errorf("stego low-byte entropy %.3f, want well below 8", e)
	}
	if k := byName["tails"].Kurtosis; k < 100 {
		t.Errorf("tails kurtosis %.1f, want large", k)
	}
}

func TestStatsGGUF(t *testing.T) {
	var buf bytes.Buffer
	err := tensors.WriteGGUF(&buf, nil, []tensors.TensorData{
		{Name: "w", DType: tensors.F32, Shape: []uint64{2, 2}, Data: matrix{v: []float32{1, -1, 1, -1}}.data().Data},
		{Name: "q", DType: "Q8_0", Shape: []uint64{64}, Data: make([]byte, 68)},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := Stats(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Format != tensors.FormatGGUF || len(fs.Tensors) != 2 {
		t.Fatalf("stats = %+v", fs)
	}
	for _, s := range fs.Tensors {
		switch s.Name {
		case "w":
			if !s.Measured || s.Mean != 0 || s.Std != 1 {
				t.Errorf("w = %+v", s)
			}
		case "q":
			if s.Measured || s.Count != 64 || s.Bytes != 68 {
				t.Errorf("q = %+v", s)
			}
		}
	}
}

func TestStatsRefusesHostileFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(path, []byte("\xff\xff\xff\xff\xff\xff\xff\x7f{}"), 0o600)
	if _, err := Stats(context.Background(), path); err == nil {
		t.Fatal("no error for a header length past the end")
	}
}

func TestStatsCorpus(t *testing.T) {
	dir := filepath.Join(dataDir(t), "models", "safetensors", "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fs, err := Stats(context.Background(), filepath.Join(dir, e.Name()))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		for _, s := range fs.Tensors {
			if !s.Measured || s.Count != 6 {
				t.Errorf("%s/%s: %+v", e.Name(), s.Name, s)
			}
			// Signed and float samples hold -3..2.
			if s.DType != tensors.U8 && s.DType != tensors.U16 && s.DType != tensors.U32 && (s.Mean != -0.5 || s.Min != -3 || s.Max != 2) {
				t.Errorf("%s/%s: mean %g min %g max %g", e.Name(), s.Name, s.Mean, s.Min, s.Max)
			}
		}
	}
}
