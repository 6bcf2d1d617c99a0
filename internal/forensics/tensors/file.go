package tensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Format names a tensor file format.
type Format string

// The formats this package reads.
const (
	FormatSafetensors Format = "safetensors"
	FormatGGUF        Format = "gguf"
	FormatPyTorchZip  Format = "pytorch-zip"
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
	// Unsupported says why the values cannot be streamed as Shape in
	// row-major order (a strided PyTorch view, a storage type without an
	// element type here); Offset and Size then cover the bytes the tensor
	// reads, for byte comparison. Empty for every safetensors and GGUF
	// tensor.
	Unsupported string

	// inflated is set for a tensor in a deflate-compressed PyTorch record:
	// Offset is where the compressed data starts, Size still counts the
	// tensor's bytes.
	inflated *inflated
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
// tensor was read from (inflating them from a compressed PyTorch record).
func (t Tensor) Reader(r io.ReaderAt) io.Reader {
	if t.inflated != nil {
		return t.inflated.reader(r, t.Offset, t.Size)
	}
	return io.NewSectionReader(r, t.Offset, t.Size)
}

// Values streams the tensor's elements as float64 (see Decode).
func (t Tensor) Values(r io.ReaderAt) (*ValueReader, error) {
	if t.Unsupported != "" {
		return nil, fmt.Errorf("values of %q: %s", t.Name, t.Unsupported)
	}
	return NewValueReader(t.Reader(r), t.DType, t.Elements())
}

// File is a tensor file's structure as read and checked.
type File struct {
	Format     Format
	Size       int64 // the file's size in bytes
	DataOffset int64 // where the tensor data region starts (PyTorch: the first storage record's data)
	// Tensors in data order (by Offset, then by name for empty tensors);
	// for PyTorch, in the order the checkpoint's pickle rebuilds them.
	Tensors []Tensor
	// Unclaimed counts bytes of the data region that belong to no tensor and
	// are not alignment padding: room for hidden content. Always 0 for
	// safetensors, whose tensors must cover the data region exactly, and
	// not counted for PyTorch.
	Unclaimed int64
	// Metadata is safetensors' __metadata__ (nil for the others).
	Metadata map[string]string
	// GGUF holds the GGUF header: version, key-value metadata (the chat
	// template among it) and tensor infos in GGML terms (nil for the others).
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
// safetensors by an 8-byte header length followed by '{', a PyTorch zip
// checkpoint by a zip whose first record is <root>/data.pkl (torch.save
// writes it first). It returns "" when the bytes look like none of these;
// it does not validate.
func Sniff(r io.ReaderAt, size int64) Format {
	var head [9]byte
	n, _ := r.ReadAt(head[:min(int64(len(head)), max(size, 0))], 0)
	switch {
	case n >= 4 && bytes.Equal(head[:4], ggufMagic[:]):
		return FormatGGUF
	case n >= 4 && string(head[:4]) == "PK\x03\x04" && firstZipRecordIsPickle(r, size):
		return FormatPyTorchZip
	case n == 9 && head[8] == '{':
		return FormatSafetensors
	}
	return ""
}

// firstZipRecordIsPickle reads the name in the zip's first local header.
func firstZipRecordIsPickle(r io.ReaderAt, size int64) bool {
	var h [30 + 256]byte
	n, _ := r.ReadAt(h[:min(int64(len(h)), size)], 0)
	if n < 30 {
		return false
	}
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	if 30+nameLen > n {
		return false
	}
	name := string(h[30 : 30+nameLen])
	return name == "data.pkl" || strings.HasSuffix(name, "/data.pkl") && strings.Count(name, "/") == 1
}

// ErrUnknownFormat is Read's error for a file that Sniff cannot place.
var ErrUnknownFormat = errors.New("not a safetensors, GGUF or PyTorch zip file")

// Read reads a safetensors, GGUF or PyTorch zip file, whichever Sniff says
// it is. pickles reads a PyTorch checkpoint's pickle (see ReadPyTorchZip);
// without one, such a file is ErrNoPickleReader.
func Read(r io.ReaderAt, size int64, pickles TorchPickleReader) (*File, error) {
	switch Sniff(r, size) {
	case FormatGGUF:
		return ReadGGUF(r, size)
	case FormatSafetensors:
		return ReadSafetensors(r, size)
	case FormatPyTorchZip:
		return ReadPyTorchZip(r, size, pickles)
	}
	return nil, ErrUnknownFormat
}

// OpenFile opens and reads the tensor file at path, with pickles for a
// PyTorch checkpoint's pickle (see Read). The caller closes the returned
// *os.File, from which the tensors' data is read.
func OpenFile(path string, pickles TorchPickleReader) (*File, *os.File, error) {
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
	f, err := Read(fd, st.Size(), pickles)
	if err != nil {
		fd.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, fd, nil
}
