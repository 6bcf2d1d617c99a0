package extraction

import "time"

// Config tunes the detector. Zero fields take the defaults in brackets.
type Config struct {
	MaxCallers int           // callers whose state is kept, about 470 bytes each [100,000]
	CallerTTL  time.Duration // a caller idle this long is forgotten [2h]
	MaxRoutes  int           // routes whose shared prefix is learned [1,000]
	Window     time.Duration // the counting window [10m]

	// Rate and volume: requests and output tokens per window, against the
	// caller's baseline once it has WarmWindows windows of history, and
	// against a fixed ceiling before that.
	RateK       float64 // spreads above the baseline [6]
	RateMin     int     // requests per window below which rate never fires [300]
	ColdRate    int     // requests per window of a caller without a baseline [3,000]
	VolumeMin   int     // output tokens per window below which volume never fires [500,000]
	ColdVolume  int     // output tokens per window without a baseline [2,000,000]
	WarmWindows int     // windows before a baseline is trusted [3]

	// Distinct prompts (by SHA-256) per window.
	DistinctMin    int     // at least this many [200]
	DistinctGrowth float64 // and this many times the caller's usual count [3]

	// Near-duplicate probing: a prompt within NearDistance SimHash bits of
	// one of the caller's recent prompts, not identical and not the same
	// conversation continued.
	NearDistance int     // [10]
	NearMin      int     // near-duplicates per window [20]
	NearFraction float64 // of the caller's distinct prompts in the window [0.3]

	// PRADA: the caller's nearest-neighbour distance distribution against
	// everyone's (see prada.go).
	PradaMin       int     // caller samples before testing [50]
	PradaD         float64 // minimum Kolmogorov–Smirnov statistic [0.4]
	PradaReference int     // everyone's samples before testing [1,000]

	// Logprob and logit_bias harvesting.
	LogprobMin      int     // such requests per window [100]
	LogprobFraction float64 // of the caller's requests in the window [0.5]

	ProbeMin  int // identity / architecture / system-prompt probes per window [3]
	RepeatRun int // one word repeated this many times in a row is a divergence prompt [50]
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxCallers, 100_000)
	if c.CallerTTL <= 0 {
		c.CallerTTL = 2 * time.Hour
	}
	def(&c.MaxRoutes, 1000)
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	deff(&c.RateK, 6)
	def(&c.RateMin, 300)
	def(&c.ColdRate, 3000)
	def(&c.VolumeMin, 500_000)
	def(&c.ColdVolume, 2_000_000)
	def(&c.WarmWindows, 3)
	def(&c.DistinctMin, 200)
	deff(&c.DistinctGrowth, 3)
	def(&c.NearDistance, 10)
	def(&c.NearMin, 20)
	deff(&c.NearFraction, 0.3)
	def(&c.PradaMin, 50)
	deff(&c.PradaD, 0.4)
	def(&c.PradaReference, 1000)
	def(&c.LogprobMin, 100)
	deff(&c.LogprobFraction, 0.5)
	def(&c.ProbeMin, 3)
	def(&c.RepeatRun, 50)
	return c
}
