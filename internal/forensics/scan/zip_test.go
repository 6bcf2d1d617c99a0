package scan

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func evalPickle() []byte {
	return newPickle(4).stackGlobal("builtins", "eval").call1("print(1)").stop()
}

// zipHeaders returns the offsets of the local headers and the central
// directory records of data, in order.
func zipHeaders(data []byte) (locals, centrals []int) {
	for i := 0; i+4 <= len(data); i++ {
		switch binary.LittleEndian.Uint32(data[i:]) {
		case zipLocalSig:
			locals = append(locals, i)
		case zipCentralSig:
			centrals = append(centrals, i)
		}
	}
	return locals, centrals
}

func TestZipMemberIsScannedByContent(t *testing.T) {
	data := buildZip(t, zipFile{name: "weights/readme.txt", data: evalPickle(), method: 8})
	format, v, fs := verdictOfData(t, data)
	if format != fmtZip || v != VerdictDangerous || !hasFinding(fs, "pickle-denied-global", SeverityDangerous, "weights/readme.txt: global builtins.eval") {
		t.Fatalf("format %s verdict %s:%s", format, v, dump(fs))
	}
}

func TestZipStoredMemberOffsetsAreFileOffsets(t *testing.T) {
	data := buildZip(t, zipFile{name: "archive/data.pkl", data: evalPickle()})
	_, fs := scanData(t, data, Options{})
	for _, f := range fs {
		if f.Rule == "pickle-denied-global" {
			if want := bytes.Index(data, []byte("\x93")); f.Offset != int64(want) {
				t.Fatalf("offset %d, STACK_GLOBAL is at %d", f.Offset, want)
			}
			return
		}
	}
	t.Fatalf("no finding:%s", dump(fs))
}

func TestZipLenientReading(t *testing.T) {
	tests := []struct {
		name   string
		patch  func(data []byte, local, central int)
		reason string
	}{
		{"encryption flag on plain data", func(d []byte, l, c int) {
			d[l+6] |= 0x1
			d[c+8] |= 0x1
		}, "mark the member encrypted but its data is plain"},
		{"strong encryption flag", func(d []byte, l, c int) {
			d[l+6] |= 0x40
			d[c+8] |= 0x40
		}, "mark the member encrypted"},
		{"patched data flag", func(d []byte, l, c int) {
			d[l+6] |= 0x20
			d[c+8] |= 0x20
		}, "0x20"},
		{"local name differs", func(d []byte, l, c int) {
			copy(d[l+zipLocalLen:], "datap.kl")
		}, `names this member "datap.kl"`},
		{"bad CRC", func(d []byte, l, c int) {
			d[l+14] ^= 0xff
			d[c+16] ^= 0xff
		}, "CRC-32"},
	}
	for _, tc := range tests {
		for _, method := range []uint16{0, 8} {
			t.Run(tc.name, func(t *testing.T) {
				data := buildZip(t, zipFile{name: "data.pkl", data: evalPickle(), method: method})
				locals, centrals := zipHeaders(data)
				tc.patch(data, locals[0], centrals[0])
				_, v, fs := verdictOfData(t, data)
				if v != VerdictDangerous || !hasFinding(fs, "zip-anomaly", SeveritySuspicious, tc.reason) {
					t.Fatalf("method %d: verdict %s:%s", method, v, dump(fs))
				}
			})
		}
	}
}

func TestZipEncryptedMember(t *testing.T) {
	cipher := []byte("\xa6\x24\x23\xad\xad\xd3\xda\x99\x54\xd8\x4e\x5b\x29\x04\x19\x20\xff\x87")
	data := buildZip(t, zipFile{name: "test.txt", data: cipher})
	locals, centrals := zipHeaders(data)
	data[locals[0]+6] |= 0x1
	data[centrals[0]+8] |= 0x1
	_, v, fs := verdictOfData(t, data)
	if v != VerdictSuspicious || !hasFinding(fs, "zip-encrypted", SeveritySuspicious, "encrypted member, cannot inspect") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
	// A protocol 0 pickle (no magic) behind the flag is still found.
	data = buildZip(t, zipFile{name: "data.pkl", data: newPickle(0).global("os", "system").call1("id").stop(), method: 8})
	locals, centrals = zipHeaders(data)
	data[locals[0]+6] |= 0x1
	data[centrals[0]+8] |= 0x1
	if _, v, fs := verdictOfData(t, data); v != VerdictDangerous {
		t.Fatalf("protocol 0 behind the flag: %s:%s", v, dump(fs))
	}
}

func TestZipBombByDeclaredSize(t *testing.T) {
	data := buildZip(t, zipFile{name: "a.bin", data: bytes.Repeat([]byte{0}, 1<<16), method: 8})
	_, centrals := zipHeaders(data)
	binary.LittleEndian.PutUint32(data[centrals[0]+24:], 0xfffffff0) // 4 GiB from a few bytes
	_, v, fs := verdictOfData(t, data)
	if v != VerdictError || !hasFinding(fs, "archive-bomb", SeverityError, "ratio") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
	// Within the ratio but beyond the budget.
	data = buildZip(t, zipFile{name: "a.bin", data: bytes.Repeat([]byte("x"), 5000), method: 8})
	_, fs = scanData(t, data, Options{MaxTotalBytes: 1000})
	if !hasFinding(fs, "archive-bomb", SeverityError, "extraction budget") {
		t.Fatalf("budget:%s", dump(fs))
	}
}

func TestZipBombByActualSize(t *testing.T) {
	// The member declares 100 bytes and inflates to a megabyte: reading
	// stops at the declared size.
	var payload bytes.Buffer
	payload.Write(newPickle(2).op(opNone).stop())
	payload.Write(bytes.Repeat([]byte{0}, 1<<20))
	data := buildZip(t, zipFile{name: "a.pkl", data: payload.Bytes(), method: 8})
	locals, centrals := zipHeaders(data)
	binary.LittleEndian.PutUint32(data[centrals[0]+24:], 100)
	binary.LittleEndian.PutUint32(data[locals[0]+22:], 100)
	_, v, fs := verdictOfData(t, data)
	if v != VerdictError || !hasFinding(fs, "archive-bomb", SeverityError, "more data than its declared size") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestZipNestedDepthLimit(t *testing.T) {
	data := evalPickle()
	for i := range 6 {
		data = buildZip(t, zipFile{name: "level" + strings.Repeat("x", i) + ".zip", data: data, method: uint16(8 * (i % 2))})
	}
	_, v, fs := verdictOfData(t, data)
	if v != VerdictError || !hasFinding(fs, "archive-depth", SeverityError, "more than 4 archives deep") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
	_, fs = scanData(t, data, Options{MaxDepth: 8})
	if worstVerdict(fs) != VerdictDangerous {
		t.Fatalf("with depth 8:%s", dump(fs))
	}
}

func TestZipOverlappingMembers(t *testing.T) {
	// Two directory entries share one local header: the layout of
	// non-recursive zip bombs. The second is not inflated again.
	data := buildZip(t, zipFile{name: "a", data: []byte("hello")}, zipFile{name: "b", data: []byte("world")})
	locals, centrals := zipHeaders(data)
	binary.LittleEndian.PutUint32(data[centrals[1]+42:], uint32(locals[0]))
	_, _, fs := verdictOfData(t, data)
	if !hasFinding(fs, "archive-bomb", SeverityError, "overlaps") {
		t.Fatalf("no overlap finding:%s", dump(fs))
	}
}

func TestZipWithoutCentralDirectory(t *testing.T) {
	data := buildZip(t, zipFile{name: "data.pkl", data: evalPickle()}, zipFile{name: "b", data: []byte("x")})
	_, centrals := zipHeaders(data)
	_, v, fs := verdictOfData(t, data[:centrals[0]])
	if v != VerdictDangerous || !hasFinding(fs, "archive-malformed", SeverityError, "no valid end of central directory") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestZipDamagedDirectory(t *testing.T) {
	data := buildZip(t, zipFile{name: "a", data: []byte("hello")})
	_, centrals := zipHeaders(data)
	binary.LittleEndian.PutUint16(data[centrals[0]+28:], 0xffff) // name runs past the directory
	_, v, fs := verdictOfData(t, data)
	if v != VerdictError {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestNPZWithObjectArray(t *testing.T) {
	benign := newPickle(3).global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").op(opBinInt1, 0, opTuple1).op(opShortBinBytes, 1).raw("b").op(opTuple3, opReduce).stop()
	data := buildZip(t,
		zipFile{name: "a.npy", data: npy("|O", "(2,)", benign), method: 8},
		zipFile{name: "b.npy", data: npy("<i4", "(2,)", make([]byte, 8))},
	)
	if format, v, fs := verdictOfData(t, data); format != fmtNPZ || v != VerdictClean {
		t.Fatalf("benign npz: %s %s:%s", format, v, dump(fs))
	}
	evil := newPickle(2).global("ssl", "get_server_certificate").call1("x.invalid").stop()
	data = buildZip(t, zipFile{name: "a.npy", data: npy("|O", "(1,)", evil), method: 8})
	if format, v, fs := verdictOfData(t, data); format != fmtNPZ || v != VerdictDangerous {
		t.Fatalf("evil npz: %s %s:%s", format, v, dump(fs))
	}
}

func TestPyTorchZipSkipsStorage(t *testing.T) {
	storage := append([]byte{opProto, 2}, "\xff\xfe raw float bytes"...)
	data := buildZip(t,
		zipFile{name: "archive/data.pkl", data: torchStateDict().stop()},
		zipFile{name: "archive/data/0", data: storage},
		zipFile{name: "archive/version", data: []byte("3\n")},
		zipFile{name: "archive/byteorder", data: []byte("little")},
	)
	if format, v, fs := verdictOfData(t, data); format != fmtTorchZip || v != VerdictClean {
		t.Fatalf("%s %s:%s", format, v, dump(fs))
	}
}

func TestPolyglotPickleAndZip(t *testing.T) {
	// A clean pickle with a zip appended: torch.load and pickle.load see
	// the pickle, zipfile (and Keras) the archive.
	data := append(torchStateDict().stop(), buildZip(t, zipFile{name: "config.pkl", data: evalPickle()})...)
	format, v, fs := verdictOfData(t, data)
	if format != fmtPickle || v != VerdictDangerous || !hasFinding(fs, "polyglot", SeveritySuspicious, "pickle content also ends with a zip") {
		t.Fatalf("%s %s:%s", format, v, dump(fs))
	}
}
