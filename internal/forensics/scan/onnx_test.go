package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// onnxTensor is a TensorProto whose data lives in an external file.
func onnxTensor(name string, entries ...[2]string) []byte {
	var t []byte
	t = pbVarint(t, 1, 4) // dims
	t = pbVarint(t, 2, 1) // data_type FLOAT
	t = pbBytes(t, tensorName, []byte(name))
	for _, kv := range entries {
		var e []byte
		e = pbBytes(e, entryKey, []byte(kv[0]))
		e = pbBytes(e, entryValue, []byte(kv[1]))
		t = pbBytes(t, tensorExternal, e)
	}
	return pbVarint(t, tensorDataLocation, dataLocationExternal)
}

// onnxModel wraps a graph's fields in a ModelProto.
func onnxModel(graph []byte) []byte {
	var m []byte
	m = pbVarint(m, 1, 8)
	m = pbBytes(m, 2, []byte("airlock-test"))
	m = pbBytes(m, modelGraph, graph)
	var opset []byte
	opset = pbVarint(pbBytes(opset, 1, nil), 2, 17)
	return pbBytes(m, 8, opset)
}

func onnxWithLocation(loc string) []byte {
	return onnxModel(pbBytes(nil, graphInitializer, onnxTensor("w", [2]string{"location", loc}, [2]string{"offset", "0"}, [2]string{"length", "16"})))
}

func TestONNXExternalData(t *testing.T) {
	tests := []struct {
		location string
		want     Verdict
	}{
		{"weights.bin", VerdictClean},
		{"data/weights.bin", VerdictClean},
		{"../secret.bin", VerdictDangerous},
		{"data/../../../etc/passwd", VerdictDangerous},
		{"/etc/passwd", VerdictDangerous},
		{`C:\Windows\win.ini`, VerdictDangerous},
		{`..\..\boot.ini`, VerdictDangerous},
		{"data/../weights.bin", VerdictSuspicious},
		{"", VerdictSuspicious},
	}
	for _, tc := range tests {
		format, v, fs := verdictOfData(t, onnxWithLocation(tc.location))
		if format != fmtONNX || v != tc.want {
			t.Errorf("%q: format %s verdict %s, want %s:%s", tc.location, format, v, tc.want, dump(fs))
		}
	}
}

func TestONNXExternalDataKeys(t *testing.T) {
	for key, want := range map[string]Verdict{
		"checksum":  VerdictClean,
		"__class__": VerdictDangerous,
		"basepath":  VerdictDangerous,
		"colour":    VerdictSuspicious,
	} {
		m := onnxModel(pbBytes(nil, graphInitializer, onnxTensor("w", [2]string{"location", "w.bin"}, [2]string{key, "x"})))
		if _, v, fs := verdictOfData(t, m); v != want {
			t.Errorf("key %q: %s, want %s:%s", key, v, want, dump(fs))
		}
	}
}

func TestONNXNestedGraphsAndSparseTensors(t *testing.T) {
	// An If node whose then-branch graph holds the initializer.
	inner := pbBytes(nil, graphInitializer, onnxTensor("deep", [2]string{"location", "../../x"}))
	attr := pbBytes(nil, attrGraph, inner)
	node := pbBytes(nil, nodeAttribute, attr)
	if _, v, fs := verdictOfData(t, onnxModel(pbBytes(nil, graphNode, node))); v != VerdictDangerous {
		t.Fatalf("subgraph: %s:%s", v, dump(fs))
	}
	sparse := pbBytes(nil, sparseValues, onnxTensor("sp", [2]string{"location", "/x"}))
	if _, v, fs := verdictOfData(t, onnxModel(pbBytes(nil, graphSparseInit, sparse))); v != VerdictDangerous {
		t.Fatalf("sparse: %s:%s", v, dump(fs))
	}
}

func TestONNXMalformed(t *testing.T) {
	m := onnxWithLocation("w.bin")
	if _, v, fs := verdictOfData(t, m[:len(m)-9]); v != VerdictError {
		t.Fatalf("truncated: %s:%s", v, dump(fs))
	}
}

func TestONNXExternalDataSymlinkEscape(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "w.bin")); err != nil {
		t.Skip("symlinks not available:", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), onnxWithLocation("w.bin"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Scan(context.Background(), filepath.Join(dir, "model.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Files[0]; f.Verdict != VerdictDangerous || !hasFinding(f.Findings, "onnx-external-data", SeverityDangerous, "symbolic link") {
		t.Fatalf("%s:%s", f.Verdict, dump(f.Findings))
	}
}
