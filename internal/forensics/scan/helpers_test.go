package scan

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"strconv"
	"strings"
	"testing"
)

// dataDir is the shared data folder holding the model corpora.
func dataDir(t testing.TB) string { return testcorpus.Root(t, "models/picklescan") }

// scanData scans bytes as if they were a file in dir.
func scanData(t testing.TB, data []byte, opts Options) (string, []Finding) {
	t.Helper()
	return scanContent(context.Background(), bytes.NewReader(data), int64(len(data)), "", opts)
}

// verdictOfData scans bytes and returns the format and the verdict.
func verdictOfData(t testing.TB, data []byte) (string, Verdict, []Finding) {
	t.Helper()
	format, fs := scanData(t, data, Options{})
	return format, worstVerdict(fs), fs
}

// hasFinding reports whether a finding with this rule and severity exists
// whose reason contains substr.
func hasFinding(fs []Finding, rule string, sev Severity, substr string) bool {
	for _, f := range fs {
		if f.Rule == rule && f.Severity == sev && strings.Contains(f.Reason, substr) {
			return true
		}
	}
	return false
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + string(f.Severity) + " " + f.Rule + " " + f.Module + "." + f.Name + ": " + f.Reason + " @" + strconv.FormatInt(f.Offset, 10))
	}
	return b.String()
}

// pk assembles a pickle opcode by opcode.
type pk struct{ b []byte }

func newPickle(proto byte) *pk {
	p := &pk{}
	if proto >= 2 {
		p.b = append(p.b, opProto, proto)
	}
	return p
}

func (p *pk) op(ops ...byte) *pk { p.b = append(p.b, ops...); return p }

func (p *pk) raw(s string) *pk { p.b = append(p.b, s...); return p }

// global writes GLOBAL "module\nname\n".
func (p *pk) global(module, name string) *pk {
	return p.op(opGlobal).raw(module + "\n" + name + "\n")
}

func (p *pk) inst(module, name string) *pk {
	return p.op(opInst).raw(module + "\n" + name + "\n")
}

// str pushes s with SHORT_BINUNICODE.
func (p *pk) str(s string) *pk {
	p.b = append(p.b, opShortBinUnicode, byte(len(s)))
	return p.raw(s)
}

func (p *pk) binUnicode(s string) *pk {
	p.b = append(p.b, opBinUnicode)
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	return p.raw(s)
}

func (p *pk) unicode(text string) *pk { return p.op(opUnicode).raw(text + "\n") }

func (p *pk) stackGlobal(module, name string) *pk {
	return p.str(module).str(name).op(opStackGlobal)
}

func (p *pk) memoize() *pk      { return p.op(opMemoize) }
func (p *pk) binPut(i byte) *pk { return p.op(opBinPut, i) }
func (p *pk) binGet(i byte) *pk { return p.op(opBinGet, i) }
func (p *pk) put(i int) *pk     { return p.op(opPut).raw(strconv.Itoa(i) + "\n") }
func (p *pk) get(i int) *pk     { return p.op(opGet).raw(strconv.Itoa(i) + "\n") }
func (p *pk) longBinGet(i uint32) *pk {
	p.b = append(p.b, opLongBinGet)
	p.b = binary.LittleEndian.AppendUint32(p.b, i)
	return p
}
func (p *pk) longBinPut(i uint32) *pk {
	p.b = append(p.b, opLongBinPut)
	p.b = binary.LittleEndian.AppendUint32(p.b, i)
	return p
}

// call1 applies the callable on the stack to one string argument.
func (p *pk) call1(arg string) *pk { return p.str(arg).op(opTuple1, opReduce) }

func (p *pk) frame(n uint64) *pk {
	p.b = append(p.b, opFrame)
	p.b = binary.LittleEndian.AppendUint64(p.b, n)
	return p
}

func (p *pk) stop() []byte { return append(p.b, opStop) }

// zipFile is one member for buildZip.
type zipFile struct {
	name   string
	data   []byte
	method uint16
}

func buildZip(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// npy builds a version 1 .npy file.
func npy(descr, shape string, data []byte) []byte {
	header := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	out = append(out, header...)
	return append(out, data...)
}
