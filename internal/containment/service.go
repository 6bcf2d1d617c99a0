package containment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/store"
)

// Service owns the policy's actions.
type Service struct {
	st      store.Store
	inc     *incident.Service
	holder  *policy.Holder
	hashKey func(string) string
	now     func() time.Time
	log     *slog.Logger

	mu sync.Mutex // serialises changes so versions are published in order
}

// Options configure a Service.
type Options struct {
	HashKey func(string) string // the gateway's keyed hash, for targets given as raw keys
	Now     func() time.Time
	Logger  *slog.Logger
}

// New loads the stored policy and publishes it to holder.
func New(ctx context.Context, st store.Store, inc *incident.Service, holder *policy.Holder, opts Options) (*Service, error) {
	s := &Service{st: st, inc: inc, holder: holder, hashKey: opts.HashKey, now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if _, err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the stored policy.
func load(ctx context.Context, tx store.Tx) (policy.Policy, error) {
	v, err := tx.PolicyVersion(ctx)
	if err != nil {
		return policy.Policy{}, err
	}
	rows, err := tx.ListPolicyActions(ctx)
	if err != nil {
		return policy.Policy{}, err
	}
	p := policy.Policy{Version: v, Actions: make([]policy.Action, 0, len(rows))}
	for _, r := range rows {
		var a policy.Action
		if err := json.Unmarshal(r.Doc, &a); err != nil {
			return policy.Policy{}, fmt.Errorf("policy action %s: %w", r.ID, err)
		}
		p.Actions = append(p.Actions, a)
	}
	return p, nil
}

// Reload re-reads the store and publishes its policy if it is newer than the
// one in force (another process may have changed it). A policy that no
// longer compiles is logged and the last good snapshot stays in force.
func (s *Service) Reload(ctx context.Context) (bool, error) {
	var p policy.Policy
	if err := s.st.View(ctx, func(tx store.Tx) (err error) { p, err = load(ctx, tx); return err }); err != nil {
		return false, err
	}
	if cur := s.holder.Load(); cur != nil && cur.Version() >= p.Version && p.Version != 0 {
		return false, nil
	}
	snap, err := policy.Compile(p)
	if err != nil {
		s.log.Error("stored policy does not compile; keeping the last good one", "version", p.Version, "err", err)
		return false, nil
	}
	return s.holder.Store(snap), nil
}

// Current is the policy in force.
func (s *Service) Current() policy.Policy { return s.holder.Load().Policy() }

// Request is what a person asks for; TTL, when set, makes the action expire.
type Request struct {
	Kind     policy.Kind   `json:"kind"`
	Target   TargetRequest `json:"target"`
	Params   policy.Params `json:"params"`
	Reason   string        `json:"reason"`
	Incident string        `json:"incident"`
	TTL      string        `json:"ttl"`
}

// TargetRequest is a policy target that may name a raw API key; it is
// hashed at once and never stored.
type TargetRequest struct {
	policy.Target
	APIKey string `json:"api_key,omitempty"`
}

const maxTTL = 90 * 24 * time.Hour

// Add validates, stores and publishes a new action, and records it.
func (s *Service) Add(ctx context.Context, a incident.Actor, req Request) (*policy.Action, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	act := policy.Action{
		ID: uuid.Must(uuid.NewV7()).String(), Kind: req.Kind, Target: req.Target.Target, Params: req.Params,
		Reason: req.Reason, Incident: req.Incident, CreatedBy: a.Name, CreatedAt: now,
	}
	var problems []string
	if req.Target.APIKey != "" {
		if act.Target.APIKeyHash != "" {
			problems = append(problems, "target: give api_key or api_key_hash, not both")
		} else if s.hashKey == nil {
			problems = append(problems, "target.api_key: no gateway key is configured to hash it; give api_key_hash")
		} else if strings.TrimSpace(req.Target.APIKey) == "" {
			// The gateway never hashes an empty key, so its hash would match nobody.
			problems = append(problems, "target.api_key: blank")
		} else {
			act.Target.APIKeyHash = s.hashKey(strings.TrimSpace(req.Target.APIKey))
		}
	}
	if req.TTL != "" {
		ttl, err := time.ParseDuration(req.TTL)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("ttl: %q is not a duration such as 30m or 24h", req.TTL))
		case ttl <= 0 || ttl > maxTTL:
			problems = append(problems, fmt.Sprintf("ttl: must be between 1s and %s", maxTTL))
		default:
			exp := now.Add(ttl)
			act.ExpiresAt = &exp
		}
	}
	if err := act.Validate(); err != nil {
		var ve *policy.ValidationError
		if errors.As(err, &ve) {
			problems = append(problems, ve.Problems...)
		} else {
			problems = append(problems, err.Error())
		}
	}
	if act.Incident != "" {
		if _, err := s.inc.Get(ctx, act.Incident); errors.Is(err, store.ErrNotFound) {
			problems = append(problems, fmt.Sprintf("incident: no incident %s", act.Incident))
		} else if err != nil {
			return nil, err
		}
	}
	if len(problems) > 0 {
		return nil, &incident.ValidationError{Problems: problems}
	}
	doc, err := json.Marshal(&act)
	if err != nil {
		return nil, err
	}
	err = s.change(ctx, a, "policy.add", act.ID, act, func(tx store.Tx) error {
		return tx.PutPolicyAction(ctx, &store.PolicyAction{ID: act.ID, CreatedAt: now, Doc: doc})
	})
	if err != nil {
		return nil, err
	}
	if act.Incident != "" {
		s.onTimeline(ctx, a, act.Incident, incident.Entry{Kind: incident.KindContainment, Ref: act.ID, Text: describe(&act)})
	}
	return &act, nil
}

// Remove lifts an action.
func (s *Service) Remove(ctx context.Context, a incident.Actor, id, reason string) (*policy.Action, error) {
	var removed *policy.Action
	for _, act := range s.Current().Actions {
		if act.ID == id {
			removed = &act
			break
		}
	}
	if removed == nil {
		return nil, fmt.Errorf("policy action %s: %w", id, store.ErrNotFound)
	}
	err := s.change(ctx, a, "policy.remove", id, map[string]string{"reason": reason}, func(tx store.Tx) error {
		return tx.DeletePolicyAction(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	if removed.Incident != "" {
		text := "lifted: " + describe(removed)
		if reason != "" {
			text += " (" + reason + ")"
		}
		s.onTimeline(ctx, a, removed.Incident, incident.Entry{Kind: incident.KindContainmentLifted, Ref: id, Text: text})
	}
	return removed, nil
}

// Expire lifts every action whose time is up. Gateways stop enforcing an
// expired action by themselves (Evaluate checks the time); this makes the
// stored policy and the incident timelines say so too.
func (s *Service) Expire(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	for _, act := range s.Current().Actions {
		if act.ExpiresAt != nil && !act.ExpiresAt.After(now) {
			if _, err := s.Remove(ctx, incident.Actor{Name: "airlock (expiry)", Role: "system", Addr: "local"}, act.ID, "expired"); err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// change runs one policy change: the write, a version bump and the audit
// entry in one transaction, then compiles and publishes the new snapshot.
func (s *Service) change(ctx context.Context, a incident.Actor, action, target string, detail any, write func(store.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	var p policy.Policy
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		if _, err := tx.BumpPolicyVersion(ctx); err != nil {
			return err
		}
		if p, err = load(ctx, tx); err != nil {
			return err
		}
		// Refuse a change that would leave a policy gateways cannot run.
		if _, err := policy.Compile(p); err != nil {
			return &incident.ValidationError{Problems: []string{err.Error()}}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{
			At: s.now().UTC().Truncate(time.Microsecond), Actor: a.Name, Role: a.Role, Addr: a.Addr,
			Action: action, Target: target, Detail: raw,
		})
	})
	if err != nil {
		return err
	}
	snap, err := policy.Compile(p)
	if err != nil {
		return err
	}
	s.holder.Store(snap)
	s.log.Info("policy changed", "version", p.Version, "change", action, "action", target)
	return nil
}

// onTimeline records a change on an incident. The policy change has already
// happened, so a failure here is logged, not returned.
func (s *Service) onTimeline(ctx context.Context, a incident.Actor, incidentID string, e incident.Entry) {
	if _, err := s.inc.Append(ctx, a, incidentID, e); err != nil {
		s.log.Warn("policy change not recorded on the incident's timeline", "incident", incidentID, "ref", e.Ref, "err", err)
	}
}

// describe says in words what an action does, for timelines.
func describe(a *policy.Action) string {
	var who []string
	t := a.Target
	for _, p := range [][2]string{{"key", t.APIKeyHash}, {"user", t.User}, {"ip", t.IP}, {"cidr", t.CIDR}, {"route", t.Route}, {"model", t.Model}} {
		if p[1] != "" {
			who = append(who, p[0]+" "+p[1])
		}
	}
	target := "everything"
	if len(who) > 0 {
		target = strings.Join(who, ", ")
	}
	s := fmt.Sprintf("%s on %s: %s", a.Kind, target, a.Reason)
	if a.ExpiresAt != nil {
		s += " (until " + a.ExpiresAt.UTC().Format(time.RFC3339) + ")"
	}
	return s
}
