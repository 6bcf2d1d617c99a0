package bus

import (
	"sync"
	"sync/atomic"

	"github.com/airlock-ir/airlock/internal/event"
)

// InProc is an in-process bus.
type InProc struct {
	mu        sync.RWMutex
	subs      []*Subscription
	published atomic.Uint64
	closed    bool
}

// Subscription is one consumer's bounded queue.
type Subscription struct {
	name    string
	ch      chan event.Event
	dropped atomic.Uint64
}

// NewInProc returns an empty bus.
func NewInProc() *InProc { return &InProc{} }

// Subscribe adds a consumer with a queue of size events.
func (b *InProc) Subscribe(name string, size int) *Subscription {
	if size < 1 {
		size = 1
	}
	s := &Subscription{name: name, ch: make(chan event.Event, size)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.ch)
		return s
	}
	b.subs = append(b.subs, s)
	return s
}

// Publish hands e to every subscriber that has room, without waiting.
func (b *InProc) Publish(e event.Event) {
	b.published.Add(1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return
	}
	for _, s := range b.subs {
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// Close ends every subscription's channel once queued events are read.
func (b *InProc) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, s := range b.subs {
		close(s.ch)
	}
}

// Published counts every event published.
func (b *InProc) Published() uint64 { return b.published.Load() }

// Stats returns each subscriber's drop count.
func (b *InProc) Stats() map[string]uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]uint64, len(b.subs))
	for _, s := range b.subs {
		out[s.name] += s.dropped.Load()
	}
	return out
}

// C is the subscription's queue; it is closed when the bus closes.
func (s *Subscription) C() <-chan event.Event { return s.ch }

// Dropped counts events that did not fit in the queue.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }
