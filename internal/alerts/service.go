package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// Verdicts an analyst may give.
const (
	TruePositive  = "true_positive"
	FalsePositive = "false_positive"
	Benign        = "benign"
)

// Verdicts lists them.
var Verdicts = []string{TruePositive, FalsePositive, Benign}

// Service stores alerts and their verdicts.
type Service struct {
	st  store.Store
	now func() time.Time
	log *slog.Logger

	queue      chan event.Alert
	dropped    atomic.Uint64
	suppressed atomic.Uint64

	mu         sync.RWMutex
	suppressFP map[string]bool
	listeners  []func(*store.Alert)
}

// New loads the suppression list.
func New(ctx context.Context, st store.Store, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: st, now: time.Now, log: log, queue: make(chan event.Alert, 4096), suppressFP: map[string]bool{}}
	var sups []*store.Suppression
	if err := st.View(ctx, func(tx store.Tx) (err error) { sups, err = tx.ListSuppressions(ctx); return err }); err != nil {
		return nil, err
	}
	for _, sp := range sups {
		s.suppressFP[sp.Fingerprint] = true
	}
	return s, nil
}

// OnAlert registers f to be called with every stored alert (correlation
// listens here). f runs on the writer goroutine and must not block long.
func (s *Service) OnAlert(f func(*store.Alert)) {
	s.mu.Lock()
	s.listeners = append(s.listeners, f)
	s.mu.Unlock()
}

// Raise queues an alert for storage; it never blocks. Alerts whose
// fingerprint is suppressed are counted and dropped.
func (s *Service) Raise(a event.Alert) {
	if s.Suppressed(a.Fingerprint) {
		s.suppressed.Add(1)
		return
	}
	select {
	case s.queue <- a:
	default:
		s.dropped.Add(1)
	}
}

// Suppressed reports whether an analyst judged this fingerprint a false
// positive.
func (s *Service) Suppressed(fingerprint string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.suppressFP[fingerprint]
}

// Run stores queued alerts until ctx ends, then stores what is left.
func (s *Service) Run(ctx context.Context) {
	for {
		select {
		case a := <-s.queue:
			s.store(a)
		case <-ctx.Done():
			for {
				select {
				case a := <-s.queue:
					s.store(a)
				default:
					return
				}
			}
		}
	}
}

// Flush stores everything queued now; for tests and replay.
func (s *Service) Flush() {
	for {
		select {
		case a := <-s.queue:
			s.store(a)
		default:
			return
		}
	}
}

func (s *Service) store(a event.Alert) {
	rec := &store.Alert{Alert: a, Count: 1, LastSeen: a.Time}
	if rec.Entities == nil {
		rec.Entities = []event.Entity{}
	}
	if rec.ATLAS == nil {
		rec.ATLAS = []string{}
	}
	err := s.st.Update(context.Background(), func(tx store.Tx) error { return tx.CreateAlert(context.Background(), rec) })
	if err != nil {
		s.log.Error("alert not stored", "alert", a.ID, "detector", a.Detector, "err", err)
		return
	}
	s.mu.RLock()
	ls := append([]func(*store.Alert){}, s.listeners...)
	s.mu.RUnlock()
	for _, f := range ls {
		f(rec)
	}
}

// Stats are the service's counters.
type Stats struct {
	Dropped    uint64 `json:"dropped"`
	Suppressed uint64 `json:"suppressed"`
}

// Counters returns how many alerts were dropped (queue full) and
// suppressed since start.
func (s *Service) Counters() Stats {
	return Stats{Dropped: s.dropped.Load(), Suppressed: s.suppressed.Load()}
}

// Get returns one alert.
func (s *Service) Get(ctx context.Context, id string) (*store.Alert, error) {
	var a *store.Alert
	err := s.st.View(ctx, func(tx store.Tx) (err error) { a, err = tx.GetAlert(ctx, id); return err })
	return a, err
}

// List returns a page of alerts, newest first.
func (s *Service) List(ctx context.Context, f store.AlertFilter) ([]*store.Alert, string, error) {
	var out []*store.Alert
	var next string
	err := s.st.View(ctx, func(tx store.Tx) (err error) { out, next, err = tx.ListAlerts(ctx, f); return err })
	return out, next, err
}

// Feedback records an analyst's verdict. A false positive also adds the
// alert's fingerprint to the suppression list, so the same detection on the
// same entities is not raised again.
func (s *Service) Feedback(ctx context.Context, a incident.Actor, id, verdict, note string) (*store.Alert, error) {
	ok := false
	for _, v := range Verdicts {
		ok = ok || v == verdict
	}
	var problems []string
	if !ok {
		problems = append(problems, fmt.Sprintf("verdict: %q is not one of %s", verdict, strings.Join(Verdicts, ", ")))
	}
	if !utf8.ValidString(note) || len(note) > 4096 {
		problems = append(problems, "note: at most 4096 bytes of UTF-8")
	}
	if len(problems) > 0 {
		return nil, &incident.ValidationError{Problems: problems}
	}
	var out *store.Alert
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		al, err := tx.GetAlert(ctx, id)
		if err != nil {
			return err
		}
		al.Verdict, al.Note, al.JudgedBy = verdict, note, a.Name
		if err := tx.UpdateAlert(ctx, al); err != nil {
			return err
		}
		if verdict == FalsePositive {
			if err := tx.PutSuppression(ctx, &store.Suppression{Fingerprint: al.Fingerprint, AlertID: al.ID, CreatedAt: now, CreatedBy: a.Name, Note: note}); err != nil {
				return err
			}
		}
		detail, _ := json.Marshal(map[string]string{"verdict": verdict, "fingerprint": al.Fingerprint})
		out = al
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: a.Name, Role: a.Role, Addr: a.Addr,
			Action: "alert.feedback", Target: id, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if verdict == FalsePositive {
		s.suppressFP[out.Fingerprint] = true
	} else if s.suppressFP[out.Fingerprint] {
		// A later verdict on an alert with this fingerprint lifts it.
		delete(s.suppressFP, out.Fingerprint)
		s.mu.Unlock()
		s.st.Update(ctx, func(tx store.Tx) error { return tx.DeleteSuppression(ctx, out.Fingerprint) })
		return out, nil
	}
	s.mu.Unlock()
	return out, nil
}

// Rates summarises verdicts.
type Rates struct {
	Total             int64            `json:"total"`
	Verdicts          map[string]int64 `json:"verdicts"`
	FalsePositiveRate float64          `json:"false_positive_rate"` // FP / (TP + FP), 0 when none judged
	Suppressions      int              `json:"suppressions"`
}

// Rates counts alerts by verdict.
func (s *Service) Rates(ctx context.Context) (*Rates, error) {
	var counts map[string]int64
	var sups []*store.Suppression
	err := s.st.View(ctx, func(tx store.Tx) (err error) {
		if counts, err = tx.CountVerdicts(ctx); err != nil {
			return err
		}
		sups, err = tx.ListSuppressions(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	r := &Rates{Verdicts: map[string]int64{}, Suppressions: len(sups)}
	for v, n := range counts {
		r.Total += n
		if v == "" {
			v = "none"
		}
		r.Verdicts[v] = n
	}
	if judged := counts[TruePositive] + counts[FalsePositive]; judged > 0 {
		r.FalsePositiveRate = float64(counts[FalsePositive]) / float64(judged)
	}
	return r, nil
}
