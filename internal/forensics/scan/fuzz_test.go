package scan

import (
	"bufio"
	"bytes"
	"context"
	"testing"
)

// The fuzz targets feed hostile bytes to each parser without the panic
// recovery of Scan, and check that the findings stay well formed. Their
// seeds run in every go test.

func fuzzScan(t *testing.T, data []byte, run func(s *fileScan, m *member, br *bufio.Reader)) {
	s := newFileScan(context.Background(), Options{MaxTotalBytes: 32 << 20, MaxPickleOps: 200_000}.withDefaults())
	m := &member{size: int64(len(data)), ra: bytes.NewReader(data)}
	run(s, m, bufio.NewReader(bytes.NewReader(data)))
	fs := s.finish()
	if len(fs) > maxFindings+1 {
		t.Fatalf("%d findings", len(fs))
	}
	for _, f := range fs {
		if f.Severity.rank() == 0 && f.Severity != SeverityInfo {
			t.Fatalf("bad severity %q", f.Severity)
		}
		if f.Offset < -1 || f.Offset > int64(len(data)) {
			t.Fatalf("offset %d outside a %d-byte input: %s", f.Offset, len(data), f.Reason)
		}
		if f.Reason == "" || f.Rule == "" {
			t.Fatalf("finding without reason or rule: %+v", f)
		}
	}
}

func FuzzPickle(f *testing.F) {
	f.Add(torchStateDict().stop())
	f.Add(evalPickle())
	f.Add(newPickle(0).global("os", "system").op(opMark).str("id").op(opTuple, opReduce).stop())
	f.Add(newPickle(4).str("os").memoize().op(opPop).str("system").memoize().op(opPop).binGet(0).binGet(1).op(opStackGlobal).stop())
	f.Add(newPickle(0).raw("S'\\x6fs'\n").unicode(`sy\u0073tem`).op(opStackGlobal).stop())
	f.Add(newPickle(4).frame(3).op(opNone, opStop).b)
	f.Add(newPickle(2).op(opLong1, 10).raw(torchMagicLong1).stop())
	f.Add([]byte("(lp0\nVa\np1\naVb\np2\na."))
	f.Add([]byte("cmod\n\xf8\n"))
	f.Add(append(evalPickle(), "\n\n\t\t"...))
	f.Add([]byte{opProto, 5, opByteArray8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzScan(t, data, func(s *fileScan, m *member, br *bufio.Reader) {
			s.scanPickleStream(m, br, sniffPickle)
		})
	})
}

func FuzzZip(f *testing.F) {
	f.Add(buildZip(f, zipFile{name: "data.pkl", data: evalPickle()}))
	f.Add(buildZip(f, zipFile{name: "a/data.pkl", data: torchStateDict().stop(), method: 8}, zipFile{name: "a/data/0", data: []byte("1234")}))
	f.Add(buildZip(f, zipFile{name: "x.npy", data: npy("|O", "(1,)", evalPickle()), method: 8}))
	f.Add(buildZip(f, zipFile{name: "inner.zip", data: buildZip(f, zipFile{name: "p", data: evalPickle(), method: 8})}))
	f.Add(buildZip(f, zipFile{name: "config.json", data: []byte(`{"class_name": "Lambda"}`)}, zipFile{name: "metadata.json", data: []byte("{}")}))
	damaged := buildZip(f, zipFile{name: "data.pkl", data: evalPickle()}, zipFile{name: "b", data: []byte("x")})
	_, centrals := zipHeaders(damaged)
	f.Add(damaged[:centrals[0]])
	// Found by fuzzing: a local header offset far outside the archive.
	f.Add([]byte("PK\x03\x040000000000000000000000\b\x00\x00\x00data.pkl\x80\x04\x8c\b000\xd60000c000000011000010000100000000000000000PK\x01\x020000\bA\x00\x0000000000 \x00\x00\x00 \x00\x00\x00\b\x00\x00\x00\x00\x0000000000\x0000000000000PK\x05\x06000000006\x00\x00\x000\x00\x00\x0000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzScan(t, data, func(s *fileScan, m *member, br *bufio.Reader) {
			s.scanZip(m, m.ra)
		})
	})
}

func FuzzNumpy(f *testing.F) {
	f.Add(npy("<i4", "(2, 2)", make([]byte, 16)))
	f.Add(npy("|O", "(1,)", evalPickle()))
	f.Add(npy("<U3", "()", make([]byte, 12)))
	f.Add([]byte("\x93NUMPY\x02\x00\x30\x00\x00\x00{'descr': [('a', '<i4', (2, 3))], 'shape': (1,)}  \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzScan(t, data, func(s *fileScan, m *member, br *bufio.Reader) {
			s.scanNumpy(m, br)
		})
	})
}

func FuzzONNX(f *testing.F) {
	f.Add(onnxWithLocation("weights.bin"))
	f.Add(onnxWithLocation("../../etc/passwd"))
	f.Add(onnxModel(pbBytes(nil, graphNode, pbBytes(nil, nodeAttribute, pbBytes(nil, attrGraph, pbBytes(nil, graphInitializer, onnxTensor("t", [2]string{"location", "/x"})))))))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzScan(t, data, func(s *fileScan, m *member, br *bufio.Reader) {
			s.scanONNX(m, m.ra)
		})
	})
}

// FuzzContent feeds the whole dispatcher: format sniffing, containers
// (zip, 7z, tar, gzip), tensor files and the rest.
func FuzzContent(f *testing.F) {
	f.Add(evalPickle())
	f.Add(npy("|O", "(1,)", evalPickle()))
	f.Add(onnxWithLocation("../x"))
	f.Add(buildZip(f, zipFile{name: "data.pkl", data: evalPickle(), method: 8}))
	f.Add([]byte("7z\xbc\xaf\x27\x1c\x00\x04\x1b\xe0\xc1\x24\x92\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x6b\x45\x1b\x35"))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x53\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\x00\x00\x00\x00"))
	f.Add([]byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x89HDF\r\n\x1a\nmodel_config{\"class_name\": \"Lambda\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzScan(t, data, func(s *fileScan, m *member, br *bufio.Reader) {
			s.scan(m)
		})
	})
}
