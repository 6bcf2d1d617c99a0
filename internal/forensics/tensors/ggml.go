package tensors

import "fmt"

// GGMLType is a GGUF tensor's element type: the ggml_type enumeration.
type GGMLType uint32

// ggmlTraits describes a type's storage: blocks of blockElems elements,
// blockBytes bytes each (1 and the element width for unquantised types).
type ggmlTraits struct {
	name       DType
	blockElems uint64
	blockBytes uint64
}

// ggmlTypes lists the types current ggml writes; numbers missing from it
// were removed from ggml (4, 5, 31-33, 36-38) or are unknown, and files
// using them are refused.
var ggmlTypes = map[GGMLType]ggmlTraits{
	0:  {F32, 1, 4},
	1:  {F16, 1, 2},
	2:  {"Q4_0", 32, 18},
	3:  {"Q4_1", 32, 20},
	6:  {"Q5_0", 32, 22},
	7:  {"Q5_1", 32, 24},
	8:  {"Q8_0", 32, 34},
	9:  {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84},
	11: {"Q3_K", 256, 110},
	12: {"Q4_K", 256, 144},
	13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210},
	15: {"Q8_K", 256, 292},
	16: {"IQ2_XXS", 256, 66},
	17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98},
	19: {"IQ1_S", 256, 50},
	20: {"IQ4_NL", 32, 18},
	21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82},
	23: {"IQ4_XS", 256, 136},
	24: {I8, 1, 1},
	25: {I16, 1, 2},
	26: {I32, 1, 4},
	27: {I64, 1, 8},
	28: {F64, 1, 8},
	29: {"IQ1_M", 256, 56},
	30: {BF16, 1, 2},
	34: {"TQ1_0", 256, 54},
	35: {"TQ2_0", 256, 66},
	39: {"MXFP4", 32, 17},
}

// The GGML types tests and writers refer to by name.
const (
	GGMLF32  GGMLType = 0
	GGMLF16  GGMLType = 1
	GGMLQ4_0 GGMLType = 2
	GGMLQ8_0 GGMLType = 8
	GGMLQ4_K GGMLType = 12
	GGMLQ6_K GGMLType = 14
	GGMLBF16 GGMLType = 30
)

// Known reports whether the type is one ggml currently defines.
func (t GGMLType) Known() bool { _, ok := ggmlTypes[t]; return ok }

func (t GGMLType) String() string {
	if tr, ok := ggmlTypes[t]; ok {
		return string(tr.name)
	}
	return fmt.Sprintf("GGMLType(%d)", uint32(t))
}

// DType is the type's name as a DType: the safetensors name for the types
// both formats share (F32, F16, BF16, F64, I8...I64), the GGML name otherwise.
func (t GGMLType) DType() DType { return ggmlTypes[t].name }

// Block returns how many elements one block holds and how many bytes it
// takes (1 and the element width for unquantised types; 0, 0 if unknown).
func (t GGMLType) Block() (elems, bytes uint64) {
	tr := ggmlTypes[t]
	return tr.blockElems, tr.blockBytes
}

// ggmlByteSize is the byte size of a tensor of type t with dims (innermost
// first): rows of dims[0] elements, each a whole number of blocks.
func ggmlByteSize(t GGMLType, dims []uint64) (int64, error) {
	tr, ok := ggmlTypes[t]
	if !ok {
		return 0, fmt.Errorf("unknown ggml type %d", uint32(t))
	}
	elems, ok := product(dims)
	if !ok {
		return 0, fmt.Errorf("dimensions %v overflow", dims)
	}
	if elems == 0 {
		return 0, nil
	}
	row := uint64(1) // a tensor without dimensions is a scalar
	if len(dims) > 0 {
		row = dims[0]
	}
	if row%tr.blockElems != 0 {
		return 0, fmt.Errorf("row length %d is not a multiple of the %s block size %d", row, tr.name, tr.blockElems)
	}
	blocks := elems / tr.blockElems
	if blocks > (1<<63-1)/tr.blockBytes {
		return 0, fmt.Errorf("dimensions %v overflow", dims)
	}
	return int64(blocks * tr.blockBytes), nil
}
