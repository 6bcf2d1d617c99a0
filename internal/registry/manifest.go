package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/airlock-ir/airlock/internal/forensics/signing"
	"github.com/airlock-ir/airlock/internal/store"
)

// manifest is a model's files as hashed now.
type manifest struct {
	Files []store.ModelFile
	// Ignores is the effective ignore list (defaults included); nil for a
	// single-file model.
	Ignores []string
}

// hashModel hashes the model at path: a folder, walked as model-signing
// walks it (see signing.Manifest), or a single file, whose one entry is its
// base name.
func hashModel(path string, ignores []string) (*manifest, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file or folder", path)
		}
		f, err := hashFile(path)
		if err != nil {
			return nil, err
		}
		f.Path = filepath.Base(path)
		return &manifest{Files: []store.ModelFile{f}}, nil
	}
	m, err := signing.Manifest(path, signing.ManifestOptions{IgnorePaths: ignores})
	if err != nil {
		return nil, err
	}
	out := &manifest{Ignores: m.IgnorePaths, Files: make([]store.ModelFile, len(m.Files))}
	for i, f := range m.Files {
		out.Files[i] = store.ModelFile{Path: f.Name, SHA256: f.SHA256, Size: f.Size}
	}
	return out, nil
}

func hashFile(path string) (store.ModelFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return store.ModelFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return store.ModelFile{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return store.ModelFile{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// ManifestDigest is the digest the registry identifies a version's content
// by (see the package comment).
func ManifestDigest(files []store.ModelFile) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range files {
		binary.BigEndian.PutUint64(n[:], uint64(len(f.Path)))
		h.Write(n[:])
		io.WriteString(h, f.Path)
		raw, err := hex.DecodeString(f.SHA256)
		if err != nil || len(raw) != sha256.Size {
			raw = make([]byte, sha256.Size) // cannot happen for hashes we computed
		}
		h.Write(raw)
		binary.BigEndian.PutUint64(n[:], uint64(f.Size))
		h.Write(n[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// signingDigest is model-signing's subject digest: SHA-256 over the raw
// file digests in manifest order.
func signingDigest(files []store.ModelFile) string {
	m := signing.ModelManifest{Files: make([]signing.FileDigest, len(files))}
	for i, f := range files {
		m.Files[i] = signing.FileDigest{Name: f.Path, SHA256: f.SHA256, Size: f.Size}
	}
	return m.RootDigest()
}

// Difference lists how the files on disk differ from the registered ones,
// by relative path, each list sorted.
type Difference struct {
	Changed []string `json:"changed"` // a different digest or size
	Missing []string `json:"missing"` // registered, not on disk
	Added   []string `json:"added"`   // on disk, not registered
}

// Empty reports whether nothing differs.
func (d Difference) Empty() bool {
	return len(d.Changed) == 0 && len(d.Missing) == 0 && len(d.Added) == 0
}

func compareFiles(registered, now []store.ModelFile) Difference {
	d := Difference{Changed: []string{}, Missing: []string{}, Added: []string{}}
	cur := make(map[string]store.ModelFile, len(now))
	for _, f := range now {
		cur[f.Path] = f
	}
	for _, f := range registered {
		g, ok := cur[f.Path]
		switch {
		case !ok:
			d.Missing = append(d.Missing, f.Path)
		case g.SHA256 != f.SHA256 || g.Size != f.Size:
			d.Changed = append(d.Changed, f.Path)
		}
		delete(cur, f.Path)
	}
	for p := range cur {
		d.Added = append(d.Added, p)
	}
	slices.Sort(d.Changed)
	slices.Sort(d.Missing)
	slices.Sort(d.Added)
	return d
}

// isMissing reports an error that means the model is no longer there.
func isMissing(err error) bool { return errors.Is(err, fs.ErrNotExist) }
