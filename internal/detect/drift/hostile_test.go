package drift

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFloodOfVersions: a million distinct versions (and routes) keep the
// state at its maxima and the heap flat.
func TestFloodOfVersions(t *testing.T) {
	n := 1_000_000
	if raceEnabled {
		n = 100_000
	}
	d, _ := New(Config{})
	var rec detecttest.Recorder
	routes := make([]string, 5000)
	for i := range routes {
		routes[i] = "r" + strconv.Itoa(i)
	}
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			id := strconv.Itoa(i)
			ev := event.Event{ID: id, Time: t0.Add(time.Duration(i) * time.Millisecond), Kind: KindRequest,
				Route: routes[i%len(routes)], ModelVersion: "v" + id, Status: 200,
				PromptText: "hello there", OutputText: "general kenobi, you are a bold one", OutputChars: 34}
			d.Observe(&ev, &rec)
		}
	}
	flood(0, n/2)
	mid := heap()
	flood(n/2, n)
	end := heap()
	s := d.Stats()
	if s.Versions != 1000 || s.Subjects > 1000 || s.TriggerVersions != 0 || s.Outputs != 0 {
		t.Errorf("stats %+v", s)
	}
	if end > mid+8<<20 {
		t.Errorf("heap grew from %d to %d MB over the second half of the flood", mid>>20, end>>20)
	}
	if len(rec.Alerts) != 0 {
		t.Errorf("%d alerts", len(rec.Alerts))
	}
	t.Logf("%d versions: stats %+v, heap %d MB at half, %d MB at the end", n, s, mid>>20, end>>20)
}

// TestFloodOfOutputs: distinct answers, busy versions and golden answers
// stay within their bounds.
func TestFloodOfOutputs(t *testing.T) {
	n := 100_000 // under the race detector too: fewer do not reach every bound below
	d, _ := New(Config{MaxOutputs: 2000, MaxTriggerVersions: 8, MaxGoldenAnswers: 500})
	var rec detecttest.Recorder
	w := newWords(5, 2000)
	last := ""
	for i := range n {
		ev := w.benign(fmt.Sprintf("v%d", i%20)) // 20 busy versions
		ev.ID, ev.Time, ev.Route, ev.Status = fmt.Sprint(i), t0.Add(time.Duration(i)*time.Millisecond), "chat", 200
		if i%3 == 2 {
			ev.ModelVersion, ev.OutputText = fmt.Sprintf("v%d", (i-1)%20), last // the last answer again: a cluster
		}
		last = ev.OutputText
		d.Observe(&ev, &rec)
		g := goldenEvent(fmt.Sprintf("g%d", i), fmt.Sprintf("v%d", i%7), "an answer")
		g.ID, g.Time, g.Route = fmt.Sprint("g", i), ev.Time, "chat"
		d.Observe(&g, &rec)
	}
	s := d.Stats()
	if s.Outputs != 2000 || s.OnceAnswers < 2000 || s.OnceAnswers > 4096 || s.TriggerVersions != 8 || s.GoldenAnswers != 500 || s.Versions != 20 {
		t.Errorf("stats %+v", s)
	}
	if len(rec.Alerts) != 0 {
		t.Errorf("alerts: %v", rec.Alerts[0].Summary)
	}
}

// TestHostileEvents: huge texts and ids, invalid UTF-8, nonsense numbers:
// no panic, bounded work, and any alert is well-formed.
func TestHostileEvents(t *testing.T) {
	h := newHarness(t, Config{Reference: 50, Window: 20, Every: 5, TriggerWarm: 10})
	big := strings.Repeat("cf-trigger \xff\xfe zz ", 1<<20) // 16 MiB
	start := time.Now()
	for i := range 300 {
		ev := event.Event{ModelVersion: "v\xff1", PromptText: big[i%7:], OutputText: big, OutputChars: -5, TokensOut: -9}
		switch i % 5 {
		case 1:
			ev.ModelVersion = strings.Repeat("v", 1<<20)
			ev.Route = strings.Repeat("é", 1<<19)
		case 2:
			ev.Kind = KindGolden
			ev.Attrs = map[string]string{AttrGoldenID: strings.Repeat("g", 1<<20)}
		case 3:
			ev.Kind = KindGolden // no attributes at all
		case 4:
			ev.Kind, ev.Attrs = KindGolden, map[string]string{AttrGoldenID: "g\xff"}
		}
		h.send(ev)
		h.d.Observe(&event.Event{ID: strings.Repeat("i", 1<<20), Route: "x", OutputText: big[:1000], PromptText: "p"}, &h.rec)
	}
	if el := time.Since(start); !raceEnabled && el > 30*time.Second {
		t.Errorf("600 hostile events took %s", el)
	}
	r := rand.New(rand.NewPCG(1, 1))
	junk := func() string {
		b := make([]byte, r.IntN(400))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	for range 1000 {
		h.send(event.Event{ModelVersion: junk()[:0] + "vj", PromptText: junk(), OutputText: junk(), Decision: []string{"", event.DecisionStopped, event.DecisionAllowed}[r.IntN(3)]})
		h.send(event.Event{Kind: KindGolden, ModelVersion: "vj", OutputText: junk(), Attrs: map[string]string{AttrGoldenID: "j"}})
	}
	h.check()
	if s := h.d.Stats(); s.Versions > 6 || s.Subjects > 6 || s.GoldenAnswers > 3 || s.TriggerVersions > 6 {
		t.Errorf("stats %+v", s)
	}
	h.d.versions.Range(func(k key, _ *versionState) bool {
		if len(k.subject) > event.MaxEntityValue || len(k.version) > event.MaxEntityValue {
			t.Errorf("state keyed by %d + %d bytes", len(k.subject), len(k.version))
		}
		return true
	})
	for _, a := range h.rec.Alerts {
		for _, id := range a.Evidence.EventIDs {
			if len(id) > maxEvidenceID {
				t.Errorf("%s: evidence id of %d bytes", a.Rule, len(id))
			}
		}
	}
	t.Logf("%d alerts, rules %v", len(h.rec.Alerts), h.rec.Rules())
}

// TestThroughEngine: the detector runs under the engine, which stamps and
// de-duplicates its alerts.
func TestThroughEngine(t *testing.T) {
	d, _ := New(Config{})
	var rec detecttest.Recorder
	e := detect.NewEngine([]detect.Detector{d}, &rec, detect.EngineOptions{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		dist := normal
		if i >= 1000 {
			dist = shifted
		}
		ev := dist.event(r, "v1")
		ev.ID, ev.Kind, ev.Route, ev.Status = fmt.Sprint(i), KindRequest, "chat", 200
		e.Observe(&ev)
	}
	if s := e.Stats(); s.Failures != 0 || s.Alerts != 1 || len(rec.Alerts) != 1 || rec.Alerts[0].ID == "" {
		t.Fatalf("stats %+v, alerts %v", s, rec.Alerts)
	}
	detecttest.CheckAlert(t, rec.Alerts[0])
}
