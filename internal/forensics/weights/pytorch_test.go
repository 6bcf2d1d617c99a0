package weights

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/forensics/scan"
	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// torchEntry is one tensor of a PyTorch checkpoint fixture: a view of its
// own storage, whose bytes are data.
type torchEntry struct {
	name   string
	dtype  tensors.DType // F32, F16, BF16 or F64
	shape  []uint64
	stride []uint64 // nil: row-major
	data   []byte
}

var torchStorageNames = map[tensors.DType]string{
	tensors.F32: "FloatStorage", tensors.F16: "HalfStorage", tensors.BF16: "BFloat16Storage", tensors.F64: "DoubleStorage",
}

// torchPickle writes, opcode by opcode, the data.pkl that torch.save (protocol
// 2) writes for an OrderedDict state dict of the entries.
func torchPickle(entries []torchEntry) []byte {
	var p []byte
	str := func(s string) {
		p = append(p, 'X')
		p = binary.LittleEndian.AppendUint32(p, uint32(len(s)))
		p = append(p, s...)
	}
	integer := func(n uint64) {
		p = append(p, 'J')
		p = binary.LittleEndian.AppendUint32(p, uint32(n))
	}
	ints := func(ns []uint64) {
		p = append(p, '(')
		for _, n := range ns {
			integer(n)
		}
		p = append(p, 't')
	}
	global := func(module, name string) { p = append(p, "c"+module+"\n"+name+"\n"...) }

	p = append(p, 0x80, 2)
	global("collections", "OrderedDict")
	p = append(p, ')', 'R', '(') // OrderedDict(), MARK
	for i, e := range entries {
		str(e.name)
		global("torch._utils", "_rebuild_tensor_v2")
		p = append(p, '(', '(') // MARK for the arguments, MARK for the persistent id
		str("storage")
		global("torch", torchStorageNames[e.dtype])
		str(strconv.Itoa(i))
		str("cpu")
		integer(uint64(len(e.data) / (e.dtype.Bits() / 8)))
		p = append(p, 't', 'Q') // TUPLE, BINPERSID
		integer(0)              // storage offset
		ints(e.shape)
		stride := e.stride
		if stride == nil {
			stride = make([]uint64, len(e.shape))
			n := uint64(1)
			for j := len(e.shape) - 1; j >= 0; j-- {
				stride[j] = n
				n *= e.shape[j]
			}
		}
		ints(stride)
		p = append(p, 0x89) // NEWFALSE: requires_grad
		global("collections", "OrderedDict")
		p = append(p, ')', 'R') // backward_hooks
		p = append(p, 't', 'R') // TUPLE, REDUCE
	}
	return append(p, 'u', '.') // SETITEMS, STOP
}

// torchZip lays out a checkpoint the way torch.save does: archive/data.pkl,
// byteorder, one record per storage, version. method applies to the
// storage records; byteorder "" leaves that record out.
func torchZip(t testing.TB, pkl []byte, storages [][]byte, method uint16, byteorder string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte, method uint16) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("data.pkl", pkl, zip.Store)
	if byteorder != "" {
		add("byteorder", []byte(byteorder), zip.Store)
	}
	for i, s := range storages {
		add("data/"+strconv.Itoa(i), s, method)
	}
	add("version", []byte("3\n"), zip.Store)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTorch(t testing.TB, dir, name string, entries []torchEntry, method uint16) string {
	t.Helper()
	storages := make([][]byte, len(entries))
	for i, e := range entries {
		storages[i] = e.data
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, torchZip(t, torchPickle(entries), storages, method, "little"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func torchMatrices(ms []matrix) []torchEntry {
	out := make([]torchEntry, len(ms))
	for i, m := range ms {
		out[i] = torchEntry{name: m.name, dtype: tensors.F32, shape: m.shape, data: m.data().Data}
	}
	return out
}

func TestStatsPyTorchZip(t *testing.T) {
	entries := []torchEntry{
		{name: "layer.weight", dtype: tensors.F32, shape: []uint64{2, 3}, data: matrix{v: []float32{1, 2, 3, 4, 5, 6}}.data().Data},
		{name: "layer.bias", dtype: tensors.F16, shape: []uint64{4}, data: u16s(0x3800, 0xbc00, 0x4000, 0x4400)}, // 0.5 -1 2 4
		{name: "norm", dtype: tensors.BF16, shape: []uint64{2}, data: u16s(0x3fc0, 0xc000)},                      // 1.5 -2
	}
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		t.Run("method "+strconv.Itoa(int(method)), func(t *testing.T) {
			path := writeTorch(t, t.TempDir(), "model.pt", entries, method)
			fs, err := Stats(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if fs.Format != tensors.FormatPyTorchZip || len(fs.Tensors) != 3 {
				t.Fatalf("stats = %+v", fs)
			}
			w, b, n := fs.Tensors[0], fs.Tensors[1], fs.Tensors[2]
			if w.Name != "layer.weight" || w.DType != tensors.F32 || !w.Measured || w.Count != 6 || w.Bytes != 24 ||
				w.Mean != 3.5 || !near(w.Std, math.Sqrt(35.0/12), 1e-12) || w.Min != 1 || w.Max != 6 {
				t.Errorf("weight = %+v", w)
			}
			if b.Name != "layer.bias" || b.DType != tensors.F16 || !b.Measured || b.Mean != 1.375 || b.Min != -1 || b.Max != 4 {
				t.Errorf("bias = %+v", b)
			}
			if n.Name != "norm" || n.DType != tensors.BF16 || !n.Measured || n.Mean != -0.25 || n.Min != -2 || n.Max != 1.5 {
				t.Errorf("norm = %+v", n)
			}
		})
	}
}

func TestDiffPyTorchZipRankOneEdit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	base := baseModel(rng)
	edited := cloneModel(base)
	addRank(rng, edited[4], 1, 0.01)
	dir := t.TempDir()
	a := writeTorch(t, dir, "a.pt", torchMatrices(base), zip.Store)
	b := writeTorch(t, dir, "b.pt", torchMatrices(edited), zip.Store)
	rep, err := Diff(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != TargetedEdit || rep.Changed != 1 || len(rep.Tensors) != 1 || rep.Tensors[0].Name != base[4].name {
		t.Fatalf("report = %+v", rep)
	}
	if s := rep.Tensors[0].Spectrum; s == nil || !s.LowRank() {
		t.Fatalf("spectrum = %+v", s)
	}

	// The same model as safetensors and as a checkpoint: identical.
	rep, err = Diff(context.Background(), writeModel(t, dir, "a.safetensors", base), a)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Identical {
		t.Fatalf("safetensors vs PyTorch: %+v", rep)
	}
}

func TestStatsPyTorchStridedViewNotMeasured(t *testing.T) {
	entries := []torchEntry{
		{name: "w", dtype: tensors.F32, shape: []uint64{2, 3}, data: matrix{v: []float32{1, 2, 3, 4, 5, 6}}.data().Data},
		// The transpose of a 2×3 matrix: shape (3, 2), stride (1, 3).
		{name: "w_t", dtype: tensors.F32, shape: []uint64{3, 2}, stride: []uint64{1, 3}, data: matrix{v: []float32{1, 2, 3, 4, 5, 6}}.data().Data},
	}
	dir := t.TempDir()
	path := writeTorch(t, dir, "model.pt", entries, zip.Store)
	fs, err := Stats(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Tensors) != 2 || !fs.Tensors[0].Measured {
		t.Fatalf("stats = %+v", fs)
	}
	if s := fs.Tensors[1]; s.Measured || !strings.Contains(s.NotMeasured, "strided") || s.Count != 6 || s.DType != tensors.F32 {
		t.Fatalf("w_t = %+v", s)
	}

	// A changed strided view is reported changed, by bytes.
	changed := []torchEntry{entries[0], entries[1]}
	changed[1].data = matrix{v: []float32{1, 2, 3, 4, 5, 7}}.data().Data
	rep, err := Diff(context.Background(), path, writeTorch(t, dir, "b.pt", changed, zip.Store))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 1 || rep.Tensors[0].Name != "w_t" || rep.Tensors[0].Compared || rep.Tensors[0].NotCompared == "" {
		t.Fatalf("report = %+v", rep)
	}
	rep, err = Diff(context.Background(), path, path)
	if err != nil || rep.Verdict != Identical {
		t.Fatalf("self diff = %+v, %v", rep, err)
	}
}

// A checkpoint whose data.pkl calls os.system is refused before anything
// is read, and the scanner calls it dangerous. The payload would leave a
// file behind if it ever ran.
func TestStatsPyTorchMaliciousPickleRefused(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	var pkl []byte
	pkl = append(pkl, 0x80, 2)
	pkl = append(pkl, "cos\nsystem\n"...)
	pkl = append(pkl, 'X')
	cmd := "touch " + marker
	pkl = binary.LittleEndian.AppendUint32(pkl, uint32(len(cmd)))
	pkl = append(pkl, cmd...)
	pkl = append(pkl, 0x85, 'R', '.') // TUPLE1, REDUCE, STOP
	path := filepath.Join(dir, "evil.pt")
	if err := os.WriteFile(path, torchZip(t, pkl, nil, zip.Store, "little"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Stats(context.Background(), path)
	if !errors.Is(err, scan.ErrUnsafePickle) || !strings.Contains(err.Error(), "os.system") {
		t.Fatalf("err = %v, want ErrUnsafePickle naming os.system", err)
	}
	if _, err := Diff(context.Background(), path, path); !errors.Is(err, scan.ErrUnsafePickle) {
		t.Fatalf("diff err = %v", err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the payload ran: %v", err)
	}
	rep, err := scan.Scan(context.Background(), path, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files[0].Verdict != scan.VerdictDangerous || rep.Files[0].Format != "pytorch-zip" {
		t.Fatalf("scan = %+v", rep.Files[0])
	}
}

func TestStatsPyTorchDamaged(t *testing.T) {
	entries := []torchEntry{{name: "w", dtype: tensors.F32, shape: []uint64{64}, data: make([]byte, 256)}}
	storages := [][]byte{entries[0].data}
	good := torchZip(t, torchPickle(entries), storages, zip.Store, "little")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "truncated"},
		{"big-endian", torchZip(t, torchPickle(entries), storages, zip.Store, "big"), "big-endian"},
		{"truncated pickle", torchZip(t, torchPickle(entries)[:40], storages, zip.Store, "little"), "truncated"},
		{"storage too short", torchZip(t, torchPickle(entries), [][]byte{make([]byte, 100)}, zip.Store, "little"), "holds 100 bytes"},
		{"storage missing", torchZip(t, torchPickle(entries), nil, zip.Store, "little"), "archive/data/0 is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.pt")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Stats(context.Background(), path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestStatsPyTorchCorpus reads the zip checkpoints of the picklescan and
// modelscan corpora: the benign one is measured, the malicious one refused.
func TestStatsPyTorchCorpus(t *testing.T) {
	models := filepath.Join(dataDir(t), "models")
	fs, err := Stats(context.Background(), filepath.Join(models, "picklescan", "data", "new_pytorch_model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fs.Format != tensors.FormatPyTorchZip || len(fs.Tensors) != 1 {
		t.Fatalf("stats = %+v", fs)
	}
	// A lone 3×4 float tensor holding 1..8, 122, 13, 14, 15.
	if s := fs.Tensors[0]; s.Name != "(root)" || s.DType != tensors.F32 || len(s.Shape) != 2 || s.Shape[0] != 3 || s.Shape[1] != 4 ||
		!s.Measured || !near(s.Mean, 200.0/12, 1e-12) || s.Min != 1 || s.Max != 122 {
		t.Fatalf("tensor = %+v", s)
	}
	_, err = Stats(context.Background(), filepath.Join(models, "modelscan", "data", "unsafe_zip_pytorch.pt"))
	if !errors.Is(err, scan.ErrUnsafePickle) {
		t.Fatalf("unsafe_zip_pytorch.pt: err = %v, want ErrUnsafePickle", err)
	}
}
