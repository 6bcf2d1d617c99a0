package drift

import (
	"fmt"
	"strings"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// versionState is one version's reference and current window.
type versionState struct {
	ref, cur hist
	refN     int  // outputs learned into ref
	refDone  bool // ref is complete (or pinned)
	pinned   bool
	// ring holds the current window's samples, oldest at pos once full.
	ring        []sample
	pos, filled int
	seen        uint64 // outputs observed
	since       int    // outputs since the last comparison
	drifting    bool   // in a drift episode: alerted, not yet back to calm
	prev        *hist  // the previous version's reference, until the first window is compared
	prevVersion string
	prevPinned  bool
	firstID     string
	recent      idRing
	// For the trigger signal, kept so that it need not be looked up per
	// event: the version's hash (0 until first needed) and its sketch's
	// slot in the sketch table plus one (0 for none; checked on use, as
	// the slot may have gone to another version).
	vhash  uint64
	sketch int32
}

// subjectState is what a route (or model) remembers across versions: the
// last reference completed on it, or the one pinned for it.
type subjectState struct {
	version string
	ref     *hist // never changed once set: replaced, so versions may share it
	pinned  bool
}

// observeOutput learns one output into its version's windows and compares
// them when due. It returns the output's sample and the version's state,
// valid until the next change to d.versions.
func (d *Detector) observeOutput(ev *event.Event, k key, text string, out detect.Sink) (sample, *versionState) {
	s := extract(ev, text)
	fresh := false
	vs := d.versions.GetOrCreate(k, ev.Time, func() versionState {
		fresh = true
		return versionState{ring: make([]sample, d.cfg.Window)}
	})
	if fresh {
		d.start(vs, k, ev)
	}
	vs.seen++
	if vs.firstID == "" {
		vs.firstID = evidenceID(ev.ID)
	}
	vs.recent.add(ev.ID)
	if !vs.refDone {
		vs.ref.add(s)
		vs.refN++
		if vs.refN >= d.cfg.Reference {
			vs.refDone = true
			d.referenceDone(k, vs, ev)
		}
	}
	if vs.filled == len(vs.ring) {
		vs.cur.remove(vs.ring[vs.pos])
	} else {
		vs.filled++
	}
	vs.ring[vs.pos] = s
	vs.cur.add(s)
	vs.pos = (vs.pos + 1) % len(vs.ring)
	vs.since++
	full := vs.filled == len(vs.ring)
	if full && vs.prev != nil {
		d.checkVersionChange(ev, k, vs, out)
		vs.prev = nil
	}
	if full && vs.refDone && vs.since >= d.cfg.Every {
		vs.since = 0
		d.checkDrift(ev, k, vs, out)
	}
	return s, vs
}

// start sets up a version seen for the first time (or again after it was
// forgotten): its pinned reference if it has one; the subject's last
// reference if that was this version's own; otherwise, when the subject's
// last reference is another version's, that one to compare the first
// window with.
func (d *Detector) start(vs *versionState, k key, ev *event.Event) {
	if h := d.pinned[k]; h != nil {
		vs.ref, vs.refDone, vs.pinned = *h, true, true
	}
	if k.subject == "" {
		return
	}
	subj, ok := d.subjects.Get(k.subject, ev.Time)
	if !ok || subj.ref == nil {
		return
	}
	if subj.version == k.version {
		if !vs.refDone {
			vs.ref, vs.refDone = *subj.ref, true
		}
		return
	}
	vs.prev, vs.prevVersion, vs.prevPinned = subj.ref, subj.version, subj.pinned
}

// referenceDone makes a completed reference the subject's last one, unless
// the subject has a pinned reference.
func (d *Detector) referenceDone(k key, vs *versionState, ev *event.Event) {
	if k.subject == "" {
		return
	}
	subj := d.subjects.GetOrCreate(k.subject, ev.Time, func() subjectState { return subjectState{} })
	if subj.pinned && subj.version != k.version {
		return
	}
	h := new(hist)
	*h = vs.ref
	subj.ref, subj.version = h, k.version
}

// scores are one comparison's results, per feature; ok is false for a
// feature with too few samples on either side to judge.
type scores struct {
	psi, js [numFeatures]float64
	ok      [numFeatures]bool
}

func (d *Detector) compare(ref, cur *hist) scores {
	var sc scores
	minRef := uint64(max(1, min(d.cfg.Reference, d.cfg.Window)/2))
	minCur := uint64(max(1, d.cfg.Window/2))
	for f := range numFeatures {
		if ref.total(f) < minRef || cur.total(f) < minCur {
			continue
		}
		n := featureBins[f]
		var pr, pc [maxBins]uint32
		g := pool(ref[f][:n], cur[f][:n], f == fLength, &pr, &pc)
		sc.ok[f] = true
		sc.psi[f] = psi(pr[:g], pc[:g])
		sc.js[f] = js(ref[f][:n], cur[f][:n])
	}
	return sc
}

// over reports whether feature f is at or above a threshold.
func (d *Detector) over(sc *scores, f feature) bool {
	return sc.ok[f] && (sc.psi[f] >= d.cfg.PSI || sc.js[f] >= d.cfg.JS)
}

// calm reports whether every feature is below half its thresholds: the
// end of a drift episode, after which the next crossing alerts again.
func (d *Detector) calm(sc *scores) bool {
	for f := range numFeatures {
		if sc.ok[f] && (sc.psi[f] >= d.cfg.PSI/2 || sc.js[f] >= d.cfg.JS/2) {
			return false
		}
	}
	return true
}

func (sc *scores) maxPSI() float64 {
	m := 0.0
	for f := range numFeatures {
		if sc.ok[f] {
			m = max(m, sc.psi[f])
		}
	}
	return m
}

func (d *Detector) checkDrift(ev *event.Event, k key, vs *versionState, out detect.Sink) {
	sc := d.compare(&vs.ref, &vs.cur)
	if vs.drifting {
		if d.calm(&sc) {
			vs.drifting = false
		}
		return
	}
	shifted, top := d.shifted(&sc)
	if shifted == "" {
		return
	}
	vs.drifting = true
	rule := RuleJS
	if sc.maxPSI() >= d.cfg.PSI {
		rule = RulePSI
	}
	refDesc := fmt.Sprintf("its first %d outputs", vs.refN)
	switch {
	case vs.pinned:
		refDesc = "its pinned reference"
	case vs.refN == 0:
		refDesc = "its reference remembered from before it was idle"
	}
	sev, conf := d.grade(&sc)
	d.raise(out, ev, k, event.Alert{
		Rule:       rule,
		Type:       typeIntegrity,
		ATLAS:      append([]string(nil), atlasIntegrity...),
		Severity:   sev,
		Confidence: conf,
		Summary: fmt.Sprintf("output drift on %s: %s; the last %d outputs against the reference of %s (alert at PSI ≥ %.2f or JS ≥ %.2f bits)",
			describe(ev, k), shifted, vs.filled, refDesc, d.cfg.PSI, d.cfg.JS),
		Evidence: event.AlertEvidence{EventIDs: vs.recent.list(vs.firstID), Excerpt: histExcerpt(top, &vs.ref, &vs.cur)},
	})
}

// checkVersionChange compares a new version's first window with the
// reference of the version that served the subject before it.
func (d *Detector) checkVersionChange(ev *event.Event, k key, vs *versionState, out detect.Sink) {
	sc := d.compare(vs.prev, &vs.cur)
	shifted, top := d.shifted(&sc)
	if shifted == "" {
		return
	}
	prevDesc := fmt.Sprintf("%q's reference", vs.prevVersion)
	if vs.prevPinned {
		prevDesc = fmt.Sprintf("%q's pinned reference", vs.prevVersion)
	}
	sev, conf := d.grade(&sc)
	d.raise(out, ev, k, event.Alert{
		Rule:       RuleVersionChange,
		Type:       typeIntegrity,
		ATLAS:      append([]string(nil), atlasIntegrity...),
		Severity:   sev,
		Confidence: conf,
		Summary: fmt.Sprintf("new version on %s behaves unlike version %q before it: %s; its first %d outputs against %s (alert at PSI ≥ %.2f or JS ≥ %.2f bits)",
			describe(ev, k), vs.prevVersion, shifted, vs.filled, prevDesc, d.cfg.PSI, d.cfg.JS),
		Evidence: event.AlertEvidence{EventIDs: vs.recent.list(vs.firstID), Excerpt: histExcerpt(top, vs.prev, &vs.cur)},
	})
}

// shifted describes the features at or above a threshold, largest PSI
// first in the evidence, and returns the most shifted one; "" when none.
func (d *Detector) shifted(sc *scores) (string, feature) {
	var parts []string
	top, topPSI := feature(0), -1.0
	for f := range numFeatures {
		if !d.over(sc, f) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s PSI %.2f, JS %.2f bits", featureNames[f], sc.psi[f], sc.js[f]))
		if sc.psi[f] > topPSI {
			top, topPSI = f, sc.psi[f]
		}
	}
	return strings.Join(parts, "; "), top
}

// grade turns the size of a shift into severity and confidence: a shift at
// the threshold is medium and 0.6; four times the PSI threshold is high
// and 0.9.
func (d *Detector) grade(sc *scores) (event.Severity, float64) {
	r := sc.maxPSI() / d.cfg.PSI
	sev := event.SeverityMedium
	if r >= 4 {
		sev = event.SeverityHigh
	}
	return sev, min(0.9, 0.5+0.1*min(r, 4))
}

// histExcerpt shows feature f's distribution in the reference and now, the
// bins holding at least 1% of either: "refusal: reference no 98%, yes 2%
// | now no 60%, yes 40%".
func histExcerpt(f feature, ref, cur *hist) string {
	n := featureBins[f]
	rt, ct := float64(ref.total(f)), float64(cur.total(f))
	if rt == 0 || ct == 0 {
		return ""
	}
	side := func(h *hist, t float64) string {
		var parts []string
		for b := range n {
			r, c := float64(ref[f][b])/rt, float64(cur[f][b])/ct
			if r < 0.01 && c < 0.01 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %.0f%%", binLabel(f, b), 100*float64(h[f][b])/t))
		}
		return strings.Join(parts, ", ")
	}
	s := featureNames[f] + ": reference " + side(ref, rt) + " | now " + side(cur, ct)
	return detect.Excerpt(s, 0, min(len(s), detect.MaxExcerpt))
}
