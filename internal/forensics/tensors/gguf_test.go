package tensors

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// ggufKVs is metadata of every value type, nested arrays included.
func ggufKVs() []KV {
	return []KV{
		{"general.architecture", TypeString, "llama"},
		{"general.alignment", TypeUint32, uint32(64)},
		{"tokenizer.chat_template", TypeString, "{% for m in messages %}{{ m.content }}{% endfor %}"},
		{"tokenizer.chat_template.tool_use", TypeString, "{{ tools | tojson }}"},
		{"u8", TypeUint8, uint8(1)}, {"i8", TypeInt8, int8(-1)},
		{"u16", TypeUint16, uint16(2)}, {"i16", TypeInt16, int16(-2)},
		{"i32", TypeInt32, int32(-3)}, {"f32", TypeFloat32, float32(0.5)},
		{"bool", TypeBool, true}, {"u64", TypeUint64, uint64(1 << 40)},
		{"i64", TypeInt64, int64(-1 << 40)}, {"f64", TypeFloat64, 0.25},
		{"tokens", TypeArray, Array{Elem: TypeString, Values: []string{"<s>", "</s>", "a"}}},
		{"scores", TypeArray, Array{Elem: TypeFloat32, Values: []float32{0, -1, -2}}},
		{"nested", TypeArray, Array{Elem: TypeArray, Values: []Array{
			{Elem: TypeInt32, Values: []int32{1, 2}},
			{Elem: TypeBool, Values: []bool{true}},
		}}},
	}
}

func TestReadGGUFRoundTrip(t *testing.T) {
	q40 := make([]byte, 2*18) // two Q4_0 blocks: 64 elements
	data := ggufBytes(t, ggufKVs(),
		TensorData{Name: "tok_embd", DType: F32, Shape: []uint64{2, 3}, Data: f32Bytes(1, 2, 3, 4, 5, 6)},
		TensorData{Name: "blk.0.attn_q", DType: "Q4_0", Shape: []uint64{1, 64}, Data: q40},
		TensorData{Name: "norm", DType: F16, Shape: []uint64{1}, Data: []byte{0x00, 0x3c}},
	)
	f, err := ReadGGUF(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, f)
	h := f.GGUF
	if h.Version != 3 || h.Alignment != 64 || len(h.KV) != len(ggufKVs()) || len(h.Infos) != 3 {
		t.Fatalf("header = v%d align %d, %d kv, %d infos", h.Version, h.Alignment, len(h.KV), len(h.Infos))
	}
	for _, want := range ggufKVs() {
		got, ok := h.Lookup(want.Key)
		if !ok || got.Type != want.Type {
			t.Errorf("%s = %+v", want.Key, got)
		}
	}
	if arch, _ := h.String("general.architecture"); arch != "llama" {
		t.Errorf("architecture = %q", arch)
	}
	if got := h.ChatTemplates(); len(got) != 2 || !strings.Contains(got["tokenizer.chat_template"], "messages") {
		t.Errorf("chat templates = %v", got)
	}
	nested, _ := h.Lookup("nested")
	inner := nested.Value.(Array).Values.([]Array)
	if !slices.Equal(inner[0].Values.([]int32), []int32{1, 2}) {
		t.Errorf("nested = %+v", nested)
	}
	if toks, _ := h.Lookup("tokens"); toks.Value.(Array).Len() != 3 {
		t.Errorf("tokens = %+v", toks)
	}
	emb, _ := f.Tensor("tok_embd")
	if !slices.Equal(emb.Shape, []uint64{2, 3}) || !slices.Equal(h.Infos[0].Dims, []uint64{3, 2}) {
		t.Errorf("tok_embd shape %v, dims %v", emb.Shape, h.Infos[0].Dims)
	}
	if got := readAllValues(t, emb, bytes.NewReader(data)); !slices.Equal(got, []float64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("tok_embd values = %v", got)
	}
	q, _ := f.Tensor("blk.0.attn_q")
	if q.DType != "Q4_0" || q.Size != 36 || q.DType.Decodable() {
		t.Errorf("attn_q = %+v", q)
	}
	if (f.DataOffset)%64 != 0 || f.Unclaimed != 0 {
		t.Errorf("data offset %d, unclaimed %d", f.DataOffset, f.Unclaimed)
	}
	if Sniff(bytes.NewReader(data), int64(len(data))) != FormatGGUF {
		t.Error("Sniff did not recognise GGUF")
	}
}

func TestReadGGUFCountsUnclaimedBytes(t *testing.T) {
	data := ggufBytes(t, nil, TensorData{Name: "a", DType: F32, Shape: []uint64{8}, Data: f32Bytes(make([]float32, 8)...)})
	data = append(data, make([]byte, 100)...) // hidden payload after the last tensor
	f, err := ReadGGUF(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Unclaimed != 100 {
		t.Errorf("Unclaimed = %d, want 100", f.Unclaimed)
	}
}

// ggufPrefix builds the start of a GGUF header by hand.
type ggufPrefix struct{ b []byte }

func newGGUF(version uint32, nTensors, nKV uint64) *ggufPrefix {
	p := &ggufPrefix{b: []byte("GGUF")}
	return p.u32(version).u64(nTensors).u64(nKV)
}
func (p *ggufPrefix) u32(v uint32) *ggufPrefix {
	p.b = binary.LittleEndian.AppendUint32(p.b, v)
	return p
}
func (p *ggufPrefix) u64(v uint64) *ggufPrefix {
	p.b = binary.LittleEndian.AppendUint64(p.b, v)
	return p
}
func (p *ggufPrefix) str(s string) *ggufPrefix { return p.u64(uint64(len(s))).raw([]byte(s)) }
func (p *ggufPrefix) raw(b []byte) *ggufPrefix { p.b = append(p.b, b...); return p }

// tensorInfo appends a tensor info with dims innermost first.
func (p *ggufPrefix) tensorInfo(name string, typ GGMLType, off uint64, dims ...uint64) *ggufPrefix {
	p.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		p.u64(d)
	}
	return p.u32(uint32(typ)).u64(off)
}

// pad aligns to 32 and appends n data bytes.
func (p *ggufPrefix) data(n int) []byte {
	for len(p.b)%32 != 0 {
		p.b = append(p.b, 0)
	}
	return append(p.b, make([]byte, n)...)
}

func TestReadGGUFRefusesHostileFiles(t *testing.T) {
	tests := []struct {
		name   string
		file   []byte
		reason string
	}{
		{"empty", nil, "magic"},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), "bad magic"},
		{"version 1", newGGUF(1, 0, 0).b, "version 1"},
		{"big-endian", newGGUF(0x03000000, 0, 0).b, "big-endian"},
		{"unknown version", newGGUF(9, 0, 0).b, "unknown version"},
		{"truncated counts", []byte("GGUF\x03\x00\x00\x00\x01"), "tensor count"},
		{"huge tensor count", newGGUF(3, 1<<60, 0).b, "tensor count"},
		{"huge kv count", newGGUF(3, 0, 1<<60).b, "metadata count"},
		{"huge key length", newGGUF(3, 0, 1).u64(1 << 62).u32(0).raw([]byte{0}).b, "only"},
		{"huge string value", newGGUF(3, 0, 1).str("k").u32(uint32(TypeString)).u64(1 << 62).b, "only"},
		{"huge array", newGGUF(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint32)).u64(1 << 61).b, "cannot fit"},
		{"huge string array", newGGUF(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 40).u64(0).b, "cannot fit"},
		{"unknown value type", newGGUF(3, 0, 1).str("k").u32(99).raw(make([]byte, 8)).b, "unknown value type"},
		{"unknown array type", newGGUF(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(99).u64(1).b, "unknown array element type"},
		{"deep arrays", deepArrays(), "nested deeper"},
		{"duplicate key", newGGUF(3, 0, 2).str("k").u32(uint32(TypeUint8)).raw([]byte{1}).str("k").u32(uint32(TypeUint8)).raw([]byte{2}).b, "duplicate metadata key"},
		{"alignment type", newGGUF(3, 0, 1).str("general.alignment").u32(uint32(TypeUint64)).u64(32).b, "not a uint32"},
		{"alignment zero", newGGUF(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(0).b, "power of two"},
		{"alignment odd", newGGUF(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(48).b, "power of two"},
		{"too many dims", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 0, 1, 1, 1, 1, 1).data(4), "more than 4"},
		{"negative dim", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 0, 1<<63).data(4), "negative"},
		{"unknown ggml type", newGGUF(3, 1, 0).tensorInfo("t", 4, 0, 32).data(64), "unknown ggml type"},
		{"partial block", newGGUF(3, 1, 0).tensorInfo("t", GGMLQ4_0, 0, 16).data(18), "not a multiple of the Q4_0 block size"},
		{"dims overflow", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 0, 1<<32, 1<<32).data(4), "overflow"},
		{"bytes overflow", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 0, 1<<62).data(4), "overflow"},
		{"misaligned", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 4, 1).data(64), "not a multiple of the alignment"},
		{"past the end", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 0, 16).data(32), "run past"},
		{"offset past the end", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 1<<40, 1).data(32), "run past"},
		{"data region missing", newGGUF(3, 1, 0).tensorInfo("t", GGMLF32, 0, 1).b, "past the end"},
		{"overlap", newGGUF(3, 2, 0).tensorInfo("a", GGMLF32, 0, 16).tensorInfo("b", GGMLF32, 32, 16).data(96), "overlaps"},
		{"duplicate tensor", newGGUF(3, 2, 0).tensorInfo("a", GGMLF32, 0, 1).tensorInfo("a", GGMLF32, 32, 1).data(64), "duplicate tensor name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadGGUF(bytes.NewReader(tc.file), int64(len(tc.file)))
			fe := wantFormatError(t, err)
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to mention %q", fe.Reason, tc.reason)
			}
		})
	}
}

func deepArrays() []byte {
	p := newGGUF(3, 0, 1).str("k").u32(uint32(TypeArray))
	for range maxArrayDepth + 2 {
		p.u32(uint32(TypeArray)).u64(1)
	}
	return p.b
}

func TestReadGGUFHeaderLimit(t *testing.T) {
	// A string longer than the header limit is refused before any of it is
	// read, even though the (pretended) file is large enough.
	b := newGGUF(3, 0, 1).str("k").u32(uint32(TypeString)).u64(MaxGGUFHeader).b
	var err error
	if n := allocated(func() { _, err = ReadGGUF(sizedReader{b}, 1<<40) }); n > 1<<20 {
		t.Errorf("allocated %d bytes", n)
	}
	fe := wantFormatError(t, err)
	if !strings.Contains(fe.Reason, "limit") {
		t.Errorf("reason = %q", fe.Reason)
	}
}

func TestGGMLBlockSizes(t *testing.T) {
	// Bits per weight of the common quantisations, as ggml documents them.
	tests := map[GGMLType]float64{2: 4.5, 3: 5, 6: 5.5, 7: 6, 8: 8.5, 10: 2.625, 11: 3.4375, 12: 4.5, 13: 5.5, 14: 6.5625}
	for typ, bpw := range tests {
		elems, size := typ.Block()
		if got := float64(size*8) / float64(elems); got != bpw {
			t.Errorf("%s: %.4f bits per weight, want %.4f", typ, got, bpw)
		}
	}
	if GGMLType(4).Known() || GGMLType(4).String() != "GGMLType(4)" {
		t.Error("removed type 4 is known")
	}
}
