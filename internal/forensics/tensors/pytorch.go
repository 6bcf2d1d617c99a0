package tensors

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"path"
	"strings"
)

// A PyTorch zip checkpoint (torch.save since PyTorch 1.6) is a zip archive
// under one root folder: <root>/data.pkl, a pickle of the saved object in
// which every tensor is a call that rebuilds it from a storage, and one
// record <root>/data/<key> per storage holding its raw elements, plus
// <root>/byteorder and <root>/version. torch.save stores the records
// uncompressed, so a tensor's bytes lie in the file as they are; records
// that were deflated (by re-zipping the checkpoint) are inflated as the
// tensor is read.
//
// This package does not interpret pickles: a TorchPickleReader does (package
// scan's TorchTensors, which refuses any pickle that would run code).

// TorchTensor is one tensor as a PyTorch checkpoint's pickle rebuilds it: a
// view of a storage. Offsets, sizes and strides count elements.
type TorchTensor struct {
	// Name is the tensor's key path in the saved object, dict keys and list
	// indices joined with dots ("encoder.layers.0.weight").
	Name string
	// StorageType is the storage class of the persistent id
	// ("torch.FloatStorage"); StorageKey names its record, data/<key>;
	// StorageNumel is its length in elements (bytes for
	// torch.UntypedStorage).
	StorageType  string
	StorageKey   string
	StorageNumel uint64
	// DType is the dtype that _rebuild_tensor_v3 names ("torch.uint16"),
	// empty when the storage type gives it.
	DType  string
	Offset uint64   // elements of the storage before the tensor's first
	Shape  []uint64 // outermost first
	Stride []uint64 // elements between neighbours along each dimension
	// Unsupported says why the tensor is not a dense view of a storage
	// (a sparse or quantised rebuild, arguments of unexpected types); the
	// storage fields are set when known.
	Unsupported string
}

// TorchPickleReader lists the tensors that a PyTorch checkpoint's data.pkl,
// size bytes read from r, rebuilds, without running it.
type TorchPickleReader func(r io.Reader, size int64) ([]TorchTensor, error)

// Errors of ReadPyTorchZip.
var (
	ErrNoPickleReader = errors.New("a PyTorch checkpoint lists its tensors in a pickle: reading it needs a pickle reader")
	ErrBigEndian      = errors.New("big-endian PyTorch checkpoint: not supported")
)

// maxDeflateRatio is the most that deflate can expand its input (about
// 1032:1); a record declaring more is lying about its size.
const maxDeflateRatio = 1032

// torchStorageTypes maps storage classes to their element type.
var torchStorageTypes = map[string]DType{
	"torch.FloatStorage": F32, "torch.HalfStorage": F16, "torch.BFloat16Storage": BF16,
	"torch.DoubleStorage": F64, "torch.LongStorage": I64, "torch.IntStorage": I32,
	"torch.ShortStorage": I16, "torch.CharStorage": I8, "torch.ByteStorage": U8,
	"torch.BoolStorage": Bool, "torch.ComplexFloatStorage": C64,
	"torch.UntypedStorage": U8, "torch.storage.UntypedStorage": U8,
}

// torchDTypes maps the dtypes _rebuild_tensor_v3 names to element types.
var torchDTypes = map[string]DType{
	"torch.float32": F32, "torch.float": F32, "torch.float16": F16, "torch.half": F16,
	"torch.bfloat16": BF16, "torch.float64": F64, "torch.double": F64,
	"torch.int64": I64, "torch.long": I64, "torch.int32": I32, "torch.int": I32,
	"torch.int16": I16, "torch.short": I16, "torch.int8": I8, "torch.uint8": U8,
	"torch.uint16": U16, "torch.uint32": U32, "torch.uint64": U64, "torch.bool": Bool,
	"torch.float8_e4m3fn": F8E4M3, "torch.float8_e5m2": F8E5M2,
	"torch.complex64": C64, "torch.cfloat": C64,
}

// inflated places a tensor inside a deflate-compressed record: the
// tensor's Offset is then where the record's compressed data starts.
type inflated struct {
	csize, usize int64 // the record's compressed and declared inflated sizes
	skip         int64 // inflated bytes before the tensor's first
}

func (z *inflated) reader(r io.ReaderAt, off, n int64) io.Reader {
	fr := flate.NewReader(io.NewSectionReader(r, off, z.csize))
	return io.LimitReader(&skipReader{r: io.LimitReader(fr, z.usize), skip: z.skip}, n)
}

// skipReader discards skip bytes of r before the first read.
type skipReader struct {
	r    io.Reader
	skip int64
}

func (s *skipReader) Read(p []byte) (int, error) {
	if s.skip > 0 {
		n, err := io.CopyN(io.Discard, s.r, s.skip)
		s.skip -= n
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	return s.r.Read(p)
}

// torchRoot finds the data.pkl of a PyTorch zip checkpoint.
func torchRoot(zr *zip.Reader) (pkl *zip.File, root string, err error) {
	for _, f := range zr.File {
		if path.Base(f.Name) != "data.pkl" {
			continue
		}
		dir := path.Dir(f.Name)
		if dir == "." {
			dir = ""
		}
		if strings.Contains(dir, "/") {
			continue
		}
		if pkl != nil {
			return nil, "", formatErrorf(FormatPyTorchZip, 0, "two data.pkl records (%s and %s)", pkl.Name, f.Name)
		}
		pkl, root = f, dir
	}
	if pkl == nil {
		return nil, "", formatErrorf(FormatPyTorchZip, 0, "no data.pkl record: not a PyTorch checkpoint")
	}
	return pkl, root, nil
}

// ReadPyTorchZip reads a PyTorch zip checkpoint of size bytes from r, with
// pickles to list the tensors its data.pkl rebuilds. Tensors come in the
// order the pickle rebuilds them and may share bytes (views of one
// storage, tied weights). A tensor whose values cannot be streamed in
// row-major order (a strided view, a storage type without an element type
// here, a sparse or quantised rebuild) has Unsupported set and covers the
// storage bytes it reads, for byte comparison.
//
// A big-endian checkpoint is refused with ErrBigEndian. A damaged archive,
// a missing storage record, or a view that reaches past its storage is a
// *FormatError; the pickle reader's errors are returned wrapped.
func ReadPyTorchZip(r io.ReaderAt, size int64, pickles TorchPickleReader) (*File, error) {
	if pickles == nil {
		return nil, ErrNoPickleReader
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, formatErrorf(FormatPyTorchZip, 0, "not a readable zip archive (truncated or damaged): %v", err)
	}
	pkl, root, err := torchRoot(zr)
	if err != nil {
		return nil, err
	}
	records := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		records[f.Name] = f
	}
	if err := checkByteOrder(records[path.Join(root, "byteorder")]); err != nil {
		return nil, err
	}
	if pkl.UncompressedSize64 > math.MaxInt64 {
		return nil, formatErrorf(FormatPyTorchZip, 0, "%s declares %d bytes", pkl.Name, pkl.UncompressedSize64)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, formatErrorf(FormatPyTorchZip, 0, "%s: %v", pkl.Name, err)
	}
	defer rc.Close()
	descs, err := pickles(rc, int64(pkl.UncompressedSize64))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}

	f := &File{Format: FormatPyTorchZip, Size: size, DataOffset: size, Tensors: make([]Tensor, 0, len(descs))}
	stores := map[string]*storageRecord{}
	for _, d := range descs {
		t := Tensor{Name: d.Name, Shape: d.Shape, Unsupported: d.Unsupported}
		if d.StorageKey == "" {
			f.Tensors = append(f.Tensors, t)
			continue
		}
		st, ok := stores[d.StorageKey]
		if !ok {
			name := path.Join(root, "data", d.StorageKey)
			if st, err = openStorage(records[name], name, size); err != nil {
				return nil, err
			}
			stores[d.StorageKey] = st
			f.DataOffset = min(f.DataOffset, st.off)
		}
		if err := st.place(&t, d); err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
	if len(stores) == 0 {
		f.DataOffset = 0
	}
	return f, nil
}

// checkByteOrder reads the byteorder record, if there is one: torch.save
// writes the saving machine's order, and tensors are read little-endian.
func checkByteOrder(f *zip.File) error {
	if f == nil {
		return nil // written since PyTorch 1.11; older files are little-endian
	}
	if f.UncompressedSize64 > 16 {
		return formatErrorf(FormatPyTorchZip, 0, "byteorder record of %d bytes", f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return formatErrorf(FormatPyTorchZip, 0, "byteorder: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 16))
	if err != nil {
		return formatErrorf(FormatPyTorchZip, 0, "byteorder: %v", err)
	}
	switch string(bytes.TrimSpace(b)) {
	case "little":
		return nil
	case "big":
		return ErrBigEndian
	}
	return formatErrorf(FormatPyTorchZip, 0, "byteorder record says %q, not little or big", b)
}

// storageRecord is a data/<key> record located in the file.
type storageRecord struct {
	name   string
	off    int64 // where its data starts in the file
	size   int64 // its (inflated) length in bytes
	method uint16
	csize  int64
}

func openStorage(f *zip.File, name string, size int64) (*storageRecord, error) {
	if f == nil {
		return nil, formatErrorf(FormatPyTorchZip, 0, "storage record %s is missing", name)
	}
	off, err := f.DataOffset()
	if err != nil {
		return nil, formatErrorf(FormatPyTorchZip, 0, "%s: %v", name, err)
	}
	st := &storageRecord{name: name, off: off, method: f.Method}
	if f.CompressedSize64 > uint64(size) || off < 0 || off > size || int64(f.CompressedSize64) > size-off {
		return nil, formatErrorf(FormatPyTorchZip, off, "%s runs past the end of the file", name)
	}
	st.csize = int64(f.CompressedSize64)
	switch f.Method {
	case zip.Store:
		if f.UncompressedSize64 != f.CompressedSize64 {
			return nil, formatErrorf(FormatPyTorchZip, off, "%s is stored but declares %d bytes for %d", name, f.UncompressedSize64, f.CompressedSize64)
		}
		st.size = st.csize
	case zip.Deflate:
		if f.UncompressedSize64/maxDeflateRatio > f.CompressedSize64 {
			return nil, formatErrorf(FormatPyTorchZip, off, "%s declares %d bytes from %d compressed: more than deflate can produce", name, f.UncompressedSize64, f.CompressedSize64)
		}
		st.size = int64(f.UncompressedSize64)
	default:
		st.size = int64(min(f.UncompressedSize64, math.MaxInt64))
	}
	return st, nil
}

// place locates the view d of the storage in t, or says in t.Unsupported
// why its values cannot be streamed.
func (st *storageRecord) place(t *Tensor, d TorchTensor) error {
	storageType, ok := torchStorageTypes[d.StorageType]
	if !ok && t.Unsupported == "" {
		t.Unsupported = "storage type " + d.StorageType + " is not read"
	}
	t.DType = storageType
	if d.DType != "" {
		if t.DType, ok = torchDTypes[d.DType]; !ok && t.Unsupported == "" {
			t.Unsupported = "dtype " + d.DType + " is not read"
		}
	}
	if t.DType == "" {
		t.DType = DType(strings.TrimPrefix(cmp.Or(d.DType, d.StorageType), "torch."))
	}
	width := uint64(t.DType.Bits() / 8)
	if t.Unsupported != "" || width == 0 || t.DType.Bits()%8 != 0 {
		// The whole storage, for byte comparison.
		if t.Unsupported == "" {
			t.Unsupported = fmt.Sprintf("elements of %s have no byte width", t.DType)
		}
		return st.cover(t, 0, st.size)
	}
	storageBytes, ok := mulOK(d.StorageNumel, uint64(torchStorageTypes[d.StorageType].Bits()/8))
	if !ok || storageBytes > uint64(st.size) {
		return formatErrorf(FormatPyTorchZip, st.off, "%s holds %d bytes; tensor %q needs a storage of %d %s elements", st.name, st.size, d.Name, d.StorageNumel, d.StorageType)
	}
	n, ok := product(d.Shape)
	if !ok {
		return formatErrorf(FormatPyTorchZip, st.off, "tensor %q: shape %v overflows", d.Name, d.Shape)
	}
	span, ok := viewSpan(d.Shape, d.Stride)
	end, ok2 := addOK(d.Offset, span)
	if !ok || !ok2 || n > 0 && end > storageBytes/width {
		return formatErrorf(FormatPyTorchZip, st.off, "tensor %q (offset %d, shape %v, stride %v) reaches past its storage of %d elements in %s",
			d.Name, d.Offset, d.Shape, d.Stride, storageBytes/width, st.name)
	}
	if n == 0 {
		return st.cover(t, 0, 0)
	}
	if !contiguous(d.Shape, d.Stride) {
		t.Unsupported = fmt.Sprintf("a strided view (shape %v, stride %v), not contiguous", d.Shape, d.Stride)
		return st.cover(t, int64(d.Offset*width), int64(span*width))
	}
	if st.method != zip.Store && st.method != zip.Deflate {
		t.Unsupported = fmt.Sprintf("%s is compressed with zip method %d", st.name, st.method)
		return st.cover(t, 0, 0)
	}
	return st.cover(t, int64(d.Offset*width), int64(n*width))
}

// cover points t at n bytes from skip into the record.
func (st *storageRecord) cover(t *Tensor, skip, n int64) error {
	t.Size = n
	switch st.method {
	case zip.Store:
		t.Offset = st.off + skip
	case zip.Deflate:
		t.Offset = st.off
		t.inflated = &inflated{csize: st.csize, usize: st.size, skip: skip}
	default:
		t.Offset, t.Size = st.off, 0 // not readable: nothing to compare
	}
	return nil
}

// viewSpan is the number of storage elements from a view's first element
// to its last, inclusive: 1 + Σ (shape[i]-1)·stride[i], or 0 if empty.
func viewSpan(shape, stride []uint64) (uint64, bool) {
	span := uint64(1)
	for i, d := range shape {
		if d == 0 {
			return 0, true
		}
		step, ok := mulOK(d-1, stride[i])
		if !ok {
			return 0, false
		}
		if span, ok = addOK(span, step); !ok {
			return 0, false
		}
	}
	return span, true
}

// contiguous reports whether stride is the row-major stride of shape, as
// torch's is_contiguous decides it (dimensions of length 1 may have any
// stride).
func contiguous(shape, stride []uint64) bool {
	want := uint64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}

func mulOK(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0 && lo <= math.MaxInt64
}

func addOK(a, b uint64) (uint64, bool) {
	s, carry := bits.Add64(a, b, 0)
	return s, carry == 0 && s <= math.MaxInt64
}
