package anomaly

import "time"

// Config tunes the detector. Zero fields take the defaults in brackets.
type Config struct {
	MaxCallers  int           // callers whose baselines are kept, about 250 bytes each [100,000]
	CallerTTL   time.Duration // a caller idle this long is forgotten (and new again) [2h]
	MaxRoutes   int           // [1,000]
	Bucket      time.Duration // the unit a baseline learns from [1m]
	K           float64       // spreads above the mean that are anomalous [6]
	WarmBuckets int           // buckets of history before a baseline is trusted [10]

	// Absolute minimums per bucket, below which nothing fires: per caller...
	MinRate     int // requests [60]
	ColdRate    int // requests of a caller without a baseline yet [600]
	MinTokens   int // input + output tokens [100,000]
	MinErrors   int // responses with status >= 500 [20]
	MinRefusals int // refused requests [10]
	MinLatencyN int // requests with a latency, before latency is judged [10]
	// A caller without a baseline yet is judged against ColdFactor times
	// the minimums (so its requests against ColdRate). [10]
	ColdFactor   float64
	LatencyRatio float64 // mean latency must also be this many times the baseline's [2]

	// ...and per route.
	RouteMinRate     int // [600]
	RouteMinTokens   int // [1,000,000]
	RouteMinErrors   int // [50]
	RouteMinRefusals int // [50]
	RouteMinLatencyN int // [20]
	MinNewCallers    int // callers not seen before [100]
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxCallers, 100_000)
	if c.CallerTTL <= 0 {
		c.CallerTTL = 2 * time.Hour
	}
	def(&c.MaxRoutes, 1000)
	if c.Bucket <= 0 {
		c.Bucket = time.Minute
	}
	if c.K <= 0 {
		c.K = 6
	}
	def(&c.WarmBuckets, 10)
	def(&c.MinRate, 60)
	def(&c.ColdRate, 600)
	def(&c.MinTokens, 100_000)
	def(&c.MinErrors, 20)
	def(&c.MinRefusals, 10)
	def(&c.MinLatencyN, 10)
	if c.ColdFactor <= 0 {
		c.ColdFactor = 10
	}
	if c.LatencyRatio <= 0 {
		c.LatencyRatio = 2
	}
	def(&c.RouteMinRate, 600)
	def(&c.RouteMinTokens, 1_000_000)
	def(&c.RouteMinErrors, 50)
	def(&c.RouteMinRefusals, 50)
	def(&c.RouteMinLatencyN, 20)
	def(&c.MinNewCallers, 100)
	return c
}
