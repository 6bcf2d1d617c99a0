package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/airlock-ir/airlock/internal/config"
)

// listener is one HTTP server of the process: the API or a gateway.
type listener struct {
	http *http.Server
	url  string
	done chan error
}

// listen binds addr and serves h in the background. When addrFile is not
// empty the URL is written there, so scripts and tests find a port chosen
// by the system.
func listen(h http.Handler, addr, addrFile string, cfg config.Config, log *slog.Logger) (*listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	l := &listener{
		url:  "http://" + ln.Addr().String(),
		done: make(chan error, 1),
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: time.Duration(cfg.API.ReadHeaderTimeout),
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	if addrFile != "" {
		if err := writeFileAtomic(addrFile, []byte(l.url+"\n"), 0o600); err != nil {
			ln.Close()
			return nil, err
		}
	}
	go func() {
		err := l.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		l.done <- err
	}()
	return l, nil
}

// shutdown stops accepting connections and waits for requests in flight,
// until ctx ends.
func (l *listener) shutdown(ctx context.Context) error {
	err := l.http.Shutdown(ctx)
	if serveErr := <-l.done; err == nil {
		err = serveErr
	}
	return err
}
