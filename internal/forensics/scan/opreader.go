package scan

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxRetained is how much of a string argument the interpreter keeps. Module
// and class names are far shorter; longer strings keep their prefix, which
// is enough to match denied prefixes, and are marked long.
const maxRetained = 512

var errTruncated = errors.New("data ends inside an opcode")

// opReader reads pickle opcodes and their arguments from a stream whose
// length is known, so that no declared length is believed beyond what is
// really left.
type opReader struct {
	br   *bufio.Reader
	off  int64 // bytes consumed since the start of the content
	size int64 // length of the content
	err  error // the read error that is not an end of data, if any
}

func (r *opReader) left() int64 { return r.size - r.off }

// fail turns an underlying read error into errTruncated, remembering any
// error that is not a plain end of data (a member inflating beyond its
// declared size, a broken deflate stream) for the report.
func (r *opReader) fail(err error) error {
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && r.err == nil {
		r.err = err
	}
	return errTruncated
}

func (r *opReader) readByte() (byte, error) {
	if r.left() <= 0 {
		return 0, io.EOF
	}
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, r.fail(err)
	}
	r.off++
	return b, nil
}

// fixed reads n <= 8 bytes into buf.
func (r *opReader) fixed(buf *[8]byte, n int) ([]byte, error) {
	if r.left() < int64(n) {
		return nil, errTruncated
	}
	got, err := io.ReadFull(r.br, buf[:n])
	r.off += int64(got)
	if err != nil {
		return nil, r.fail(err)
	}
	return buf[:n], nil
}

// data reads a length-prefixed argument of n bytes, keeping at most
// maxRetained of them. long reports that the rest was discarded. kept
// points into the reader's buffer, valid until the next read.
func (r *opReader) data(n uint64) (kept []byte, long bool, err error) {
	if n > uint64(r.left()) {
		return nil, false, errTruncated
	}
	keep := int(min(n, maxRetained))
	kept, err = r.br.Peek(keep) // valid until the next read: callers copy it
	if len(kept) < keep {
		return nil, false, r.fail(err)
	}
	if _, err := r.br.Discard(keep); err != nil {
		return nil, false, r.fail(err)
	}
	r.off += int64(keep)
	if n == uint64(keep) {
		return kept, false, nil
	}
	kept = bytes.Clone(kept) // skipping the rest refills the buffer
	if err := r.skip(int64(n - uint64(keep))); err != nil {
		return nil, false, err
	}
	return kept, true, nil
}

func (r *opReader) skip(n int64) error {
	for n > 0 {
		step := int(min(n, 1<<30))
		got, err := r.br.Discard(step)
		r.off += int64(got)
		n -= int64(got)
		if err != nil {
			return r.fail(err)
		}
	}
	return nil
}

// line reads a newline-terminated argument, keeping at most maxRetained
// bytes of it (without the newline).
func (r *opReader) line() (kept []byte, long bool, err error) {
	for {
		if r.left() <= 0 {
			return nil, false, errTruncated
		}
		frag, err := r.br.ReadSlice('\n')
		if int64(len(frag)) > r.left() {
			// The stream holds more than the content's length: stop at it.
			frag = frag[:r.left()]
			err = io.EOF
		}
		r.off += int64(len(frag))
		body := frag
		if err == nil {
			body = frag[:len(frag)-1]
		}
		if room := maxRetained - len(kept); room > 0 {
			kept = append(kept, body[:min(room, len(body))]...)
			if len(body) > room {
				long = true
			}
		} else if len(body) > 0 {
			long = true
		}
		switch {
		case err == nil:
			return kept, long, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, false, r.fail(err)
		}
	}
}
