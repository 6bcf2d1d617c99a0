package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/airlock-ir/airlock/internal/policy"
)

// PolicyPoller keeps a gateway that runs apart from the control side up to
// date: it asks the API for the policy, sending the version it has, and
// swaps in each newer one. When the API cannot be reached, or answers
// something that does not compile, the last good snapshot stays in force.
type PolicyPoller struct {
	URL    string // the API's base URL
	Token  string // a token with the gateway role
	Holder *policy.Holder
	Client *http.Client
	Every  time.Duration
	Log    *slog.Logger
}

// Run polls until ctx ends.
func (p *PolicyPoller) Run(ctx context.Context) {
	t := time.NewTicker(p.Every)
	defer t.Stop()
	failing := false
	for {
		if _, err := p.Poll(ctx); err != nil {
			if !failing && ctx.Err() == nil {
				p.Log.Warn("policy poll failed; enforcing the last good policy", "version", p.Holder.Load().Version(), "err", err)
			}
			failing = true
		} else if failing {
			p.Log.Info("policy poll recovered", "version", p.Holder.Load().Version())
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxPolicyBody bounds what the poller reads.
const maxPolicyBody = 64 << 20

// Poll asks once and reports whether a newer policy was installed.
func (p *PolicyPoller) Poll(ctx context.Context) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/policy", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("If-None-Match", fmt.Sprintf(`"%d"`, p.Holder.Load().Version()))
	resp, err := p.Client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return false, nil
	case http.StatusOK:
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return false, fmt.Errorf("policy: HTTP %d: %s", resp.StatusCode, b)
	}
	var pol policy.Policy
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPolicyBody)).Decode(&pol); err != nil {
		return false, fmt.Errorf("policy: %w", err)
	}
	snap, err := policy.Compile(pol)
	if err != nil {
		return false, fmt.Errorf("policy version %d does not compile: %w", pol.Version, err)
	}
	if !p.Holder.Store(snap) {
		return false, nil
	}
	p.Log.Info("policy applied", "version", pol.Version, "actions", len(pol.Actions))
	return true, nil
}
