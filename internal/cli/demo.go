package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// runDemo starts a server on a fresh data directory and walks one incident
// through all five phases over the real API, the way a responder would,
// showing each refusal and what satisfied it, then verifies the record.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	data := fs.String("data", "", "data directory (default: a new temporary one)")
	keep := fs.Bool("keep", false, "keep the server running afterwards and print how to reach it")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		dir, err := os.MkdirTemp("", "airlock-demo-")
		if err != nil {
			return err
		}
		*data = dir
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(*data, "airlock.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cfg := config.Default()
	cfg.API.Addr = "127.0.0.1:0"
	log := newLogger(cfg.Log, logFile)
	srv, err := startServer(ctx, *data, cfg, upstreamFlags{}, log, io.Discard)
	if err != nil {
		return err
	}
	defer srv.shutdown(5 * time.Second)

	secret, _, err := api.CreateToken(ctx, srv.dir.store, "demo-responder", api.RoleResponder, "airlock demo")
	if err != nil {
		return err
	}
	d := &demo{c: &client{base: srv.url, token: secret, http: defaultHTTPClient()}, out: stdout, start: time.Now()}
	if err := d.run(ctx); err != nil {
		return err
	}
	rep, err := srv.dir.service().VerifyAll(ctx)
	if err != nil {
		return err
	}
	d.say("verify: %d timeline entries and %d evidence file(s) re-hashed; %d problems", rep.Entries, rep.Blobs, len(rep.Problems))
	if !rep.OK {
		for _, p := range rep.Problems {
			d.say("  %s", p)
		}
		return &exitError{code: 1, err: fmt.Errorf("verification failed")}
	}
	fmt.Fprintf(stdout, "\nDone in %s. Incident %s went detection → closed; every refusal above named what was missing.\n",
		time.Since(d.start).Round(time.Millisecond), d.id)
	if !*keep {
		fmt.Fprintln(stdout, "Next: run 'airlock serve' and follow the quickstart in README.md, or 'airlock demo --keep' to look around.")
		return nil
	}
	adminTok, _ := os.ReadFile(filepath.Join(*data, adminTokenFile))
	fmt.Fprintf(stdout, "\nThe server keeps running (Ctrl-C stops it):\n  export AIRLOCK_SERVER=%s\n  export AIRLOCK_TOKEN=%s\n  airlock incident show %s\nData and log: %s\n",
		srv.url, strings.TrimSpace(string(adminTok)), d.id, *data)
	<-ctx.Done()
	return nil
}

type demo struct {
	c     *client
	out   io.Writer
	start time.Time
	id    string
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "[%6.2fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) path(suffix string) string { return "/api/v1/incidents/" + d.id + suffix }

// step tries a transition, expecting a refusal first when fix is not nil;
// then applies fix and tries again.
func (d *demo) step(ctx context.Context, to string, fix func() error) error {
	var inc store.Incident
	if fix != nil {
		_, err := d.c.do(ctx, "POST", d.path("/transition"), map[string]string{"phase": to}, &inc)
		ae, ok := err.(*apiError)
		if !ok || ae.Code != "unmet_criteria" {
			return fmt.Errorf("moving to %s before its criteria were met: want a refusal, got %v", to, err)
		}
		d.say("→ %s refused: %s", to, strings.Join(ae.Details, "; "))
		if err := fix(); err != nil {
			return err
		}
	}
	if _, err := d.c.do(ctx, "POST", d.path("/transition"), map[string]string{"phase": to}, &inc); err != nil {
		return fmt.Errorf("move to %s: %w", to, err)
	}
	d.say("→ %s", inc.Phase)
	return nil
}

func (d *demo) patch(ctx context.Context, what string, p incident.Patch) error {
	if _, err := d.c.do(ctx, "PATCH", d.path(""), p, nil); err != nil {
		return fmt.Errorf("set %s: %w", what, err)
	}
	d.say("  set %s", what)
	return nil
}

func (d *demo) run(ctx context.Context) error {
	started := time.Now().Add(-4 * time.Minute).UTC()
	var inc store.Incident
	_, err := d.c.do(ctx, "POST", "/api/v1/incidents", incident.NewIncident{
		Title:    "Prompt injection against the support assistant from one API key",
		Type:     "instruction_injection",
		Severity: event.SeverityHigh,
		Entities: []event.Entity{{Kind: event.EntityAPIKey, Value: "kh_7f3a9c"}, {Kind: event.EntityIP, Value: "203.0.113.7"}},
		Started:  &started,
	}, &inc)
	if err != nil {
		return err
	}
	d.id = inc.ID
	d.say("opened incident %s (%s, %s, ATLAS %s)", inc.ID, inc.Type, inc.Severity, strings.Join(inc.ATLAS, " "))

	// Skipping containment is refused, whatever else is true.
	if _, err := d.c.do(ctx, "POST", d.path("/transition"), map[string]string{"phase": "eradication"}, nil); err == nil {
		return fmt.Errorf("skipping containment was accepted")
	} else if ae, ok := err.(*apiError); ok {
		d.say("→ eradication refused: %s", ae.Details[0])
	}
	if err := d.step(ctx, "containment", func() error {
		owner, summary := "alice (on-call)", "Instructions to ignore the system prompt arrive from one key and IP; the model followed two of them."
		return d.patch(ctx, "owner and analysis summary", incident.Patch{Owner: &owner, Summary: &summary})
	}); err != nil {
		return err
	}
	if err := d.step(ctx, "eradication", func() error {
		if _, err := d.c.do(ctx, "POST", d.path("/timeline"), incident.Entry{Kind: incident.KindContainment, Text: "API key kh_7f3a9c revoked at the provider", Ref: "revoke-kh_7f3a9c"}, nil); err != nil {
			return err
		}
		d.say("  recorded containment: API key revoked")
		evidence := strings.NewReader(`{"time":"` + started.Format(time.RFC3339) + `","key":"kh_7f3a9c","prompt_sha256":"9f2c…","verdict":"instruction_injection"}` + "\n")
		var ev store.Evidence
		if _, err := d.c.send(ctx, "POST", d.path("/evidence?name=requests.jsonl&source=gateway+log"), evidence, "application/x-ndjson", &ev); err != nil {
			return err
		}
		d.say("  attached evidence requests.jsonl (sha256 %.16s…)", ev.SHA256)
		return nil
	}); err != nil {
		return err
	}
	if err := d.step(ctx, "recovery", func() error {
		rc := "The assistant passed retrieved documents to the model as instructions; the key had no per-key rate limit."
		return d.patch(ctx, "root cause", incident.Patch{RootCause: &rc})
	}); err != nil {
		return err
	}
	if err := d.step(ctx, "lessons_learned", func() error {
		return d.patch(ctx, "recovery checks (integrity verified, validation passed)", incident.Patch{Recovery: &store.Recovery{IntegrityVerified: true, ValidationPassed: true}})
	}); err != nil {
		return err
	}
	if err := d.step(ctx, "closed", func() error {
		title, kind, owner := "Mark retrieved documents as data, not instructions", incident.TaskActionItem, "bob (platform)"
		if _, err := d.c.do(ctx, "POST", d.path("/tasks"), incident.TaskInput{Title: &title, Kind: &kind, Owner: &owner}, nil); err != nil {
			return err
		}
		d.say("  added an owned action item")
		return d.patch(ctx, "review", incident.Patch{Review: &store.Review{Done: true, Summary: "Detected in minutes; containment was manual and slow."}})
	}); err != nil {
		return err
	}
	if _, err := d.c.do(ctx, "GET", d.path(""), nil, &inc); err != nil {
		return err
	}
	m := inc.Milestones
	d.say("milestones: detected %s after the attack started, contained %s after detection, closed %s after detection",
		m.Detected.Sub(*m.Started).Round(time.Second), m.Contained.Sub(*m.Detected).Round(time.Millisecond), m.Closed.Sub(*m.Detected).Round(time.Millisecond))
	var rep incident.Report
	if _, err := d.c.do(ctx, "GET", d.path("/verify"), nil, &rep); err != nil {
		return err
	}
	d.say("timeline: %d entries, hash chain verified: %v", rep.Entries, rep.OK)
	return nil
}

func defaultHTTPClient() *http.Client { return &http.Client{Timeout: 60 * time.Second} }
