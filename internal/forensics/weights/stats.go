package weights

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/airlock-ir/airlock/internal/forensics/scan"
	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// TensorStats describes one tensor's values. Every float is finite, so a
// report always encodes as JSON: statistics that are undefined (no finite
// values, a constant tensor's kurtosis) are 0.
type TensorStats struct {
	Name  string        `json:"name"`
	DType tensors.DType `json:"dtype"`
	Shape []uint64      `json:"shape"`
	Bytes int64         `json:"bytes"`
	Count uint64        `json:"count"` // elements
	// Measured is false for types whose values are not decoded (quantised
	// GGUF blocks, sub-byte floats) and for tensors that cannot be streamed
	// (NotMeasured says why): only the fields above are set.
	Measured    bool   `json:"measured"`
	NotMeasured string `json:"not_measured,omitempty"`
	// Moments over the finite values.
	Mean     float64 `json:"mean"`
	Std      float64 `json:"std"` // population standard deviation
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Kurtosis float64 `json:"kurtosis"` // excess: 0 for a normal distribution
	NaN      uint64  `json:"nan"`
	PosInf   uint64  `json:"pos_inf"`
	NegInf   uint64  `json:"neg_inf"`
	// LowByteEntropy is the Shannon entropy, in bits (0 to 8), of the first
	// byte of each element's little-endian encoding: the least significant
	// mantissa bits of a float. In trained float weights those bits are
	// close to uniform noise, so the entropy is close to 8 (for tensors of
	// more than a few thousand elements; n elements cannot exceed log2 n).
	// Markedly lower values say the low bits carry structure: values
	// upcast from a narrower type (low bits all zero), rounded or
	// synthetic weights, or data written into the low bits in the clear
	// (text, an unencrypted payload). Encrypted or compressed data hidden in
	// the low bits looks like noise and is not revealed by this figure;
	// compare it with a trusted baseline's rather than reading it alone.
	LowByteEntropy float64 `json:"low_byte_entropy"`
}

// FileStats is Stats' report for one file.
type FileStats struct {
	Path    string         `json:"path"`
	Format  tensors.Format `json:"format"`
	Size    int64          `json:"size"`
	Tensors []TensorStats  `json:"tensors"`
}

// chunkElems is how many elements one read decodes: large enough to amortise
// the read, small enough to stay in cache.
const chunkElems = 16 << 10

// Stats reads the safetensors, GGUF or PyTorch zip file at path and
// measures every tensor in one streaming pass.
func Stats(ctx context.Context, path string) (*FileStats, error) {
	f, fd, err := openModel(path)
	if err != nil {
		return nil, fmt.Errorf("weight stats: %w", err)
	}
	defer fd.Close()
	ts, err := FileTensorStats(ctx, f, fd)
	if err != nil {
		return nil, fmt.Errorf("weight stats %s: %w", path, err)
	}
	return &FileStats{Path: path, Format: f.Format, Size: f.Size, Tensors: ts}, nil
}

// FileTensorStats measures the tensors of f, whose data r holds.
func FileTensorStats(ctx context.Context, f *tensors.File, r io.ReaderAt) ([]TensorStats, error) {
	out := make([]TensorStats, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		s, err := TensorStatsOf(ctx, t, r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// TensorStatsOf measures one tensor, reading its data from r.
func TensorStatsOf(ctx context.Context, t tensors.Tensor, r io.ReaderAt) (TensorStats, error) {
	s := TensorStats{Name: t.Name, DType: t.DType, Shape: t.Shape, Bytes: t.Size, Count: t.Elements()}
	if t.Unsupported != "" {
		s.NotMeasured = t.Unsupported
		return s, nil
	}
	if !t.DType.Decodable() {
		return s, nil
	}
	width := t.DType.Bits() / 8
	raw := make([]byte, chunkElems*width)
	vals := make([]float64, chunkElems)
	var m moments
	var low byteHistogram
	err := eachChunk(ctx, t, r, raw, func(chunk []byte) {
		n, _ := tensors.Decode(t.DType, chunk, vals)
		for _, v := range vals[:n] {
			m.add(v)
		}
		for i := 0; i < len(chunk); i += width {
			low[chunk[i]]++
		}
	})
	if err != nil {
		return s, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	s.Measured = true
	s.Mean, s.Std, s.Kurtosis = m.mean, m.std(), m.excessKurtosis()
	s.Min, s.Max = m.min, m.max
	s.NaN, s.PosInf, s.NegInf = m.nan, m.posInf, m.negInf
	s.LowByteEntropy = low.entropy()
	return s, nil
}

// openModel opens a model file for reading its tensors. A PyTorch
// checkpoint's tensor layout is in its pickle, which the scanner's
// interpreter reads without running it, and refuses if it could run code.
func openModel(path string) (*tensors.File, *os.File, error) {
	return tensors.OpenFile(path, scan.TorchTensors)
}

// eachChunk reads the tensor's bytes in chunks of len(buf) (the last may be
// shorter, always whole elements) and hands each to fn.
func eachChunk(ctx context.Context, t tensors.Tensor, r io.ReaderAt, buf []byte, fn func([]byte)) error {
	sr := t.Reader(r)
	for left := t.Size; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(int64(len(buf)), left)]
		if _, err := io.ReadFull(sr, chunk); err != nil {
			return fmt.Errorf("read data: %w", err)
		}
		fn(chunk)
		left -= int64(len(chunk))
	}
	return nil
}
