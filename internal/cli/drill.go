package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/airlock-ir/airlock/internal/drill"
)

const drillUsage = `Usage:
  airlock drill list [--json]
  airlock drill --scenario NAME --gateway URL --api URL --token T [flags]

Plays one attack scenario against a running Airlock (the gateway and the API,
over HTTP only), scores it (detected and contained within the deadlines,
benign callers served) and exits 0 when it passed. See docs/drills.md.
`

// runDrill lists the scenarios or plays one against a live deployment.
func runDrill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "list" {
		return drillList(args[1:], stdout, stderr)
	}
	fs := newFlags("drill", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, drillUsage, "\nFlags:\n"); fs.PrintDefaults() }
	name := fs.String("scenario", "", "the scenario to play ("+strings.Join(drill.Names(), ", ")+")")
	gw := fs.String("gateway", os.Getenv("AIRLOCK_GATEWAY"), "the gateway's base URL (default $AIRLOCK_GATEWAY)")
	apiURL := fs.String("api", os.Getenv("AIRLOCK_SERVER"), "the API's base URL (default $AIRLOCK_SERVER)")
	token := fs.String("token", "", "a responder or admin token (default $AIRLOCK_TOKEN)")
	eventsToken := fs.String("events-token", "", "an admin or gateway token for POST /api/v1/events (default --token)")
	model := fs.String("model", "", "the model name to send (default: the scenario's; it picks the route)")
	established := fs.Int("established", 20, "stolen-key: the target's detect.credential.established")
	establishedFor := fs.Duration("established-for", 10*time.Minute, "stolen-key: the target's detect.credential.established_for")
	knownGood := fs.String("known-good", "", "poisoned-model: the X-Model-Version of the known-good version (default: any but the poisoned one)")
	keepIncident := fs.Bool("keep-incident", false, "leave the drill's incident open and its containment in force (default: close it)")
	asJSON := fs.Bool("json", false, "print only the result as JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	sc := drill.Lookup(*name)
	if sc == nil {
		return usageError("--scenario: want one of %s ('airlock drill list' describes them)", strings.Join(drill.Names(), ", "))
	}
	tok := firstNonEmpty(*token, os.Getenv("AIRLOCK_TOKEN"))
	if *gw == "" || *apiURL == "" || tok == "" {
		return usageError("--gateway, --api and --token (or AIRLOCK_GATEWAY, AIRLOCK_SERVER and AIRLOCK_TOKEN) are required")
	}
	target := drill.Target{Gateway: *gw, API: *apiURL, Token: tok, EventsToken: *eventsToken, Client: defaultHTTPClient()}
	opts := drill.Options{
		Model: *model, Established: *established, EstablishedFor: *establishedFor,
		KnownGoodVersion: *knownGood, Close: !*keepIncident,
	}
	progress := io.Discard
	if !*asJSON {
		progress = stdout
		fmt.Fprintf(stdout, "%s: %s\n", sc.Name, sc.Summary)
	}
	res := playScenario(ctx, target, sc, opts, progress)
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintln(stdout)
		writeDrillTable(stdout, []*drill.Result{res})
		writeDrillVerdict(stdout, []*drill.Result{res})
	}
	if !res.Passed {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

// playScenario runs one scenario, writing its progress lines to w with the
// time since it started.
func playScenario(ctx context.Context, t drill.Target, sc *drill.Scenario, o drill.Options, w io.Writer) *drill.Result {
	start := time.Now()
	var mu sync.Mutex
	o.Progress = func(line string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "  [%6.2fs] %s\n", time.Since(start).Seconds(), line)
	}
	return drill.Run(ctx, t, sc, o)
}

func drillList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("drill list", stderr)
	asJSON := fs.Bool("json", false, "print the scenarios as JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			Name          string   `json:"name"`
			Summary       string   `json:"summary"`
			Sends         string   `json:"sends"`
			Expects       string   `json:"expects"`
			Needs         string   `json:"needs"`
			Model         string   `json:"model"`
			IncidentTypes []string `json:"incident_types"`
			Alerts        []string `json:"alerts"`
			DetectWithin  float64  `json:"detect_within_seconds"`
			ContainWithin float64  `json:"contain_within_seconds"`
		}
		var rows []row
		for _, s := range drill.Scenarios() {
			rows = append(rows, row{s.Name, s.Summary, s.Sends, s.Expects, s.Needs, s.Model, s.IncidentTypes, s.Alerts,
				s.DetectWithin.Seconds(), s.ContainWithin.Seconds()})
		}
		b, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	for i, s := range drill.Scenarios() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s: %s\n", s.Name, s.Summary)
		fmt.Fprint(stdout, indentWrap("sends:   ", s.Sends))
		fmt.Fprint(stdout, indentWrap("expects: ", s.Expects+fmt.Sprintf(" Detected within %s of the first attack request, contained within %s.",
			s.DetectWithin, s.ContainWithin)))
		fmt.Fprint(stdout, indentWrap("needs:   ", s.Needs))
		fmt.Fprint(stdout, indentWrap("model:   ", s.Model+" (--model overrides)"))
	}
	return nil
}

// indentWrap writes text after label, wrapped at 100 columns and indented
// under the label.
func indentWrap(label, text string) string {
	const width = 100
	pad := "  " + strings.Repeat(" ", len(label))
	var b strings.Builder
	line := "  " + label
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > width && strings.TrimSpace(line) != strings.TrimSpace(label) {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = pad
		}
		if !strings.HasSuffix(line, " ") {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}

// writeDrillTable writes one row per scenario: the summary `airlock demo`
// and `airlock drill` end with.
func writeDrillTable(w io.Writer, results []*drill.Result) {
	const row = "%-26s%-24s%11s%14s  %-12s%-9s%-11s%s\n"
	fmt.Fprintf(w, row, "SCENARIO", "INCIDENT TYPE", "DETECTED IN", "CONTAINED IN", "AUTO STEPS", "STOPPED", "BENIGN OK", "INCIDENT")
	for _, r := range results {
		benign := "yes"
		if r.BenignErrors > 0 {
			benign = fmt.Sprintf("%d failed", r.BenignErrors)
		}
		steps := "-"
		if r.StepsExecuted > 0 {
			steps = fmt.Sprintf("%d of %d", r.StepsAutomatic, r.StepsExecuted)
		}
		fmt.Fprintf(w, row, r.Name, dashIfEmpty(r.Type), drillSeconds(r.TTD), drillSeconds(r.TTC), steps,
			drillYes(r.Contained), benign, dashIfEmpty(r.Incident))
	}
}

// writeDrillVerdict says whether every scenario passed, and what went
// wrong where not.
func writeDrillVerdict(w io.Writer, results []*drill.Result) {
	failed := 0
	for _, r := range results {
		if r.Passed {
			continue
		}
		failed++
		fmt.Fprintf(w, "\n%s FAILED:\n", r.Name)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	fmt.Fprintln(w)
	if failed == 0 {
		what := "The attack was"
		if len(results) > 1 {
			what = fmt.Sprintf("All %d attacks were", len(results))
		}
		fmt.Fprintf(w, "%s detected within %s and contained within %s of the first attack request, and every benign request was answered.\n",
			what, drill.DetectWithin, drill.ContainWithin)
		return
	}
	fmt.Fprintf(w, "%d of %d scenarios failed.\n", failed, len(results))
}

func drillSeconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%.3fs", *s)
}

func drillYes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
