package tensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestReadSafetensorsRoundTrip(t *testing.T) {
	data := safetensorsBytes(t, map[string]string{"format": "pt"},
		TensorData{Name: "w", DType: F32, Shape: []uint64{2, 3}, Data: f32Bytes(1, 2, 3, 4, 5, 6)},
		TensorData{Name: "empty", DType: F16, Shape: []uint64{0, 4}, Data: nil},
		TensorData{Name: "b", DType: BF16, Shape: []uint64{2}, Data: []byte{0x80, 0x3f, 0x00, 0xc0}},
		TensorData{Name: "scalar", DType: I64, Shape: []uint64{}, Data: binary.LittleEndian.AppendUint64(nil, 7)},
	)
	f, err := ReadSafetensors(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, f)
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata = %v", f.Metadata)
	}
	var names []string
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
	}
	if want := []string{"w", "empty", "b", "scalar"}; !slices.Equal(names, want) {
		t.Errorf("tensors in data order = %v, want %v", names, want)
	}
	w, _ := f.Tensor("w")
	if w.Elements() != 6 || w.Size != 24 || !slices.Equal(w.Shape, []uint64{2, 3}) {
		t.Errorf("w = %+v", w)
	}
	got := readAllValues(t, w, bytes.NewReader(data))
	if !slices.Equal(got, []float64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("w values = %v", got)
	}
	b, _ := f.Tensor("b")
	if got := readAllValues(t, b, bytes.NewReader(data)); !slices.Equal(got, []float64{1, -2}) {
		t.Errorf("b values = %v", got)
	}
	s, _ := f.Tensor("scalar")
	if s.Elements() != 1 {
		t.Errorf("scalar has %d elements", s.Elements())
	}
	if Sniff(bytes.NewReader(data), int64(len(data))) != FormatSafetensors {
		t.Error("Sniff did not recognise safetensors")
	}
}

func readAllValues(t testing.TB, tn Tensor, r io.ReaderAt) []float64 {
	t.Helper()
	vr, err := tn.Values(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	buf := make([]float64, 4) // small, to cross chunk boundaries
	for {
		n, err := vr.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadSafetensorsRefusesHostileFiles(t *testing.T) {
	f32x2 := f32Bytes(1, 2)
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1<<62)
	tests := []struct {
		name   string
		file   []byte
		reason string
	}{
		{"short", []byte{1, 2, 3}, "shorter than"},
		{"header past end", append(hugeLen, "{}"...), "runs past the end"},
		{"header not an object", rawSafetensors(`[]`, nil), "does not start with '{'"},
		{"invalid utf-8", rawSafetensors("{\"a\xff\":1}", nil), "UTF-8"},
		{"truncated json", rawSafetensors(`{"a":{"dtype":"F32"`, nil), "ends early"},
		{"trailing garbage", rawSafetensors(`{} {}`, nil), "after the top-level object"},
		{"duplicate tensor", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), `duplicate key "a"`},
		{"duplicate field", rawSafetensors(`{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`, f32x2[:4]), "duplicate field"},
		{"unknown field", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f32x2[:4]), `unknown field "x"`},
		{"missing field", rawSafetensors(`{"a":{"dtype":"F32","shape":[1]}}`, nil), "missing data_offsets"},
		{"unknown dtype", rawSafetensors(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)), `unknown dtype "F128"`},
		{"negative offset", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, nil), "non-negative"},
		{"fractional dim", rawSafetensors(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32x2[:4]), "non-negative"},
		{"three offsets", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32x2), "more than two"},
		{"metadata not strings", rawSafetensors(`{"__metadata__":{"k":1}}`, nil), "want a string"},
		{"overlap", rawSafetensors(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), "overlap"},
		{"gap", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2), "gap of 4 bytes"},
		{"uncovered tail", rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32x2), "cover 4 bytes of the 8-byte"},
		{"past data", rawSafetensors(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32x2), "run past"},
		{"end before begin", rawSafetensors(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32x2), "end before"},
		{"size mismatch", rawSafetensors(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32x2), "needs 12"},
		{"shape overflow", rawSafetensors(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, f32x2), "overflows"},
		{"bytes overflow", rawSafetensors(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}`, f32x2), "whole number of bytes"},
		{"sub-byte remainder", rawSafetensors(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, f32x2[:2]), "whole number of bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSafetensors(bytes.NewReader(tc.file), int64(len(tc.file)))
			fe := wantFormatError(t, err)
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to mention %q", fe.Reason, tc.reason)
			}
		})
	}
}

func TestReadUnknownFormat(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("PK\x03\x04 a zip"), []byte("\x80\x02}q\x00.")} {
		if _, err := Read(bytes.NewReader(b), int64(len(b)), nil); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("Read(%q) = %v, want ErrUnknownFormat", b, err)
		}
	}
}

func TestReadSafetensorsHeaderLimit(t *testing.T) {
	// A declared header over the limit is refused from the length alone,
	// without reading (or allocating) it: the reader holds no such bytes.
	b := binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeader+1)
	var err error
	if n := allocated(func() { _, err = ReadSafetensors(sizedReader{b}, 1<<40) }); n > 1<<20 {
		t.Errorf("allocated %d bytes", n)
	}
	fe := wantFormatError(t, err)
	if !strings.Contains(fe.Reason, "exceeds") {
		t.Errorf("reason = %q", fe.Reason)
	}
}

// sizedReader serves the start of a pretended huge file; past its bytes
// the file reads as zeros.
type sizedReader struct{ b []byte }

func (s sizedReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(s.b)) {
		n = copy(p, s.b[off:])
	}
	clear(p[n:])
	return len(p), nil
}

// allocated runs f and returns how many bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSafetensorsCorpus(t *testing.T) {
	dir := filepath.Join(dataDir(t), "models", "safetensors", "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("no samples in %s", dir)
	}
	// Every sample holds range(-3, 3) cast to its dtype.
	want := map[DType][]float64{
		U8:  {253, 254, 255, 0, 1, 2},
		U16: {65533, 65534, 65535, 0, 1, 2},
		U32: {4294967293, 4294967294, 4294967295, 0, 1, 2},
	}
	signed := []float64{-3, -2, -1, 0, 1, 2}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			f, fd, err := OpenFile(filepath.Join(dir, e.Name()), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer fd.Close()
			checkInvariants(t, f)
			if f.Metadata["test"] != "a" {
				t.Errorf("metadata = %v", f.Metadata)
			}
			if len(f.Tensors) == 0 {
				t.Fatal("no tensors")
			}
			for _, tn := range f.Tensors {
				w, ok := want[tn.DType]
				if !ok {
					w = signed
				}
				if got := readAllValues(t, tn, fd); !slices.Equal(got, w) {
					t.Errorf("%s (%s) = %v, want %v", tn.Name, tn.DType, got, w)
				}
			}
		})
	}
}
