package scan

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// Formats, as reported in FileReport.Format.
const (
	fmtUnknown     = "unknown"
	fmtPickle      = "pickle"
	fmtTorchZip    = "pytorch-zip"
	fmtTorchLegacy = "pytorch-legacy"
	fmtNumpy       = "numpy"
	fmtNPZ         = "npz"
	fmtZip         = "zip"
	fmt7z          = "7z"
	fmtTar         = "tar"
	fmtGzip        = "gzip"
	fmtBzip2       = "bzip2"
	fmtSafetensors = "safetensors"
	fmtGGUF        = "gguf"
	fmtONNX        = "onnx"
	fmtKeras       = "keras"
	fmtHDF5        = "hdf5"
)

// member is one byte sequence to identify and inspect: the file on disk, or
// a member of an archive inside it.
type member struct {
	name  string      // where it is inside the file on disk ("" for the file itself)
	size  int64       // its length (the declared length, for archive members)
	ra    io.ReaderAt // random access to it, or nil when it can only be streamed
	r     io.Reader   // the stream, when ra is nil
	base  int64       // offset of its first byte in the file on disk, -1 if it has none
	depth int         // how many archives it is inside
	dir   string      // folder of the file on disk, for ONNX external data ("" inside archives)
}

func (m *member) child(name string, size int64) *member {
	full := name
	if m.name != "" {
		full = m.name + " > " + name
	}
	return &member{name: full, size: size, base: -1, depth: m.depth + 1}
}

func (m *member) stream() io.Reader {
	if m.ra != nil {
		return io.NewSectionReader(m.ra, 0, m.size)
	}
	return m.r
}

const headSize = 4096

// scan identifies m by its content and runs the scanner for its format.
// Content of another format that also ends with a zip archive (a polyglot:
// Python's zipfile finds an archive by its end record, wherever it starts)
// has that archive scanned too.
func (s *fileScan) scan(m *member) string {
	format := s.scanFormat(m)
	switch format {
	case fmtZip, fmtTorchZip, fmtNPZ, fmtKeras, fmt7z, fmtTar, fmtGzip, fmtBzip2:
		return format // containers: what they hold is scanned as such
	}
	if m.ra != nil && !s.halt && m.depth < s.opts.MaxDepth && endsWithZip(m.ra, m.size) {
		s.add(m, Finding{Severity: SeveritySuspicious, Rule: "polyglot", Offset: -1,
			Reason: fmt.Sprintf("the %s content also ends with a zip archive: zip readers see different content (a polyglot file)", format)})
		s.scanZip(m, m.ra)
	}
	return format
}

// endsWithZip reports whether content that does not start like a zip has a
// zip end record pointing at a real central directory.
func endsWithZip(ra io.ReaderAt, size int64) bool {
	var d zipDir
	off, n, _, ok := findCentralDir(ra, size, &d)
	if !ok || n < zipCentralLen {
		return false
	}
	sig, ok := readAtMost(ra, off, 4, size)
	return ok && binary.LittleEndian.Uint32(sig) == zipCentralSig
}

func (s *fileScan) scanFormat(m *member) string {
	if s.halt || s.ctx.Err() != nil {
		return fmtUnknown
	}
	br := bufio.NewReaderSize(m.stream(), 64<<10)
	want := int(min(headSize, m.size))
	head, err := br.Peek(want)
	if err != nil && len(head) < want && m.ra != nil {
		// Archive members report their own read errors.
		s.add(m, Finding{Severity: SeverityError, Rule: "read-error", Reason: "reading: " + err.Error(), Offset: -1})
	}
	format := sniff(head, m.size)
	switch format {
	case fmtZip, fmt7z, fmtTar, fmtGzip, fmtBzip2:
		if m.depth >= s.opts.MaxDepth {
			s.add(m, Finding{Severity: SeverityError, Rule: "archive-depth", Offset: -1,
				Reason: fmt.Sprintf("%s archive nested more than %d archives deep: not opened", format, s.opts.MaxDepth)})
			return format
		}
	}
	switch format {
	case fmtZip:
		if ra, done := s.randomAccess(m, br); ra != nil {
			defer done()
			return s.scanZip(m, ra)
		}
	case fmt7z:
		if ra, done := s.randomAccess(m, br); ra != nil {
			defer done()
			return s.scan7z(m, ra)
		}
	case fmtONNX:
		if ra, done := s.randomAccess(m, br); ra != nil {
			defer done()
			s.scanONNX(m, ra)
		}
	case fmtTar:
		s.scanTar(m, br)
	case fmtGzip, fmtBzip2:
		s.scanCompressed(m, br, format)
	case fmtNumpy:
		s.scanNumpy(m, br)
	case fmtSafetensors:
		s.scanSafetensors(m, br)
	case fmtGGUF:
		s.scanGGUF(m, br)
	case fmtHDF5:
		s.scanHDF5(m, br)
	case fmtPickle:
		return s.scanPickleStream(m, br, sniffPickle)
	}
	return format
}

// sniff names the format of content that starts with head and is size bytes
// long, by magic numbers and structure only.
func sniff(head []byte, size int64) string {
	switch {
	case len(head) == 0:
		return fmtUnknown
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")),
		bytes.HasPrefix(head, []byte("PK\x07\x08PK\x03\x04")):
		return fmtZip
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return fmt7z
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return fmtNumpy
	case bytes.HasPrefix(head, []byte("GGUF")):
		return fmtGGUF
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")),
		len(head) >= 520 && bytes.HasPrefix(head[512:], []byte("\x89HDF\r\n\x1a\n")):
		return fmtHDF5
	case bytes.HasPrefix(head, []byte("\x1f\x8b\x08")):
		return fmtGzip
	case len(head) >= 10 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9' &&
		(bytes.Equal(head[4:10], []byte("1AY&SY")) || bytes.Equal(head[4:10], []byte("\x17\x72\x45\x38\x50\x90"))):
		return fmtBzip2
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return fmtTar
	case looksSafetensors(head, size):
		return fmtSafetensors
	case looksONNX(head, size):
		return fmtONNX
	case head[0] == opProto && len(head) > 1 && head[1] <= highestProt, isOpcode(head[0]):
		// Pickles without PROTO (protocols 0 and 1) can start with most
		// printable bytes; the interpreter decides whether this is one.
		return fmtPickle
	}
	return fmtUnknown
}

// looksSafetensors: an 8-byte little-endian header length that fits the
// content, followed by a JSON object.
func looksSafetensors(head []byte, size int64) bool {
	if len(head) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= uint64(size-8) && head[8] == '{'
}

// onnxModelFields are ModelProto's field numbers with their wire types.
var onnxModelFields = map[protowire.Number]protowire.Type{
	1: protowire.VarintType, 2: protowire.BytesType, 3: protowire.BytesType, 4: protowire.BytesType,
	5: protowire.VarintType, 6: protowire.BytesType, 7: protowire.BytesType, 8: protowire.BytesType,
	14: protowire.BytesType, 20: protowire.BytesType, 25: protowire.BytesType,
}

// looksONNX: a protobuf message that starts with ir_version (as every ONNX
// writer puts it first) and whose fields in head are all ModelProto fields.
func looksONNX(head []byte, size int64) bool {
	if len(head) < 2 || head[0] != 0x08 {
		return false
	}
	b := head
	fields := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fields >= 2 && len(b) < 10 // cut off by the end of head
		}
		if want, ok := onnxModelFields[num]; !ok || want != typ {
			return false
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fields >= 1 && len(b) < 10
			}
			if num == 1 && (v == 0 || v > 100) {
				return false
			}
			b = b[n:]
		case protowire.BytesType:
			l, n := protowire.ConsumeVarint(b)
			if n < 0 || l > uint64(size) {
				return false
			}
			fields++
			if uint64(len(b)-n) < l {
				return true // the field runs past head
			}
			b = b[n+int(l):]
		}
		fields++
	}
	return fields >= 2
}

// randomAccess returns m as an io.ReaderAt, copying a streamed member into
// memory or, when large, a temporary file. done releases the copy.
func (s *fileScan) randomAccess(m *member, br *bufio.Reader) (io.ReaderAt, func()) {
	if m.ra != nil {
		return m.ra, func() {}
	}
	// Reading one byte past the declared size lets the member reader see
	// a member that holds more than it declares.
	const inMemory = 64 << 20
	if m.size <= inMemory {
		data, err := io.ReadAll(io.LimitReader(br, m.size+1))
		if err != nil {
			return nil, nil // reported by the member reader
		}
		m.size = int64(len(data))
		return bytes.NewReader(data), func() {}
	}
	tmp, err := os.CreateTemp("", "airlock-scan-*")
	if err != nil {
		s.add(m, Finding{Severity: SeverityError, Rule: "read-error", Offset: -1, Reason: "cannot extract the member to inspect it: " + err.Error()})
		return nil, nil
	}
	done := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	n, err := io.Copy(tmp, io.LimitReader(br, m.size+1))
	if err != nil {
		done()
		return nil, nil
	}
	m.size = n
	return tmp, done
}

var (
	errOversize = errors.New("member holds more data than its declared size")
	errStopped  = errors.New("member reading stopped")
)

// memberReader streams one archive member, holding it to its declared size
// and to the file's extraction budget, and checking its CRC-32 when it is
// read to the end. It reports its own problems.
type memberReader struct {
	s        *fileScan
	m        *member
	r        io.Reader
	left     int64 // declared bytes not read yet
	crc      uint32
	wantCRC  uint32
	checkCRC bool
	failed   bool
	ended    bool

	// sizeUnknown: the member is a compressed stream whose length is only
	// bounded by the budget (m.size), so ending early is normal.
	sizeUnknown bool
}

func (s *fileScan) newMemberReader(m *member, r io.Reader, wantCRC uint32, checkCRC bool) *memberReader {
	return &memberReader{s: s, m: m, r: r, left: m.size, wantCRC: wantCRC, checkCRC: checkCRC}
}

func (mr *memberReader) Read(p []byte) (int, error) {
	if mr.failed {
		return 0, errStopped
	}
	if mr.left <= 0 {
		if !mr.ended {
			mr.ended = true
			var one [1]byte
			if n, _ := io.ReadFull(mr.r, one[:]); n > 0 {
				reason := fmt.Sprintf("member holds more data than its declared size of %d bytes: reading stopped", mr.m.size)
				if mr.sizeUnknown {
					reason = fmt.Sprintf("decompresses to more than the %d bytes left of the extraction budget: reading stopped", mr.m.size)
				}
				mr.fail(SeverityError, "archive-bomb", reason)
				return 0, errOversize
			}
			if mr.checkCRC && mr.crc != mr.wantCRC {
				mr.s.add(mr.m, Finding{Severity: SeveritySuspicious, Rule: "zip-anomaly", Offset: -1,
					Reason: fmt.Sprintf("CRC-32 is %08x, the archive says %08x (Python's zipfile refuses this member; PyTorch reads it)", mr.crc, mr.wantCRC)})
			}
		}
		return 0, io.EOF
	}
	if mr.s.budget <= 0 {
		mr.fail(SeverityError, "archive-bomb", fmt.Sprintf("extraction budget of %d bytes for this file exhausted: the rest is not inspected", mr.s.opts.MaxTotalBytes))
		mr.s.halt = true
		return 0, errStopped
	}
	if int64(len(p)) > mr.left {
		p = p[:mr.left]
	}
	if int64(len(p)) > mr.s.budget {
		p = p[:mr.s.budget]
	}
	n, err := mr.r.Read(p)
	mr.left -= int64(n)
	mr.s.budget -= int64(n)
	mr.crc = crc32.Update(mr.crc, crc32.IEEETable, p[:n])
	if err == io.EOF {
		if mr.left > 0 {
			if mr.sizeUnknown {
				return n, io.EOF
			}
			mr.fail(SeverityError, "archive-malformed", fmt.Sprintf("member ends after %d of its declared %d bytes", mr.m.size-mr.left, mr.m.size))
			return n, io.ErrUnexpectedEOF
		}
		if n > 0 {
			return n, nil // the next Read checks that nothing follows
		}
		return mr.Read(p)
	}
	if err != nil {
		if encryptedReadError(err) {
			mr.fail(SeveritySuspicious, "zip-encrypted", "encrypted member, cannot inspect")
		} else {
			mr.fail(SeverityError, "archive-malformed", "member data cannot be read: "+err.Error())
		}
		return n, err
	}
	return n, nil
}

func (mr *memberReader) fail(sev Severity, rule, reason string) {
	if !mr.failed {
		mr.failed = true
		mr.s.add(mr.m, Finding{Severity: sev, Rule: rule, Offset: -1, Reason: reason})
	}
}

// finish reads what the scanner left of a small member, so that its CRC
// and its real length are checked too.
func (mr *memberReader) finish() {
	const maxDrain = 16 << 20
	if mr.failed || mr.left > maxDrain {
		return
	}
	_, _ = io.Copy(io.Discard, mr)
}
