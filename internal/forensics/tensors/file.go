package tensors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Format names a tensor file format.
type Format string

// The formats this package reads.
const (
	FormatSafetensors Format = "safetensors"
	FormatGGUF        Format = "gguf"
)

// Tensor is one tensor a file declares, with its data located in the file.
type Tensor struct {
	Name  string
	DType DType
	// Shape lists dimensions outermost first (row-major), the way
	// safetensors and PyTorch write them. GGUF stores dimensions innermost
	// first; GGUFTensorInfo keeps that order, Shape is reversed.
	Shape  []uint64
	Offset int64 // absolute file offset of the tensor's first byte
	Size   int64 // bytes
}

// Elements is the number of elements: the product of Shape (1 for a scalar).
// It never overflows for a Tensor read from a file: the readers check.
func (t Tensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Reader returns a reader over exactly the tensor's bytes in r, the file the
// tensor was read from.
func (t Tensor) Reader(r io.ReaderAt) *io.SectionReader {
	return io.NewSectionReader(r, t.Offset, t.Size)
}

// Values streams the tensor's elements as float64 (see Decode).
func (t Tensor) Values(r io.ReaderAt) (*ValueReader, error) {
	return NewValueReader(t.Reader(r), t.DType, t.Elements())
}

// File is a tensor file's structure as read and checked.
type File struct {
	Format     Format
	Size       int64 // the file's size in bytes
	DataOffset int64 // where the tensor data region starts
	// Tensors in data order (by Offset, then by name for empty tensors).
	Tensors []Tensor
	// Unclaimed counts bytes of the data region that belong to no tensor and
	// are not alignment padding: room for hidden content. Always 0 for
	// safetensors, whose tensors must cover the data region exactly.
	Unclaimed int64
	// Metadata is safetensors' __metadata__ (nil for GGUF).
	Metadata map[string]string
	// GGUF holds the GGUF header: version, key-value metadata (the chat
	// template among it) and tensor infos in GGML terms (nil for safetensors).
	GGUF *GGUFHeader
}

// Tensor returns the tensor named name.
func (f *File) Tensor(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Sniff names the format of a file from its first bytes: GGUF by its magic,
// safetensors by an 8-byte header length followed by '{'. It returns ""
// when the bytes look like neither; it does not validate.
func Sniff(r io.ReaderAt, size int64) Format {
	var head [9]byte
	n, _ := r.ReadAt(head[:min(int64(len(head)), max(size, 0))], 0)
	switch {
	case n >= 4 && bytes.Equal(head[:4], ggufMagic[:]):
		return FormatGGUF
	case n == 9 && head[8] == '{':
		return FormatSafetensors
	}
	return ""
}

// ErrUnknownFormat is Read's error for a file that Sniff cannot place.
var ErrUnknownFormat = errors.New("not a safetensors or GGUF file")

// Read reads a safetensors or GGUF file, whichever Sniff says it is.
func Read(r io.ReaderAt, size int64) (*File, error) {
	switch Sniff(r, size) {
	case FormatGGUF:
		return ReadGGUF(r, size)
	case FormatSafetensors:
		return ReadSafetensors(r, size)
	}
	return nil, ErrUnknownFormat
}

// OpenFile opens and reads the tensor file at path. The caller closes the
// returned *os.File, from which the tensors' data is read.
func OpenFile(path string) (*File, *os.File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		fd.Close()
		return nil, nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := Read(fd, st.Size())
	if err != nil {
		fd.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, fd, nil
}
