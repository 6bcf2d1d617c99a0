package scan

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// torchStateDict is a pickle like torch.save writes for {"w": tensor}.
func torchStateDict() *pk {
	p := newPickle(2)
	p.global("collections", "OrderedDict").binPut(0).op(opEmptyTuple, opReduce).binPut(1)
	p.op(opMark).str("w")
	p.global("torch._utils", "_rebuild_tensor_v2").binPut(2)
	p.op(opMark, opMark).str("storage").global("torch", "FloatStorage").str("0").str("cpu").op(opBinInt1, 4).op(opTuple, opBinPersID)
	p.op(opBinInt1, 0).op(opBinInt1, 4, opTuple1).op(opBinInt1, 1, opTuple1).op(opNewFalse)
	p.binGet(0).op(opEmptyTuple, opReduce).op(opTuple, opReduce)
	p.op(opSetItems)
	return p
}

func TestPickleAllowedTorchStateDictIsClean(t *testing.T) {
	format, v, fs := verdictOfData(t, torchStateDict().stop())
	if format != fmtPickle || v != VerdictClean {
		t.Fatalf("format %s verdict %s:%s", format, v, dump(fs))
	}
}

func TestPickleProtocol4AllowedIsClean(t *testing.T) {
	p := newPickle(4).frame(0)
	p.stackGlobal("torch._utils", "_rebuild_parameter").memoize()
	p.stackGlobal("numpy.core.multiarray", "_reconstruct").memoize()
	p.stackGlobal("builtins", "set").memoize().op(opEmptyTuple, opReduce)
	data := p.stop()
	binary.LittleEndian.PutUint64(data[3:], uint64(len(data)-11))
	if _, v, fs := verdictOfData(t, data); v != VerdictClean {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestPickleOpcodeFamilies(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want Verdict
		rule string
	}{
		{"GLOBAL", newPickle(0).global("os", "system").call1("id").stop(), VerdictDangerous, "pickle-denied-global"},
		{"STACK_GLOBAL", newPickle(4).stackGlobal("subprocess", "check_output").call1("id").stop(), VerdictDangerous, "pickle-denied-global"},
		{"INST", newPickle(0).op(opMark).str("id").inst("os", "system").stop(), VerdictDangerous, "pickle-denied-global"},
		{"OBJ", newPickle(1).op(opMark).global("nt", "system").str("dir").op(opObj).stop(), VerdictDangerous, "pickle-denied-global"},
		{"NEWOBJ", newPickle(2).global("socket", "socket").op(opEmptyTuple, opNewObj).stop(), VerdictDangerous, "pickle-denied-global"},
		{"NEWOBJ_EX", newPickle(4).stackGlobal("ctypes", "CDLL").op(opEmptyTuple, opEmptyDict, opNewObjEx).stop(), VerdictDangerous, "pickle-denied-global"},
		{"REDUCE of an unlisted global", newPickle(2).global("mypackage.model", "Net").op(opEmptyTuple, opReduce).stop(), VerdictSuspicious, "pickle-unlisted-global"},
		{"BUILD on a module", newPickle(2).global("torch", "_utils").op(opEmptyDict).str("x").str("y").op(opSetItem, opBuild).stop(), VerdictDangerous, "pickle-global-mutation"},
		{"SETITEM on a global", newPickle(2).global("collections", "OrderedDict").str("k").str("v").op(opSetItem).stop(), VerdictDangerous, "pickle-global-mutation"},
		{"EXT1", newPickle(2).op(opExt1, 7).op(opEmptyTuple, opReduce).stop(), VerdictSuspicious, "pickle-extension"},
		{"EXT2", newPickle(2).op(opExt2, 7, 1).stop(), VerdictSuspicious, "pickle-extension"},
		{"EXT4", newPickle(2).op(opExt4, 7, 1, 0, 0).stop(), VerdictSuspicious, "pickle-extension"},
		{"call of a call result", newPickle(2).global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opEmptyTuple, opReduce).stop(), VerdictSuspicious, "pickle-call-non-global"},
		{"NEXT_BUFFER", newPickle(5).op(opNextBuffer, opReadOnlyBuffer).stop(), VerdictSuspicious, "pickle-anomaly"},
		{"dunder name", newPickle(4).stackGlobal("builtins", "object.__subclasses__").stop(), VerdictDangerous, "pickle-denied-global"},
		{"qualified dangerous method", newPickle(4).stackGlobal("pathlib", "Path.write_text").stop(), VerdictDangerous, "pickle-denied-global"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			format, v, fs := verdictOfData(t, tc.data)
			if format != fmtPickle || v != tc.want {
				t.Fatalf("format %s verdict %s, want pickle %s:%s", format, v, tc.want, dump(fs))
			}
			found := false
			for _, f := range fs {
				found = found || f.Rule == tc.rule
			}
			if !found {
				t.Fatalf("no %s finding:%s", tc.rule, dump(fs))
			}
		})
	}
}

// Every scalar, string, container and memo opcode of protocols 0 to 5,
// used the way picklers do, gives a clean pickle.
func TestPickleDataOpcodesAreClean(t *testing.T) {
	p := newPickle(5).frame(0)
	p.op(opMark)
	p.op(opNone, opNewTrue, opNewFalse)
	p.op(opInt).raw("01\n").op(opInt).raw("-42\n").op(opLong).raw("12345678901234567890L\n")
	p.op(opBinInt, 1, 2, 3, 4).op(opBinInt1, 5).op(opBinInt2, 6, 7)
	p.op(opLong1, 2, 0xff, 0x7f).op(opLong4, 1, 0, 0, 0, 9)
	p.op(opFloat).raw("1.5\n").op(opBinFloat, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f)
	p.op(opString).raw("'a\\'b'\n").op(opBinString, 2, 0, 0, 0).raw("ab").op(opShortBinString, 1).raw("c")
	p.unicode(`caf\u00e9`).binUnicode("x").str("y")
	p.op(opBinUnicode8, 1, 0, 0, 0, 0, 0, 0, 0).raw("z")
	p.op(opBinBytes, 1, 0, 0, 0).raw("b").op(opShortBinBytes, 1).raw("b")
	p.op(opBinBytes8, 1, 0, 0, 0, 0, 0, 0, 0).raw("b").op(opByteArray8, 1, 0, 0, 0, 0, 0, 0, 0).raw("b")
	p.op(opEmptyTuple, opEmptyList, opEmptyDict, opEmptySet)
	p.op(opBinInt1, 1, opTuple1).op(opBinInt1, 1, opBinInt1, 2, opTuple2).op(opBinInt1, 1, opBinInt1, 2, opBinInt1, 3, opTuple3)
	p.op(opMark, opBinInt1, 1, opTuple).op(opMark, opBinInt1, 1, opList).op(opMark, opBinInt1, 1, opBinInt1, 2, opDict)
	p.op(opMark, opBinInt1, 1, opFrozenSet)
	p.op(opEmptyList, opBinInt1, 1, opAppend).op(opMark, opBinInt1, 2, opAppends)
	p.op(opEmptyDict, opBinInt1, 1, opBinInt1, 2, opSetItem).op(opMark, opBinInt1, 3, opBinInt1, 4, opSetItems)
	p.op(opEmptySet, opMark, opBinInt1, 1, opAddItems)
	p.op(opDup, opPop).op(opMark, opNone, opPopMark)
	p.memoize().binPut(9).longBinPut(10).put(11).binGet(9).longBinGet(10).get(11)
	p.op(opTuple)
	data := p.stop()
	binary.LittleEndian.PutUint64(data[3:], uint64(len(data)-11))
	format, v, fs := verdictOfData(t, data)
	if format != fmtPickle || v != VerdictClean {
		t.Fatalf("format %s verdict %s:%s", format, v, dump(fs))
	}
}

func TestPickleMemoIndirectionForStackGlobal(t *testing.T) {
	// The module and name are stored in the memo first and fetched back
	// for STACK_GLOBAL, as in the "Safe Pickle" CTF (picklescan issue 22).
	for _, tc := range []struct {
		name string
		p    *pk
	}{
		{"BINPUT/BINGET", newPickle(4).str("os").binPut(2).op(opPop).str("system").binPut(3).op(opPop).binGet(2).binGet(3)},
		{"PUT/GET", newPickle(0).unicode("os").put(2).op(opPop).unicode("system").put(3).op(opPop).get(2).get(3)},
		{"LONG_BINPUT/LONG_BINGET", newPickle(4).str("os").longBinPut(70000).op(opPop).str("system").longBinPut(70001).op(opPop).longBinGet(70000).longBinGet(70001)},
		{"MEMOIZE", newPickle(4).str("os").memoize().op(opPop).str("system").memoize().op(opPop).binGet(0).binGet(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.p.op(opStackGlobal).call1("id").stop()
			_, v, fs := verdictOfData(t, data)
			if v != VerdictDangerous || !hasFinding(fs, "pickle-denied-global", SeverityDangerous, "os.system") {
				t.Fatalf("verdict %s:%s", v, dump(fs))
			}
		})
	}
}

func TestPickleDeniedGlobalBehindMemo(t *testing.T) {
	// The global is imported once, stored, and called later through the
	// memo, well after an innocent-looking first use.
	p := newPickle(2).global("builtins", "eval").binPut(5).op(opPop)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opPop)
	p.binGet(5).call1("1+1")
	_, v, fs := verdictOfData(t, p.stop())
	if v != VerdictDangerous || !hasFinding(fs, "pickle-denied-global", SeverityDangerous, "builtins.eval") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestPickleTextOpcodesDecodeEscapes(t *testing.T) {
	// What the unpickler decodes, the scanner must decode: STRING escapes
	// and UNICODE's \u escapes can both spell "os".
	for _, tc := range []struct{ name, module string }{
		{"STRING hex escape", "S'\\x6fs'\n"},
		{"STRING octal escape", "S'\\157s'\n"},
		{"UNICODE escape", "Vo\\u0073\n"},
		{"UNICODE long escape", "V\\U0000006fs\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPickle(0).raw(tc.module).str("system").op(opStackGlobal)
			_, v, fs := verdictOfData(t, p.stop())
			if v != VerdictDangerous || !hasFinding(fs, "pickle-denied-global", SeverityDangerous, "os.system") {
				t.Fatalf("verdict %s:%s", v, dump(fs))
			}
		})
	}
}

func TestPickleEveryDottedPrefixIsDenied(t *testing.T) {
	tests := []struct{ module, name string }{
		{"os", "system"},
		{"os.path", "join"},
		{"os", "path.join"},
		{"posix", "system"},
		{"nt", "system"},
		{"subprocess", "Popen"},
		{"builtins", "eval"},
		{"__builtin__", "exec"},
		{"builtins", "getattr"},
		{"builtins", "__import__"},
		{"builtins", "open"},
		{"builtins", "compile"},
		{"builtins", "breakpoint"},
		{"torch", "load"},
		{"torch.serialization", "load"},
		{"torch.hub", "load"},
		{"torch", "hub.load"},
		{"numpy", "load"},
		{"numpy.lib.npyio", "load"},
		{"runpy", "run_path"},
		{"pty", "spawn"},
		{"socket", "create_connection"},
		{"shutil", "rmtree"},
		{"sys", "modules"},
		{"importlib", "import_module"},
		{"importlib.machinery", "SourceFileLoader"},
		{"pickle", "loads"},
		{"_pickle", "loads"},
		{"code", "InteractiveInterpreter.runcode"},
		{"types", "FunctionType"},
		{"ctypes", "CDLL"},
		{"webbrowser", "open"},
		{"asyncio.subprocess", "create_subprocess_shell"},
		{"operator", "attrgetter"},
		{"operator", "methodcaller"},
		{"_operator", "attrgetter"},
		{"pip", "main"},
		{"pip._internal", "main"},
		{"bdb", "Bdb.run"},
		{"pdb", "Pdb"},
		{"timeit", "timeit"},
		{"cProfile", "run"},
		{"profile", "Profile.runctx"},
		{"trace", "Trace.run"},
		{"distutils.file_util", "write_file"},
		{"setuptools", "setup"},
		{"venv", "create"},
		{"httplib", "HTTPSConnection"},
		{"urllib.request", "urlopen"},
		{"requests.api", "get"},
		{"ssl", "get_server_certificate"},
		{"_io", "FileIO"},
		{"logging", "FileHandler"},
		{"dill", "loads"},
		{"marshal", "loads"},
	}
	for _, tc := range tests {
		g := classifyGlobal(tc.module, tc.name, false)
		if g.sev != SeverityDangerous {
			t.Errorf("%s.%s: %q %s", tc.module, tc.name, g.sev, g.reason)
		}
	}
	// Prefixes match at dots only: neither "osmium" nor "codecs" is "os"
	// or "code".
	for _, tc := range []struct{ module, name string }{{"osmium", "x"}, {"codecs", "lookup"}, {"typesafe", "x"}} {
		if g := classifyGlobal(tc.module, tc.name, false); g.sev != SeveritySuspicious {
			t.Errorf("%s.%s: %q %s", tc.module, tc.name, g.sev, g.reason)
		}
	}
	// And a long name keeps its prefix: still denied.
	if g := classifyGlobal("os", strings.Repeat("x", 600), true); g.sev != SeverityDangerous {
		t.Errorf("truncated os global: %q", g.sev)
	}
}

func TestPickleAllowList(t *testing.T) {
	for full := range allowedGlobals {
		i := strings.LastIndexByte(full, '.')
		if g := classifyGlobal(full[:i], full[i+1:], false); g.sev != "" {
			t.Errorf("%s: %s %s", full, g.sev, g.reason)
		}
	}
	if g := classifyGlobal("__builtin__", "set", false); g.sev != "" {
		t.Errorf("__builtin__.set (Python 2 name): %s", g.sev)
	}
	if g := classifyGlobal("collections", "OrderedDict.fromkeys", false); g.sev == "" {
		t.Error("an attribute of an allowed class is not itself allowed")
	}
}

func TestPickleTruncatedStream(t *testing.T) {
	full := newPickle(2).global("collections", "OrderedDict").op(opEmptyTuple, opReduce).stop()
	for cut := 3; cut < len(full); cut++ {
		format, v, fs := verdictOfData(t, full[:cut])
		if format != fmtPickle || v != VerdictError || !hasFinding(fs, "pickle-malformed", SeverityError, "truncated") {
			t.Fatalf("cut at %d: format %s verdict %s:%s", cut, format, v, dump(fs))
		}
	}
	// A broken stream that already imported a denied global is dangerous.
	broken := newPickle(0).global("builtins", "exec").op(opMark, opBinUnicode).raw(">\nf = open(").b
	_, v, fs := verdictOfData(t, broken)
	if v != VerdictDangerous || !hasFinding(fs, "pickle-malformed", SeverityError, "truncated") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestPickleUnknownOpcode(t *testing.T) {
	data := newPickle(2).op(opNone, 0xff).stop()
	format, v, fs := verdictOfData(t, data)
	if format != fmtPickle || v != VerdictError || !hasFinding(fs, "pickle-malformed", SeverityError, "unknown opcode 0xff") {
		t.Fatalf("format %s verdict %s:%s", format, v, dump(fs))
	}
}

func TestPickleStructuralErrors(t *testing.T) {
	tests := []struct {
		name, reason string
		data         []byte
	}{
		{"missing memo key", "never stored", newPickle(2).binGet(7).stop()},
		{"stack underflow", "underflow", newPickle(2).op(opReduce).stop()},
		{"no mark", "no MARK", newPickle(2).op(opTuple).stop()},
		{"bad protocol", "protocol 9", append([]byte{opProto, 9}, newPickle(0).global("collections", "OrderedDict").stop()...)},
		{"frame too long", "FRAME", newPickle(4).frame(1000).op(opNone).stop()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, v, fs := verdictOfData(t, tc.data)
			if v != VerdictError || !hasFinding(fs, "pickle-malformed", SeverityError, tc.reason) {
				t.Fatalf("verdict %s:%s", v, dump(fs))
			}
		})
	}
}

func TestPickleMissingMemoKeyInStackGlobalIsDangerous(t *testing.T) {
	// keyerror-exploit: the operand comes from a memo key that does not
	// exist, so the import target cannot be known.
	data := newPickle(4).binGet(9).str("system").op(opStackGlobal).stop()
	_, v, fs := verdictOfData(t, data)
	if v != VerdictDangerous || !hasFinding(fs, "pickle-dynamic-global", SeverityDangerous, "not strings") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestPickleSeveralPicklesInOneStream(t *testing.T) {
	benign := newPickle(2).op(opEmptyList).stop()
	evil := newPickle(2).global("os", "system").call1("id").stop()
	data := append(append([]byte{}, benign...), evil...)
	_, v, fs := verdictOfData(t, data)
	if v != VerdictDangerous {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
	// Junk after the last pickle is reported, not ignored.
	_, v, fs = verdictOfData(t, append(evil, "\n\n\t\t"...))
	if v != VerdictDangerous || !hasFinding(fs, "trailing-data", SeveritySuspicious, "4 bytes") {
		t.Fatalf("verdict %s:%s", v, dump(fs))
	}
}

func TestPickleLegacyTorchStopsAtStorage(t *testing.T) {
	p := newPickle(2).op(opLong1, 10).raw(torchMagicLong1).stop()
	p = append(p, newPickle(2).op(opBinInt2, 0xe9, 0x03).stop()...)
	p = append(p, newPickle(2).op(opEmptyDict).stop()...)
	p = append(p, torchStateDict().stop()...)
	p = append(p, newPickle(2).op(opMark).str("0").op(opList).stop()...)
	p = append(p, "\x03\x00\x00\x00\x00\x00\x00\x00raw storage bytes \x80\x02 that are not opcodes"...)
	format, v, fs := verdictOfData(t, p)
	if format != fmtTorchLegacy || v != VerdictClean {
		t.Fatalf("format %s verdict %s:%s", format, v, dump(fs))
	}
}

func TestPickleNotAPickle(t *testing.T) {
	// Protocol 0 pickles have no magic, so text that starts with an opcode
	// byte must not be taken for a broken pickle.
	for _, text := range []string{
		"cmod\n\xf8\n",
		"Version 1.0\nHello",
		"little",
		"Please read me.\n",
		"(lp0\nVa\np1\n", // a truncated list: no import, harmless
	} {
		format, v, fs := verdictOfData(t, []byte(text))
		if format != fmtUnknown || v != VerdictClean {
			t.Errorf("%q: format %s verdict %s:%s", text, format, v, dump(fs))
		}
	}
	// A whole protocol 0 pickle without globals is a clean pickle.
	if format, v, _ := verdictOfData(t, []byte("(lp0\nVa\np1\na.")); format != fmtPickle || v != VerdictClean {
		t.Errorf("protocol 0 list: %s %s", format, v)
	}
}

func TestPickleOpcodeLimit(t *testing.T) {
	p := newPickle(2)
	for range 1000 {
		p.op(opNone, opPop)
	}
	_, fs := scanData(t, p.stop(), Options{MaxPickleOps: 100})
	if !hasFinding(fs, "pickle-malformed", SeverityError, "limit") {
		t.Fatalf("no limit finding:%s", dump(fs))
	}
	// Without PROTO and before any global, a stream that hits the limit is
	// still a pickle: the global may come after the cut.
	p0 := newPickle(0)
	for range 1000 {
		p0.op(opNone, opPop)
	}
	format, fs := scanData(t, p0.global("os", "system").stop(), Options{MaxPickleOps: 100})
	if format != fmtPickle || worstVerdict(fs) != VerdictError {
		t.Fatalf("protocol 0 past the limit: %s:%s", format, dump(fs))
	}
}

func TestPickleHugeDeclaredLengthsAllocateNothing(t *testing.T) {
	for _, op := range []byte{opBinUnicode8, opBinBytes8, opByteArray8} {
		data := append([]byte{opProto, 4, op}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
		allocs := testing.AllocsPerRun(5, func() { scanData(t, data, Options{}) })
		if _, v, _ := verdictOfData(t, data); v != VerdictError {
			t.Errorf("%s: verdict %s", opNames[op], v)
		}
		if allocs > 200 {
			t.Errorf("%s: %v allocations", opNames[op], allocs)
		}
	}
}

func TestPickleFrameStraddle(t *testing.T) {
	p := newPickle(4).frame(3).op(opShortBinUnicode, 4).raw("abcd").op(opStop)
	_, _, fs := verdictOfData(t, p.b)
	if !hasFinding(fs, "pickle-anomaly", SeveritySuspicious, "FRAME") {
		t.Fatalf("no frame finding:%s", dump(fs))
	}
}

func TestPickleStackAndMemoLimits(t *testing.T) {
	deep := append([]byte{opProto, 2}, bytes.Repeat([]byte{opNone}, maxStack+10)...)
	if _, fs := scanData(t, append(deep, opStop), Options{}); !hasFinding(fs, "pickle-malformed", SeverityError, "stack deeper") {
		t.Errorf("deep stack:%s", dump(fs))
	}
	wide := append([]byte{opProto, 4, opNone}, bytes.Repeat([]byte{opMemoize}, maxMemo+10)...)
	if _, fs := scanData(t, append(wide, opStop), Options{}); !hasFinding(fs, "pickle-malformed", SeverityError, "memo larger") {
		t.Errorf("big memo:%s", dump(fs))
	}
}
