package drift

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config tunes the detector. The zero value is usable: zero fields take the
// defaults in brackets.
type Config struct {
	// Output-distribution drift, per (route or model, model version).
	Reference int     // outputs of a version that make its reference [500]
	Window    int     // the current window: the version's last outputs [200]
	Every     int     // outputs between two comparisons [50]
	PSI       float64 // alert at or above this PSI on any feature [0.25]
	JS        float64 // alert at or above this Jensen–Shannon divergence, in bits [0.1]
	// Pinned are references to use instead of the versions' first outputs,
	// e.g. saved from a known-good run with Detector.Reference.
	Pinned []Reference

	// Bounds on state. A version or subject idle for TTL is forgotten.
	MaxVersions int           // [1,000], about 2 KB each
	MaxSubjects int           // routes or models whose last reference is kept [1,000]
	TTL         time.Duration // [168h]

	// Golden prompts: expectations by golden id, at most MaxGolden.
	Golden []Golden
	// GoldenConsistency is the least word-shingle Jaccard similarity of a
	// golden answer to the first answer the same version gave [0.8];
	// negative turns the consistency check off.
	GoldenConsistency float64
	MaxGoldenAnswers  int // (golden id, version) first answers kept, about 1 KB each [10,000]

	// Trigger tokens.
	TriggerPrompts     int     // different prompts with the same output before it counts [3]
	TriggerRareShare   float64 // a token is rare below this share of a version's prompts [0.01]
	TriggerWarm        int     // prompts a version must have before rarity is judged [200]
	MaxTriggerVersions int     // versions with a token sketch, 8 × SketchWidth bytes each [32]
	MaxOutputs         int     // distinct answers remembered, over all versions, about 250 bytes each [16,384]
	SketchWidth        int     // counters per row of the token sketch, a power of two [8,192]
	TriggerScan        int     // bytes at the end of a prompt and start of an output tokenised [4,096]
}

// Limits on the configuration and on what one golden prompt may hold.
const (
	MaxGolden     = 1000
	MaxGoldenID   = 128
	MaxAnswer     = 64 << 10 // bytes of a golden answer kept or compared
	maxReference  = 1_000_000
	maxWindow     = 100_000
	maxStateLimit = 10_000_000
)

// Validate reports the first thing wrong with c, naming it. Zero fields are
// valid: they take the defaults.
func (c Config) Validate() error {
	ints := []struct {
		name string
		v    int
		max  int
	}{
		{"Reference", c.Reference, maxReference},
		{"Window", c.Window, maxWindow},
		{"Every", c.Every, maxWindow},
		{"MaxVersions", c.MaxVersions, maxStateLimit},
		{"MaxSubjects", c.MaxSubjects, maxStateLimit},
		{"MaxGoldenAnswers", c.MaxGoldenAnswers, maxStateLimit},
		{"TriggerPrompts", c.TriggerPrompts, 100},
		{"TriggerWarm", c.TriggerWarm, maxReference},
		{"MaxTriggerVersions", c.MaxTriggerVersions, 10_000},
		{"MaxOutputs", c.MaxOutputs, maxStateLimit},
		{"SketchWidth", c.SketchWidth, 1 << 20},
		{"TriggerScan", c.TriggerScan, 1 << 20},
	}
	for _, f := range ints {
		if f.v < 0 || f.v > f.max {
			return fmt.Errorf("%s is %d, want 0 (the default) to %d", f.name, f.v, f.max)
		}
	}
	if c.TriggerPrompts == 1 {
		return errors.New("TriggerPrompts is 1: one prompt cannot show a shared trigger, want at least 2")
	}
	if w := c.SketchWidth; w != 0 && (w < 256 || w&(w-1) != 0) {
		return fmt.Errorf("SketchWidth is %d, want a power of two of at least 256", w)
	}
	if c.TTL < 0 {
		return fmt.Errorf("TTL is %s, want 0 (the default) or more", c.TTL)
	}
	floats := []struct {
		name   string
		v, max float64
	}{
		{"PSI", c.PSI, 100},
		{"JS", c.JS, 1},
		{"TriggerRareShare", c.TriggerRareShare, 0.5},
	}
	for _, f := range floats {
		if math.IsNaN(f.v) || f.v < 0 || f.v > f.max {
			return fmt.Errorf("%s is %v, want 0 (the default) to %v", f.name, f.v, f.max)
		}
	}
	if math.IsNaN(c.GoldenConsistency) || c.GoldenConsistency > 1 {
		return fmt.Errorf("GoldenConsistency is %v, want at most 1 (negative turns it off)", c.GoldenConsistency)
	}
	if len(c.Golden) > MaxGolden {
		return fmt.Errorf("%d golden prompts, more than %d", len(c.Golden), MaxGolden)
	}
	seen := make(map[string]bool, len(c.Golden))
	for i, g := range c.Golden {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("golden prompt %d: %w", i+1, err)
		}
		if seen[g.ID] {
			return fmt.Errorf("golden prompt %d: id %q used twice", i+1, g.ID)
		}
		seen[g.ID] = true
	}
	if len(c.Pinned) > maxPinned {
		return fmt.Errorf("%d pinned references, more than %d", len(c.Pinned), maxPinned)
	}
	for i, r := range c.Pinned {
		if _, err := r.hist(); err != nil {
			return fmt.Errorf("pinned reference %d: %w", i+1, err)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Reference, 500)
	def(&c.Window, 200)
	def(&c.Every, 50)
	if c.PSI <= 0 {
		c.PSI = 0.25
	}
	if c.JS <= 0 {
		c.JS = 0.1
	}
	def(&c.MaxVersions, 1000)
	def(&c.MaxSubjects, 1000)
	if c.TTL <= 0 {
		c.TTL = 7 * 24 * time.Hour
	}
	if c.GoldenConsistency == 0 {
		c.GoldenConsistency = 0.8
	}
	def(&c.MaxGoldenAnswers, 10_000)
	def(&c.TriggerPrompts, 3)
	if c.TriggerRareShare <= 0 {
		c.TriggerRareShare = 0.01
	}
	def(&c.TriggerWarm, 200)
	def(&c.MaxTriggerVersions, 32)
	def(&c.MaxOutputs, 16_384)
	def(&c.SketchWidth, 8192)
	def(&c.TriggerScan, 4096)
	return c
}
