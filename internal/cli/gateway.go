package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/bus"
	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/gateway"
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

// gatewayRoutes turns the configuration (or the --upstream quick form) into
// routes.
func gatewayRoutes(cfg config.Gateway, upstream string) []gateway.Route {
	if upstream != "" {
		return []gateway.Route{{Name: "default", Models: []string{"*"},
			Upstreams: []gateway.Upstream{{Name: "primary", URL: upstream, APIKeyEnv: os.Getenv("AIRLOCK_UPSTREAM_KEY_ENV")}}}}
	}
	var out []gateway.Route
	for _, r := range cfg.Routes {
		rt := gateway.Route{Name: r.Name, Models: r.Models}
		for _, u := range r.Upstreams {
			rt.Upstreams = append(rt.Upstreams, gateway.Upstream{Name: u.Name, URL: u.URL, APIKeyEnv: u.APIKeyEnv, Backup: u.Backup})
		}
		out = append(out, rt)
	}
	return out
}

// runningGateway is the proxy's listener.
type runningGateway struct {
	gw   *gateway.Gateway
	http *http.Server
	url  string
	done chan error
}

func startGateway(gw *gateway.Gateway, addr, dataPath string, cfg config.Config, log *slog.Logger) (*runningGateway, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: listen on %s: %w", addr, err)
	}
	g := &runningGateway{
		gw: gw, url: "http://" + ln.Addr().String(), done: make(chan error, 1),
		http: &http.Server{
			Handler:           gw,
			ReadHeaderTimeout: time.Duration(cfg.API.ReadHeaderTimeout),
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	if err := writeFileAtomic(filepath.Join(dataPath, gatewayAddrFile), []byte(g.url+"\n"), 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	go func() {
		err := g.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		g.done <- err
	}()
	return g, nil
}

func (g *runningGateway) shutdown(ctx context.Context) error {
	err := g.http.Shutdown(ctx)
	if serveErr := <-g.done; err == nil {
		err = serveErr
	}
	return err
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
