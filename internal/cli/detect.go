package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/airlock-ir/airlock/internal/detect/credential"
	"github.com/airlock-ir/airlock/internal/detect/drift"
	"github.com/airlock-ir/airlock/internal/detect/intelmatch"
	"github.com/airlock-ir/airlock/internal/detect/modelevents"
	"github.com/airlock-ir/airlock/internal/intel"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/detect/anomaly"
	"github.com/airlock-ir/airlock/internal/detect/extraction"
	"github.com/airlock-ir/airlock/internal/detect/leakage"
	"github.com/airlock-ir/airlock/internal/detect/promptattack"
	"github.com/airlock-ir/airlock/internal/detect/promptinject"
	"github.com/airlock-ir/airlock/internal/detect/rules"
	"github.com/airlock-ir/airlock/internal/event"
)

// streamDetectors is every detector that reads the event stream. A rule
// file, when given, is loaded (and may be watched by the caller).
func streamDetectors(cfg config.Detect, intelSet func() *intel.Set) ([]detect.Detector, *rules.Detector, error) {
	leak, err := leakage.New(leakage.Config{Canaries: cfg.Canaries, SystemPromptFragments: cfg.SystemPrompts})
	if err != nil {
		return nil, nil, fmt.Errorf("detect: %w", err)
	}
	var rs *rules.RuleSet
	if cfg.RulesFile != "" {
		if rs, err = rules.Load(cfg.RulesFile); err != nil {
			return nil, nil, err
		}
	}
	dr, err := drift.New(drift.Config{Golden: goldenPrompts(cfg.Golden)})
	if err != nil {
		return nil, nil, err
	}
	user := rules.New(rs, rules.Options{})
	dets := []detect.Detector{
		promptattack.New(promptinject.Default(), promptattack.Options{Classifier: cfg.PromptClassifier}),
		extraction.New(extraction.Config{}),
		anomaly.New(anomaly.Config{}),
		leak,
		dr,
		modelevents.Detector{},
		credential.New(credential.Config{Established: cfg.Credential.Established, EstablishedFor: time.Duration(cfg.Credential.EstablishedFor)}),
		user,
	}
	if intelSet != nil {
		dets = append(dets, intelmatch.New(intelSet))
	}
	return dets, user, nil
}

// goldenPrompts converts the configuration's golden prompts.
func goldenPrompts(g config.Golden) []drift.Golden {
	out := make([]drift.Golden, len(g.Prompts))
	for i, p := range g.Prompts {
		out[i] = drift.Golden{ID: p.ID, Model: p.Model, Prompt: p.Prompt, Expected: p.Expected,
			ExpectedSHA256: p.ExpectedSHA256, Match: drift.Match(p.Match), MinSimilarity: p.MinSimilarity}
	}
	return out
}

// collected is a Sink that keeps alerts in order.
type collected struct {
	mu     sync.Mutex
	alerts []event.Alert
}

func (c *collected) Raise(a event.Alert) {
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
}

// maxEventLine bounds one line of an event log.
const maxEventLine = 16 << 20

// runDetect replays recorded events through every detector: input/output
// log analysis after the fact.
func runDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "replay" {
		return usageError("usage: airlock detect replay --events FILE.jsonl [--rules FILE] [--json]")
	}
	fs := newFlags("detect replay", stderr)
	events := fs.String("events", "", "an event log, one JSON event a line (the gateway writes DATA/events.jsonl)")
	rulesFile := fs.String("rules", "", "a user rule file to apply too")
	asJSON := fs.Bool("json", false, "print alerts as JSON lines")
	classifier := fs.Bool("prompt-classifier", false, "also alert on prompt-attack verdicts of the classifier alone")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *events == "" {
		return usageError("--events is required")
	}
	f, err := os.Open(*events)
	if err != nil {
		return err
	}
	defer f.Close()
	dets, _, err := streamDetectors(config.Detect{RulesFile: *rulesFile, PromptClassifier: *classifier}, nil)
	if err != nil {
		return err
	}
	var out collected
	var clock time.Time // follows the replayed events
	eng := detect.NewEngine(dets, &out, detect.EngineOptions{Now: func() time.Time { return clock }, Logger: slog.New(slog.DiscardHandler)})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	line, n := 0, 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var ev event.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("%s: line %d: %v", *events, line, err)
		}
		if ev.Time.After(clock) {
			clock = ev.Time
		}
		eng.Observe(&ev)
		n++
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: line %d: %v", *events, line+1, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, a := range out.alerts {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(stdout, "%d events replayed, %d alerts\n", n, len(out.alerts))
	if len(out.alerts) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tDETECTOR\tRULE\tTYPE\tENTITIES\tSUMMARY")
	for _, a := range out.alerts {
		ents := make([]string, len(a.Entities))
		for i, e := range a.Entities {
			ents[i] = e.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Time.UTC().Format("2006-01-02 15:04:05Z"), a.Severity, a.Detector, a.Rule, a.Type,
			truncate(strings.Join(ents, ","), 50), truncate(a.Summary, 60))
	}
	return tw.Flush()
}
