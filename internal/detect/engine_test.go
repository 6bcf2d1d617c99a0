package detect_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/bus"
	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/google/uuid"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a clock the test moves.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// every raises one alert per event, about the event's caller.
type every struct{ name string }

func (d every) Name() string { return d.name }
func (d every) Observe(ev *event.Event, out detect.Sink) {
	out.Raise(event.Alert{
		Rule: "seen", Type: "api_endpoint_attack", ATLAS: []string{"AML.T0040"}, Severity: event.SeverityLow,
		Confidence: 0.5, Summary: "seen " + ev.ID, Entities: detect.Entities(ev),
		Evidence: event.AlertEvidence{EventIDs: []string{ev.ID}},
	})
}

// fragile panics on events from one user.
type fragile struct{ seen *[]string }

func (fragile) Name() string { return "fragile" }
func (f fragile) Observe(ev *event.Event, out detect.Sink) {
	if ev.User == "boom" {
		var m map[string]int
		m["x"]++ // a nil map write: a real runtime panic
	}
	*f.seen = append(*f.seen, ev.ID)
}

func TestEngineDeduplicates(t *testing.T) {
	var rec detecttest.Recorder
	c := &clock{now: t0}
	e := detect.NewEngine([]detect.Detector{every{"a"}}, &rec, detect.EngineOptions{Now: c.Now, DedupWindow: 10 * time.Minute})
	send := func(user string) {
		e.Observe(&event.Event{ID: fmt.Sprint("ev-", user, c.now.Unix()), User: user})
	}
	send("alice")
	c.now = c.now.Add(time.Minute)
	send("alice") // same fingerprint within the window: counted, not raised
	send("bob")   // another subject
	c.now = c.now.Add(time.Minute)
	send("alice")
	if len(rec.Alerts) != 2 {
		t.Fatalf("%d alerts raised, want 2", len(rec.Alerts))
	}
	fp := rec.Alerts[0].Fingerprint
	if got := e.Duplicates(fp); got != 2 {
		t.Errorf("duplicates of alice's alert = %d, want 2", got)
	}
	c.now = t0.Add(11 * time.Minute) // past the window: raised again
	send("alice")
	if len(rec.Alerts) != 3 || rec.Alerts[2].Fingerprint != fp {
		t.Fatalf("after the window: %d alerts", len(rec.Alerts))
	}
	st := e.Stats()
	if st.Events != 5 || st.Alerts != 3 || st.Duplicates != 2 || st.Detectors[0].Name != "a" || st.Detectors[0].Duplicates != 2 {
		t.Errorf("stats %+v", st)
	}

	// Stamped by the engine: UUIDv7 ids in time order, the clock's time,
	// the detector's name and a fingerprint.
	a := rec.Alerts[0]
	if a.Detector != "a" || !a.Time.Equal(t0) || a.Fingerprint != detect.Fingerprint("a", "seen", a.Entities) {
		t.Errorf("alert %+v", a)
	}
	var prev string
	for _, a := range rec.Alerts {
		u, err := uuid.Parse(a.ID)
		if err != nil || u.Version() != 7 {
			t.Errorf("id %q is not a UUIDv7 (%v)", a.ID, err)
		}
		if ms, _ := u.Time().UnixTime(); ms != a.Time.Unix() {
			t.Errorf("id %s carries time %d, alert time %v", a.ID, ms, a.Time)
		}
		if a.ID <= prev {
			t.Errorf("ids out of order: %s after %s", a.ID, prev)
		}
		prev = a.ID
		detecttest.CheckAlert(t, a)
	}
}

func TestEngineRecoversPanickingDetector(t *testing.T) {
	var rec detecttest.Recorder
	var seen []string
	e := detect.NewEngine([]detect.Detector{fragile{&seen}, every{"after"}}, &rec, detect.EngineOptions{Now: (&clock{t0}).Now})
	e.Observe(&event.Event{ID: "ev-1", User: "alice"})
	e.Observe(&event.Event{ID: "ev-2", User: "boom", APIKeyHash: "kh_x", IP: "192.0.2.1"})
	e.Observe(&event.Event{ID: "ev-3", User: "boom"})
	e.Observe(&event.Event{ID: "ev-4", User: "carol"})

	if !slices.Equal(seen, []string{"ev-1", "ev-4"}) {
		t.Errorf("fragile saw %v: it must keep running after a panic", seen)
	}
	failed := rec.Rule(detect.RuleDetectorFailed)
	if len(failed) != 1 {
		t.Fatalf("%d failure alerts, want 1 (the second is a duplicate): %v", len(failed), rec.Rules())
	}
	a := failed[0]
	detecttest.CheckAlert(t, a)
	if a.Detector != "fragile" || a.Severity != event.SeverityHigh || a.Evidence.EventIDs[0] != "ev-2" ||
		!strings.Contains(a.Summary, "assignment to entry in nil map") ||
		!slices.Contains(a.Entities, event.Entity{Kind: event.EntityAPIKey, Value: "kh_x"}) {
		t.Errorf("failure alert %+v", a)
	}
	// The detector after the failing one still saw every event.
	if n := len(rec.Rule("seen")); n != 4 {
		t.Errorf("the next detector raised %d alerts, want 4", n)
	}
	st := e.Stats()
	if st.Failures != 2 || st.Detectors[0].Failures != 2 || st.Detectors[1].Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A sink that panics is counted, not fatal.
func TestEngineSurvivesPanickingSink(t *testing.T) {
	e := detect.NewEngine([]detect.Detector{every{"a"}}, detect.SinkFunc(func(event.Alert) { panic("sink down") }), detect.EngineOptions{})
	e.Observe(&event.Event{ID: "ev-1", User: "u"})
	if st := e.Stats(); st.SinkFailures != 1 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestEngineRunConsumesBus(t *testing.T) {
	b := bus.NewInProc()
	sub := b.Subscribe("detect", 1024)
	var rec detecttest.Recorder
	e := detect.NewEngine([]detect.Detector{every{"a"}}, &rec, detect.EngineOptions{DedupWindow: -1})
	done := make(chan struct{})
	go func() { e.Run(context.Background(), sub.C()); close(done) }()
	for i := range 100 {
		b.Publish(event.Event{ID: fmt.Sprint(i), User: "u"})
	}
	b.Close()
	<-done
	if st := e.Stats(); st.Events != 100 || st.Alerts != 100 {
		t.Errorf("stats %+v (dedup disabled: every alert raised)", st)
	}

	// Run returns when its context is cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	go func() { e.Run(ctx, make(chan event.Event)); close(stop) }()
	cancel()
	select {
	case <-stop:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return on cancel")
	}
}

func TestEngineStampsEventTime(t *testing.T) {
	var got time.Time
	d := detectFunc(func(ev *event.Event, _ detect.Sink) { got = ev.Time })
	e := detect.NewEngine([]detect.Detector{d}, nil, detect.EngineOptions{Now: (&clock{t0}).Now})
	e.Observe(&event.Event{ID: "x"})
	if !got.Equal(t0) {
		t.Errorf("event time %v, want the clock's", got)
	}
	e.Observe(nil) // ignored
}

type detectFunc func(*event.Event, detect.Sink)

func (detectFunc) Name() string                             { return "func" }
func (f detectFunc) Observe(ev *event.Event, s detect.Sink) { f(ev, s) }

func TestFingerprint(t *testing.T) {
	a := []event.Entity{{Kind: event.EntityUser, Value: "u"}, {Kind: event.EntityIP, Value: "192.0.2.1"}}
	b := []event.Entity{a[1], a[0], a[1]}
	if detect.Fingerprint("d", "r", a) != detect.Fingerprint("d", "r", b) {
		t.Error("order and repeats must not change a fingerprint")
	}
	for _, other := range []string{
		detect.Fingerprint("d", "r2", a),
		detect.Fingerprint("d2", "r", a),
		detect.Fingerprint("d", "r", a[:1]),
		detect.Fingerprint("dr", "", a),
	} {
		if other == detect.Fingerprint("d", "r", a) {
			t.Error("different alerts share a fingerprint")
		}
	}
}

func TestExcerpt(t *testing.T) {
	secret := "gh" + "p_" + "x7Kq2mVb9TzR4nLw8YcP1dFs6HjA3gEu5NoQ"
	long := strings.Repeat("word ", 100) + "token " + secret + " end " + strings.Repeat("tail ", 100)
	i := strings.Index(long, "token")
	x := detect.Excerpt(long, i, i+5)
	if strings.Contains(x, secret) || !strings.Contains(x, "[REDACTED:github-token]") {
		t.Errorf("excerpt %q: the secret must be redacted", x)
	}
	if !strings.HasPrefix(x, "…") || !strings.HasSuffix(x, "…") || len(x) > detect.MaxExcerpt+64 {
		t.Errorf("excerpt %q: want a bounded window marked where cut", x)
	}
	// A secret cut by the window's edge is still redacted.
	j := strings.Index(long, secret)
	x = detect.Excerpt(long, j-detect.MaxExcerpt+10, j-detect.MaxExcerpt+11)
	if strings.Contains(x, secret[:8]) {
		t.Errorf("excerpt %q shows part of a secret", x)
	}
	if x := detect.Excerpt("a\xffb\x00c\nd", 0, 7); x != "a\uFFFDb\uFFFDc d" {
		t.Errorf("excerpt %q", x)
	}
	if x := detect.Excerpt("short", -5, 99); x != "short" {
		t.Errorf("excerpt %q", x)
	}
	huge := strings.Repeat("é", 1<<19) // 1 MB of two-byte characters
	if x := detect.Excerpt(huge, 1, 2); len(x) > detect.MaxExcerpt+8 || !strings.HasPrefix(x, "é") {
		t.Errorf("excerpt of %d bytes", len(x))
	}
}

func TestEntities(t *testing.T) {
	ev := &event.Event{APIKeyHash: "kh", User: strings.Repeat("u", 2000), IP: " ", Model: "m\xff"}
	es := detect.Entities(ev)
	if len(es) != 3 {
		t.Fatalf("entities %v", es)
	}
	for _, e := range es {
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
	}
	if c, ok := detect.Caller(&event.Event{IP: "192.0.2.1", User: "u"}); !ok || c.Kind != event.EntityUser {
		t.Errorf("caller %v", c)
	}
	if _, ok := detect.Caller(&event.Event{}); ok {
		t.Error("an event without identity has no caller")
	}
}

func TestEntityValue(t *testing.T) {
	long := strings.Repeat("k", event.MaxEntityValue+10)
	for in, want := range map[string]string{
		"kh_123":       "kh_123",
		"10.0.0.1":     "10.0.0.1",
		"":             "",
		"   ":          "",
		"\t\n":         "",
		"\u00a0\u2003": "",
		" padded ":     " padded ",
		"é-user":       "é-user",
		"bad\xffbyte":  "bad\uFFFDbyte",
		long:           long[:event.MaxEntityValue],
		"\u00a0x":      "\u00a0x",
		"\x00":         "\x00",
	} {
		if got := detect.EntityValue(in); got != want {
			t.Errorf("EntityValue(%q) = %q, want %q", in, got, want)
		}
	}
}
