package incident

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Blobs keeps evidence files by content: dir/ab/cdef... for SHA-256 abcdef....
// A file is written to dir/tmp, synced, then renamed into place, so a crash
// leaves either the whole file or a temporary to clean up, never a torn blob.
type Blobs struct{ dir string }

// OpenBlobs prepares dir and removes temporaries left by a crash long ago.
func OpenBlobs(dir string) (*Blobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("evidence dir: %w", err)
	}
	// Temporaries older than a day are left by a crash. Younger ones may
	// belong to an upload in progress in another process on this directory.
	tmps, _ := filepath.Glob(filepath.Join(dir, "tmp", "upload-*"))
	for _, t := range tmps {
		if fi, err := os.Stat(t); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			os.Remove(t)
		}
	}
	return &Blobs{dir: dir}, nil
}

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidDigest reports whether s is a lower-case hex SHA-256.
func ValidDigest(s string) bool { return digestRE.MatchString(s) }

// Path is where the blob with digest sha lives. sha must be valid.
func (b *Blobs) Path(sha string) string {
	return filepath.Join(b.dir, sha[:2], sha[2:])
}

// Put streams r into the store, hashing as it goes, and refuses (with
// ErrTooLarge, keeping nothing) anything over max bytes.
func (b *Blobs) Put(r io.Reader, max int64) (sha string, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Join(b.dir, "tmp"), "upload-*")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	limit := max // read one byte more than allowed, to tell "too large" from "exactly max"
	if limit < math.MaxInt64 {
		limit++
	}
	size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit))
	if err != nil {
		return "", 0, fmt.Errorf("read upload: %w", err)
	}
	if size > max {
		return "", 0, fmt.Errorf("evidence is larger than the limit of %d bytes: %w", max, ErrTooLarge)
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, err
	}
	if err = tmp.Close(); err != nil {
		return "", 0, err
	}
	sha = hex.EncodeToString(h.Sum(nil))
	final := b.Path(sha)
	if err = os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", 0, err
	}
	if _, statErr := os.Stat(final); statErr == nil {
		// Same content already stored: keep the first copy untouched.
		os.Remove(tmp.Name())
		return sha, size, nil
	}
	if err = os.Rename(tmp.Name(), final); err != nil {
		return "", 0, err
	}
	if err = syncDir(filepath.Dir(final)); err != nil {
		return "", 0, err
	}
	return sha, size, nil
}

// Open opens the blob for reading.
func (b *Blobs) Open(sha string) (*os.File, error) {
	if !ValidDigest(sha) {
		return nil, fmt.Errorf("bad digest %q", sha)
	}
	return os.Open(b.Path(sha))
}

// Hash re-reads a stored blob and returns its digest and size.
func (b *Blobs) Hash(sha string) (string, int64, error) {
	f, err := b.Open(sha)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !strings.Contains(err.Error(), "invalid argument") {
		return err
	}
	return nil
}
