package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/intel"
	"github.com/airlock-ir/airlock/internal/registry"
	"github.com/airlock-ir/airlock/internal/respond"
	"github.com/airlock-ir/airlock/internal/respond/playbook"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/airlock-ir/airlock/internal/alerts"
	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/bus"
	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/detect/rules"
	"github.com/airlock-ir/airlock/internal/gateway"
	"github.com/airlock-ir/airlock/internal/metrics"
	"github.com/airlock-ir/airlock/internal/policy"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	data := fs.String("data", defaultDataDir(), "data directory (created if missing)")
	configFile := fs.String("config", "", "YAML configuration file (see docs/configuration.md)")
	apiAddr := fs.String("api-addr", "", "API listen address (overrides api.addr; default 127.0.0.1:7700)")
	gatewayAddr := fs.String("gateway-addr", "", "gateway listen address (overrides gateway.addr; default 127.0.0.1:7701)")
	var upstream upstreamFlags
	upstream.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := config.Default()
	if *configFile != "" {
		var err error
		if cfg, err = config.Load(*configFile); err != nil {
			return err
		}
	}
	if *apiAddr != "" {
		cfg.API.Addr = *apiAddr
	}
	if *gatewayAddr != "" {
		cfg.Gateway.Addr = *gatewayAddr
	}
	if err := cfg.Validate(); err != nil {
		return usageError("%v", err)
	}
	log := newLogger(cfg.Log, stderr)
	srv, err := startServer(ctx, *data, cfg, upstream, log, stderr)
	if err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "airlock: shutting down")
	return srv.shutdown(time.Duration(cfg.API.ShutdownTimeout))
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// server is a running API server over a data directory, and the gateway
// when it has routes.
type server struct {
	dir     *dataDir
	api     *listener
	url     string
	gw      *gateway.Gateway
	gateway *listener // nil without routes
	events  *bus.InProc
	policy  *containment.Service
	stop    context.CancelFunc // ends background work

	capturing chan struct{} // closed when captured traffic is all kept

	alerts     *alerts.Service
	alertsDone chan struct{} // closed when queued alerts are stored
	engine     *detect.Engine
	runner     *respond.Runner
	intel      *intel.Service
	monitoring chan struct{} // closed when the registry monitor has stopped
	responding chan struct{} // closed when the playbook runner has stopped
	detecting  chan struct{} // closed when the engine has stopped
}

// startServer opens the data directory, creates the first admin token if
// there is none, and starts serving. It returns once the listener is bound.
func startServer(ctx context.Context, dataPath string, cfg config.Config, upstream upstreamFlags, log *slog.Logger, notice io.Writer) (srv *server, err error) {
	dir, err := openDataDir(ctx, dataPath, true)
	if err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	s := &server{dir: dir, events: bus.NewInProc(), stop: stop}
	defer func() {
		if err != nil {
			if s.gateway != nil {
				s.gateway.shutdown(context.Background())
			}
			s.close()
		}
	}()
	if err := ensureAdminToken(ctx, dir, notice); err != nil {
		return nil, err
	}
	secret, err := loadGatewayKey(dataPath)
	if err != nil {
		return nil, err
	}
	keys := gateway.NewKeyHasher(secret)
	holder := policy.NewHolder(policy.Empty())
	inc := dir.service()
	if s.policy, err = containment.New(ctx, dir.store, inc, holder, containment.Options{HashKey: keys.Hash, Logger: log}); err != nil {
		return nil, err
	}
	go s.maintainPolicy(bg, log)
	if s.alerts, err = alerts.New(ctx, dir.store, log); err != nil {
		return nil, err
	}
	// Alerts become incidents: correlation runs on the alert writer, in the
	// order alerts are stored, and resumes from the open incidents.
	corr := respond.NewCorrelator(inc, respond.Options{
		Window: time.Duration(cfg.Respond.Window), Criticality: cfg.Respond.Criticality, Log: log,
	})
	if err := corr.Load(ctx); err != nil {
		return nil, err
	}
	books, err := playbook.Load(cfg.Respond.PlaybooksDir)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	var notifier respond.Notifier
	if len(cfg.Respond.Webhooks) > 0 {
		notifier = &respond.Webhooks{URLs: cfg.Respond.Webhooks}
	}
	s.runner = respond.NewRunner(inc, respond.RunnerOptions{
		Playbooks:   func() map[string]*playbook.Playbook { return books },
		Containment: s.policy,
		Events:      eventLog{path: filepath.Join(dataPath, eventLogFile)},
		Notifier:    notifier,
		Owner:       cfg.Respond.Owner,
		Log:         log,
	})
	if cfg.Respond.RunPlaybooks {
		corr.OnOpen(func(i *incident.Incident) { s.runner.Enqueue(i.ID) })
		corr.OnJoin(func(i *incident.Incident) { s.runner.Enqueue(i.ID) })
	}
	s.alerts.OnAlert(func(a *store.Alert) {
		if _, err := corr.Handle(bg, a); err != nil {
			log.Error("alert not correlated", "alert", a.ID, "type", a.Type, "err", err)
		}
	})
	if cfg.Respond.RunPlaybooks {
		if err := s.runner.Resume(ctx); err != nil {
			return nil, err
		}
	}
	s.responding = make(chan struct{})
	go func() { defer close(s.responding); s.runner.Run(bg) }()
	s.alertsDone = make(chan struct{})
	go func() { defer close(s.alertsDone); s.alerts.Run(bg) }()

	// Deployed model versions are re-verified on a schedule; a change is an
	// alert, and registry events go to the detectors.
	mon := &registry.Monitor{Store: dir.store, Interval: time.Hour, Publish: s.events.Publish, Alert: s.alerts.Raise, Log: log}
	s.monitoring = make(chan struct{})
	go func() { defer close(s.monitoring); mon.Run(bg) }()
	if s.intel, err = intel.NewService(ctx, dir.store); err != nil {
		return nil, err
	}
	dets, userRules, err := streamDetectors(cfg.Detect, s.intel.Set)
	if err != nil {
		return nil, err
	}
	if cfg.Detect.RulesFile != "" {
		go userRules.Watch(bg, cfg.Detect.RulesFile, rules.WatchOptions{Logger: log})
	}
	s.engine = detect.NewEngine(dets, s.alerts, detect.EngineOptions{Logger: log})
	detectQueue := s.events.Subscribe("detect", 65536)
	s.detecting = make(chan struct{})
	go func() { defer close(s.detecting); s.engine.Run(bg, detectQueue.C()) }()

	if routes := gatewayRoutes(cfg.Gateway, upstream); len(routes) > 0 {
		gw, err := gateway.New(gateway.Options{
			Routes: routes, TrustedProxies: cfg.Gateway.TrustedPrefixes(),
			MaxBodyBytes: int64(cfg.Gateway.MaxBodyBytes), UpstreamTimeout: time.Duration(cfg.Gateway.UpstreamTimeout),
			Keys: keys, Policy: holder, Sink: s.events, Logger: log,
			ClientKeys: clientKeyCheck(cfg.Gateway, dir),
		})
		if err != nil {
			return nil, err
		}
		if err := writeEvents(s.events.Subscribe("event-log", 65536), filepath.Join(dataPath, eventLogFile), log); err != nil {
			return nil, err
		}
		captures := s.events.Subscribe("capture", 4096)
		s.capturing = make(chan struct{})
		go func() {
			defer close(s.capturing)
			s.policy.RecordCaptures(context.Background(), captures.C(), 5*time.Second)
		}()
		s.gw = gw
		if len(cfg.Detect.Golden.Prompts) > 0 {
			go runGolden(bg, gw, cfg.Detect.Golden, s.events.Publish, log)
		}
		if s.gateway, err = listen(gw, cfg.Gateway.Addr, filepath.Join(dataPath, gatewayAddrFile), cfg, log); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		log.Info("gateway listening", "url", s.gateway.url, "routes", len(routes))
		fmt.Fprintf(notice, "airlock: gateway listening on %s\n", s.gateway.url)
	} else {
		fmt.Fprintln(notice, "airlock: gateway not started: no upstream (pass --upstream URL or configure gateway.routes)")
	}

	src := metrics.Sources{
		EventsPublished: s.events.Published,
		EventsDropped:   s.events.Stats,
		PolicyVersion:   func() int64 { return holder.Load().Version() },
		PolicyActions: func() map[string]int {
			n := map[string]int{}
			for _, a := range holder.Load().Policy().Actions {
				n[string(a.Kind)]++
			}
			return n
		},
	}
	if s.gw != nil {
		src.GatewayDecisions = s.gw.Stats().Decisions
	}
	apiSrv := api.New(dir.store, inc, api.Options{
		MaxBodyBytes:     int64(cfg.API.MaxBodyBytes),
		MaxEvidenceBytes: int64(cfg.Evidence.MaxBytes),
		Policy:           s.policy,
		Alerts:           s.alerts,
		Events:           s.events.Publish,
		Playbooks:        s.runner,
		Intel:            s.intel,
		Metrics:          promhttp.HandlerFor(metrics.NewRegistry(src), promhttp.HandlerOpts{}),
	}, log)
	if s.api, err = listen(apiSrv, cfg.API.Addr, filepath.Join(dataPath, apiAddrFile), cfg, log); err != nil {
		return nil, err
	}
	s.url = s.api.url
	log.Info("api listening", "url", s.url, "data", dataPath)
	fmt.Fprintf(notice, "airlock: API listening on %s (data in %s)\n", s.url, dataPath)
	return s, nil
}

// clientKeyCheck is the gateway's key check when the configuration asks
// that every caller present a client token.
func clientKeyCheck(cfg config.Gateway, dir *dataDir) func(context.Context, string) bool {
	if !cfg.RequireClientKey {
		return nil
	}
	keys := api.NewClientKeys(dir.store, 5*time.Second)
	return func(ctx context.Context, key string) bool {
		_, ok := keys.Check(ctx, key)
		return ok
	}
}

// maintainPolicy expires actions whose time is up and picks up changes
// other processes made to the stored policy, every second.
func (s *server) maintainPolicy(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.policy.Expire(ctx); err != nil && ctx.Err() == nil {
			log.Warn("policy expiry", "err", err)
		}
		if _, err := s.policy.Reload(ctx); err != nil && ctx.Err() == nil {
			log.Warn("policy reload", "err", err)
		}
	}
}

// shutdown stops accepting requests, lets those in flight finish (up to
// timeout), and closes the store.
func (s *server) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if s.gateway != nil {
		errs = append(errs, s.gateway.shutdown(ctx))
		os.Remove(filepath.Join(s.dir.path, gatewayAddrFile))
	}
	errs = append(errs, s.api.shutdown(ctx))
	os.Remove(filepath.Join(s.dir.path, apiAddrFile))
	errs = append(errs, s.close())
	return errors.Join(errs...)
}

// close ends background work and closes the event bus and the store.
func (s *server) close() error {
	s.stop()
	s.events.Close()
	if s.capturing != nil {
		<-s.capturing // the last captured traffic is written before the store closes
	}
	if s.detecting != nil {
		<-s.detecting
	}
	if s.alertsDone != nil {
		<-s.alertsDone
	}
	if s.responding != nil {
		<-s.responding
	}
	if s.monitoring != nil {
		<-s.monitoring
	}
	return s.dir.Close()
}

// ensureAdminToken creates the first admin token of a new data directory and
// writes it to a file only its owner can read. The token never goes to logs.
func ensureAdminToken(ctx context.Context, dir *dataDir, notice io.Writer) error {
	var n int
	err := dir.store.View(ctx, func(tx store.Tx) error {
		toks, err := tx.ListTokens(ctx)
		n = len(toks)
		return err
	})
	if err != nil || n > 0 {
		return err
	}
	secret, _, err := api.CreateToken(ctx, dir.store, "admin", api.RoleAdmin, "airlock serve (first start)")
	if err != nil {
		return err
	}
	path := filepath.Join(dir.path, adminTokenFile)
	if err := writeFileAtomic(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	fmt.Fprintf(notice, "airlock: created the first admin token; it is in %s (readable only by you)\n", path)
	return nil
}

// writeFileAtomic writes data to path via a synced temporary and a rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
