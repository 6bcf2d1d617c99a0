package tensors

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// fakePickle stands in for package scan's interpreter: it checks that it
// is handed the whole data.pkl and returns fixed descriptions.
func fakePickle(want string, ts ...TorchTensor) TorchPickleReader {
	return func(r io.Reader, size int64) ([]TorchTensor, error) {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		if string(b) != want || size != int64(len(b)) {
			return nil, errors.New("wrong pickle")
		}
		return ts, nil
	}
}

type record struct {
	name   string
	data   []byte
	method uint16
}

func zipBytes(t testing.TB, records ...record) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range records {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: r.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkpoint is a two-storage checkpoint: data/0 holds six floats, data/1
// four bfloat16s.
func checkpoint(t testing.TB, method uint16, byteorder string) []byte {
	records := []record{{name: "m/data.pkl", data: []byte("PKL")}}
	if byteorder != "" {
		records = append(records, record{name: "m/byteorder", data: []byte(byteorder)})
	}
	records = append(records,
		record{name: "m/data/0", data: f32Bytes(1, 2, 3, 4, 5, 6), method: method},
		record{name: "m/data/1", data: []byte{0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40}, method: method}, // 1 2 3 4
		record{name: "m/version", data: []byte("3\n")},
	)
	return zipBytes(t, records...)
}

var checkpointTensors = []TorchTensor{
	{Name: "w", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 6, Shape: []uint64{2, 3}, Stride: []uint64{3, 1}},
	{Name: "row1", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 6, Offset: 3, Shape: []uint64{1, 3}, Stride: []uint64{99, 1}},
	{Name: "b", StorageType: "torch.BFloat16Storage", StorageKey: "1", StorageNumel: 4, Offset: 1, Shape: []uint64{3}, Stride: []uint64{1}},
	{Name: "wT", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 6, Shape: []uint64{3, 2}, Stride: []uint64{1, 3}},
	{Name: "q", StorageType: "torch.QInt8Storage", StorageKey: "1", StorageNumel: 8, Unsupported: "rebuilt by torch._utils._rebuild_qtensor, not as a dense tensor"},
}

func values(t *testing.T, tn Tensor, r io.ReaderAt) []float64 {
	t.Helper()
	vr, err := tn.Values(r)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, tn.Elements())
	n, err := vr.Read(out)
	if err != nil || n != len(out) {
		t.Fatalf("tensor %q: read %d of %d: %v", tn.Name, n, len(out), err)
	}
	return out
}

func TestReadPyTorchZip(t *testing.T) {
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		data := checkpoint(t, method, "little")
		r := bytes.NewReader(data)
		if Sniff(r, int64(len(data))) != FormatPyTorchZip {
			t.Fatal("not sniffed")
		}
		f, err := Read(r, int64(len(data)), fakePickle("PKL", checkpointTensors...))
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != FormatPyTorchZip || len(f.Tensors) != 5 {
			t.Fatalf("file = %+v", f)
		}
		w, row, b, wT, q := f.Tensors[0], f.Tensors[1], f.Tensors[2], f.Tensors[3], f.Tensors[4]
		if got := values(t, w, r); !reflect.DeepEqual(got, []float64{1, 2, 3, 4, 5, 6}) {
			t.Errorf("method %d: w = %v", method, got)
		}
		if got := values(t, row, r); !reflect.DeepEqual(got, []float64{4, 5, 6}) {
			t.Errorf("method %d: row1 = %v", method, got)
		}
		if got := values(t, b, r); b.DType != BF16 || !reflect.DeepEqual(got, []float64{2, 3, 4}) {
			t.Errorf("method %d: b = %s %v", method, b.DType, got)
		}
		if method == zip.Store {
			// Stored records: the bytes are in the file where the tensor says.
			if i := bytes.Index(data, f32Bytes(4, 5, 6)); row.Offset != int64(i) || row.Size != 12 {
				t.Errorf("row1 at %d+%d, bytes at %d", row.Offset, row.Size, i)
			}
			checkInvariantsShared(t, f)
		}
		if wT.Unsupported == "" || wT.Size != 24 || wT.DType != F32 {
			t.Errorf("method %d: wT = %+v", method, wT)
		}
		if _, err := wT.Values(r); err == nil {
			t.Errorf("values of a strided view")
		}
		if q.Unsupported == "" || q.DType != "QInt8Storage" || q.Size != 8 {
			t.Errorf("method %d: q = %+v", method, q)
		}
		if got, _ := io.ReadAll(q.Reader(r)); len(got) != 8 {
			t.Errorf("method %d: q bytes = %x", method, got)
		}
	}
}

// checkInvariantsShared checks what holds for PyTorch files: tensors lie in
// the file (they may share bytes).
func checkInvariantsShared(t *testing.T, f *File) {
	t.Helper()
	for _, tn := range f.Tensors {
		if tn.Offset < f.DataOffset || tn.Size < 0 || tn.Offset+tn.Size > f.Size {
			t.Fatalf("tensor %q [%d,+%d) outside [%d,%d)", tn.Name, tn.Offset, tn.Size, f.DataOffset, f.Size)
		}
	}
}

func TestReadPyTorchZipByteOrder(t *testing.T) {
	read := func(data []byte) error {
		_, err := ReadPyTorchZip(bytes.NewReader(data), int64(len(data)), fakePickle("PKL", checkpointTensors[0]))
		return err
	}
	if err := read(checkpoint(t, zip.Store, "")); err != nil {
		t.Errorf("no byteorder record: %v", err)
	}
	if err := read(checkpoint(t, zip.Store, "big")); !errors.Is(err, ErrBigEndian) {
		t.Errorf("big: %v", err)
	}
	if err := read(checkpoint(t, zip.Store, "middle")); err == nil || !strings.Contains(err.Error(), "middle") {
		t.Errorf("middle: %v", err)
	}
}

func TestReadPyTorchZipErrors(t *testing.T) {
	good := checkpoint(t, zip.Store, "little")
	bomb := zipBytes(t, record{name: "m/data.pkl", data: []byte("PKL")}, record{name: "m/data/0", data: make([]byte, 1<<20), method: zip.Deflate})
	bomb = bytes.Replace(bomb, []byte{0, 0, 0x10, 0}, []byte{0, 0, 0, 0x10}, -1) // declare 256 MiB
	tests := []struct {
		name    string
		data    []byte
		pickles TorchPickleReader
		want    string
	}{
		{"no pickle reader", good, nil, "needs a pickle reader"},
		{"truncated", good[:len(good)-30], fakePickle("PKL"), "truncated"},
		{"no data.pkl", zipBytes(t, record{name: "m/data/0", data: []byte("x")}), fakePickle("PKL"), "no data.pkl"},
		{"two data.pkl", zipBytes(t, record{name: "a/data.pkl"}, record{name: "b/data.pkl"}), fakePickle(""), "two data.pkl"},
		{"pickle refused", good, func(io.Reader, int64) ([]TorchTensor, error) { return nil, errors.New("refused") }, "m/data.pkl: refused"},
		{"missing storage", good, fakePickle("PKL", TorchTensor{Name: "x", StorageType: "torch.FloatStorage", StorageKey: "7", StorageNumel: 1, Shape: []uint64{1}, Stride: []uint64{1}}), "m/data/7 is missing"},
		{"storage larger than its record", good, fakePickle("PKL", TorchTensor{Name: "x", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 7, Shape: []uint64{1}, Stride: []uint64{1}}), "holds 24 bytes"},
		{"view past its storage", good, fakePickle("PKL", TorchTensor{Name: "x", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 6, Offset: 4, Shape: []uint64{3}, Stride: []uint64{1}}), "reaches past"},
		{"stride overflow", good, fakePickle("PKL", TorchTensor{Name: "x", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 6, Shape: []uint64{3}, Stride: []uint64{1 << 63}}), "reaches past"},
		{"deflate ratio", bomb, fakePickle("PKL", TorchTensor{Name: "x", StorageType: "torch.ByteStorage", StorageKey: "0", StorageNumel: 1, Shape: []uint64{1}, Stride: []uint64{1}}), "more than deflate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPyTorchZip(bytes.NewReader(tc.data), int64(len(tc.data)), tc.pickles)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSniffPyTorchZip(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want Format
	}{
		{checkpoint(t, zip.Store, "little"), FormatPyTorchZip},
		{zipBytes(t, record{name: "data.pkl"}), FormatPyTorchZip},
		{zipBytes(t, record{name: "readme.txt"}, record{name: "m/data.pkl"}), ""},
		{zipBytes(t, record{name: "a/b/data.pkl"}), ""},
		{[]byte("PK\x03\x04"), ""},
	} {
		if got := Sniff(bytes.NewReader(tc.data), int64(len(tc.data))); got != tc.want {
			t.Errorf("Sniff = %q, want %q", got, tc.want)
		}
	}
}

func FuzzPyTorchZip(f *testing.F) {
	f.Add(checkpoint(f, zip.Store, "little"))
	f.Add(checkpoint(f, zip.Deflate, "little"))
	f.Add(checkpoint(f, zip.Store, "big"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadPyTorchZip(bytes.NewReader(data), int64(len(data)), func(r io.Reader, size int64) ([]TorchTensor, error) {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return nil, err
			}
			return checkpointTensors, nil
		})
		if err != nil {
			return
		}
		for _, tn := range file.Tensors {
			if tn.Unsupported != "" {
				io.Copy(io.Discard, tn.Reader(bytes.NewReader(data)))
				continue
			}
			if _, err := tn.Values(bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if tn.inflated == nil {
				drain(t, tn, bytes.NewReader(data))
			}
		}
	})
}
