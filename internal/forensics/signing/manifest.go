package signing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultIgnorePaths are left out of every manifest, as model-signing's CLI
// does: the signature file it writes by default and git's metadata.
var DefaultIgnorePaths = []string{".git", "model.sig", ".gitattributes", ".gitignore", ".github"}

// ManifestOptions control how a model folder is walked.
type ManifestOptions struct {
	// IgnorePaths are left out, in addition to DefaultIgnorePaths: paths
	// relative to the model folder (or absolute paths inside it); a folder
	// leaves out everything under it. "a" ignores "a" and "a/x", not "ab".
	IgnorePaths []string
	// AllowSymlinks hashes the target of a symlink to a file (and skips a
	// symlink to a folder) instead of refusing the model.
	AllowSymlinks bool
}

// ModelManifest is a model folder as model-signing's "files" serialization
// sees it.
type ModelManifest struct {
	Name          string       // the folder's base name
	Files         []FileDigest // sorted by path, component by component
	IgnorePaths   []string     // the effective list, sorted
	AllowSymlinks bool
}

// FileDigest is one file of a model.
type FileDigest struct {
	Name   string // relative POSIX path
	SHA256 string // hex
	Size   int64
}

// RootDigest is the digest model-signing puts in the statement's subject:
// SHA-256 over the files' raw digests in manifest order.
func (m *ModelManifest) RootDigest() string {
	rs := make([]Resource, len(m.Files))
	for i, f := range m.Files {
		rs[i] = Resource{Name: f.Name, Algorithm: "sha256", Digest: f.SHA256}
	}
	return resourcesDigest(rs)
}

// Manifest walks dir and hashes every regular file in it, streaming each
// through SHA-256, as model-signing v1.x does for method "files": paths are
// relative and POSIX, sorted component by component; DefaultIgnorePaths and
// opts.IgnorePaths are left out; symlinks are refused unless allowed;
// sockets, pipes and devices are refused. A model with no file left is an
// error.
func Manifest(dir string, opts ManifestOptions) (*ModelManifest, error) {
	m, err := buildManifest(dir, opts)
	if err != nil {
		return nil, err
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("manifest %s: no regular files left after the ignore list", dir)
	}
	return m, nil
}

func buildManifest(dir string, opts ManifestOptions) (*ModelManifest, error) {
	ignores, err := effectiveIgnores(dir, opts.IgnorePaths)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", dir, err)
	}
	root, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if root.Mode()&fs.ModeSymlink != 0 {
		if !opts.AllowSymlinks {
			return nil, fmt.Errorf("manifest %s: the model folder is a symlink (allow symlinks to follow it)", dir)
		}
		if root, err = os.Stat(dir); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	if !root.IsDir() {
		return nil, fmt.Errorf("manifest %s: not a folder", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m := &ModelManifest{Name: filepath.Base(abs), IgnorePaths: ignores, AllowSymlinks: opts.AllowSymlinks}

	var jobs []hashJob
	walkRoot := dir
	if opts.AllowSymlinks {
		walkRoot = abs + string(filepath.Separator) // walk into a symlinked root
	}
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(walkRoot, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if ignored(rel, ignores) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t.IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			jobs = append(jobs, hashJob{name: rel, path: p, walked: info})
			return nil
		case t&fs.ModeSymlink != 0:
			if !opts.AllowSymlinks {
				return fmt.Errorf("%s: is a symlink (allow symlinks to follow it)", rel)
			}
			info, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("%s: broken symlink: %w", rel, err)
			}
			if info.IsDir() { // model-signing neither hashes nor enters it
				return nil
			}
			if !info.Mode().IsRegular() {
				return fmt.Errorf("%s: symlink to a %s, not a regular file", rel, fileKind(info.Mode()))
			}
			jobs = append(jobs, hashJob{name: rel, path: p, walked: info})
			return nil
		default:
			return fmt.Errorf("%s: is a %s, not a regular file", rel, fileKind(t))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", dir, err)
	}

	slices.SortFunc(jobs, func(a, b hashJob) int { return comparePaths(a.name, b.name) })
	m.Files, err = hashAll(jobs)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", dir, err)
	}
	return m, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "special file"
}

// effectiveIgnores cleans the default and user ignore paths into relative
// POSIX paths, sorted and without duplicates.
func effectiveIgnores(dir string, user []string) ([]string, error) {
	out := slices.Clone(DefaultIgnorePaths)
	for _, p := range user {
		rel, err := relIgnorePath(dir, p)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func relIgnorePath(dir, p string) (string, error) {
	if p == "" {
		return "", errors.New("empty ignore path")
	}
	if filepath.IsAbs(p) {
		absDir, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		r, err := filepath.Rel(absDir, p)
		if err != nil {
			return "", fmt.Errorf("ignore path %q: %w", p, err)
		}
		p = r
	}
	rel := path.Clean(filepath.ToSlash(p))
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("ignore path %q is not inside the model folder", p)
	}
	return rel, nil
}

// ignored reports whether rel is an ignore path or lies under one.
func ignored(rel string, ignores []string) bool {
	for _, ig := range ignores {
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

// comparePaths orders relative POSIX paths as Python's PurePosixPath does,
// component by component, so "a/b" sorts before "a-c" although '-' < '/'.
func comparePaths(a, b string) int {
	for {
		ha, ra, moreA := strings.Cut(a, "/")
		hb, rb, moreB := strings.Cut(b, "/")
		if c := strings.Compare(ha, hb); c != 0 {
			return c
		}
		switch {
		case !moreA && !moreB:
			return 0
		case !moreA:
			return -1
		case !moreB:
			return 1
		}
		a, b = ra, rb
	}
}

type hashJob struct {
	name   string
	path   string
	walked fs.FileInfo // what the walk saw, to notice a swap before hashing
}

// hashAll hashes the files on a few goroutines and returns them in job
// order. The first error in job order wins, so the message is stable.
// Jobs after a failed one are skipped; those before it still run, so that
// the error reported does not depend on scheduling.
func hashAll(jobs []hashJob) ([]FileDigest, error) {
	out := make([]FileDigest, len(jobs))
	errs := make([]error, len(jobs))
	workers := min(runtime.GOMAXPROCS(0), 8, len(jobs))
	var firstFailed atomic.Int64
	firstFailed.Store(int64(len(jobs)))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, 1<<20)
			for i := range next {
				if int64(i) > firstFailed.Load() {
					continue
				}
				out[i], errs[i] = hashFile(jobs[i], buf)
				for errs[i] != nil {
					cur := firstFailed.Load()
					if int64(i) >= cur || firstFailed.CompareAndSwap(cur, int64(i)) {
						break
					}
				}
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func hashFile(j hashJob, buf []byte) (FileDigest, error) {
	f, err := os.Open(j.path)
	if err != nil {
		return FileDigest{}, fmt.Errorf("%s: %w", j.name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return FileDigest{}, fmt.Errorf("%s: %w", j.name, err)
	}
	if !info.Mode().IsRegular() || !os.SameFile(info, j.walked) {
		return FileDigest{}, fmt.Errorf("%s: changed while the model was walked", j.name)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, buf)
	if err != nil {
		return FileDigest{}, fmt.Errorf("%s: %w", j.name, err)
	}
	return FileDigest{Name: j.name, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// ManifestMismatchError lists how a model folder differs from a signed
// statement. It matches ErrManifestMismatch under errors.Is.
type ManifestMismatchError struct {
	Changed []string // on disk with a different digest
	Extra   []string // on disk, not in the statement
	Missing []string // in the statement, not on disk
	// Ignored are signed files the verifier's ignore list left out, so they
	// were not checked (they are not in Missing).
	Ignored []string
	// SignerIgnored are the Extra files the signer's own ignore_paths leave
	// out: pass them as IgnorePaths to accept them.
	SignerIgnored []string
}

func (e *ManifestMismatchError) Error() string {
	var parts []string
	if len(e.Changed) > 0 {
		parts = append(parts, "changed: "+strings.Join(e.Changed, ", "))
	}
	if len(e.Extra) > 0 {
		s := "not in the signature: " + strings.Join(e.Extra, ", ")
		if len(e.SignerIgnored) > 0 {
			s += " (the signer ignored " + strings.Join(e.SignerIgnored, ", ") + ")"
		}
		parts = append(parts, s)
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "missing: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Ignored) > 0 {
		parts = append(parts, "signed but ignored by the verifier: "+strings.Join(e.Ignored, ", "))
	}
	return ErrManifestMismatch.Error() + ": " + strings.Join(parts, "; ")
}

func (e *ManifestMismatchError) Is(target error) bool { return target == ErrManifestMismatch }

// VerifyManifest hashes dir with opts and compares it with the statement's
// resources, file by file. Any difference is a *ManifestMismatchError naming
// every changed, extra and missing file. The ignore list is the verifier's
// (DefaultIgnorePaths and opts.IgnorePaths), not the signer's: a file the
// signer chose to leave out is reported unless the caller ignores it too.
func VerifyManifest(st *Statement, dir string, opts ManifestOptions) error {
	_, err := verifyManifest(st, dir, opts)
	return err
}

func verifyManifest(st *Statement, dir string, opts ManifestOptions) (*ModelManifest, error) {
	if st == nil {
		return nil, errors.New("signing: VerifyManifest needs a statement")
	}
	m, err := buildManifest(dir, opts)
	if err != nil {
		return nil, err
	}
	signed := make(map[string]string, len(st.Resources))
	for _, r := range st.Resources {
		signed[r.Name] = r.Digest
	}
	var mm ManifestMismatchError
	for _, f := range m.Files {
		want, ok := signed[f.Name]
		switch {
		case !ok:
			mm.Extra = append(mm.Extra, f.Name)
			if ignored(f.Name, cleanSignerIgnores(st.Serialization.IgnorePaths)) {
				mm.SignerIgnored = append(mm.SignerIgnored, f.Name)
			}
		case want != f.SHA256:
			mm.Changed = append(mm.Changed, f.Name)
		}
		delete(signed, f.Name)
	}
	for _, r := range st.Resources {
		if _, left := signed[r.Name]; !left {
			continue
		}
		if ignored(r.Name, m.IgnorePaths) {
			mm.Ignored = append(mm.Ignored, r.Name)
		} else {
			mm.Missing = append(mm.Missing, r.Name)
		}
	}
	if len(mm.Changed)+len(mm.Extra)+len(mm.Missing)+len(mm.Ignored) > 0 {
		return m, &mm
	}
	return m, nil
}

// cleanSignerIgnores makes the statement's ignore_paths comparable with
// walked names; paths that are not relative are dropped.
func cleanSignerIgnores(ps []string) []string {
	var out []string
	for _, p := range ps {
		c := path.Clean(p)
		if c != "." && c != ".." && !strings.HasPrefix(c, "../") && !strings.HasPrefix(c, "/") {
			out = append(out, c)
		}
	}
	return out
}
