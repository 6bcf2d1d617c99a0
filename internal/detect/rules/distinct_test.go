package rules

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
)

// refDistinct is the plain form of distinctSet.add: a list scanned in full.
type refDistinct struct{ vals []distinctValue }

func (g *refDistinct) add(h uint64, now, window int64, threshold int) int {
	for i := range g.vals {
		if g.vals[i].h == h {
			g.vals[i].seen = now
			return g.live(now, window)
		}
	}
	if len(g.vals) >= threshold {
		g.prune(now, window)
		if len(g.vals) >= threshold {
			return len(g.vals)
		}
	}
	g.vals = append(g.vals, distinctValue{h: h, seen: now})
	if len(g.vals) >= threshold {
		g.prune(now, window)
	}
	return len(g.vals)
}

func (g *refDistinct) live(now, window int64) int {
	n := 0
	for _, v := range g.vals {
		if v.seen > now-window {
			n++
		}
	}
	return n
}

func (g *refDistinct) prune(now, window int64) {
	g.vals = slices.DeleteFunc(g.vals, func(v distinctValue) bool { return v.seen <= now-window })
}

// TestDistinctSetMatchesScan: the indexed set counts exactly as a scan of
// every value does, with values repeating, time going backwards now and
// then, and sets small and large.
func TestDistinctSetMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 100 {
		threshold := 1 + rng.IntN(1500)
		if trial%3 == 0 {
			threshold = 1 + rng.IntN(40)
		}
		values := uint64(1 + rng.IntN(4*threshold))
		window := int64(1 + rng.IntN(1000))
		var s distinctSet
		var ref refDistinct
		now := int64(rng.IntN(1000)) - 500
		for i := range 5000 {
			now += int64(rng.IntN(int(window)/20 + 2))
			if rng.IntN(50) == 0 {
				now -= int64(rng.IntN(int(window) * 2)) // out of order
			}
			h := rng.Uint64N(values) * 0x9E3779B97F4A7C15 // spread, with 0 among them
			got, want := s.add(h, now, window, threshold), ref.add(h, now, window, threshold)
			if got != want {
				t.Fatalf("trial %d step %d (threshold %d, window %d): %d, want %d", trial, i, threshold, window, got, want)
			}
		}
	}
}

// TestDistinctBusyGroupMatchesScan: a busy group, as in the detection
// benchmark, holds more values than are live and sees many of them again;
// it counts as the scan does, as time moves on, stands still, and jumps
// back and forth by less and more than a window.
func TestDistinctBusyGroupMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 30 {
		threshold := 20 + rng.IntN(1500)
		values := uint64(1 + rng.IntN(threshold)) // the set seldom fills: stale values stay
		if trial%4 == 0 {
			values = uint64(threshold + rng.IntN(2*threshold))
		}
		window := int64(100 + rng.IntN(10000))
		step := 1 + rng.IntN(int(window)/50+1)
		var s distinctSet
		var ref refDistinct
		now := int64(0)
		for i := range 8000 {
			switch r := rng.IntN(1000); {
			case r < 3:
				now -= int64(rng.IntN(int(3 * window))) // back, perhaps past a window
			case r < 6:
				now += int64(rng.IntN(int(3 * window))) // forward past a window
			case r < 200:
				// the same instant
			default:
				now += int64(rng.IntN(step + 1))
			}
			h := rng.Uint64N(values) * 0x9E3779B97F4A7C15
			got, want := s.add(h, now, window, threshold), ref.add(h, now, window, threshold)
			if got != want {
				t.Fatalf("trial %d step %d (threshold %d, values %d, window %d): %d, want %d", trial, i, threshold, values, window, got, want)
			}
		}
	}
}

// TestEventsWithoutTheCountedFieldTouchNoGroup: events that lack the
// distinct field neither create groups nor push real ones out; a
// count_distinct group filled before and after a flood of them still
// reaches its threshold.
func TestEventsWithoutTheCountedFieldTouchNoGroup(t *testing.T) {
	h := &harness{d: New(load(t), Options{MaxGroups: 4}), now: t0}
	for i := range 10 {
		h.send(event.Event{IP: "192.0.2.3", Endpoint: "/v1/completions", PromptSHA256: fmt.Sprint("p", i)})
	}
	for i := range 1000 { // other addresses, no prompt hash
		h.send(event.Event{IP: fmt.Sprint("198.51.100.", i%250), Endpoint: "/v1/completions"})
	}
	spray := -1
	for i, r := range h.d.active.rs.rules {
		if r.id == "prompt-spray" {
			spray = i
		}
	}
	if n := h.d.active.groups[spray].Len(); n != 1 {
		t.Fatalf("%d prompt-spray groups, want the one with prompt hashes", n)
	}
	for i := 10; i < 20; i++ {
		h.send(event.Event{IP: "192.0.2.3", Endpoint: "/v1/completions", PromptSHA256: fmt.Sprint("p", i)})
	}
	if a := h.rec.Rule("prompt-spray"); len(a) != 1 || !strings.Contains(a[0].Summary, "20 distinct values of prompt_sha256") {
		t.Fatalf("alerts %+v", h.rec.Alerts)
	}
}

// TestGroupKeys: groups are kept apart by their field's whole value, long
// and invalid values too, and an alert names a long or invalid value by
// its hash, as "#" and hex.
func TestGroupKeys(t *testing.T) {
	long := strings.Repeat("2001:db8::", 30) // over 256 bytes
	keys := []string{"192.0.2.7", "192.0.2.70", long, long + "1", "bad\xffkey", "bad\xfekey"}
	h := &harness{d: New(load(t), Options{}), now: t0}
	for i := range 20 {
		for _, k := range keys {
			h.send(event.Event{IP: k, Endpoint: "/v1/completions", PromptSHA256: fmt.Sprint(k, i)})
		}
	}
	alerts := h.rec.Rule("prompt-spray")
	if len(alerts) != len(keys) {
		t.Fatalf("%d alerts, want one per group: %+v", len(alerts), alerts)
	}
	seen := map[string]bool{}
	for i, a := range alerts {
		k := keys[i]
		shown := k
		if len(k) > 256 || !utf8.ValidString(k) {
			shown = "#" + strconv.FormatUint(maphash.String(h.d.seed, k), 16)
		}
		if !strings.Contains(a.Summary, "20 distinct values of prompt_sha256 in 5m0s for ip="+shown+" ") {
			t.Errorf("alert %d summary %q, want the group %q", i, a.Summary, shown)
		}
		if seen[a.Fingerprint] {
			t.Errorf("alert %d: fingerprint %s repeats", i, a.Fingerprint)
		}
		seen[a.Fingerprint] = true
	}
}
