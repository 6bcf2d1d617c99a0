package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/bus"
	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/gateway"
	"github.com/airlock-ir/airlock/internal/policy"
)

const (
	gatewayKeyFile  = "gateway.key"  // the secret API keys are hashed under
	gatewayAddrFile = "gateway.addr" // where the running gateway listens
	eventLogFile    = "events.jsonl" // every gateway event, one JSON object a line
)

// loadGatewayKey reads the data directory's key-hashing secret, creating it
// on first start. Losing it changes every caller's pseudonym.
func loadGatewayKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, gatewayKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var secret [32]byte
		if _, err := rand.Read(secret[:]); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, []byte(hex.EncodeToString(secret[:])+"\n"), 0o600); err != nil {
			return nil, err
		}
		return secret[:], nil
	}
	if err != nil {
		return nil, err
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) < 16 {
		return nil, fmt.Errorf("%s is damaged: want at least 32 hex digits", path)
	}
	return secret, nil
}

// upstreamFlags is the quick form of a route: one upstream for every model.
type upstreamFlags struct{ url, keyEnv string }

func (u *upstreamFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.url, "upstream", "", "one OpenAI-compatible upstream for every model, e.g. http://127.0.0.1:11434/v1 (instead of gateway.routes)")
	fs.StringVar(&u.keyEnv, "upstream-key-env", "", "the environment variable holding the upstream's API key")
}

// gatewayRoutes turns the configuration (or the --upstream quick form) into
// routes.
func gatewayRoutes(cfg config.Gateway, up upstreamFlags) []gateway.Route {
	if up.url != "" {
		return []gateway.Route{{Name: "default", Models: []string{"*"},
			Upstreams: []gateway.Upstream{{Name: "primary", URL: up.url, APIKeyEnv: up.keyEnv}}}}
	}
	var out []gateway.Route
	for _, r := range cfg.Routes {
		rt := gateway.Route{Name: r.Name, Models: r.Models}
		for _, u := range r.Upstreams {
			rt.Upstreams = append(rt.Upstreams, gateway.Upstream{Name: u.Name, URL: u.URL, APIKeyEnv: u.APIKeyEnv, Backup: u.Backup, Version: u.Version})
		}
		out = append(out, rt)
	}
	return out
}

// writeEvents appends every event to the data directory's event log, the
// format `airlock detect replay` reads. It runs until the subscription
// closes.
func writeEvents(sub *bus.Subscription, path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	go func() {
		defer f.Close()
		enc := json.NewEncoder(f)
		for ev := range sub.C() {
			if err := enc.Encode(ev); err != nil {
				log.Error("event log", "err", err)
			}
		}
	}()
	return nil
}

// runGateway runs a gateway apart from the server: it enforces the policy it
// polls from the API and keeps the last good one when the API is away.
func runGateway(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gateway", stderr)
	apiURL := fs.String("api", firstNonEmpty(os.Getenv("AIRLOCK_SERVER"), "http://127.0.0.1:7700"), "the Airlock API to take the policy from")
	token := fs.String("token", "", "a gateway-role token (default $AIRLOCK_TOKEN)")
	addr := fs.String("addr", "", "listen address (default gateway.addr, 127.0.0.1:7701)")
	configFile := fs.String("config", "", "configuration file with gateway.routes")
	var upstream upstreamFlags
	upstream.register(fs)
	keyFile := fs.String("key-file", "", "the server's gateway.key, so caller pseudonyms match the policy's")
	events := fs.String("events", "", "append events to this JSON-lines file")
	every := fs.Duration("poll", 500*time.Millisecond, "how often to ask for a newer policy")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	tok := firstNonEmpty(*token, os.Getenv("AIRLOCK_TOKEN"))
	if tok == "" || *keyFile == "" {
		return usageError("--token (or AIRLOCK_TOKEN) and --key-file are required")
	}
	cfg := config.Default()
	if *configFile != "" {
		var err error
		if cfg, err = config.Load(*configFile); err != nil {
			return err
		}
	}
	if *addr != "" {
		cfg.Gateway.Addr = *addr
	}
	if err := cfg.Validate(); err != nil {
		return usageError("%v", err)
	}
	routes := gatewayRoutes(cfg.Gateway, upstream)
	if len(routes) == 0 {
		return usageError("no upstream: pass --upstream URL or configure gateway.routes")
	}
	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(secret) < 16 {
		return fmt.Errorf("%s: not a gateway key", *keyFile)
	}
	log := newLogger(cfg.Log, stderr)
	holder := policy.NewHolder(policy.Empty())
	poller := &gateway.PolicyPoller{URL: strings.TrimRight(*apiURL, "/"), Token: tok, Holder: holder,
		Client: &http.Client{Timeout: 10 * time.Second}, Every: *every, Log: log}
	if _, err := poller.Poll(ctx); err != nil {
		log.Warn("no policy yet; starting with none in force", "err", err)
	}
	go poller.Run(ctx)
	evbus := bus.NewInProc()
	defer evbus.Close()
	if *events != "" {
		if err := writeEvents(evbus.Subscribe("event-log", 65536), *events, log); err != nil {
			return err
		}
	}
	gw, err := gateway.New(gateway.Options{
		Routes: routes, TrustedProxies: cfg.Gateway.TrustedPrefixes(),
		MaxBodyBytes: int64(cfg.Gateway.MaxBodyBytes), UpstreamTimeout: time.Duration(cfg.Gateway.UpstreamTimeout),
		Keys: gateway.NewKeyHasher(secret), Policy: holder, Sink: evbus, Logger: log,
	})
	if err != nil {
		return err
	}
	l, err := listen(gw, cfg.Gateway.Addr, "", cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "airlock: gateway listening on %s (policy from %s)\n", l.url, *apiURL)
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.API.ShutdownTimeout))
	defer cancel()
	return l.shutdown(shut)
}
