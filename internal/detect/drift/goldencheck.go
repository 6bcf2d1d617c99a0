package drift

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// goldenKey is a golden prompt on one version.
type goldenKey struct {
	id string
	k  key
}

// goldenState is what a version first answered to a golden prompt, and
// which of the two checks are failing now (each alerts once per failure
// and re-arms when the answer passes again).
type goldenState struct {
	first             []uint64 // bottom-k sketch of the first answer's shingles
	firstID           string
	badExpect, badNow bool
}

// observeGolden judges the answer to a golden prompt: against the golden's
// expectation, if the configuration has one, and against the first answer
// the same version gave.
func (d *Detector) observeGolden(ev *event.Event, out detect.Sink) {
	id := ev.Attrs[AttrGoldenID]
	if id == "" || len(id) > MaxGoldenID || !utf8.ValidString(id) || ev.Error != "" {
		return // an unanswered golden prompt says nothing of the model
	}
	k, ok := keyOf(ev)
	if !ok {
		return
	}
	answer := head(detect.OutputOf(ev), MaxAnswer)
	d.scratch.shingles = shingles(answer, d.scratch.shingles)
	sh := d.scratch.shingles

	expectOK, expectDesc := true, ""
	check := d.golden[id]
	if check != nil {
		expectOK, expectDesc = check.matches(answer, sh)
	}
	fresh := false
	st := d.answers.GetOrCreate(goldenKey{id, k}, ev.Time, func() goldenState {
		fresh = true
		return goldenState{first: bottom(sh), firstID: evidenceID(ev.ID)}
	})
	nowOK, sim := true, 1.0
	if !fresh && d.cfg.GoldenConsistency >= 0 {
		sim = similarity(st.first, sh[:min(len(sh), bottomK)])
		nowOK = sim >= d.cfg.GoldenConsistency
	}
	newExpect, newNow := !expectOK && !st.badExpect, !nowOK && !st.badNow
	st.badExpect, st.badNow = !expectOK, !nowOK
	if !newExpect && !newNow {
		return
	}

	var why []string
	sev, conf := event.SeverityMedium, 0.6
	if !expectOK {
		why = append(why, fmt.Sprintf("the answer does not match %s (match %s)", expectDesc, check.match))
		sev, conf = event.SeverityHigh, 0.8
	}
	if !nowOK {
		why = append(why, fmt.Sprintf("its similarity to the first answer this version gave (event %s) is %.2f, below %.2f",
			st.firstID, sim, d.cfg.GoldenConsistency))
		if !expectOK {
			conf = 0.85
		}
	}
	ids := []string{}
	if st.firstID != "" {
		ids = append(ids, st.firstID)
	}
	if id := evidenceID(ev.ID); id != "" && id != st.firstID {
		ids = append(ids, id)
	}
	d.raise(out, ev, k, event.Alert{
		Rule:       RuleGolden,
		Type:       typeIntegrity,
		ATLAS:      append([]string(nil), atlasIntegrity...),
		Severity:   sev,
		Confidence: conf,
		Summary: fmt.Sprintf("golden prompt %q on %s answered inconsistently: %s",
			id, describe(ev, k), strings.Join(why, "; ")),
		Evidence: event.AlertEvidence{EventIDs: ids, Excerpt: detect.Excerpt(answer, 0, min(len(answer), detect.MaxExcerpt))},
	})
}
