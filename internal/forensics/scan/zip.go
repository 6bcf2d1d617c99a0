package scan

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"path"
	"sort"
	"strings"
)

// Zip archives are read the way PyTorch reads them (miniz), not the way
// Python's zipfile does: the general-purpose flags are ignored, the local
// header's name may differ from the central directory's, and a bad CRC-32
// does not stop reading. Each of those is how a payload hides from a
// scanner built on a strict reader, so the data is scanned and the anomaly
// is itself a finding. Every count, size and offset is checked against the
// archive's real length before it is used.

const (
	zipLocalSig   = 0x04034b50
	zipCentralSig = 0x02014b50
	zipEndSig     = 0x06054b50
	zipEnd64Sig   = 0x06064b50
	zipLoc64Sig   = 0x07064b50

	zipLocalLen   = 30
	zipCentralLen = 46
	zipEndLen     = 22

	maxZipEntries = 1 << 20
	maxZipCentral = 256 << 20
)

type zipEntry struct {
	name     string
	flags    uint16
	method   uint16
	crc      uint32
	csize    uint64
	usize    uint64
	localOff int64
	dataOff  int64 // set from the local header
}

// zipDir is what the archive's directory says, with what was odd about it.
type zipDir struct {
	entries   []zipEntry
	anomalies []Finding
}

func (d *zipDir) anomaly(sev Severity, off int64, format string, args ...any) {
	rule := "zip-anomaly"
	if sev == SeverityError {
		rule = "archive-malformed"
	}
	d.anomalies = append(d.anomalies, Finding{Severity: sev, Rule: rule, Offset: off, Reason: fmt.Sprintf(format, args...)})
}

func readAtMost(ra io.ReaderAt, off, n, size int64) ([]byte, bool) {
	if off < 0 || n < 0 || off > size || n > size-off {
		return nil, false
	}
	b := make([]byte, n)
	if got, _ := ra.ReadAt(b, off); int64(got) < n {
		return nil, false
	}
	return b, true
}

// readZipDir reads the central directory, falling back to walking local
// headers when there is none.
func readZipDir(ra io.ReaderAt, size int64) *zipDir {
	d := &zipDir{}
	cdOff, cdSize, base, ok := findCentralDir(ra, size, d)
	if !ok {
		d.anomaly(SeverityError, -1, "no valid end of central directory record (truncated or damaged archive): members found by walking local headers")
		walkLocalHeaders(ra, size, d)
		return d
	}
	cd, ok := readAtMost(ra, cdOff, cdSize, size)
	if !ok {
		d.anomaly(SeverityError, cdOff, "central directory cannot be read")
		return d
	}
	for p := 0; p < len(cd); {
		if len(d.entries) >= maxZipEntries {
			d.anomaly(SeverityError, cdOff+int64(p), "more than %d members: the rest are not inspected", maxZipEntries)
			break
		}
		if len(cd)-p < zipCentralLen || binary.LittleEndian.Uint32(cd[p:]) != zipCentralSig {
			d.anomaly(SeverityError, cdOff+int64(p), "central directory record is damaged: the rest are not inspected")
			break
		}
		h := cd[p : p+zipCentralLen]
		nameLen := int(binary.LittleEndian.Uint16(h[28:]))
		extraLen := int(binary.LittleEndian.Uint16(h[30:]))
		commentLen := int(binary.LittleEndian.Uint16(h[32:]))
		end := p + zipCentralLen + nameLen + extraLen + commentLen
		if end > len(cd) {
			d.anomaly(SeverityError, cdOff+int64(p), "central directory record runs past the directory: the rest are not inspected")
			break
		}
		e := zipEntry{
			flags:    binary.LittleEndian.Uint16(h[8:]),
			method:   binary.LittleEndian.Uint16(h[10:]),
			crc:      binary.LittleEndian.Uint32(h[16:]),
			csize:    uint64(binary.LittleEndian.Uint32(h[20:])),
			usize:    uint64(binary.LittleEndian.Uint32(h[24:])),
			localOff: int64(binary.LittleEndian.Uint32(h[42:])),
		}
		name := cd[p+zipCentralLen : p+zipCentralLen+nameLen]
		e.name = string(name)
		zip64Extra(cd[p+zipCentralLen+nameLen:p+zipCentralLen+nameLen+extraLen], &e)
		if e.localOff <= math.MaxInt64-base {
			e.localOff += base
		}
		d.entries = append(d.entries, e)
		p = end
	}
	return d
}

// zip64Extra replaces the 0xffffffff placeholders with the ZIP64 extra
// field's values, in the order the format defines.
func zip64Extra(extra []byte, e *zipEntry) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if n > len(extra)-4 {
			return
		}
		body := extra[4 : 4+n]
		if id == 0x0001 {
			next := func() (uint64, bool) {
				if len(body) < 8 {
					return 0, false
				}
				v := binary.LittleEndian.Uint64(body)
				body = body[8:]
				return v, true
			}
			if e.usize == math.MaxUint32 {
				if v, ok := next(); ok {
					e.usize = v
				}
			}
			if e.csize == math.MaxUint32 {
				if v, ok := next(); ok {
					e.csize = v
				}
			}
			if e.localOff == math.MaxUint32 {
				if v, ok := next(); ok && v <= math.MaxInt64 {
					e.localOff = int64(v)
				}
			}
			return
		}
		extra = extra[4+n:]
	}
}

// findCentralDir locates the central directory from the end record (and
// its ZIP64 form), tolerating a comment and data before the archive; base
// is the length of that data, to add to the directory's offsets.
func findCentralDir(ra io.ReaderAt, size int64, d *zipDir) (off, n, base int64, ok bool) {
	tailLen := min(size, zipEndLen+math.MaxUint16)
	tail, ok := readAtMost(ra, size-tailLen, tailLen, size)
	if !ok {
		return 0, 0, 0, false
	}
	pos := -1
	for i := len(tail) - zipEndLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) == zipEndSig {
			pos = i
			break
		}
	}
	if pos < 0 {
		return 0, 0, 0, false
	}
	end := tail[pos:]
	endOff := size - tailLen + int64(pos)
	if commentLen := int(binary.LittleEndian.Uint16(end[20:])); pos+zipEndLen+commentLen != len(tail) {
		d.anomaly(SeveritySuspicious, endOff, "%d bytes follow the end of the zip archive", len(tail)-pos-zipEndLen-commentLen)
	}
	cdSize := int64(binary.LittleEndian.Uint32(end[12:]))
	cdOff := int64(binary.LittleEndian.Uint32(end[16:]))
	dirEnd := endOff
	if endOff >= 20 {
		if loc, ok := readAtMost(ra, endOff-20, 20, size); ok && binary.LittleEndian.Uint32(loc) == zipLoc64Sig {
			off64 := binary.LittleEndian.Uint64(loc[8:])
			if off64 < uint64(size) {
				if rec, ok := readAtMost(ra, int64(off64), 56, size); ok && binary.LittleEndian.Uint32(rec) == zipEnd64Sig {
					s64 := binary.LittleEndian.Uint64(rec[40:])
					o64 := binary.LittleEndian.Uint64(rec[48:])
					if s64 <= uint64(size) && o64 <= uint64(size) {
						cdSize, cdOff, dirEnd = int64(s64), int64(o64), int64(off64)
					}
				}
			}
		}
	}
	if cdOff+cdSize > dirEnd || cdSize > maxZipCentral {
		d.anomaly(SeverityError, endOff, "central directory (offset %d, %d bytes) does not fit before its end record", cdOff, cdSize)
		return 0, 0, 0, false
	}
	if extra := dirEnd - cdSize - cdOff; extra > 0 {
		// Data before the archive (a self-extractor or a polyglot): the
		// directory's offsets are relative to where the archive starts.
		if sig, ok := readAtMost(ra, cdOff, 4, size); !ok || binary.LittleEndian.Uint32(sig) != zipCentralSig {
			d.anomaly(SeveritySuspicious, 0, "%d bytes precede the zip archive", extra)
			return cdOff + extra, cdSize, extra, true
		}
	}
	return cdOff, cdSize, 0, true
}

// walkLocalHeaders finds members without a central directory, as far as
// the local headers give their sizes.
func walkLocalHeaders(ra io.ReaderAt, size int64, d *zipDir) {
	for off := int64(0); off+zipLocalLen <= size && len(d.entries) < maxZipEntries; {
		h, ok := readAtMost(ra, off, zipLocalLen, size)
		if !ok || binary.LittleEndian.Uint32(h) != zipLocalSig {
			return
		}
		e := zipEntry{
			flags:    binary.LittleEndian.Uint16(h[6:]),
			method:   binary.LittleEndian.Uint16(h[8:]),
			crc:      binary.LittleEndian.Uint32(h[14:]),
			csize:    uint64(binary.LittleEndian.Uint32(h[18:])),
			usize:    uint64(binary.LittleEndian.Uint32(h[22:])),
			localOff: off,
		}
		nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
		name, ok := readAtMost(ra, off+zipLocalLen, nameLen, size)
		if !ok {
			return
		}
		e.name = string(name)
		if extra, ok := readAtMost(ra, off+zipLocalLen+nameLen, extraLen, size); ok {
			zip64Extra(extra, &e)
		}
		start := off + zipLocalLen + nameLen + extraLen
		descLen := int64(0)
		if e.flags&0x8 != 0 && e.csize == 0 {
			// The sizes follow the data, in a data descriptor.
			n, desc, ok := findDataDescriptor(ra, size, start)
			if !ok {
				d.anomaly(SeverityError, off, "%s: no data descriptor gives its size: this and later members are not inspected", e.name)
				return
			}
			e.csize, e.usize, e.crc = uint64(n), desc.usize, desc.crc
			descLen = desc.length
		}
		d.entries = append(d.entries, e)
		next := start + int64(e.csize) + descLen
		if e.csize > uint64(size) || next > size || next <= off {
			return
		}
		off = next
	}
}

type dataDescriptor struct {
	crc    uint32
	usize  uint64
	length int64
}

// findDataDescriptor looks for the descriptor after data that starts at
// start: its signature followed by a compressed size equal to the distance
// from start. It returns that distance.
func findDataDescriptor(ra io.ReaderAt, size, start int64) (int64, dataDescriptor, bool) {
	const window = 1 << 20
	sig := []byte("PK\x07\x08")
	for pos := start; pos < size; pos += window {
		buf, ok := readAtMost(ra, pos, min(window+24, size-pos), size)
		if !ok {
			return 0, dataDescriptor{}, false
		}
		for i := 0; ; {
			j := bytes.Index(buf[i:], sig)
			if j < 0 || i+j >= window {
				break
			}
			at := i + j
			n := pos + int64(at) - start
			if len(buf)-at >= 16 && int64(binary.LittleEndian.Uint32(buf[at+8:])) == n {
				return n, dataDescriptor{binary.LittleEndian.Uint32(buf[at+4:]), uint64(binary.LittleEndian.Uint32(buf[at+12:])), 16}, true
			}
			if len(buf)-at >= 24 && binary.LittleEndian.Uint64(buf[at+8:]) == uint64(n) {
				return n, dataDescriptor{binary.LittleEndian.Uint32(buf[at+4:]), binary.LittleEndian.Uint64(buf[at+16:]), 24}, true
			}
			i = at + 1
		}
	}
	return 0, dataDescriptor{}, false
}

// scanZip scans every member of a zip archive by its content.
func (s *fileScan) scanZip(m *member, ra io.ReaderAt) string {
	d := readZipDir(ra, m.size)
	for _, f := range d.anomalies {
		s.add(m, f)
	}
	s.locateZipData(m, ra, d)

	torchRoots := map[string]bool{}
	names := map[string]bool{}
	for _, e := range d.entries {
		names[e.name] = true
		if e.name == "data.pkl" {
			torchRoots[""] = true
		} else if root, ok := strings.CutSuffix(e.name, "/data.pkl"); ok {
			torchRoots[root] = true
		}
	}
	keras := names["config.json"] && (names["metadata.json"] || names["model.weights.h5"])

	var formats []string
	for i := range d.entries {
		if s.halt {
			break
		}
		e := &d.entries[i]
		if e.dataOff < 0 || (strings.HasSuffix(e.name, "/") && e.usize == 0) {
			continue
		}
		if isTorchStorage(e.name, torchRoots) {
			continue // raw tensor bytes: torch.load never unpickles them
		}
		if keras && e.name == "config.json" {
			s.scanKerasConfig(m, ra, e)
			continue
		}
		formats = append(formats, s.scanZipEntry(m, ra, e))
	}
	switch {
	case len(torchRoots) > 0:
		return fmtTorchZip
	case keras:
		return fmtKeras
	case len(formats) > 0 && allEqual(formats, fmtNumpy):
		return fmtNPZ
	}
	return fmtZip
}

func allEqual(xs []string, want string) bool {
	for _, x := range xs {
		if x != want {
			return false
		}
	}
	return true
}

func isTorchStorage(name string, roots map[string]bool) bool {
	dir := path.Dir(name)
	if path.Base(dir) != "data" {
		return false
	}
	root := path.Dir(dir)
	if root == "." {
		root = ""
	}
	return roots[root]
}

// locateZipData reads each member's local header to find where its data
// starts, and reports local headers that disagree with the directory and
// members whose data overlaps (the layout of non-recursive zip bombs).
func (s *fileScan) locateZipData(m *member, ra io.ReaderAt, d *zipDir) {
	for i := range d.entries {
		e := &d.entries[i]
		e.dataOff = -1
		h, ok := readAtMost(ra, e.localOff, zipLocalLen, m.size)
		if !ok || binary.LittleEndian.Uint32(h) != zipLocalSig {
			off := e.localOff
			if off < 0 || off >= m.size {
				off = -1
			}
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: off,
				Reason: fmt.Sprintf("%s: no local header where the directory says: member not inspected", e.name)})
			continue
		}
		nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
		if local, ok := readAtMost(ra, e.localOff+zipLocalLen, nameLen, m.size); ok && string(local) != e.name {
			s.add(m, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: e.localOff,
				Reason: fmt.Sprintf("%s: the local header names this member %q (Python's zipfile refuses it; PyTorch reads it)", e.name, local)})
		}
		start := e.localOff + zipLocalLen + nameLen + extraLen
		if e.csize > uint64(m.size) || start > m.size || int64(e.csize) > m.size-start {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: e.localOff,
				Reason: fmt.Sprintf("%s: data runs past the end of the archive: member not inspected", e.name)})
			continue
		}
		e.dataOff = start
	}
	order := make([]*zipEntry, 0, len(d.entries))
	for i := range d.entries {
		if d.entries[i].dataOff >= 0 {
			order = append(order, &d.entries[i])
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return order[a].localOff < order[b].localOff })
	var end int64
	for i, e := range order {
		if i > 0 && e.localOff < end {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-bomb", Offset: e.localOff,
				Reason: fmt.Sprintf("%s: overlaps the member before it (the layout of an overlapping-file zip bomb): not inspected", e.name)})
			e.dataOff = -1
			continue
		}
		end = e.dataOff + int64(e.csize)
	}
}

// scanZipEntry opens one member and scans its content.
func (s *fileScan) scanZipEntry(m *member, ra io.ReaderAt, e *zipEntry) string {
	child := m.child(e.name, int64(e.usize))
	raw := io.NewSectionReader(ra, e.dataOff, int64(e.csize))
	encrypted := e.flags&0x1 != 0 || e.flags&0x40 != 0 || e.method == 99
	if e.flags&0x2000 != 0 {
		s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: -1, Reason: "flag 0x2000 (encrypted central directory) is set"})
	}
	if e.usize > math.MaxInt64 {
		s.add(child, Finding{Severity: SeverityError, Rule: "archive-malformed", Offset: -1, Reason: "declared size is out of range: not inspected"})
		return fmtUnknown
	}
	if encrypted {
		// PyTorch ignores the flag and reads the data as it is: so does the
		// scan, when the data is readable and turns out to be something.
		if _, ok := peekZipMember(e, raw); e.method == 99 || !ok {
			s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-encrypted", Offset: -1, Reason: "encrypted member, cannot inspect"})
			return fmtUnknown
		}
		format := s.scanZipData(m, child, raw, e, false)
		if format == fmtUnknown {
			s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-encrypted", Offset: -1, Reason: "encrypted member, cannot inspect"})
		} else {
			s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: -1,
				Reason: fmt.Sprintf("general-purpose flags 0x%04x mark the member encrypted but its data is plain (Python's zipfile refuses it; PyTorch reads it)", e.flags)})
		}
		return format
	}
	if e.flags&0x20 != 0 {
		s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: -1,
			Reason: "flag 0x20 (patched data) is set: Python's zipfile refuses the member; PyTorch reads it"})
	}
	return s.scanZipData(m, child, raw, e, true)
}

// scanZipData scans a member's data, stored or compressed. check turns on
// the checks of its size and CRC-32, which mean nothing for encrypted data.
func (s *fileScan) scanZipData(m, child *member, raw *io.SectionReader, e *zipEntry, check bool) string {
	switch e.method {
	case 0:
		if e.usize != e.csize && check {
			s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: -1,
				Reason: fmt.Sprintf("stored member declares %d bytes but holds %d", e.usize, e.csize)})
		}
		child.size = int64(e.csize)
		child.ra = raw
		if m.base >= 0 {
			child.base = m.base + e.dataOff
		}
		format := s.scan(child)
		if child.size <= 16<<20 && !s.halt && check {
			h := crc32.NewIEEE()
			if _, err := io.Copy(h, io.NewSectionReader(raw, 0, child.size)); err == nil && h.Sum32() != e.crc {
				s.add(child, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: -1,
					Reason: fmt.Sprintf("CRC-32 is %08x, the archive says %08x (Python's zipfile refuses this member; PyTorch reads it)", h.Sum32(), e.crc)})
			}
		}
		return format
	case 8, 12:
		if e.usize > ratioFloor && e.usize/max(e.csize, 1) > maxRatio {
			s.add(child, Finding{Severity: SeverityError, Rule: "archive-bomb", Offset: -1,
				Reason: fmt.Sprintf("declares %d bytes from %d compressed (ratio over %d:1, a zip bomb): not inspected", e.usize, e.csize, maxRatio)})
			return fmtUnknown
		}
		if int64(e.usize) > s.budget {
			s.add(child, Finding{Severity: SeverityError, Rule: "archive-bomb", Offset: -1,
				Reason: fmt.Sprintf("declares %d bytes, more than the %d left of the extraction budget: not inspected", e.usize, s.budget)})
			return fmtUnknown
		}
		var dec io.Reader
		if e.method == 8 {
			fr := flate.NewReader(raw)
			defer fr.Close()
			dec = fr
		} else {
			dec = bzip2.NewReader(raw)
		}
		mr := s.newMemberReader(child, dec, e.crc, check)
		child.r = mr
		format := s.scan(child)
		mr.finish()
		return format
	}
	s.add(child, Finding{Severity: SeverityError, Rule: "archive-unsupported", Offset: -1,
		Reason: fmt.Sprintf("compression method %d is not supported: member not inspected", e.method)})
	return fmtUnknown
}

// peekZipMember reads the start of a member as if it were not encrypted,
// as PyTorch does, without reporting errors.
func peekZipMember(e *zipEntry, raw *io.SectionReader) ([]byte, bool) {
	var r io.Reader = io.NewSectionReader(raw, 0, raw.Size())
	switch e.method {
	case 0:
	case 8:
		fr := flate.NewReader(r)
		defer fr.Close()
		r = fr
	case 12:
		r = bzip2.NewReader(r)
	default:
		return nil, false
	}
	br := bufio.NewReader(io.LimitReader(r, headSize))
	head, err := br.Peek(int(min(headSize, e.usize)))
	if err != nil && len(head) == 0 {
		return nil, false
	}
	return bytes.Clone(head), true
}

// openZipEntry returns a stream of a member's content, held to its
// declared size and the extraction budget.
func (s *fileScan) openZipEntry(child *member, ra io.ReaderAt, e *zipEntry) (io.Reader, func()) {
	raw := io.NewSectionReader(ra, e.dataOff, int64(e.csize))
	switch e.method {
	case 0:
		return raw, func() {}
	case 8:
		fr := flate.NewReader(raw)
		return s.newMemberReader(child, fr, e.crc, false), func() { fr.Close() }
	case 12:
		return s.newMemberReader(child, bzip2.NewReader(raw), e.crc, false), func() {}
	}
	return nil, nil
}
