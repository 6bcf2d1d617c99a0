package dataset

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// ManifestDiff says what changed between two manifests.
type ManifestDiff struct {
	RootA string `json:"root_a"`
	RootB string `json:"root_b"`
	// Identical is true when the roots are equal: same files, same bytes.
	Identical    bool       `json:"identical"`
	AddedFiles   []string   `json:"added_files"`
	RemovedFiles []string   `json:"removed_files"`
	ChangedFiles []FileDiff `json:"changed_files"`
}

// FileDiff is the record-level difference of one file whose bytes changed.
type FileDiff struct {
	PathA   string `json:"path_a"`
	PathB   string `json:"path_b"`
	SHA256A string `json:"sha256_a"`
	SHA256B string `json:"sha256_b"`
	// RecordLevel is false when either side has no record hashes (not a
	// record format, or its scan failed): only the bytes are known to differ.
	RecordLevel bool           `json:"record_level"`
	Added       []RecordHash   `json:"added"`
	Removed     []RecordHash   `json:"removed"`
	Changed     []RecordChange `json:"changed"`
	// Reordered is true when the same records are present in a different
	// order (or only formatting outside the records changed).
	Reordered bool `json:"reordered"`
	// DuplicateKeys counts keys that more than one record of A or B carries:
	// unusual in a keyed dataset, and a way to slip a record in beside the
	// original.
	DuplicateKeys int `json:"duplicate_keys,omitempty"`
}

// RecordChange is a record whose key is in both files with different
// content. Records without a key are paired by line number when one was
// removed and another added at the same line.
type RecordChange struct {
	Key     string `json:"key,omitempty"`
	LineA   int64  `json:"line_a"`
	LineB   int64  `json:"line_b"`
	SHA256A string `json:"sha256_a"`
	SHA256B string `json:"sha256_b"`
}

// Diff fingerprints the datasets at pathA and pathB (files or folders)
// and compares them.
func Diff(ctx context.Context, pathA, pathB string, opts ManifestOptions) (*ManifestDiff, error) {
	a, err := ManifestOf(ctx, pathA, opts)
	if err != nil {
		return nil, err
	}
	b, err := ManifestOf(ctx, pathB, opts)
	if err != nil {
		return nil, err
	}
	return DiffManifests(a, b), nil
}

// DiffManifests compares two manifests file by file and, for files whose
// bytes differ, record by record. Files are matched by path, except that
// two single-file manifests are compared with each other whatever their
// names.
func DiffManifests(a, b *Manifest) *ManifestDiff {
	d := &ManifestDiff{RootA: a.Root, RootB: b.Root, AddedFiles: []string{}, RemovedFiles: []string{}, ChangedFiles: []FileDiff{}}
	if !a.Dir && !b.Dir && len(a.Files) == 1 && len(b.Files) == 1 {
		if fa, fb := a.Files[0], b.Files[0]; fa.SHA256 != fb.SHA256 {
			d.ChangedFiles = append(d.ChangedFiles, diffFile(fa, fb))
		}
		d.Identical = len(d.ChangedFiles) == 0
		return d
	}
	inB := make(map[string]FileManifest, len(b.Files))
	for _, f := range b.Files {
		inB[f.Path] = f
	}
	for _, fa := range a.Files {
		fb, ok := inB[fa.Path]
		if !ok {
			d.RemovedFiles = append(d.RemovedFiles, fa.Path)
			continue
		}
		delete(inB, fa.Path)
		if fa.SHA256 != fb.SHA256 {
			d.ChangedFiles = append(d.ChangedFiles, diffFile(fa, fb))
		}
	}
	for _, fb := range b.Files {
		if _, ok := inB[fb.Path]; ok {
			d.AddedFiles = append(d.AddedFiles, fb.Path)
		}
	}
	d.Identical = a.Root == b.Root
	return d
}

// diffFile matches records by key — the ID field's value, or the content
// hash for records without one — pairing equal hashes first. Within a key,
// leftover records of A and B pair up as changed; the rest are removed or
// added. Keyless leftovers at the same line pair up as changed last.
func diffFile(fa, fb FileManifest) FileDiff {
	d := FileDiff{
		PathA: fa.Path, PathB: fb.Path, SHA256A: fa.SHA256, SHA256B: fb.SHA256,
		Added: []RecordHash{}, Removed: []RecordHash{}, Changed: []RecordChange{},
	}
	if fa.RecordRoot == "" || fb.RecordRoot == "" {
		return d
	}
	d.RecordLevel = true
	groupKey := func(r RecordHash) string {
		if r.Key != "" {
			return "k" + r.Key
		}
		return "h" + r.SHA256
	}
	group := func(rs []RecordHash) (map[string][]RecordHash, []string) {
		m := map[string][]RecordHash{}
		var order []string
		for _, r := range rs {
			k := groupKey(r)
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = append(m[k], r)
		}
		return m, order
	}
	ga, orderA := group(fa.Records)
	gb, orderB := group(fb.Records)
	dups := map[string]bool{}
	for _, g := range []map[string][]RecordHash{ga, gb} {
		for k, rs := range g {
			if strings.HasPrefix(k, "k") && len(rs) > 1 {
				dups[k] = true
			}
		}
	}
	d.DuplicateKeys = len(dups)
	var removedKeyless, addedKeyless []RecordHash
	for _, k := range orderA {
		ra, rb := unmatched(ga[k], gb[k])
		n := 0
		if strings.HasPrefix(k, "k") {
			n = min(len(ra), len(rb))
			for i := range n {
				d.Changed = append(d.Changed, RecordChange{Key: ra[i].Key, LineA: ra[i].Line, LineB: rb[i].Line, SHA256A: ra[i].SHA256, SHA256B: rb[i].SHA256})
			}
			d.Added = append(d.Added, rb[n:]...)
			d.Removed = append(d.Removed, ra[n:]...)
			continue
		}
		removedKeyless = append(removedKeyless, ra...)
		addedKeyless = append(addedKeyless, rb...)
	}
	for _, k := range orderB {
		if _, inA := ga[k]; inA {
			continue
		}
		if strings.HasPrefix(k, "k") {
			d.Added = append(d.Added, gb[k]...)
		} else {
			addedKeyless = append(addedKeyless, gb[k]...)
		}
	}
	// Keyless records edited in place: removed and added at the same line.
	atLine := map[int64]int{}
	for i, r := range addedKeyless {
		atLine[r.Line] = i
	}
	paired := make([]bool, len(addedKeyless))
	for _, r := range removedKeyless {
		if i, ok := atLine[r.Line]; ok && !paired[i] {
			paired[i] = true
			d.Changed = append(d.Changed, RecordChange{LineA: r.Line, LineB: r.Line, SHA256A: r.SHA256, SHA256B: addedKeyless[i].SHA256})
			continue
		}
		d.Removed = append(d.Removed, r)
	}
	for i, r := range addedKeyless {
		if !paired[i] {
			d.Added = append(d.Added, r)
		}
	}
	byLine := func(x, y RecordHash) int { return cmp.Compare(x.Line, y.Line) }
	slices.SortFunc(d.Added, byLine)
	slices.SortFunc(d.Removed, byLine)
	slices.SortFunc(d.Changed, func(x, y RecordChange) int { return cmp.Compare(x.LineA, y.LineA) })
	d.Reordered = len(d.Added)+len(d.Removed)+len(d.Changed) == 0
	return d
}

// unmatched removes the records whose hashes appear on both sides (as a
// multiset) and returns what is left of each, in file order.
func unmatched(a, b []RecordHash) (ra, rb []RecordHash) {
	count := map[string]int{}
	for _, r := range b {
		count[r.SHA256]++
	}
	matched := map[string]int{}
	for _, r := range a {
		if count[r.SHA256] > 0 {
			count[r.SHA256]--
			matched[r.SHA256]++
			continue
		}
		ra = append(ra, r)
	}
	for _, r := range b {
		if matched[r.SHA256] > 0 {
			matched[r.SHA256]--
			continue
		}
		rb = append(rb, r)
	}
	return ra, rb
}

// String summarises the diff in one line.
func (d *ManifestDiff) String() string {
	if d.Identical {
		return "identical"
	}
	var added, removed, changed int
	for _, f := range d.ChangedFiles {
		added += len(f.Added)
		removed += len(f.Removed)
		changed += len(f.Changed)
	}
	return fmt.Sprintf("%d files added, %d removed, %d changed (records: %d added, %d removed, %d changed)",
		len(d.AddedFiles), len(d.RemovedFiles), len(d.ChangedFiles), added, removed, changed)
}
