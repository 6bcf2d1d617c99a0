package drift

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// BenchmarkObserve measures the detector on gateway traffic: four routes,
// two versions each, prompts of about 100 bytes and answers of about 250,
// every answer different, with output text in memory (so every signal
// runs). It reports events per second.
func BenchmarkObserve(b *testing.B) {
	d, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var rec detecttest.Recorder
	w := newWords(1, 5000)
	r := rand.New(rand.NewPCG(1, 2))
	evs := make([]event.Event, 8192)
	for i := range evs {
		ev := w.benign(fmt.Sprintf("v%d", i%2))
		n := int(300 * (1 + r.Float64()))
		ev.ID, ev.Kind, ev.Route, ev.Model, ev.Status, ev.Decision = fmt.Sprint(i), KindRequest, fmt.Sprintf("route-%d", i%4), "gpt-test", 200, event.DecisionAllowed
		ev.OutputChars, ev.TokensOut = n, n/4
		evs[i] = ev
	}
	i := 0
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		ev := &evs[i%len(evs)]
		ev.Time = t0.Add(time.Duration(i) * time.Millisecond)
		d.Observe(ev, &rec)
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "events/s")
	// Per CPU-second too: on a busy machine wall time overstates the cost.
	if c := cpuTime() - cpu0; c > 0 {
		b.ReportMetric(float64(i)/c.Seconds(), "events/cpu-s")
	}
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
