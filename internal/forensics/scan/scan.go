package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// hashBufSize is the read size for hashing; bench/scan uses the same for
// its plain SHA-256 baseline.
const hashBufSize = 1 << 20

// Scan inspects the file at path, or every regular file under it when it is
// a folder (symbolic links to files are followed; links to folders inside
// it are not). Files are scanned one at a time, each hashed on a second
// goroutine while its structure is read. Scan returns an error only when
// path cannot be read at all or ctx is done (with the files finished so
// far); a problem with one file is that file's findings.
func Scan(ctx context.Context, path string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	rep := Report{Files: []FileReport{}, failOnSuspicious: opts.FailOnSuspicious}
	files, err := collect(path)
	if err != nil {
		return rep, fmt.Errorf("scan %s: %w", path, err)
	}
	var total, done int64
	for _, f := range files {
		total += f.size
	}
	progress := func(n int64) {
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if f.err != nil {
			rep.Files = append(rep.Files, FileReport{Path: f.path, Format: fmtUnknown, Verdict: VerdictError, Findings: []Finding{{
				Severity: SeverityError, Rule: "read-error", Reason: f.err.Error(), Offset: -1}}})
			continue
		}
		fr := scanFile(ctx, f.path, opts, progress)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Files = append(rep.Files, fr)
	}
	return rep, nil
}

type fileEntry struct {
	path string
	size int64
	err  error
}

func collect(root string) ([]fileEntry, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("not a regular file or folder")
		}
		return []fileEntry{{path: root, size: info.Size()}}, nil
	}
	var files []fileEntry
	walkRoot := root
	if li, err := os.Lstat(root); err == nil && li.Mode()&os.ModeSymlink != 0 {
		// WalkDir does not follow a link, even at the root; a trailing
		// separator makes the root the folder it points to.
		walkRoot = root + string(filepath.Separator)
	}
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == walkRoot {
				return err
			}
			files = append(files, fileEntry{path: p, err: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows a link to a file
		switch {
		case err != nil:
			files = append(files, fileEntry{path: p, err: err})
		case info.Mode().IsRegular():
			files = append(files, fileEntry{path: p, size: info.Size()})
		}
		return nil
	})
	return files, err
}

// scanFile hashes the file on one goroutine while the format scanners read
// what they need on this one: for a safetensors or PyTorch file that is the
// header and the pickle, so scanning costs little more than hashing.
func scanFile(ctx context.Context, path string, opts Options, progress func(int64)) (fr FileReport) {
	fr = FileReport{Path: path, Format: fmtUnknown, Verdict: VerdictClean, Findings: []Finding{}}
	f, err := os.Open(path)
	if err != nil {
		fr.Verdict = VerdictError
		fr.Findings = append(fr.Findings, Finding{Severity: SeverityError, Rule: "read-error", Reason: err.Error(), Offset: -1})
		return fr
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		fr.Verdict = VerdictError
		fr.Findings = append(fr.Findings, Finding{Severity: SeverityError, Rule: "read-error", Reason: err.Error(), Offset: -1})
		return fr
	}
	fr.Size = info.Size()

	type hashed struct {
		sum string
		err error
	}
	hc := make(chan hashed, 1)
	go func() {
		sum, err := hashReaderAt(ctx, f, fr.Size, progress)
		hc <- hashed{sum, err}
	}()

	s := newFileScan(ctx, opts)
	fr.Format = s.scanTop(f, fr.Size, filepath.Dir(path))

	h := <-hc
	fr.SHA256 = h.sum
	if h.err != nil {
		s.add(nil, Finding{Severity: SeverityError, Rule: "read-error", Reason: "hashing: " + h.err.Error(), Offset: -1})
	}
	fr.Findings = s.finish()
	fr.Verdict = worstVerdict(fr.Findings)
	return fr
}

func worstVerdict(findings []Finding) Verdict {
	v := VerdictClean
	for _, fd := range findings {
		if fv := verdictOf(fd.Severity); fv.rank() > v.rank() {
			v = fv
		}
	}
	return v
}

// scanContent scans content that is already in hand, without hashing it:
// for tests and fuzzing.
func scanContent(ctx context.Context, ra io.ReaderAt, size int64, dir string, opts Options) (format string, findings []Finding) {
	s := newFileScan(ctx, opts.withDefaults())
	format = s.scanTop(ra, size, dir)
	return format, s.finish()
}

func hashReaderAt(ctx context.Context, r io.ReaderAt, size int64, progress func(int64)) (string, error) {
	h := sha256.New()
	buf := make([]byte, hashBufSize)
	var off int64
	for off < size {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if progress != nil && n > 0 {
			progress(int64(n))
		}
		if err != nil && !(errors.Is(err, io.EOF) && off == size) {
			if errors.Is(err, io.EOF) {
				return hex.EncodeToString(h.Sum(nil)), fmt.Errorf("file shrank to %d of %d bytes while reading", off, size)
			}
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileScan holds the state of scanning one file on disk: its findings and
// the budgets that bound the work, shared by every archive member inside.
type fileScan struct {
	ctx      context.Context
	opts     Options
	budget   int64 // bytes that may still be extracted from archives
	opsLeft  int64 // pickle opcodes that may still be interpreted
	halt     bool  // a limit was hit or ctx is done: stop everything
	findings []Finding
	seen     map[findingKey]bool
	dropped  int
	worstOut Severity
}

type findingKey struct {
	rule, module, name, reason string
	sev                        Severity
}

func newFileScan(ctx context.Context, opts Options) *fileScan {
	return &fileScan{
		ctx:     ctx,
		opts:    opts,
		budget:  opts.MaxTotalBytes,
		opsLeft: opts.MaxPickleOps,
		seen:    map[findingKey]bool{},
	}
}

// add records a finding made in m, naming the member and turning the offset
// into one in the file when the member is stored uncompressed. Repeats of a
// finding are dropped: the first offset is the one to look at.
func (s *fileScan) add(m *member, f Finding) {
	if m != nil && m.name != "" {
		f.Reason = m.name + ": " + f.Reason
		if f.Offset >= 0 {
			if m.base >= 0 {
				f.Offset += m.base
			} else {
				f.Reason += fmt.Sprintf(" (offset %d in the member)", f.Offset)
				f.Offset = -1
			}
		}
	} else if m != nil && m.base < 0 {
		f.Offset = -1
	}
	k := findingKey{f.Rule, f.Module, f.Name, f.Reason, f.Severity}
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	if len(s.findings) >= maxFindings {
		s.dropped++
		if f.Severity.rank() > s.worstOut.rank() || s.worstOut == "" {
			s.worstOut = f.Severity
		}
		return
	}
	s.findings = append(s.findings, f)
}

func (s *fileScan) finish() []Finding {
	if s.dropped > 0 {
		s.findings = append(s.findings, Finding{Severity: s.worstOut, Rule: "too-many-findings", Offset: -1,
			Reason: fmt.Sprintf("%d more findings not listed (the worst is %s)", s.dropped, s.worstOut)})
	}
	if s.findings == nil {
		return []Finding{}
	}
	return s.findings
}

// scanTop scans a file on disk, recovering from a bug in a parser so that
// one hostile file cannot take the whole scan down.
func (s *fileScan) scanTop(f io.ReaderAt, size int64, dir string) (format string) {
	format = fmtUnknown
	defer func() {
		if r := recover(); r != nil {
			s.add(nil, Finding{Severity: SeverityError, Rule: "internal-error", Offset: -1,
				Reason: fmt.Sprintf("scanner failed on this file: %v", r)})
		}
	}()
	return s.scan(&member{size: size, ra: f, dir: dir})
}
