package scan

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// torchTensorCall pushes _rebuild_tensor_v2(storage, offset, size, stride,
// False, OrderedDict()) with a FloatStorage of numel elements under key.
func (p *pk) torchTensorCall(key string, numel byte, offset byte, shape, stride []byte) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark, opMark).str("storage").global("torch", "FloatStorage").str(key).str("cpu").op(opBinInt1, numel).op(opTuple, opBinPersID)
	p.op(opBinInt1, offset)
	p.op(opMark)
	for _, d := range shape {
		p.op(opBinInt1, d)
	}
	p.op(opTuple, opMark)
	for _, s := range stride {
		p.op(opBinInt1, s)
	}
	p.op(opTuple, opNewFalse)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	return p.op(opTuple, opReduce)
}

func torchTensorsOf(t *testing.T, data []byte) []tensors.TorchTensor {
	t.Helper()
	ts, err := TorchTensors(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestTorchTensorsStateDict(t *testing.T) {
	ts := torchTensorsOf(t, torchStateDict().stop())
	want := []tensors.TorchTensor{{Name: "w", StorageType: "torch.FloatStorage", StorageKey: "0", StorageNumel: 4, Shape: []uint64{4}, Stride: []uint64{1}}}
	if !reflect.DeepEqual(ts, want) {
		t.Fatalf("tensors = %+v, want %+v", ts, want)
	}
}

// A checkpoint nests the state dict in a plain dict with other values; a
// tensor is shared through the memo; a list holds tensors; a parameter
// wraps one.
func TestTorchTensorsNestedNames(t *testing.T) {
	p := newPickle(2).op(opEmptyDict).binPut(0).op(opMark)
	p.str("model")
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce).binPut(1).op(opMark)
	p.str("enc.weight").torchTensorCall("0", 6, 0, []byte{2, 3}, []byte{3, 1}).binPut(2)
	p.str("enc.bias").global("torch._utils", "_rebuild_parameter")
	p.torchTensorCall("1", 3, 0, []byte{3}, []byte{1}).op(opNewTrue).global("collections", "OrderedDict").op(opEmptyTuple, opReduce).op(opTuple3, opReduce)
	p.str("dec.weight").binGet(2) // tied weights
	p.op(opSetItems)
	// state_dict()'s _metadata, set by BUILD: not tensors.
	p.op(opEmptyDict).str("_metadata").op(opEmptyDict).str("version").op(opBinInt1, 1, opSetItem, opSetItem, opBuild)
	p.str("step").op(opBinInt1, 7)
	p.str("buffers").op(opEmptyList).op(opMark).torchTensorCall("2", 1, 0, nil, nil).op(opNone).op(opAppends)
	p.op(opSetItems)
	ts := torchTensorsOf(t, p.stop())
	var names []string
	for _, x := range ts {
		names = append(names, x.Name)
	}
	if want := []string{"model.enc.weight", "model.enc.bias", "model.dec.weight", "buffers.0"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names = %q, want %q", names, want)
	}
	if ts[1].StorageKey != "1" || !reflect.DeepEqual(ts[1].Shape, []uint64{3}) || ts[1].Unsupported != "" {
		t.Fatalf("parameter = %+v", ts[1])
	}
	if ts[3].Shape == nil || len(ts[3].Shape) != 0 {
		t.Fatalf("scalar shape = %#v", ts[3].Shape)
	}
}

func TestTorchTensorsRootTensorAndLongOffset(t *testing.T) {
	// A tensor saved on its own, at storage offset 2^40 (LONG1).
	p := newPickle(2).global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark, opMark).str("storage").global("torch", "HalfStorage").str("k").str("cpu").op(opLong1, 6, 1, 0, 0, 0, 0, 1).op(opTuple, opBinPersID)
	p.op(opLong1, 6, 0, 0, 0, 0, 0, 1)
	p.op(opBinInt1, 1, opTuple1, opBinInt1, 1, opTuple1, opNewFalse, opNone, opTuple, opReduce)
	ts := torchTensorsOf(t, p.stop())
	if len(ts) != 1 || ts[0].Name != "(root)" || ts[0].Offset != 1<<40 || ts[0].StorageNumel != 1<<40+1 || ts[0].StorageType != "torch.HalfStorage" {
		t.Fatalf("tensors = %+v", ts)
	}
}

func TestTorchTensorsV3AndUnsupportedRebuilds(t *testing.T) {
	p := newPickle(2).op(opEmptyDict).op(opMark)
	p.str("u16").global("torch._utils", "_rebuild_tensor_v3")
	p.op(opMark, opMark).str("storage").global("torch", "UntypedStorage").str("0").str("cpu").op(opBinInt1, 8).op(opTuple, opBinPersID)
	p.op(opBinInt1, 0, opBinInt1, 4, opTuple1, opBinInt1, 1, opTuple1, opNewFalse, opNone).global("torch", "uint16").op(opTuple, opReduce)
	p.str("q").global("torch._utils", "_rebuild_qtensor")
	p.op(opMark, opMark).str("storage").global("torch", "QInt8Storage").str("1").str("cpu").op(opBinInt1, 4).op(opTuple, opBinPersID)
	p.op(opBinInt1, 0, opTuple, opReduce)
	p.str("bad").torchTensorCall("2", 4, 0, []byte{4}, []byte{1, 1}) // stride of another rank
	p.op(opSetItems)
	ts := torchTensorsOf(t, p.stop())
	if len(ts) != 3 {
		t.Fatalf("tensors = %+v", ts)
	}
	if ts[0].DType != "torch.uint16" || ts[0].StorageType != "torch.UntypedStorage" || ts[0].Unsupported != "" {
		t.Errorf("v3 = %+v", ts[0])
	}
	if !strings.Contains(ts[1].Unsupported, "_rebuild_qtensor") || ts[1].StorageKey != "1" {
		t.Errorf("qtensor = %+v", ts[1])
	}
	if ts[2].Unsupported == "" {
		t.Errorf("mismatched stride = %+v", ts[2])
	}
}

func TestTorchTensorsRefusals(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		unsafe bool
		want   string
	}{
		{"os.system", newPickle(2).global("os", "system").call1("id").stop(), true, "os.system"},
		{"model class", newPickle(2).global("mypackage.model", "Net").op(opEmptyTuple, opReduce).stop(), true, "mypackage.model.Net"},
		{"system inside a state dict", torchStateDict().op(opPop).global("posix", "system").call1("id").stop(), true, "posix.system"},
		{"data after STOP", append(torchStateDict().stop(), newPickle(2).global("os", "system").call1("id").stop()...), true, "follow"},
		{"truncated", torchStateDict().b[:30], false, "truncated"},
		{"not a pickle", []byte("hello"), false, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TorchTensors(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil || errors.Is(err, ErrUnsafePickle) != tc.unsafe || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want unsafe=%v containing %q", err, tc.unsafe, tc.want)
			}
		})
	}
}

// A list that holds itself and a dict shared down many paths end the walk.
func TestTorchTensorsCyclesAndSharing(t *testing.T) {
	p := newPickle(2).op(opEmptyList).binPut(0).binGet(0).op(opAppend).stop()
	if ts := torchTensorsOf(t, p); len(ts) != 0 {
		t.Fatalf("tensors = %+v", ts)
	}
	// Each level holds the one below twice: 2^40 paths.
	q := newPickle(2).op(opEmptyDict)
	for range 40 {
		q.binPut(0).op(opPop, opEmptyDict, opMark).str("a").binGet(0).str("b").binGet(0).op(opSetItems)
	}
	if _, err := TorchTensors(bytes.NewReader(q.stop()), int64(len(q.stop()))); err == nil || !strings.Contains(err.Error(), "paths") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecimalLong(t *testing.T) {
	tests := map[string]string{
		"":                                     "0",
		"\xff":                                 "-1",
		"\x7f":                                 "127",
		"\x80":                                 "-128",
		"\x00\x80":                             "-32768",
		"\x00\x80\x00":                         "32768",
		"\xff\x7f":                             "32767",
		"\x00\x00\x00\x80":                     "-2147483648",
		torchMagicLong1:                        torchMagic,
		"\x00\x00\x00\x00\x00\x00\x00\x00\x80": "-2361183241434822606848",
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00": "1208925819614629174706175",
	}
	for le, want := range tests {
		if got := decimalLong([]byte(le)); got != want {
			t.Errorf("decimalLong(%q) = %s, want %s", le, got, want)
		}
	}
}

func FuzzTorchTensors(f *testing.F) {
	f.Add(torchStateDict().stop())
	f.Add(newPickle(2).op(opEmptyList).binPut(0).binGet(0).op(opAppend).stop())
	f.Add(newPickle(2).global("os", "system").call1("id").stop())
	f.Add(newPickle(2).op(opEmptyDict).op(opMark).str("x").torchTensorCall("0", 4, 0, []byte{2, 2}, []byte{2, 1}).op(opSetItems).stop())
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := TorchTensors(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, x := range ts {
			if x.Name == "" || x.Unsupported == "" && len(x.Shape) != len(x.Stride) {
				t.Fatalf("tensor %+v", x)
			}
		}
	})
}
