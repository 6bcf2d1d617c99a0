package tensors

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func FuzzSafetensors(f *testing.F) {
	f.Add(safetensorsBytes(f, map[string]string{"k": "v"},
		TensorData{Name: "a", DType: F32, Shape: []uint64{2}, Data: f32Bytes(1, 2)},
		TensorData{Name: "b", DType: BF16, Shape: []uint64{1, 1}, Data: []byte{0x80, 0x3f}},
	))
	f.Add(safetensorsBytes(f, nil, TensorData{Name: "e", DType: U8, Shape: []uint64{0}}))
	f.Add(rawSafetensors(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add(rawSafetensors(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, make([]byte, 2)))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\x7f{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadSafetensors(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		checkInvariants(t, file)
		var covered int64
		for _, tn := range file.Tensors {
			covered += tn.Size
			drain(t, tn, bytes.NewReader(data))
		}
		if covered != file.Size-file.DataOffset {
			t.Fatalf("tensors cover %d of %d data bytes", covered, file.Size-file.DataOffset)
		}
	})
}

func FuzzGGUF(f *testing.F) {
	f.Add(ggufBytes(f, ggufKVs(),
		TensorData{Name: "a", DType: F32, Shape: []uint64{2, 2}, Data: f32Bytes(1, 2, 3, 4)},
		TensorData{Name: "q", DType: "Q8_0", Shape: []uint64{32}, Data: make([]byte, 34)},
	))
	f.Add(ggufBytes(f, nil))
	f.Add(deepArrays())
	f.Add(newGGUF(3, 2, 0).tensorInfo("a", GGMLF32, 0, 16).tensorInfo("b", GGMLF32, 32, 16).data(96))
	f.Add(newGGUF(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(3).str("x").b)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadGGUF(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		checkInvariants(t, file)
		for _, tn := range file.Tensors {
			if tn.Offset%int64(file.GGUF.Alignment) != file.DataOffset%int64(file.GGUF.Alignment) {
				t.Fatalf("tensor %q misaligned", tn.Name)
			}
			drain(t, tn, bytes.NewReader(data))
		}
		CheckChatTemplate(file.GGUF.ChatTemplates()["tokenizer.chat_template"])
	})
}

func FuzzCheckChatTemplate(f *testing.F) {
	for _, tpl := range benignTemplates {
		f.Add(tpl)
	}
	f.Add(`{{ ''|attr('\x5f\x5fclass\x5f\x5f') }}{% if x %}'"\`)
	f.Fuzz(func(t *testing.T, tpl string) { CheckChatTemplate(tpl) })
}

// drain reads a decodable tensor's values to the end: they must all be there.
func drain(t *testing.T, tn Tensor, r io.ReaderAt) {
	t.Helper()
	if !tn.DType.Decodable() {
		return
	}
	vr, err := tn.Values(r)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float64, 1024)
	for {
		if _, err := vr.Read(buf); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("tensor %q: %v", tn.Name, err)
		}
	}
}
