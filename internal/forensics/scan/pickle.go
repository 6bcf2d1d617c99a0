package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The pickle interpreter follows the unpickler opcode by opcode, with a
// stack, marks and a memo, so that it sees what the unpickler would import
// and call: globals spelled out by GLOBAL and INST, globals assembled by
// STACK_GLOBAL from strings that may come through the memo, and the calls
// and attribute writes made on them. It executes nothing: values are
// descriptions (a string, a global, the result of calling something).

// Pickle opcodes, protocols 0 to 5 (Lib/pickle.py).
const (
	opMark            = '('
	opStop            = '.'
	opPop             = '0'
	opPopMark         = '1'
	opDup             = '2'
	opFloat           = 'F'
	opInt             = 'I'
	opBinInt          = 'J'
	opBinInt1         = 'K'
	opLong            = 'L'
	opBinInt2         = 'M'
	opNone            = 'N'
	opPersID          = 'P'
	opBinPersID       = 'Q'
	opReduce          = 'R'
	opString          = 'S'
	opBinString       = 'T'
	opShortBinString  = 'U'
	opUnicode         = 'V'
	opBinUnicode      = 'X'
	opAppend          = 'a'
	opBuild           = 'b'
	opGlobal          = 'c'
	opDict            = 'd'
	opEmptyDict       = '}'
	opAppends         = 'e'
	opGet             = 'g'
	opBinGet          = 'h'
	opInst            = 'i'
	opLongBinGet      = 'j'
	opList            = 'l'
	opEmptyList       = ']'
	opObj             = 'o'
	opPut             = 'p'
	opBinPut          = 'q'
	opLongBinPut      = 'r'
	opSetItem         = 's'
	opTuple           = 't'
	opEmptyTuple      = ')'
	opSetItems        = 'u'
	opBinFloat        = 'G'
	opProto           = 0x80
	opNewObj          = 0x81
	opExt1            = 0x82
	opExt2            = 0x83
	opExt4            = 0x84
	opTuple1          = 0x85
	opTuple2          = 0x86
	opTuple3          = 0x87
	opNewTrue         = 0x88
	opNewFalse        = 0x89
	opLong1           = 0x8a
	opLong4           = 0x8b
	opBinBytes        = 'B'
	opShortBinBytes   = 'C'
	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opBinBytes8       = 0x8e
	opEmptySet        = 0x8f
	opAddItems        = 0x90
	opFrozenSet       = 0x91
	opNewObjEx        = 0x92
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
	opByteArray8      = 0x96
	opNextBuffer      = 0x97
	opReadOnlyBuffer  = 0x98
)

var opNames = map[byte]string{
	opMark: "MARK", opStop: "STOP", opPop: "POP", opPopMark: "POP_MARK", opDup: "DUP",
	opFloat: "FLOAT", opInt: "INT", opBinInt: "BININT", opBinInt1: "BININT1", opLong: "LONG",
	opBinInt2: "BININT2", opNone: "NONE", opPersID: "PERSID", opBinPersID: "BINPERSID",
	opReduce: "REDUCE", opString: "STRING", opBinString: "BINSTRING",
	opShortBinString: "SHORT_BINSTRING", opUnicode: "UNICODE", opBinUnicode: "BINUNICODE",
	opAppend: "APPEND", opBuild: "BUILD", opGlobal: "GLOBAL", opDict: "DICT",
	opEmptyDict: "EMPTY_DICT", opAppends: "APPENDS", opGet: "GET", opBinGet: "BINGET",
	opInst: "INST", opLongBinGet: "LONG_BINGET", opList: "LIST", opEmptyList: "EMPTY_LIST",
	opObj: "OBJ", opPut: "PUT", opBinPut: "BINPUT", opLongBinPut: "LONG_BINPUT",
	opSetItem: "SETITEM", opTuple: "TUPLE", opEmptyTuple: "EMPTY_TUPLE", opSetItems: "SETITEMS",
	opBinFloat: "BINFLOAT", opProto: "PROTO", opNewObj: "NEWOBJ", opExt1: "EXT1", opExt2: "EXT2",
	opExt4: "EXT4", opTuple1: "TUPLE1", opTuple2: "TUPLE2", opTuple3: "TUPLE3",
	opNewTrue: "NEWTRUE", opNewFalse: "NEWFALSE", opLong1: "LONG1", opLong4: "LONG4",
	opBinBytes: "BINBYTES", opShortBinBytes: "SHORT_BINBYTES",
	opShortBinUnicode: "SHORT_BINUNICODE", opBinUnicode8: "BINUNICODE8",
	opBinBytes8: "BINBYTES8", opEmptySet: "EMPTY_SET", opAddItems: "ADDITEMS",
	opFrozenSet: "FROZENSET", opNewObjEx: "NEWOBJ_EX", opStackGlobal: "STACK_GLOBAL",
	opMemoize: "MEMOIZE", opFrame: "FRAME", opByteArray8: "BYTEARRAY8",
	opNextBuffer: "NEXT_BUFFER", opReadOnlyBuffer: "READONLY_BUFFER",
}

func isOpcode(b byte) bool {
	_, ok := opNames[b]
	return ok
}

// Bounds on the interpreter's state. Picklers keep the stack shallow
// (containers are filled in batches of 1000) and memoise each object once;
// a pickle past these is hostile or too big to vet, and an error.
const (
	maxStack    = 1 << 19
	maxMemo     = 1 << 20
	maxErrors   = 100 // malformed-structure findings before a pickle is abandoned
	highestProt = 5
)

// torchMagic is the first pickle of a legacy (non-zip) torch.save file:
// an int, written by LONG1 (as these bytes) or by LONG.
const (
	torchMagicLong1    = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
	torchMagic         = "119547037146038801333356"
	torchLegacyPickles = 5 // magic, protocol, sys info, the object, storage keys
)

type vkind uint8

const (
	vUnknown vkind = iota // cannot be known without running: a persistent object, a missing memo entry
	vNone
	vBool
	vInt
	vFloat
	vStr
	vBytes
	vTuple
	vList
	vDict
	vSet
	vGlobal // an imported object: s is the module, name the name
	vObject // what calling s returned
	vBuffer
)

var kindNames = [...]string{"unknown value", "None", "bool", "int", "float", "str", "bytes", "tuple", "list", "dict", "set", "global", "call result", "buffer"}

// value is what the interpreter knows about one stack or memo item.
type value struct {
	kind vkind
	long bool   // s holds only the first maxRetained bytes (an int: its digits are unknown)
	s    string // str or bytes content, int decimal digits, the global's module, or the callee of vObject
	name string // the global's name
	c    *node  // what it holds, when the VM keeps structure (see pickleVM.keep)
}

// node is what a container or a call result holds, shared by every copy of
// the value on the stack and in the memo, as the unpickler shares the
// object: SETITEMS on a memoised dict fills the dict the memo refers to.
type node struct {
	items []value // tuple, list or dict contents (dict: key, value, key, value...), or what SETITEM(S) and APPEND(S) added to a call result
	arg   value   // a call's argument tuple, or a persistent object's id
}

func (v value) describe() string {
	switch v.kind {
	case vStr:
		q := strconv.Quote(v.s)
		if v.long {
			q += "..."
		}
		return q
	case vInt:
		return "int " + v.s
	case vGlobal:
		return "global " + v.s + "." + v.name
	case vObject:
		return "result of calling " + v.s
	}
	return kindNames[v.kind]
}

func (v value) callee() string {
	if v.kind == vGlobal {
		return v.s + "." + v.name
	}
	return v.describe()
}

// pickleVM interprets one pickle at a time from r.
type pickleVM struct {
	s *fileScan
	r *opReader

	stack    []value
	marks    []int
	memo     memo
	frameEnd int64

	// What the current pickle did.
	sawProto    bool // started with (or contained) PROTO: definitely a pickle
	significant bool // imported a plausible global: a pickle that can run code
	stopped     bool // reached STOP
	abort       bool // gave up (limit, too many errors)
	limited     bool // hit the opcode limit: what follows was not seen
	errs        int
	straddled   bool
	result      value
	pending     []Finding // this pickle's findings, kept until it is known to be a pickle

	// keep makes the VM keep what containers hold and what calls were
	// given (value.c), for TorchTensors; the scan keeps only descriptions.
	// kept is the memory those values are charged, bounded by maxKept.
	keep bool
	kept int64
}

func (vm *pickleVM) reset() {
	vm.stack = vm.stack[:0]
	vm.marks = vm.marks[:0]
	vm.memo.reset()
	vm.frameEnd = -1
	vm.sawProto, vm.significant, vm.stopped, vm.abort, vm.straddled, vm.limited = false, false, false, false, false, false
	vm.errs = 0
	vm.kept = 0
	vm.result = value{}
	vm.pending = vm.pending[:0]
}

func (vm *pickleVM) report(f Finding) {
	vm.pending = append(vm.pending, f)
}

// malformed records a structural error: the unpickler would raise here.
func (vm *pickleVM) malformed(off int64, reason string) {
	vm.errs++
	vm.report(Finding{Severity: SeverityError, Rule: "pickle-malformed", Reason: reason, Offset: off})
	if vm.errs >= maxErrors {
		vm.report(Finding{Severity: SeverityError, Rule: "pickle-malformed", Reason: fmt.Sprintf("gave up after %d structural errors", maxErrors), Offset: off})
		vm.abort = true
	}
}

func (vm *pickleVM) fence() int {
	if n := len(vm.marks); n > 0 {
		return vm.marks[n-1]
	}
	return 0
}

func (vm *pickleVM) push(v value) {
	if len(vm.stack) >= maxStack {
		if !vm.abort {
			vm.malformed(vm.r.off, fmt.Sprintf("stack deeper than %d items", maxStack))
			vm.abort = true
		}
		return
	}
	vm.stack = append(vm.stack, v)
}

func (vm *pickleVM) pop(off int64, op byte) value {
	if len(vm.stack) <= vm.fence() {
		vm.malformed(off, "stack underflow at "+opNames[op])
		return value{}
	}
	v := vm.stack[len(vm.stack)-1]
	vm.stack = vm.stack[:len(vm.stack)-1]
	return v
}

func (vm *pickleVM) top(off int64, op byte) value {
	if len(vm.stack) <= vm.fence() {
		vm.malformed(off, "stack underflow at "+opNames[op])
		return value{}
	}
	return vm.stack[len(vm.stack)-1]
}

// popMark pops everything above the last mark, and the mark.
func (vm *pickleVM) popMark(off int64, op byte) []value {
	n := len(vm.marks)
	if n == 0 {
		vm.malformed(off, "no MARK before "+opNames[op])
		return nil
	}
	m := vm.marks[n-1]
	vm.marks = vm.marks[:n-1]
	items := vm.stack[m:len(vm.stack):len(vm.stack)]
	vm.stack = vm.stack[:m]
	return items
}

// global checks an import of module.name and returns it.
func (vm *pickleVM) global(off int64, module, name string, truncated bool) value {
	if isDottedIdentifier(module) && isDottedIdentifier(name) {
		vm.significant = true
	}
	if g := classifyGlobal(module, name, truncated); g.sev != "" {
		vm.report(Finding{Module: module, Name: name, Severity: g.sev, Rule: g.rule, Reason: g.reason, Offset: off})
	}
	return value{kind: vGlobal, s: module, name: name}
}

// call checks that a call goes to an imported global (which was checked
// when it was imported) and pushes its result.
func (vm *pickleVM) call(off int64, op byte, callee, args value) {
	if callee.kind != vGlobal {
		vm.report(Finding{Severity: SeveritySuspicious, Rule: "pickle-call-non-global", Offset: off,
			Reason: fmt.Sprintf("%s calls a %s, not an imported global", opNames[op], kindNames[callee.kind])})
	}
	v := value{kind: vObject, s: callee.callee()}
	if vm.keep && vm.retain(off, 1) {
		v.c = &node{arg: args}
	}
	vm.push(v)
}

// maxKept bounds the memory, in bytes, that kept structure may take.
const maxKept = 256 << 20

// retain charges n kept values (and the strings in vs) to the budget, and
// abandons the pickle once it is spent.
func (vm *pickleVM) retain(off int64, n int, vs ...value) bool {
	vm.kept += 64 * int64(n)
	for _, v := range vs {
		vm.kept += int64(len(v.s) + len(v.name))
	}
	if vm.kept <= maxKept {
		return true
	}
	if !vm.abort {
		vm.malformed(off, fmt.Sprintf("more than %d MiB of structure to keep", maxKept>>20))
		vm.abort = true
	}
	return false
}

// container returns a new tuple, list or dict holding a copy of items
// (which may alias the stack). A list or dict always gets a node when
// structure is kept, for APPEND(S) and SETITEM(S) to fill.
func (vm *pickleVM) container(off int64, kind vkind, items []value) value {
	v := value{kind: kind}
	if vm.keep && vm.retain(off, len(items)+1, items...) {
		v.c = &node{items: slices.Clone(items)}
	}
	return v
}

// fill adds items to the container or call result target, when structure
// is kept.
func (vm *pickleVM) fill(off int64, target value, items ...value) {
	if target.c != nil && vm.retain(off, len(items), items...) {
		target.c.items = append(target.c.items, items...)
	}
}

// persistent is the object that a persistent id stands for: only the
// loader knows it. Torch checkpoints name their storages this way.
func (vm *pickleVM) persistent(off int64, pid value) value {
	v := value{}
	if vm.keep && vm.retain(off, 1) {
		v.c = &node{arg: pid}
	}
	return v
}

// mutate checks the target of BUILD, SETITEM(S), APPEND(S) and ADDITEMS:
// applied to an imported module or class instead of a fresh object, they
// rewrite it for everything loaded afterwards.
func (vm *pickleVM) mutate(off int64, op byte, target value) {
	if target.kind == vGlobal {
		vm.report(Finding{Module: target.s, Name: target.name, Severity: SeverityDangerous, Rule: "pickle-global-mutation", Offset: off,
			Reason: fmt.Sprintf("%s modifies global %s.%s in place (attribute or item injection)", opNames[op], target.s, target.name)})
	}
}

func (vm *pickleVM) memoGet(off int64, op byte, idx uint64) {
	v, ok := vm.memo.get(idx)
	if !ok {
		vm.malformed(off, fmt.Sprintf("%s of a memo key that was never stored", opNames[op]))
		v = value{}
	}
	vm.push(v)
}

func (vm *pickleVM) memoPut(off int64, op byte, idx uint64) {
	v := vm.top(off, op)
	if vm.memo.n >= maxMemo {
		if _, ok := vm.memo.get(idx); !ok {
			vm.malformed(off, fmt.Sprintf("memo larger than %d entries", maxMemo))
			vm.abort = true
			return
		}
	}
	vm.memo.put(idx, v)
}

// memo is the unpickler's memo. Picklers number entries from 0 up, so the
// indices are kept in a slice; any other index goes to a map.
type memo struct {
	dense  []memoSlot
	sparse map[uint64]value
	n      int // entries
}

type memoSlot struct {
	v  value
	ok bool
}

func (m *memo) reset() {
	m.dense = m.dense[:0]
	if len(m.sparse) > 0 {
		m.sparse = nil
	}
	m.n = 0
}

func (m *memo) get(idx uint64) (value, bool) {
	if idx < uint64(len(m.dense)) {
		return m.dense[idx].v, m.dense[idx].ok
	}
	v, ok := m.sparse[idx]
	return v, ok
}

func (m *memo) put(idx uint64, v value) {
	if idx < uint64(len(m.dense)) {
		if !m.dense[idx].ok {
			m.n++
		}
		m.dense[idx] = memoSlot{v, true}
		return
	}
	if idx < uint64(len(m.dense))+1024 && idx < maxMemo {
		if _, ok := m.sparse[idx]; ok {
			delete(m.sparse, idx)
			m.n--
		}
		for uint64(len(m.dense)) < idx {
			m.dense = append(m.dense, memoSlot{})
		}
		m.dense = append(m.dense, memoSlot{v, true})
		m.n++
		return
	}
	if m.sparse == nil {
		m.sparse = map[uint64]value{}
	}
	if _, ok := m.sparse[idx]; !ok {
		m.n++
	}
	m.sparse[idx] = v
}

// run interprets opcodes until STOP, the end of the data, or a problem
// that makes the rest unreadable.
func (vm *pickleVM) run() {
	r := vm.r
	var buf [8]byte
	for !vm.abort {
		if vm.frameEnd >= 0 && r.off >= vm.frameEnd {
			vm.frameEnd = -1
		}
		off := r.off
		op, err := r.readByte()
		if err != nil {
			vm.malformed(off, "pickle ends before STOP (truncated)")
			return
		}
		if vm.s.opsLeft <= 0 {
			vm.malformed(off, fmt.Sprintf("stopped after %d opcodes (limit)", vm.s.opts.MaxPickleOps))
			vm.s.halt = true
			vm.limited = true
			return
		}
		vm.s.opsLeft--
		if vm.s.opsLeft&0xffff == 0 && vm.s.ctx.Err() != nil {
			vm.s.halt = true
			return
		}
		if err := vm.step(off, op, &buf); err != nil {
			if errors.Is(err, errTruncated) {
				vm.malformed(off, fmt.Sprintf("pickle ends inside the argument of %s (truncated)", opNames[op]))
			} else {
				vm.malformed(off, err.Error())
			}
			return
		}
		if vm.stopped {
			return
		}
		if vm.frameEnd >= 0 && r.off > vm.frameEnd && !vm.straddled {
			vm.straddled = true
			vm.report(Finding{Severity: SeveritySuspicious, Rule: "pickle-anomaly", Offset: off,
				Reason: opNames[op] + " crosses the end of its FRAME (no pickler writes this)"})
		}
	}
}

var errUnknownOpcode = errors.New("unknown opcode")

// step interprets one opcode. A returned error ends the pickle: the data
// after it cannot be read as opcodes.
func (vm *pickleVM) step(off int64, op byte, buf *[8]byte) error {
	r := vm.r
	switch op {
	case opMark:
		if len(vm.marks) >= maxStack {
			vm.malformed(off, "too many MARKs")
			vm.abort = true
			return nil
		}
		vm.marks = append(vm.marks, len(vm.stack))
	case opStop:
		vm.result = vm.pop(off, op)
		vm.stopped = true
	case opPop:
		if len(vm.stack) > vm.fence() {
			vm.stack = vm.stack[:len(vm.stack)-1]
		} else if len(vm.marks) > 0 {
			vm.marks = vm.marks[:len(vm.marks)-1]
		} else {
			vm.malformed(off, "stack underflow at POP")
		}
	case opPopMark:
		vm.popMark(off, op)
	case opDup:
		vm.push(vm.top(off, op))

	case opNone:
		vm.push(value{kind: vNone})
	case opNewTrue, opNewFalse:
		vm.push(value{kind: vBool})
	case opInt:
		b, long, err := r.line()
		if err != nil {
			return err
		}
		if s := string(b); s == "00" || s == "01" {
			vm.push(value{kind: vBool})
			return nil
		}
		digits, ok := parseTextInt(b, false)
		if !ok && !long {
			vm.malformed(off, "INT argument is not a decimal integer")
		}
		vm.push(value{kind: vInt, s: digits})
	case opLong:
		b, long, err := r.line()
		if err != nil {
			return err
		}
		digits, ok := parseTextInt(b, true)
		if !ok && !long {
			vm.malformed(off, "LONG argument is not a decimal integer")
		}
		vm.push(value{kind: vInt, s: digits})
	case opBinInt:
		b, err := r.fixed(buf, 4)
		if err != nil {
			return err
		}
		vm.push(value{kind: vInt, s: strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b))), 10)})
	case opBinInt1:
		b, err := r.fixed(buf, 1)
		if err != nil {
			return err
		}
		vm.push(value{kind: vInt, s: strconv.Itoa(int(b[0]))})
	case opBinInt2:
		b, err := r.fixed(buf, 2)
		if err != nil {
			return err
		}
		vm.push(value{kind: vInt, s: strconv.Itoa(int(binary.LittleEndian.Uint16(b)))})
	case opLong1, opLong4:
		var n uint64
		if op == opLong1 {
			b, err := r.fixed(buf, 1)
			if err != nil {
				return err
			}
			n = uint64(b[0])
		} else {
			b, err := r.fixed(buf, 4)
			if err != nil {
				return err
			}
			l := int32(binary.LittleEndian.Uint32(b))
			if l < 0 {
				return errors.New("LONG4 with a negative length")
			}
			n = uint64(l)
		}
		b, long, err := r.data(n)
		if err != nil {
			return err
		}
		v := value{kind: vInt, long: long}
		if !long {
			v.s = decimalLong(b)
		}
		vm.push(v)
	case opFloat:
		b, _, err := r.line()
		if err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			vm.malformed(off, "FLOAT argument is not a number")
		}
		vm.push(value{kind: vFloat})
	case opBinFloat:
		if _, err := r.fixed(buf, 8); err != nil {
			return err
		}
		vm.push(value{kind: vFloat})

	case opString:
		b, long, err := r.line()
		if err != nil {
			return err
		}
		s, derr := decodeStringLiteral(b, long)
		if derr != nil {
			vm.malformed(off, derr.Error())
		}
		vm.push(value{kind: vStr, s: s, long: long})
	case opBinString, opShortBinString:
		n, err := vm.length(op, buf)
		if err != nil {
			return err
		}
		b, long, err := r.data(n)
		if err != nil {
			return err
		}
		vm.push(value{kind: vStr, s: latin1(b), long: long})
	case opUnicode:
		b, long, err := r.line()
		if err != nil {
			return err
		}
		s, derr := decodeRawUnicodeEscape(b)
		if derr != nil && !long {
			vm.malformed(off, "UNICODE argument: "+derr.Error())
		}
		vm.push(value{kind: vStr, s: s, long: long})
	case opBinUnicode, opShortBinUnicode, opBinUnicode8:
		n, err := vm.length(op, buf)
		if err != nil {
			return err
		}
		b, long, err := r.data(n)
		if err != nil {
			return err
		}
		if !long && !utf8.Valid(b) && !validSurrogatePass(b) {
			vm.malformed(off, opNames[op]+" argument is not UTF-8")
		}
		vm.push(value{kind: vStr, s: string(b), long: long})
	case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		n, err := vm.length(op, buf)
		if err != nil {
			return err
		}
		b, long, err := r.data(n)
		if err != nil {
			return err
		}
		vm.push(value{kind: vBytes, s: string(b), long: long})

	case opEmptyTuple:
		vm.push(value{kind: vTuple})
	case opEmptyList:
		vm.push(vm.container(off, vList, nil))
	case opEmptyDict:
		vm.push(vm.container(off, vDict, nil))
	case opEmptySet:
		vm.push(value{kind: vSet})
	case opTuple:
		vm.push(vm.container(off, vTuple, vm.popMark(off, op)))
	case opTuple1, opTuple2, opTuple3:
		var items [3]value
		n := int(op-opTuple1) + 1
		for i := n - 1; i >= 0; i-- {
			items[i] = vm.pop(off, op)
		}
		vm.push(vm.container(off, vTuple, items[:n]))
	case opList:
		vm.push(vm.container(off, vList, vm.popMark(off, op)))
	case opDict:
		items := vm.popMark(off, op)
		if len(items)%2 != 0 {
			vm.malformed(off, "DICT with an odd number of items")
			items = items[:len(items)-1]
		}
		vm.push(vm.container(off, vDict, items))
	case opFrozenSet:
		vm.popMark(off, op)
		vm.push(value{kind: vSet})
	case opAppend:
		item := vm.pop(off, op)
		target := vm.top(off, op)
		vm.mutate(off, op, target)
		vm.fill(off, target, item)
	case opAppends:
		items := vm.popMark(off, op)
		target := vm.top(off, op)
		vm.mutate(off, op, target)
		vm.fill(off, target, items...)
	case opAddItems:
		vm.popMark(off, op)
		vm.mutate(off, op, vm.top(off, op))
	case opSetItem:
		v := vm.pop(off, op)
		k := vm.pop(off, op)
		target := vm.top(off, op)
		vm.mutate(off, op, target)
		vm.fill(off, target, k, v)
	case opSetItems:
		items := vm.popMark(off, op)
		if len(items)%2 != 0 {
			vm.malformed(off, "SETITEMS with an odd number of items")
			items = items[:len(items)-1]
		}
		target := vm.top(off, op)
		vm.mutate(off, op, target)
		vm.fill(off, target, items...)
	case opBuild:
		vm.pop(off, op)
		vm.mutate(off, op, vm.top(off, op))

	case opGlobal, opInst:
		mod, longM, err := r.line()
		if err != nil {
			return err
		}
		name, longN, err := r.line()
		if err != nil {
			return err
		}
		if !utf8.Valid(mod) || !utf8.Valid(name) {
			// The unpickler decodes both as UTF-8 and raises before importing.
			vm.malformed(off, opNames[op]+" argument is not UTF-8")
			vm.push(value{})
			return nil
		}
		g := vm.global(off, string(mod), string(name), longM || longN)
		if op == opInst {
			vm.call(off, op, g, vm.container(off, vTuple, vm.popMark(off, op)))
			return nil
		}
		vm.push(g)
	case opStackGlobal:
		name := vm.pop(off, op)
		mod := vm.pop(off, op)
		if mod.kind == vStr && name.kind == vStr {
			vm.push(vm.global(off, mod.s, name.s, mod.long || name.long))
			return nil
		}
		vm.significant = true
		vm.report(Finding{Module: mod.describe(), Name: name.describe(), Severity: SeverityDangerous, Rule: "pickle-dynamic-global", Offset: off,
			Reason: fmt.Sprintf("STACK_GLOBAL operands are not strings (module: %s, name: %s): the import target is decided at load time", kindNames[mod.kind], kindNames[name.kind])})
		vm.push(value{kind: vGlobal, s: mod.describe(), name: name.describe()})
	case opReduce, opNewObj:
		args := vm.pop(off, op)
		vm.call(off, op, vm.pop(off, op), args)
	case opNewObjEx:
		vm.pop(off, op) // keyword arguments
		args := vm.pop(off, op)
		vm.call(off, op, vm.pop(off, op), args)
	case opObj:
		items := vm.popMark(off, op)
		if len(items) == 0 {
			vm.malformed(off, "OBJ without a class")
			vm.push(value{})
			return nil
		}
		vm.call(off, op, items[0], vm.container(off, vTuple, items[1:]))
	case opPersID:
		b, long, err := r.line()
		if err != nil {
			return err
		}
		vm.push(vm.persistent(off, value{kind: vStr, s: string(b), long: long}))
	case opBinPersID:
		vm.push(vm.persistent(off, vm.pop(off, op)))
	case opExt1, opExt2, opExt4:
		n := map[byte]int{opExt1: 1, opExt2: 2, opExt4: 4}[op]
		b, err := r.fixed(buf, n)
		if err != nil {
			return err
		}
		var code uint32
		for i := n - 1; i >= 0; i-- {
			code = code<<8 | uint32(b[i])
		}
		vm.significant = true
		vm.report(Finding{Module: "copyreg", Name: fmt.Sprintf("extension %d", code), Severity: SeveritySuspicious, Rule: "pickle-extension", Offset: off,
			Reason: fmt.Sprintf("%s imports the global registered as extension code %d, which cannot be checked", opNames[op], code)})
		vm.push(value{kind: vGlobal, s: "copyreg", name: fmt.Sprintf("extension %d", code)})

	case opGet:
		b, _, err := r.line()
		if err != nil {
			return err
		}
		idx, perr := strconv.ParseUint(string(b), 10, 64)
		if perr != nil {
			vm.malformed(off, "GET index is not a number")
		}
		vm.memoGet(off, op, idx)
	case opBinGet:
		b, err := r.fixed(buf, 1)
		if err != nil {
			return err
		}
		vm.memoGet(off, op, uint64(b[0]))
	case opLongBinGet:
		b, err := r.fixed(buf, 4)
		if err != nil {
			return err
		}
		vm.memoGet(off, op, uint64(binary.LittleEndian.Uint32(b)))
	case opPut:
		b, _, err := r.line()
		if err != nil {
			return err
		}
		idx, perr := strconv.ParseUint(string(b), 10, 64)
		if perr != nil {
			vm.malformed(off, "PUT index is not a number")
			return nil
		}
		vm.memoPut(off, op, idx)
	case opBinPut:
		b, err := r.fixed(buf, 1)
		if err != nil {
			return err
		}
		vm.memoPut(off, op, uint64(b[0]))
	case opLongBinPut:
		b, err := r.fixed(buf, 4)
		if err != nil {
			return err
		}
		vm.memoPut(off, op, uint64(binary.LittleEndian.Uint32(b)))
	case opMemoize:
		vm.memoPut(off, op, uint64(vm.memo.n))

	case opProto:
		b, err := r.fixed(buf, 1)
		if err != nil {
			return err
		}
		if b[0] > highestProt {
			vm.malformed(off, fmt.Sprintf("unsupported pickle protocol %d", b[0]))
		} else {
			vm.sawProto = true
		}
	case opFrame:
		b, err := r.fixed(buf, 8)
		if err != nil {
			return err
		}
		n := binary.LittleEndian.Uint64(b)
		if vm.frameEnd >= 0 && r.off-9 < vm.frameEnd {
			vm.malformed(off, "FRAME starts before the previous frame ends")
		}
		if n > uint64(r.left()) {
			vm.malformed(off, "FRAME is longer than the data left")
			n = uint64(r.left())
		}
		vm.frameEnd = r.off + int64(n)
	case opNextBuffer:
		vm.report(Finding{Severity: SeveritySuspicious, Rule: "pickle-anomaly", Offset: off,
			Reason: "NEXT_BUFFER refers to an out-of-band buffer that a file cannot carry"})
		vm.push(value{kind: vBuffer})
	case opReadOnlyBuffer:
		vm.top(off, op)
	default:
		return fmt.Errorf("unknown opcode 0x%02x: the rest of the stream cannot be read", op)
	}
	return nil
}

// decimalLong writes the two's-complement little-endian integer of LONG1
// and LONG4 in decimal, as INT and LONG spell it.
func decimalLong(le []byte) string {
	if len(le) <= 8 {
		var u uint64
		for i := len(le) - 1; i >= 0; i-- {
			u = u<<8 | uint64(le[i])
		}
		if len(le) > 0 && le[len(le)-1]&0x80 != 0 {
			if len(le) < 8 {
				u |= math.MaxUint64 << (8 * len(le)) // sign-extend
			}
			return strconv.FormatInt(int64(u), 10)
		}
		return strconv.FormatUint(u, 10)
	}
	be := make([]byte, len(le))
	for i, b := range le {
		be[len(le)-1-i] = b
	}
	n := new(big.Int).SetBytes(be)
	if be[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(be))))
	}
	return n.String()
}

// length reads the length prefix of a string or bytes opcode.
func (vm *pickleVM) length(op byte, buf *[8]byte) (uint64, error) {
	switch op {
	case opShortBinString, opShortBinUnicode, opShortBinBytes:
		b, err := vm.r.fixed(buf, 1)
		if err != nil {
			return 0, err
		}
		return uint64(b[0]), nil
	case opBinString:
		b, err := vm.r.fixed(buf, 4)
		if err != nil {
			return 0, err
		}
		n := int32(binary.LittleEndian.Uint32(b))
		if n < 0 {
			return 0, errors.New("BINSTRING with a negative length")
		}
		return uint64(n), nil
	case opBinUnicode, opBinBytes:
		b, err := vm.r.fixed(buf, 4)
		if err != nil {
			return 0, err
		}
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	b, err := vm.r.fixed(buf, 8)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint64(b)
	if n > math.MaxInt64 {
		return 0, errTruncated
	}
	return n, nil
}

// validSurrogatePass accepts the UTF-8 encodings of lone surrogates that
// Python writes with "surrogatepass" (ED A0..BF xx).
func validSurrogatePass(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			if len(b) >= 3 && b[0] == 0xed && b[1] >= 0xa0 && b[1] <= 0xbf && b[2] >= 0x80 && b[2] <= 0xbf {
				n = 3
			} else {
				return false
			}
		}
		b = b[n:]
	}
	return true
}
