package tensors

import (
	"bufio"
	"fmt"
	"io"
)

// ValueReader streams a tensor's elements as float64 without holding the
// tensor in memory.
type ValueReader struct {
	r     *bufio.Reader
	dtype DType
	width int
	left  uint64 // elements not yet returned
	buf   []byte
}

// NewValueReader reads n elements of type d from r.
func NewValueReader(r io.Reader, d DType, n uint64) (*ValueReader, error) {
	if !d.Decodable() {
		return nil, fmt.Errorf("values of %s: type not decodable", d)
	}
	return &ValueReader{r: bufio.NewReaderSize(r, 64<<10), dtype: d, width: d.Bits() / 8, left: n}, nil
}

// Read fills dst with the next elements and returns how many. It returns
// io.EOF after the last element, and io.ErrUnexpectedEOF if the data ends
// before n elements.
func (v *ValueReader) Read(dst []float64) (int, error) {
	if v.left == 0 {
		return 0, io.EOF
	}
	n := uint64(len(dst))
	if n > v.left {
		n = v.left
	}
	need := int(n) * v.width
	if cap(v.buf) < need {
		v.buf = make([]byte, need)
	}
	buf := v.buf[:need]
	if _, err := io.ReadFull(v.r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, fmt.Errorf("read %s values: %w", v.dtype, err)
	}
	v.left -= n
	return Decode(v.dtype, buf, dst[:n])
}
