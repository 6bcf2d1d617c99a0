package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// GoldenOptions configure RunGolden.
type GoldenOptions struct {
	Prompts []Golden // at most MaxGolden
	// Interval between the starts of two rounds [10m]. A round that takes
	// longer delays the next rather than overlapping it.
	Interval time.Duration
	// Timeout bounds each Ask [the Interval, at most 1m].
	Timeout time.Duration
	// Ask puts a prompt to the model and returns its answer and the
	// version that served it (the gateway's X-Model-Version). Required.
	Ask func(ctx context.Context, prompt string) (answer, version string, err error)
	// Publish receives each answer as a golden event. Required; it must
	// not block for long.
	Publish func(event.Event)
	// Now is the clock the events are stamped with [time.Now].
	Now func() time.Time
}

// Bounds on what one golden event carries.
const maxGoldenError = 1024

// RunGolden asks every golden prompt at once and then every Interval,
// publishing one event per answer (Kind and Source "golden", the golden's
// id in Attrs["golden_id"], the answer in OutputText and Output, at most
// MaxAnswer bytes), until ctx is done. A failed Ask (an error, a panic or
// the timeout) is published as an event with Error set, never returned. It
// returns an error only for invalid options, and nil when ctx is done.
//
// The golden prompt and its answer are written by the operator, not by a
// user, so the event carries them as captured text (Captured "golden"):
// a detector in another process sees them too.
func RunGolden(ctx context.Context, opts GoldenOptions) error {
	if opts.Ask == nil || opts.Publish == nil {
		return errors.New("drift: golden: Ask and Publish are required")
	}
	if len(opts.Prompts) > MaxGolden {
		return fmt.Errorf("drift: golden: %d prompts, more than %d", len(opts.Prompts), MaxGolden)
	}
	for i, g := range opts.Prompts {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("drift: golden prompt %d: %w", i+1, err)
		}
	}
	if opts.Interval < 0 || opts.Timeout < 0 {
		return errors.New("drift: golden: Interval and Timeout must not be negative")
	}
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Minute
	}
	if opts.Timeout == 0 {
		opts.Timeout = min(opts.Interval, time.Minute)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	prompts := append([]Golden(nil), opts.Prompts...)
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		for _, g := range prompts {
			if ctx.Err() != nil {
				return nil
			}
			opts.Publish(askGolden(ctx, &opts, g))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// askGolden asks one golden prompt and makes the event of its answer.
func askGolden(ctx context.Context, opts *GoldenOptions, g Golden) event.Event {
	start := opts.Now()
	answer, version, err := ask(ctx, opts, g.Prompt)
	end := opts.Now()
	ev := event.Event{
		ID:           newEventID(),
		Time:         end.UTC(),
		Source:       SourceGolden,
		Kind:         KindGolden,
		Route:        g.Route,
		Model:        g.Model,
		ModelVersion: detect.EntityValue(version),
		LatencyMS:    float64(end.Sub(start)) / float64(time.Millisecond),
		Prompt:       g.Prompt,
		PromptText:   g.Prompt,
		PromptChars:  utf8.RuneCountInString(g.Prompt),
		Captured:     SourceGolden,
		Attrs:        map[string]string{AttrGoldenID: g.ID},
	}
	if err != nil {
		msg := strings.ToValidUTF8(err.Error(), "\uFFFD")
		if len(msg) > maxGoldenError {
			msg = msg[:runeStart(msg, maxGoldenError)]
		}
		ev.Error, ev.Decision = msg, event.DecisionUpstreamError
		return ev
	}
	if len(answer) > MaxAnswer {
		answer = answer[:runeStart(answer, MaxAnswer)]
	}
	sum := sha256.Sum256([]byte(answer))
	ev.Status, ev.Decision = 200, event.DecisionAllowed
	ev.Output, ev.OutputText = answer, answer
	ev.OutputChars = utf8.RuneCountInString(answer)
	ev.OutputSHA256 = hex.EncodeToString(sum[:])
	return ev
}

// ask calls opts.Ask with the timeout, turning a panic into an error. Ask
// runs on a goroutine of its own so that one that ignores its context
// cannot stall the rounds: after the timeout its answer is not waited for.
func ask(ctx context.Context, opts *GoldenOptions, prompt string) (answer, version string, err error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	type result struct {
		answer, version string
		err             error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("golden ask panicked: %v", p)}
			}
			done <- r
		}()
		r.answer, r.version, r.err = opts.Ask(ctx, prompt)
	}()
	select {
	case r := <-done:
		return r.answer, r.version, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // answered just in time
			return r.answer, r.version, r.err
		default:
			return "", "", fmt.Errorf("golden ask: %w", ctx.Err())
		}
	}
}

// runeStart moves i back to the start of the character it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func newEventID() string {
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
}
