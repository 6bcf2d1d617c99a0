package bus

import (
	"sync"
	"testing"

	"github.com/airlock-ir/airlock/internal/event"
)

func TestPublishNeverBlocksAndCountsDrops(t *testing.T) {
	b := NewInProc()
	slow := b.Subscribe("slow", 2)
	fast := b.Subscribe("fast", 100)
	for i := 0; i < 10; i++ {
		b.Publish(event.Event{ID: string(rune('a' + i))})
	}
	if got := slow.Dropped(); got != 8 {
		t.Errorf("slow dropped %d, want 8", got)
	}
	if got := fast.Dropped(); got != 0 {
		t.Errorf("fast dropped %d, want 0", got)
	}
	if e := <-slow.C(); e.ID != "a" {
		t.Errorf("slow got %q first, want the oldest event a", e.ID)
	}
	if b.Published() != 10 || b.Stats()["slow"] != 8 {
		t.Errorf("published %d, stats %v", b.Published(), b.Stats())
	}
	b.Close()
	b.Publish(event.Event{ID: "after close"})
	n := 0
	for range fast.C() {
		n++
	}
	if n != 10 {
		t.Errorf("fast drained %d events after close, want 10", n)
	}
}

func TestConcurrentPublish(t *testing.T) {
	b := NewInProc()
	s := b.Subscribe("all", 4000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				b.Publish(event.Event{})
			}
		}()
	}
	wg.Wait()
	if got := uint64(len(s.C())) + s.Dropped(); got != 4000 {
		t.Errorf("queued+dropped = %d, want 4000", got)
	}
}
