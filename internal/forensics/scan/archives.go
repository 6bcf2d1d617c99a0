package scan

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/bodgit/sevenzip"
)

// scan7z scans every file in a 7-Zip archive. In a solid archive reaching
// one file means decompressing the ones before it, so their declared sizes
// are charged to the extraction budget before a file is opened.
func (s *fileScan) scan7z(m *member, ra io.ReaderAt) (format string) {
	format = fmt7z
	defer func() {
		if r := recover(); r != nil {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1,
				Reason: fmt.Sprintf("7z reader failed: %v", r)})
		}
	}()
	zr, err := sevenzip.NewReader(ra, m.size)
	if err != nil {
		if encryptedReadError(err) {
			s.add(m, Finding{Severity: SeveritySuspicious, Rule: "zip-encrypted", Offset: -1, Reason: "encrypted 7z archive, cannot inspect"})
		} else {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: "7z archive cannot be read: " + err.Error()})
		}
		return format
	}
	pending := map[int]int64{} // per compressed stream: bytes to decompress before the next file
	for _, f := range zr.File {
		if s.halt {
			break
		}
		if f.FileInfo().IsDir() {
			continue
		}
		if f.UncompressedSize > math.MaxInt64 {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: f.Name + ": declared size is out of range: not inspected"})
			continue
		}
		size := int64(f.UncompressedSize)
		child := m.child(f.Name, size)
		skip := pending[f.Stream]
		if size > s.budget-skip {
			s.add(child, Finding{Severity: SeverityError, Rule: "archive-bomb", Offset: -1,
				Reason: fmt.Sprintf("declares %d bytes (after %d to skip), more than the %d left of the extraction budget: not inspected", size, skip, s.budget)})
			pending[f.Stream] = skip + size
			continue
		}
		s.budget -= skip
		rc, err := f.Open()
		if err != nil {
			if encryptedReadError(err) {
				s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-encrypted", Offset: -1, Reason: "encrypted member, cannot inspect"})
			} else {
				s.add(child, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: "cannot be read: " + err.Error()})
			}
			pending[f.Stream] = size
			continue
		}
		mr := s.newMemberReader(child, rc, 0, false)
		child.r = mr
		s.scan(child)
		mr.finish()
		rc.Close()
		pending[f.Stream] = mr.left
	}
	return format
}

func encryptedReadError(err error) bool {
	var re *sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted {
		return true
	}
	var rv sevenzip.ReadError
	return errors.As(err, &rv) && rv.Encrypted
}

// scanTar scans every regular file in a tar archive. A tar file on disk is
// read in place (its members are addressable); a tar inside a compressed
// stream is read as a stream.
func (s *fileScan) scanTar(m *member, br *bufio.Reader) {
	var (
		tr *tar.Reader
		sr *io.SectionReader
	)
	if m.ra != nil {
		sr = io.NewSectionReader(m.ra, 0, m.size)
		tr = tar.NewReader(sr)
	} else {
		tr = tar.NewReader(br)
	}
	for !s.halt {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: "tar archive cannot be read further: " + err.Error()})
			return
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeGNUSparse {
			continue
		}
		if hdr.Size < 0 || hdr.Size > m.size {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: hdr.Name + ": declared size is larger than the archive"})
			return
		}
		child := m.child(hdr.Name, hdr.Size)
		if sr != nil {
			start, _ := sr.Seek(0, io.SeekCurrent)
			child.ra = io.NewSectionReader(m.ra, start, hdr.Size)
			if m.base >= 0 {
				child.base = m.base + start
			}
			s.scan(child)
			continue
		}
		mr := s.newMemberReader(child, tr, 0, false)
		child.r = mr
		s.scan(child)
		mr.finish()
	}
}

// scanCompressed decompresses a gzip or bzip2 stream (within the
// extraction budget) and scans what it holds.
func (s *fileScan) scanCompressed(m *member, br *bufio.Reader, format string) {
	var dec io.Reader
	if format == fmtGzip {
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: "gzip stream cannot be read: " + err.Error()})
			return
		}
		defer zr.Close()
		dec = zr
	} else {
		dec = bzip2.NewReader(br)
	}
	child := m.child("("+format+" content)", s.budget)
	mr := s.newMemberReader(child, dec, 0, false)
	mr.sizeUnknown = true
	child.r = mr
	ra, done := s.randomAccess(child, bufio.NewReader(mr))
	if ra == nil {
		return
	}
	defer done()
	child.ra, child.r = ra, nil
	s.scan(child)
}
