package drift

import (
	"errors"
	"fmt"

	"github.com/airlock-ir/airlock/internal/detect"
)

// maxPinned bounds the pinned references.
const maxPinned = 1000

// Reference is a version's reference distribution: for each feature
// ("length", "refusal", "cut", "shape"), how many outputs fell in each bin.
// It is what Detector.Reference returns, for saving with the model
// version's record, and what Pin and Config.Pinned take back.
type Reference struct {
	Subject string              `json:"subject"` // the route, or the model for events without one
	Version string              `json:"version"`
	Counts  map[string][]uint32 `json:"counts"`
}

// hist checks r and returns its counts as a histogram.
func (r Reference) hist() (*hist, error) {
	if detect.EntityValue(r.Subject) != r.Subject || detect.EntityValue(r.Version) != r.Version {
		return nil, errors.New("subject and version must be valid entity values")
	}
	if r.Subject == "" && r.Version == "" {
		return nil, errors.New("subject and version are both empty")
	}
	h := new(hist)
	var total uint64
	for name, counts := range r.Counts {
		f := feature(0)
		for f < numFeatures && featureNames[f] != name {
			f++
		}
		if f == numFeatures {
			return nil, fmt.Errorf("unknown feature %q", name)
		}
		if len(counts) > featureBins[f] {
			return nil, fmt.Errorf("feature %q has %d bins, at most %d", name, len(counts), featureBins[f])
		}
		copy(h[f][:], counts)
		total += h.total(f)
	}
	if total == 0 {
		return nil, errors.New("no counts")
	}
	return h, nil
}

// Reference returns the reference of (subject, version), once complete.
func (d *Detector) Reference(subject, version string) (Reference, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := key{subject, version}
	var h *hist
	if vs, ok := d.versions.Get(k, d.last); ok && vs.refDone {
		h = &vs.ref
	} else if p := d.pinned[k]; p != nil {
		h = p
	}
	if h == nil {
		return Reference{}, false
	}
	r := Reference{Subject: subject, Version: version, Counts: make(map[string][]uint32, numFeatures)}
	for f := range numFeatures {
		if h.total(f) > 0 {
			r.Counts[featureNames[f]] = append([]uint32(nil), h[f][:featureBins[f]]...)
		}
	}
	return r, true
}

// Pin makes r the reference of its version, in place of the version's
// first outputs, and the subject's reference that new versions are compared
// with. A drift episode in progress on the version ends.
func (d *Detector) Pin(r Reference) error {
	h, err := r.hist()
	if err != nil {
		return fmt.Errorf("drift: pin: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := key{r.Subject, r.Version}
	if _, ok := d.pinned[k]; !ok && len(d.pinned) >= maxPinned {
		return fmt.Errorf("drift: pin: %d references pinned already", maxPinned)
	}
	d.pinned[k] = h
	if vs, ok := d.versions.Get(k, d.last); ok {
		vs.ref, vs.refDone, vs.pinned, vs.drifting, vs.since = *h, true, true, false, 0
	}
	if k.subject != "" {
		subj := d.subjects.GetOrCreate(k.subject, d.last, func() subjectState { return subjectState{} })
		*subj = subjectState{version: k.version, ref: h, pinned: true}
	}
	return nil
}

// Reset forgets the reference of (subject, version), pinned or learned:
// its next outputs make a new one. It is how a change that was looked at
// and accepted stops counting as drift.
func (d *Detector) Reset(subject, version string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := key{subject, version}
	delete(d.pinned, k)
	if vs, ok := d.versions.Get(k, d.last); ok {
		vs.ref, vs.refN, vs.refDone, vs.pinned, vs.drifting = hist{}, 0, false, false, false
	}
	if subj, ok := d.subjects.Get(subject, d.last); ok && subj.version == version {
		d.subjects.Delete(subject)
	}
}
