package scan

import (
	"encoding/binary"
	"testing"
)

func TestNumpyObjectArrayPickleIsScanned(t *testing.T) {
	evil := newPickle(3).global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").op(opBinInt1, 0, opTuple1).op(opShortBinBytes, 1).raw("b").op(opTuple3, opReduce)
	evil.op(opMark).global("ssl", "get_server_certificate").call1("x.invalid").op(opTuple, opBuild)
	format, v, fs := verdictOfData(t, npy("|O", "(1,)", evil.stop()))
	if format != fmtNumpy || v != VerdictDangerous || !hasFinding(fs, "pickle-denied-global", SeverityDangerous, "ssl.get_server_certificate") {
		t.Fatalf("%s %s:%s", format, v, dump(fs))
	}
	// Structured dtypes with an object field carry a pickle too.
	header := "{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }\n"
	raw := append([]byte("\x93NUMPY\x01\x00"), binary.LittleEndian.AppendUint16(nil, uint16(len(header)))...)
	raw = append(append(raw, header...), newPickle(2).global("os", "system").stop()...)
	if _, v, fs := verdictOfData(t, raw); v != VerdictDangerous {
		t.Fatalf("structured: %s:%s", v, dump(fs))
	}
}

func TestNumpyPlainArrays(t *testing.T) {
	if format, v, fs := verdictOfData(t, npy("<i4", "(2, 2)", make([]byte, 16))); format != fmtNumpy || v != VerdictClean {
		t.Fatalf("%s %s:%s", format, v, dump(fs))
	}
	if _, v, fs := verdictOfData(t, npy("<f8", "(2, 2)", make([]byte, 16))); v != VerdictError || !hasFinding(fs, "npy-malformed", SeverityError, "truncated") {
		t.Fatalf("short data: %s:%s", v, dump(fs))
	}
	if _, v, fs := verdictOfData(t, npy("<i4", "(2,)", make([]byte, 16))); v != VerdictSuspicious {
		t.Fatalf("trailing data: %s:%s", v, dump(fs))
	}
	if _, v, fs := verdictOfData(t, npy("<i4", "(4294967296, 4294967296, 4294967296)", nil)); v != VerdictError {
		t.Fatalf("overflowing shape: %s:%s", v, dump(fs))
	}
	if _, v, fs := verdictOfData(t, npy("<U3", "(2,)", make([]byte, 24))); v != VerdictClean {
		t.Fatalf("unicode: %s:%s", v, dump(fs))
	}
}

func TestNumpyHostileHeaders(t *testing.T) {
	for name, data := range map[string][]byte{
		"header longer than file": append([]byte("\x93NUMPY\x01\x00\xff\xff"), "{}"...),
		"version 2 huge header":   append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), "{}"...),
		"unknown version":         []byte("\x93NUMPY\x09\x00\x02\x00{}"),
		"not a dict":              npy("<i4", "(1,)", nil)[:10],
		"nested":                  append([]byte("\x93NUMPY\x01\x00\x40\x00"), []byte("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((")...),
	} {
		if _, v, fs := verdictOfData(t, data); v != VerdictError {
			t.Errorf("%s: %s:%s", name, v, dump(fs))
		}
	}
}
