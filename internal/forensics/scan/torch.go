package scan

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// A PyTorch zip checkpoint describes its tensors in data.pkl: each is a
// call of a torch._utils rebuild function on a storage (a persistent id
// naming the record data/<key>), an offset, a size and a stride. Reading
// those calls needs the same interpreter as finding code in the pickle, so
// the scanner offers it, with the scanner's checks in front: a pickle is
// read only if a scan would call it clean.

// ErrUnsafePickle is TorchTensors' error for a pickle that imports anything
// beyond the allow list, or does something no tensor checkpoint does.
var ErrUnsafePickle = errors.New("pickle is not a plain tensor checkpoint")

// Bounds of the walk over the unpickled structure. Checkpoints nest a few
// dicts deep; sharing (the same dict under two keys) can multiply paths.
const (
	maxTorchDepth = 256
	maxTorchSteps = 1 << 22
)

// TorchTensors lists the tensors that the pickle in r (size bytes, the
// data.pkl of a PyTorch zip checkpoint) rebuilds, in the order it rebuilds
// them, without executing or unpickling anything: the scanner's interpreter
// follows the opcodes and keeps what containers hold and what calls are
// given.
//
// A tensor is named by its key path in the saved object: dict keys and
// list indices joined with dots ("encoder.layers.0.weight"), "(root)" for a
// tensor saved on its own. Tensors rebuilt by a function other than
// _rebuild_tensor(_v2, _v3), or with arguments of unexpected types, are
// listed with Unsupported set. Values that are not tensors are skipped.
//
// The pickle is refused with ErrUnsafePickle when a scan would not call it
// clean: a global beyond the allow list (os.system, a model class...), a
// call of something that is not an imported global, data after its STOP.
// A truncated or malformed pickle is an error. Interpretation is bounded
// like a scan's (Options' default opcode limit, the stack and memo limits)
// and keeps at most 256 MiB of structure.
func TorchTensors(r io.Reader, size int64) ([]tensors.TorchTensor, error) {
	s := newFileScan(context.Background(), Options{}.withDefaults())
	vm := &pickleVM{s: s, r: &opReader{br: bufio.NewReader(r), size: size}, keep: true}
	vm.reset()
	vm.run()
	if vm.stopped && vm.r.left() > 0 {
		vm.report(Finding{Severity: SeveritySuspicious, Rule: "trailing-data", Offset: vm.r.off,
			Reason: fmt.Sprintf("%d bytes follow the pickle's STOP", vm.r.left())})
	}
	// What the pickle imports comes first; then a read error, which
	// explains a pickle cut short better than the truncation does.
	err := refusal(vm.pending)
	if vm.r.err != nil && !errors.Is(err, ErrUnsafePickle) {
		return nil, fmt.Errorf("read pickle: %w", vm.r.err)
	}
	if err != nil {
		return nil, err
	}
	if !vm.stopped {
		return nil, errors.New("pickle ends before STOP")
	}
	w := torchWalker{onPath: map[*node]bool{}}
	w.walk(vm.result, "", 0)
	if w.err != nil {
		return nil, w.err
	}
	return w.out, nil
}

// refusal turns the findings that keep a pickle from being read into an
// error naming the worst few.
func refusal(fs []Finding) error {
	var bad []Finding
	for _, f := range fs {
		if f.Severity.rank() > 0 {
			bad = append(bad, f)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.SortStableFunc(bad, func(a, b Finding) int { return cmp.Compare(b.Severity.rank(), a.Severity.rank()) })
	malformed := bad[0].Severity == SeverityError
	reasons := make([]string, 0, 4)
	for _, f := range bad[:min(len(bad), 3)] {
		r := fmt.Sprintf("%s (at byte %d)", f.Reason, f.Offset)
		if !malformed {
			r = string(f.Severity) + ": " + r
		}
		reasons = append(reasons, r)
	}
	if len(bad) > 3 {
		reasons = append(reasons, fmt.Sprintf("%d more", len(bad)-3))
	}
	if malformed {
		return fmt.Errorf("malformed pickle: %s", strings.Join(reasons, "; "))
	}
	return fmt.Errorf("%w, not read: %s", ErrUnsafePickle, strings.Join(reasons, "; "))
}

// torchWalker collects the tensors in an interpreted pickle's result.
type torchWalker struct {
	out    []tensors.TorchTensor
	steps  int
	onPath map[*node]bool // containers being walked: one that holds itself is not entered again
	err    error
}

func (w *torchWalker) walk(v value, name string, depth int) {
	if w.err != nil || v.c == nil || w.onPath[v.c] {
		return
	}
	if w.steps++; w.steps > maxTorchSteps {
		w.err = fmt.Errorf("pickle structure has more than %d paths to walk", maxTorchSteps)
		return
	}
	if depth > maxTorchDepth {
		w.err = fmt.Errorf("pickle structure nests deeper than %d", maxTorchDepth)
		return
	}
	w.onPath[v.c] = true
	defer delete(w.onPath, v.c)
	switch v.kind {
	case vObject:
		if isTorchRebuild(v.s) {
			if name == "" {
				name = "(root)"
			}
			w.out = append(w.out, torchTensor(name, v, 0))
			return
		}
		// An OrderedDict (or any allowed object) filled by SETITEMS.
		w.pairs(v.c.items, name, depth)
	case vDict:
		w.pairs(v.c.items, name, depth)
	case vList, vTuple:
		for i, it := range v.c.items {
			w.walk(it, joinName(name, strconv.Itoa(i)), depth+1)
		}
	}
}

func (w *torchWalker) pairs(items []value, name string, depth int) {
	for i := 0; i+1 < len(items); i += 2 {
		w.walk(items[i+1], joinName(name, keyName(items[i])), depth+1)
	}
}

func joinName(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func keyName(k value) string {
	switch k.kind {
	case vStr, vInt:
		if k.long {
			return k.s + "..."
		}
		return k.s
	}
	return "[" + k.describe() + "]"
}

func isTorchRebuild(callee string) bool {
	return strings.HasPrefix(callee, "torch._utils._rebuild_") || callee == "torch._tensor._rebuild_from_type_v2"
}

// torchTensor reads one rebuild call. depth counts the wrappers
// (parameters, tensor subclasses) around the tensor itself.
func torchTensor(name string, call value, depth int) tensors.TorchTensor {
	t := tensors.TorchTensor{Name: name}
	args := call.c.arg
	switch fn := strings.TrimPrefix(call.s, "torch._utils."); {
	case depth > 4:
		t.Unsupported = "rebuild calls nest too deep"
	case fn == "_rebuild_parameter" || fn == "_rebuild_parameter_with_state":
		// (data, requires_grad, backward_hooks[, state]): data is the tensor.
		if data := item(args, 0); data.kind == vObject && data.c != nil && isTorchRebuild(data.s) {
			return torchTensor(name, data, depth+1)
		}
		t.Unsupported = fn + " is not given a rebuilt tensor"
	case call.s == "torch._tensor._rebuild_from_type_v2":
		// (func, new_type, args, state): func(*args) is the tensor.
		if f := item(args, 0); f.kind == vGlobal && isTorchRebuild(f.callee()) {
			return torchTensor(name, value{kind: vObject, s: f.callee(), c: &node{arg: item(args, 2)}}, depth+1)
		}
		t.Unsupported = "_rebuild_from_type_v2 does not call a tensor rebuild function"
	case fn == "_rebuild_tensor" || fn == "_rebuild_tensor_v2" || fn == "_rebuild_tensor_v3":
		// (storage, storage_offset, size, stride, ...); v3 adds the dtype
		// after requires_grad and backward_hooks.
		var ok bool
		if t.StorageType, t.StorageKey, t.StorageNumel, ok = torchStorage(item(args, 0)); !ok {
			t.Unsupported = fn + " is not given a storage record"
			return t
		}
		off, okOff := uintOf(item(args, 1))
		shape, okShape := uintsOf(item(args, 2))
		stride, okStride := uintsOf(item(args, 3))
		if !okOff || !okShape || !okStride || len(shape) != len(stride) {
			t.Unsupported = fn + " arguments are not an offset, a size and a stride of one rank"
			return t
		}
		t.Offset, t.Shape, t.Stride = off, shape, stride
		if fn == "_rebuild_tensor_v3" {
			if d := item(args, 6); d.kind == vGlobal {
				t.DType = d.callee()
			} else {
				t.Unsupported = "_rebuild_tensor_v3 is not given a dtype"
			}
		}
	default:
		t.Unsupported = "rebuilt by " + call.s + ", not as a dense tensor"
		t.StorageType, t.StorageKey, t.StorageNumel, _ = torchStorage(item(args, 0))
	}
	return t
}

// torchStorage reads the persistent id torch.save gives a storage:
// ("storage", storage_type, key, location, numel).
func torchStorage(v value) (typ, key string, numel uint64, ok bool) {
	if v.kind != vUnknown || v.c == nil {
		return "", "", 0, false
	}
	pid := v.c.arg
	tag, st, k := item(pid, 0), item(pid, 1), item(pid, 2)
	numel, okN := uintOf(item(pid, 4))
	if tag.kind != vStr || tag.s != "storage" || st.kind != vGlobal || k.kind != vStr || k.long || !okN {
		return "", "", 0, false
	}
	return st.callee(), k.s, numel, true
}

// item is the i-th item of a tuple or list, or an unknown value.
func item(v value, i int) value {
	if (v.kind != vTuple && v.kind != vList) || v.c == nil || i >= len(v.c.items) {
		return value{}
	}
	return v.c.items[i]
}

func uintOf(v value) (uint64, bool) {
	if v.kind != vInt || v.long {
		return 0, false
	}
	n, err := strconv.ParseUint(v.s, 10, 64)
	return n, err == nil
}

// uintsOf reads a tuple of non-negative ints (a torch.Size is pickled as
// one; torch.Size(tuple) is accepted too).
func uintsOf(v value) ([]uint64, bool) {
	if v.kind == vObject && v.s == "torch.Size" && v.c != nil {
		v = item(v.c.arg, 0)
	}
	if v.kind != vTuple && v.kind != vList {
		return nil, false
	}
	out := []uint64{}
	if v.c == nil {
		return out, true
	}
	for _, it := range v.c.items {
		n, ok := uintOf(it)
		if !ok {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}
