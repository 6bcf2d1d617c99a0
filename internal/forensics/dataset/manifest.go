package dataset

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestVersion is the version of the Manifest layout and hash
// constructions; it changes whenever either does.
const ManifestVersion = 1

// DefaultIDField is the record field that keys records when present.
const DefaultIDField = "id"

// Manifest fingerprints a dataset: a file, or every regular file under a
// folder. Its shape is stable: hashes are lowercase hex, files are sorted by
// path, records are in file order.
type Manifest struct {
	Version int    `json:"version"`
	Path    string `json:"path"` // as given to ManifestOf
	// Dir is true when Path is a folder; Files' paths are then relative to
	// it, slash-separated. For a single file, the one entry's path is the
	// file's base name.
	Dir bool `json:"dir"`
	// Root is the RFC 6962 Merkle tree hash over the files in path order.
	// Each file's leaf is its path (length-prefixed), its SHA-256 and its
	// record root (32 zero bytes for files without records).
	Root    string         `json:"root"`
	IDField string         `json:"id_field"`
	Files   []FileManifest `json:"files"`
	// Skipped lists entries that were not hashed: symbolic links and other
	// non-regular files, which are not followed.
	Skipped []string `json:"skipped,omitempty"`
}

// FileManifest fingerprints one file.
type FileManifest struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // of the file's bytes
	Format Format `json:"format,omitempty"`
	// RecordRoot is the RFC 6962 Merkle tree hash over the record hashes in
	// file order (each record hash is a leaf's data). Set for record formats.
	RecordRoot string       `json:"record_root,omitempty"`
	Records    []RecordHash `json:"records,omitempty"`
	// Invalid counts records that are not valid JSON or whose CSV row does
	// not match the header's width; they are hashed as their raw bytes.
	Invalid int `json:"invalid,omitempty"`
	// Error says why the record scan stopped (a line over MaxRecordBytes, a
	// CSV syntax error); the file is then fingerprinted by SHA256 alone.
	Error string `json:"error,omitempty"`
}

// RecordHash fingerprints one record.
type RecordHash struct {
	// Key is the record's ID field value ("" when it has none).
	Key    string `json:"key,omitempty"`
	Line   int64  `json:"line"`
	SHA256 string `json:"sha256"` // of the record's canonical encoding
}

// ManifestOptions tunes ManifestOf.
type ManifestOptions struct {
	// IDField names the field that keys records (default DefaultIDField).
	IDField string
	// MaxRecordBytes bounds one JSON line (default MaxRecordBytes).
	MaxRecordBytes int
}

// ManifestOf fingerprints the file or folder at path.
func ManifestOf(ctx context.Context, path string, opts ManifestOptions) (*Manifest, error) {
	opts.IDField = cmp.Or(opts.IDField, DefaultIDField)
	opts.MaxRecordBytes = cmp.Or(opts.MaxRecordBytes, MaxRecordBytes)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m := &Manifest{Version: ManifestVersion, Path: path, Dir: st.IsDir(), IDField: opts.IDField, Files: []FileManifest{}}
	if !st.IsDir() {
		fm, err := fileManifest(ctx, path, filepath.Base(path), opts)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		m.Files = append(m.Files, fm)
	} else {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(path, p)
			rel = filepath.ToSlash(rel)
			switch {
			case d.IsDir():
				return nil
			case !d.Type().IsRegular():
				m.Skipped = append(m.Skipped, rel)
				return nil
			}
			fm, err := fileManifest(ctx, p, rel, opts)
			if err != nil {
				return err
			}
			m.Files = append(m.Files, fm)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", path, err)
		}
		slices.SortFunc(m.Files, func(a, b FileManifest) int { return strings.Compare(a.Path, b.Path) })
	}
	var tree merkle
	for _, f := range m.Files {
		tree.add(fileLeaf(f))
	}
	root := tree.root()
	m.Root = hex.EncodeToString(root[:])
	return m, nil
}

// fileLeaf is a file's leaf data in the manifest's root.
func fileLeaf(f FileManifest) []byte {
	b := appendField(nil, []byte(f.Path))
	sum, _ := hex.DecodeString(f.SHA256)
	b = append(b, sum...)
	rr := make([]byte, 32)
	if f.RecordRoot != "" {
		rr, _ = hex.DecodeString(f.RecordRoot)
	}
	return append(b, rr...)
}

// fileManifest hashes the file at p (named rel in the manifest) in one
// pass: the bytes the record scan reads are hashed on the way.
func fileManifest(ctx context.Context, p, rel string, opts ManifestOptions) (FileManifest, error) {
	fm := FileManifest{Path: rel, Format: formatOf(rel)}
	f, err := os.Open(p)
	if err != nil {
		return fm, err
	}
	defer f.Close()
	h := sha256.New()
	counted := &countingReader{r: f}
	tee := io.TeeReader(counted, h)
	if fm.Format != "" {
		var tree merkle
		err := scanRecords(ctx, bufio.NewReaderSize(tee, 256<<10), fm.Format, opts.MaxRecordBytes, func(r *record) error {
			sum := sha256.Sum256(r.canonical)
			tree.add(sum[:])
			key, _ := r.field(opts.IDField)
			if r.invalid {
				fm.Invalid++
			}
			fm.Records = append(fm.Records, RecordHash{Key: key, Line: r.line, SHA256: hex.EncodeToString(sum[:])})
			return nil
		})
		if ctx.Err() != nil {
			return fm, ctx.Err()
		}
		if err != nil {
			fm.Error = fmt.Sprintf("records: %v", err)
			fm.Records, fm.Invalid = nil, 0
		} else {
			root := tree.root()
			fm.RecordRoot = hex.EncodeToString(root[:])
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fm, fmt.Errorf("%s: %w", rel, err)
	}
	fm.Size = counted.n
	fm.SHA256 = hex.EncodeToString(h.Sum(nil))
	return fm, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
