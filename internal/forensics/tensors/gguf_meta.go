package tensors

import (
	"fmt"
	"strings"
)

// ValueType is the type of a GGUF metadata value.
type ValueType uint32

// The GGUF metadata value types.
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar of type t, 0 for strings and
// arrays, whose size depends on their content.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// KV is one GGUF metadata entry. Value holds the Go value of its Type:
// uint8, int8, uint16, int16, uint32, int32, float32, bool, string, uint64,
// int64, float64, or Array.
type KV struct {
	Key   string
	Type  ValueType
	Value any
}

// Array is a GGUF array value. Values is a slice of the element type's Go
// type ([]uint8 ... []float64, []bool, []string) or, for nested arrays,
// []Array.
type Array struct {
	Elem   ValueType
	Values any
}

// Len is the number of elements.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// GGUFHeader is everything a GGUF file says before its tensor data.
type GGUFHeader struct {
	Version   uint32
	Alignment uint64 // general.alignment, or the default 32
	KV        []KV   // in file order; keys are unique
	// Infos are the tensor infos in file order, in GGML terms.
	Infos []GGUFTensorInfo
}

// GGUFTensorInfo is a tensor info as GGUF stores it.
type GGUFTensorInfo struct {
	Name   string
	Type   GGMLType
	Dims   []uint64 // innermost (fastest-varying) first
	Offset uint64   // from the start of the data region
}

// Lookup returns the entry for key.
func (h *GGUFHeader) Lookup(key string) (KV, bool) {
	for _, kv := range h.KV {
		if kv.Key == key {
			return kv, true
		}
	}
	return KV{}, false
}

// String returns the string value of key; false if it is missing or not a
// string.
func (h *GGUFHeader) String(key string) (string, bool) {
	kv, ok := h.Lookup(key)
	if !ok {
		return "", false
	}
	s, ok := kv.Value.(string)
	return s, ok
}

// ChatTemplates returns every chat template the file carries, by key:
// tokenizer.chat_template and the named tokenizer.chat_template.<name>.
// Non-string values under those keys are returned too, formatted, so that
// a scanner does not overlook them.
func (h *GGUFHeader) ChatTemplates() map[string]string {
	out := map[string]string{}
	for _, kv := range h.KV {
		if kv.Key != "tokenizer.chat_template" && !strings.HasPrefix(kv.Key, "tokenizer.chat_template.") {
			continue
		}
		if s, ok := kv.Value.(string); ok {
			out[kv.Key] = s
		} else {
			out[kv.Key] = fmt.Sprint(kv.Value)
		}
	}
	return out
}
