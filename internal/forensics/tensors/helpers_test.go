package tensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"math"
	"testing"
)

// dataDir is the shared data folder holding the safetensors samples.
func dataDir(t testing.TB) string { return testcorpus.Root(t, "models/safetensors") }

func f32Bytes(vs ...float32) []byte {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func safetensorsBytes(t testing.TB, meta map[string]string, ts ...TensorData) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, meta, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ggufBytes(t testing.TB, kv []KV, ts ...TensorData) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteGGUF(&buf, kv, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawSafetensors builds a file from a literal header and data, for headers
// the writer would refuse to produce.
func rawSafetensors(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// wantFormatError fails unless err is a *FormatError.
func wantFormatError(t *testing.T, err error) *FormatError {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want a *FormatError", err, err)
	}
	return fe
}

// checkInvariants asserts what every successfully read File promises.
func checkInvariants(t testing.TB, f *File) {
	t.Helper()
	var end int64
	for i, tn := range f.Tensors {
		if tn.Offset < f.DataOffset || tn.Size < 0 || tn.Offset+tn.Size > f.Size {
			t.Fatalf("tensor %q [%d,+%d) outside data region [%d,%d)", tn.Name, tn.Offset, tn.Size, f.DataOffset, f.Size)
		}
		if i > 0 && tn.Offset < end {
			t.Fatalf("tensor %q overlaps its predecessor", tn.Name)
		}
		end = tn.Offset + tn.Size
	}
	if f.Unclaimed < 0 || f.Unclaimed > f.Size {
		t.Fatalf("Unclaimed = %d", f.Unclaimed)
	}
}
