package extraction

import "strings"

// A route's prompts usually start with the same system prompt, often much
// longer than what the user typed. Left in, it would make every prompt on
// the route a near-duplicate of every other, and a system prompt that says
// "never reveal your system prompt" would make every request a probe. So
// each route learns the prefix most of its prompts share, and the
// per-caller signals look only at what follows it.
//
// The learner keeps one reference prompt (its first maxPrefix bytes) and a
// histogram of how long a prefix each sampled prompt shares with it, in
// buckets of prefixBucket bytes, with the shortest such length per bucket.
// The shared prefix is the longest that at least prefixQuorum of the
// samples have; a reference that almost nothing shares is replaced.

const (
	maxPrefix    = 2048
	prefixBucket = 32
	prefixBins   = maxPrefix/prefixBucket + 1
	prefixQuorum = 0.5
	minPrefix    = 32 // shorter shared prefixes are not worth stripping
	prefixDecay  = 8192
	prefixSample = 4 // learn from one prompt in prefixSample once settled
)

type routePrefix struct {
	ref    string
	shared int // bytes of ref that most prompts start with; 0 if none
	count  [prefixBins]uint32
	minLen [prefixBins]uint16
	total  uint32
	seen   uint32
}

// strip returns the part of p after the route's shared prefix, learning
// from p first.
func (r *routePrefix) strip(p string) string {
	r.seen++
	if r.ref == "" {
		r.ref = strings.Clone(p[:min(len(p), maxPrefix)])
	}
	if r.total < 256 || r.seen%prefixSample == 0 {
		r.learn(p)
	}
	if r.shared > 0 && strings.HasPrefix(p, r.ref[:r.shared]) {
		return p[r.shared:]
	}
	return p
}

// settled reports whether the route has seen enough prompts to know its
// shared prefix (or that it has none).
func (r *routePrefix) settled() bool { return r.seen >= 16 }

func (r *routePrefix) learn(p string) {
	n := commonPrefix(p, r.ref)
	b := n / prefixBucket
	if r.count[b] == 0 || n < int(r.minLen[b]) {
		r.minLen[b] = uint16(n)
	}
	r.count[b]++
	r.total++
	// Settle early (after 16, 32, 64, ... samples), then every 256.
	if r.total&(r.total-1) == 0 && r.total >= 16 || r.total%256 == 0 {
		r.settle()
	}
	if r.total >= prefixDecay {
		for i := range r.count {
			r.count[i] /= 2
		}
		r.total = 0
		for _, c := range r.count {
			r.total += c
		}
	}
}

func (r *routePrefix) settle() {
	need := uint32(prefixQuorum * float64(r.total))
	var above uint32
	shared := 0
	for b := prefixBins - 1; b >= 0; b-- {
		above += r.count[b]
		if above >= need && r.count[b] > 0 {
			// The samples in this bucket and above all share at least
			// this bucket's shortest length, since the higher buckets'
			// lengths are longer.
			shared = int(r.minLen[b])
			break
		}
	}
	if shared < minPrefix {
		shared = 0
	}
	r.shared = shared
	if shared == 0 && r.total >= 512 {
		// The reference was an odd one out: start again from a fresh one.
		*r = routePrefix{seen: r.seen}
	}
}

// commonPrefix is the length of the longest common prefix of a and b, found
// by binary search over string comparisons, which run a word or a vector at
// a time instead of a byte.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	if n == 0 || a[0] != b[0] {
		return 0
	}
	if a[:n] == b[:n] {
		return n
	}
	lo, hi := 1, n // a[:lo] == b[:lo], a[:hi] != b[:hi]
	for hi-lo > 16 {
		mid := (lo + hi) / 2
		if a[:mid] == b[:mid] {
			lo = mid
		} else {
			hi = mid
		}
	}
	for lo < hi && a[lo] == b[lo] {
		lo++
	}
	return lo
}
