package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/demomodel"
	"github.com/airlock-ir/airlock/internal/drill"
)

// runDemo starts the whole system in-process on a fresh data directory (the
// store, the detectors, correlation, the playbook runner, the gateway and
// the API) in front of demo models, plays every drill scenario against it
// over HTTP, and prints how each was detected and contained.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	data := fs.String("data", "", "a new or empty data directory (default: a new temporary one)")
	keep := fs.Bool("keep", false, "keep the server running afterwards and print how to reach it")
	asJSON := fs.Bool("json", false, "print only the scores as JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	temporary := *data == ""
	if !temporary {
		// Incidents left open by an earlier run would take in this run's
		// alerts (see docs/drills.md), so the demo starts afresh.
		if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
			return usageError("--data %s is not empty: the demo needs a fresh data directory", *data)
		}
	}
	if temporary {
		dir, err := os.MkdirTemp("", "airlock-demo-")
		if err != nil {
			return err
		}
		*data = dir
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(*data, "airlock.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	out := stdout
	if *asJSON {
		out = io.Discard
	}
	start := time.Now()
	env, err := startDemo(ctx, *data, newLogger(config.Default().Log, logFile), logFile)
	if err != nil {
		return err
	}
	defer env.close()

	fmt.Fprintf(out, "Airlock demo: %d attacks on a gateway and API started in-process, in front of demo models.\n", len(drill.Scenarios()))
	fmt.Fprintf(out, "Data and logs: %s\n", *data)
	var results []*drill.Result
	for i, sc := range drill.Scenarios() {
		fmt.Fprintf(out, "\n%d/%d %s: %s\n", i+1, len(drill.Scenarios()), sc.Name, sc.Summary)
		res := playScenario(ctx, env.target, sc, env.options, out)
		if sc.Name == "poisoned-model" {
			env.checkPoisonedServedNothing(res, out)
		}
		results = append(results, res)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	passed := true
	for _, r := range results {
		passed = passed && r.Passed
	}
	rep, err := env.srv.dir.service().VerifyAll(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]any{"scenarios": results}, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintf(out, "\nSummary (%s, deadlines: detect %s, contain %s):\n\n", time.Since(start).Round(100*time.Millisecond), drill.DetectWithin, drill.ContainWithin)
		writeDrillTable(out, results)
		writeDrillVerdict(out, results)
		fmt.Fprintf(out, "Verify: %d timeline entries and %d evidence files re-hashed, %d problems.\n", rep.Entries, rep.Blobs, len(rep.Problems))
	}
	if !rep.OK {
		for _, p := range rep.Problems {
			fmt.Fprintf(stderr, "airlock demo: verify: %s\n", p)
		}
		passed = false
	}
	if !*keep {
		fmt.Fprint(out, demoNextSteps)
		if temporary && passed {
			env.close()
			os.RemoveAll(*data)
		} else if !passed {
			fmt.Fprintf(out, "The data directory and its log are kept in %s.\n", *data)
		}
		if !passed {
			return &exitError{code: 1, err: errSilent}
		}
		return nil
	}
	env.printKeep(out, *data, results)
	if *asJSON {
		env.printKeep(stderr, *data, results)
	}
	<-ctx.Done()
	if !passed {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

const demoNextSteps = `
Next steps:
  airlock demo --keep         the same, then keep the server running to look around with the CLI and the API
  airlock drill list          what each scenario sends and what must happen (docs/drills.md)
  airlock drill --scenario NAME --gateway URL --api URL --token T
                              play one against your own deployment
`

// demoEnv is the demo's running system.
type demoEnv struct {
	srv     *server
	models  map[string]*demomodel.Server // by version
	stops   []func()
	target  drill.Target
	options drill.Options
	admin   string
	closed  bool
}

// The demo's deployment: one route per scenario, each served by a demo
// model of its own version (alerts from different scenarios must not share
// a model version, which correlation would take as one incident), and the
// support bot whose v2 is the poisoned release: deployed on its primary
// upstream, with the known-good v1 kept as "previous".
var demoRoutes = []struct {
	route, model, version string
}{
	{"helpdesk", "helpdesk", "helpdesk-v7"},
	{"sales", "sales-assistant", "sales-v3"},
	{"search", "search", "search-v12"},
	{"billing", "billing-bot", "billing-v2"},
}

const (
	demoSupportModel = "support-bot"
	demoGoodVersion  = "v1"
	demoBadVersion   = "v2"
)

// startDemo starts the demo models and the server on data, with logs to
// log and start-up notices to notice.
func startDemo(ctx context.Context, data string, log *slog.Logger, notice io.Writer) (env *demoEnv, err error) {
	env = &demoEnv{models: map[string]*demomodel.Server{}}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	model := func(opts demomodel.Options) (string, error) {
		m := demomodel.New(opts)
		url, stop, err := m.Start(ctx, "")
		if err != nil {
			return "", err
		}
		env.models[opts.Version] = m
		env.stops = append(env.stops, stop)
		return url, nil
	}
	cfg := config.Default()
	cfg.API.Addr = "127.0.0.1:0"
	cfg.Gateway.Addr = "127.0.0.1:0"
	// The drills play several client addresses through X-Forwarded-For.
	cfg.Gateway.TrustedProxies = []string{"127.0.0.1/32"}
	for _, r := range demoRoutes {
		url, err := model(demomodel.Options{Version: r.version})
		if err != nil {
			return nil, err
		}
		cfg.Gateway.Routes = append(cfg.Gateway.Routes, config.Route{Name: r.route, Models: []string{r.model},
			Upstreams: []config.Upstream{{Name: "primary", URL: url, Version: r.version}}})
	}
	bad, err := model(demomodel.Options{Version: demoBadVersion, Poisoned: true})
	if err != nil {
		return nil, err
	}
	good, err := model(demomodel.Options{Version: demoGoodVersion})
	if err != nil {
		return nil, err
	}
	cfg.Gateway.Routes = append(cfg.Gateway.Routes, config.Route{Name: "support", Models: []string{demoSupportModel},
		Upstreams: []config.Upstream{
			{Name: "primary", URL: bad, Version: demoBadVersion},
			{Name: "previous", URL: good, Version: demoGoodVersion, Backup: true},
		}})
	cfg.Detect.Canaries = []string{demomodel.DefaultCanary}
	cfg.Detect.SystemPrompts = map[string][]string{"sales": {demomodel.DefaultSystemPrompt}}
	// Keys count as established after 10 requests over 2 s, so that the
	// stolen-key drill need not wait the default 10 minutes.
	cfg.Detect.Credential = config.Credential{Established: 10, EstablishedFor: config.Duration(2 * time.Second)}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	if env.srv, err = startServer(ctx, data, cfg, upstreamFlags{}, log, notice); err != nil {
		return nil, err
	}
	// The drill acts as a responder; the poisoned model's registration is
	// reported as a registry would, with a gateway (service) token.
	responder, _, err := api.CreateToken(ctx, env.srv.dir.store, "demo-responder", api.RoleResponder, "airlock demo")
	if err != nil {
		return nil, err
	}
	registry, _, err := api.CreateToken(ctx, env.srv.dir.store, "demo-model-registry", api.RoleGateway, "airlock demo")
	if err != nil {
		return nil, err
	}
	admin, err := os.ReadFile(filepath.Join(data, adminTokenFile))
	if err != nil {
		return nil, err
	}
	env.admin = strings.TrimSpace(string(admin))
	env.target = drill.Target{Gateway: env.srv.gateway.url, API: env.srv.url, Token: responder, EventsToken: registry,
		Client: &http.Client{Timeout: 30 * time.Second}}
	env.options = drill.Options{Established: 10, EstablishedFor: 2 * time.Second,
		PoisonedVersion: demoBadVersion, KnownGoodVersion: demoGoodVersion}
	return env, nil
}

// checkPoisonedServedNothing asks the poisoned model itself: the gateway
// must never have sent it a request.
func (e *demoEnv) checkPoisonedServedNothing(res *drill.Result, out io.Writer) {
	st := e.models[demoBadVersion].Stats()
	served := st.ChatCompletions + st.Completions + st.Embeddings + st.Responses
	fmt.Fprintf(out, "  the poisoned %s server itself counted %d requests\n", demoBadVersion, served)
	if served > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("the poisoned version served %d requests", served))
		res.Passed = false
	}
}

func (e *demoEnv) close() {
	if e.closed {
		return
	}
	e.closed = true
	if e.srv != nil {
		e.srv.shutdown(5 * time.Second)
	}
	for _, stop := range e.stops {
		stop()
	}
}

func (e *demoEnv) printKeep(w io.Writer, data string, results []*drill.Result) {
	fmt.Fprintf(w, "\nThe server keeps running (Ctrl-C stops it). In another terminal:\n")
	fmt.Fprintf(w, "  export AIRLOCK_SERVER=%s\n", e.srv.url)
	fmt.Fprintf(w, "  export AIRLOCK_TOKEN=%s   # admin\n", e.admin)
	fmt.Fprintf(w, "  export AIRLOCK_GATEWAY=%s\n", e.srv.gateway.url)
	fmt.Fprintf(w, "  airlock incident list\n")
	for _, r := range results {
		if r.Incident != "" {
			fmt.Fprintf(w, "  airlock incident show %s   # %s\n", r.Incident, r.Name)
			break
		}
	}
	fmt.Fprintf(w, "  airlock policy list\n")
	fmt.Fprintf(w, "  curl -s $AIRLOCK_SERVER/api/v1/incidents/ID/playbook -H \"Authorization: Bearer $AIRLOCK_TOKEN\"\n")
	fmt.Fprintf(w, "  curl -s $AIRLOCK_GATEWAY/v1/chat/completions -H \"Authorization: Bearer sk-me\" -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n", demoSupportModel)
	fmt.Fprintf(w, "  airlock drill --scenario poisoned-model --known-good %s   # plays it again\n", demoGoodVersion)
	fmt.Fprintf(w, "Models: ")
	var names []string
	for _, r := range demoRoutes {
		names = append(names, r.model)
	}
	fmt.Fprintf(w, "%s, %s (%s poisoned on primary, %s known-good as previous).\n", strings.Join(names, ", "), demoSupportModel, demoBadVersion, demoGoodVersion)
	fmt.Fprintf(w, "Data and log: %s\n", data)
}

func defaultHTTPClient() *http.Client { return &http.Client{Timeout: 60 * time.Second} }
