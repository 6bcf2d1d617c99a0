package gateway

import (
	"hash/maphash"
	"sync"
	"time"
)

// limiter counts requests and tokens per (rate-limit action, caller) in
// sliding windows, approximated from the current and previous fixed window
// as in the usual two-bucket scheme. Memory is bounded: entries idle for two
// windows are swept, and past maxEntries the oldest windows go first.
type limiter struct {
	shards [32]limiterShard
	seed   maphash.Seed
	max    int // entries per shard
}

type limiterShard struct {
	mu sync.Mutex
	m  map[limitKey]*window
	n  int // operations since the last sweep
}

type limitKey struct {
	action string
	entity string
}

type window struct {
	start        time.Time
	length       time.Duration
	reqs, tokens int
	prevReqs     int
	prevTokens   int
}

func newLimiter(maxEntries int) *limiter {
	l := &limiter{seed: maphash.MakeSeed(), max: max(maxEntries/32, 64)}
	for i := range l.shards {
		l.shards[i].m = make(map[limitKey]*window)
	}
	return l
}

func (l *limiter) shard(k limitKey) *limiterShard {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(k.action)
	h.WriteString(k.entity)
	return &l.shards[h.Sum64()%uint64(len(l.shards))]
}

// roll moves w to the window containing now.
func (w *window) roll(now time.Time) {
	elapsed := now.Sub(w.start)
	if elapsed < w.length {
		return
	}
	if elapsed < 2*w.length {
		w.prevReqs, w.prevTokens = w.reqs, w.tokens
		w.start = w.start.Add(w.length)
	} else {
		w.prevReqs, w.prevTokens = 0, 0
		w.start = now.Truncate(w.length)
	}
	w.reqs, w.tokens = 0, 0
}

// estimate is the sliding-window count: the current window plus the part of
// the previous one that still overlaps the last window length.
func (w *window) estimate(now time.Time, cur, prev int) float64 {
	frac := 1 - float64(now.Sub(w.start))/float64(w.length)
	return float64(cur) + float64(prev)*max(frac, 0)
}

// admit counts one request against the limit and says whether it may pass;
// when not, how long until it might.
func (l *limiter) admit(k limitKey, now time.Time, length time.Duration, maxReqs, maxTokens int) (bool, time.Duration) {
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.m[k]
	if w == nil || w.length != length {
		s.sweep(now, l.max)
		w = &window{start: now.Truncate(length), length: length}
		s.m[k] = w
	}
	w.roll(now)
	wait := w.start.Add(w.length).Sub(now)
	if maxReqs > 0 && w.estimate(now, w.reqs+1, w.prevReqs) > float64(maxReqs) {
		return false, wait
	}
	if maxTokens > 0 && w.estimate(now, w.tokens, w.prevTokens) >= float64(maxTokens) {
		return false, wait
	}
	w.reqs++
	return true, 0
}

// spend records tokens used by a request that was admitted.
func (l *limiter) spend(k limitKey, now time.Time, tokens int) {
	if tokens <= 0 {
		return
	}
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.m[k]; w != nil {
		w.roll(now)
		w.tokens += tokens
	}
}

// sweep drops idle windows; if the shard is still full, it drops the oldest.
func (s *limiterShard) sweep(now time.Time, max int) {
	s.n++
	if len(s.m) < max && s.n < 1024 {
		return
	}
	s.n = 0
	var oldestKey limitKey
	var oldest time.Time
	for k, w := range s.m {
		if now.Sub(w.start) >= 2*w.length {
			delete(s.m, k)
			continue
		}
		if oldest.IsZero() || w.start.Before(oldest) {
			oldest, oldestKey = w.start, k
		}
	}
	if len(s.m) >= max {
		delete(s.m, oldestKey)
	}
}

// size is the number of tracked windows, for tests and metrics.
func (l *limiter) size() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].m)
		l.shards[i].mu.Unlock()
	}
	return n
}
