package tensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// dataDir finds ../shared/data beside the module root (the folder holding
// go.mod), or AIRLOCK_DATA if set. It skips the test when the data is
// missing, and fails under CI=true, where the data must be present.
func dataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("AIRLOCK_DATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			if _, err := os.Stat(filepath.Join(d, "models", "safetensors")); err == nil {
				return d
			}
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	msg := "corpus not found: expected ../shared/data/models/safetensors beside the module root (or set AIRLOCK_DATA)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

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
