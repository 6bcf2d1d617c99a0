package drill

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// campaign is attack traffic hidden in benign traffic: rounds of a few
// benign requests and a burst of attack requests, until the gateway
// refuses the attacker or the containment deadline has passed.
type campaign struct {
	benign         []caller
	attacker       caller
	attack         func(i int) ask // the i-th attack request
	describe       string          // what the attack requests are, for the progress lines
	burst          int             // attack requests per round, sent at once
	benignPerRound int             // benign requests per round, callers in turn
	pause          time.Duration   // between rounds
	// stopped is the refusal code that means the attacker is contained:
	// refused whatever it asks (blocked), or throttled (rate_limited).
	// Other refusals (the prompt guard refusing one prompt) are reported
	// but do not end the attack.
	stopped string
	// most attack requests are sent at full pace; past it the attacker
	// sends one at a time, slowly, so that a drill against a deployment
	// that never stops it does not turn into a flood. [200]
	most int
}

// campaign plays c and then checks that the attacker stays refused and the
// benign callers are still served.
func (r *run) campaign(ctx context.Context, c campaign) {
	if r.marker == (entity{}) {
		r.marker = entity{Kind: "user", Value: c.attacker.user}
	}
	r.say("sending: everyday questions from %d callers; %s from %s (%s) to model %q", len(c.benign), c.describe, c.attacker.role, c.attacker.ip, r.model)
	r.attackStarts(ctx)
	give := r.sc.ContainWithin + 2*time.Second
	if c.most <= 0 {
		c.most = 200
	}
	sent, nb := 0, 0
	otherRefusal := map[string]bool{}
	reported := false
	for {
		for range c.benignPerRound {
			b := c.benign[nb%len(c.benign)]
			r.benignDone(b, r.t.chat(ctx, r.model, b, ask{prompt: benignPrompts[nb%len(benignPrompts)]}))
			nb++
		}
		replies := make([]reply, c.burst)
		var wg sync.WaitGroup
		for j := range replies {
			q := c.attack(sent + j)
			wg.Go(func() { replies[j] = r.t.chat(ctx, r.model, c.attacker, q) })
		}
		wg.Wait()
		sent += c.burst
		r.res.AttackRequests = sent
		var stop *reply
		for j, rep := range replies {
			switch {
			case rep.refused() && rep.code == c.stopped:
				if stop == nil || rep.at.Before(stop.at) {
					stop = &replies[j]
				}
			case rep.refused() && !otherRefusal[rep.code]:
				otherRefusal[rep.code] = true
				r.say("the gateway refuses one of %s's requests with %s, %s after the first attack request",
					c.attacker.role, rep, round3(r.since(rep.at)))
			}
		}
		r.mu.Lock()
		found := r.found
		r.mu.Unlock()
		if stop != nil && found == nil {
			found = r.detection(ctx) // tell the story in order: detected, then contained
		}
		if found != nil && !reported {
			reported = true
			r.sayDetected(found)
		}
		if stop != nil && r.contained(stop.at, stop.String()) {
			r.say("contained: the gateway refuses %s with %s, %s after the first attack request (%d attack requests sent)",
				c.attacker.role, stop, round3(r.since(stop.at)), sent)
		}
		if stop != nil || ctx.Err() != nil {
			break
		}
		if r.since(time.Now()) > give {
			r.say("not contained: %s was still answered %s after the first attack request", c.attacker.role, round3(give))
			break
		}
		if sent >= c.most && (c.burst > 1 || c.pause < 200*time.Millisecond) {
			c.burst, c.pause = 1, 200*time.Millisecond
			r.say("%d attack requests sent and %s still answered; slowing down to one every %s", sent, c.attacker.role, c.pause)
		}
		if c.pause > 0 {
			time.Sleep(c.pause)
		}
	}
	if !reported {
		if inc := r.detection(ctx); inc != nil {
			r.sayDetected(inc)
		} else {
			r.say("not detected: no incident naming %s within %s", c.attacker.role, r.sc.DetectWithin)
		}
	}
	// The attacker stays out, whatever it asks; the others are still served.
	r.mu.Lock()
	stopped := !r.containedAt.IsZero()
	r.mu.Unlock()
	if stopped {
		if rep := r.t.chat(ctx, r.model, c.attacker, ask{prompt: benignPrompts[0]}); rep.code != c.stopped {
			r.problem("after containment %s's everyday question got %s, want %s", c.attacker.role, rep, c.stopped)
		}
	}
	for i, b := range c.benign {
		r.benignDone(b, r.t.chat(ctx, r.model, b, ask{prompt: benignPrompts[(nb+i)%len(benignPrompts)]}))
	}
	r.sayBenign()
}

func (r *run) sayBenign() {
	r.mu.Lock()
	n, failed := r.res.BenignRequests, r.res.BenignErrors
	r.mu.Unlock()
	r.say("benign callers: %d of %d requests answered", n-failed, n)
}

func (r *run) sayDetected(inc *incidentView) {
	r.mu.Lock()
	at := r.detectedAt()
	r.mu.Unlock()
	r.say("detected: incident %s (%s, %s) opened %s after the first attack request", inc.ID, inc.Type, inc.Severity, round3(r.since(at)))
}

// establish uses the application's key from its own network until the
// credential detector counts it as established, with benign traffic from
// others alongside.
func (r *run) establish(ctx context.Context, owner caller, benign []caller) bool {
	n := r.o.Established + 2
	every := (r.o.EstablishedFor + r.o.EstablishedFor/10 + 100*time.Millisecond) / time.Duration(n)
	r.say("establishing: %s uses its key from %s, %d requests over %s", owner.role, owner.ip, n, round3(every*time.Duration(n)))
	for i := range n {
		rep := r.t.chat(ctx, r.model, owner, ask{prompt: benignPrompts[i%len(benignPrompts)]})
		if !rep.ok() {
			r.problem("the application's own request failed before the key was stolen: %s", rep)
			return false
		}
		b := benign[i%len(benign)]
		r.benignDone(b, r.t.chat(ctx, r.model, b, ask{prompt: benignPrompts[(i+3)%len(benignPrompts)]}))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(every):
		}
	}
	return true
}

// round3 shows a duration in seconds, to the millisecond.
func round3(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
