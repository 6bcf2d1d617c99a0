package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// client talks to the API for the commands people use at a terminal.
type client struct {
	base  string
	token string
	http  *http.Client
}

// clientFlags adds --server and --token to fs.
func clientFlags(fs *flag.FlagSet) func() (*client, error) {
	server := fs.String("server", "", "API base URL (default $AIRLOCK_SERVER or http://127.0.0.1:7700)")
	token := fs.String("token", "", "API token (default $AIRLOCK_TOKEN)")
	return func() (*client, error) {
		base := firstNonEmpty(*server, os.Getenv("AIRLOCK_SERVER"), "http://127.0.0.1:7700")
		tok := firstNonEmpty(*token, os.Getenv("AIRLOCK_TOKEN"))
		if tok == "" {
			return nil, usageError("no token: pass --token or set AIRLOCK_TOKEN (the first admin token is in DATA/%s)", adminTokenFile)
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usageError("--server %q is not an http(s) URL", base)
		}
		return &client{base: strings.TrimRight(base, "/"), token: tok, http: defaultHTTPClient()}, nil
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// apiError is an error response from the server.
type apiError struct {
	Status  int
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []string `json:"details"`
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
	switch {
	case len(e.Details) > 0 && e.Code == "unmet_criteria":
		msg = fmt.Sprintf("refused (HTTP %d): unmet criteria:", e.Status)
		for _, d := range e.Details {
			msg += "\n  - " + d
		}
	case len(e.Details) > 0 && e.Code == "invalid_feed":
		for _, d := range e.Details {
			msg += "\n  " + d
		}
	}
	return msg
}

// do sends a request and decodes a JSON answer into out (if not nil). It
// returns the raw body too, for --json output.
func (c *client) do(ctx context.Context, method, path string, body any, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	return c.send(ctx, method, path, rd, "application/json", out)
}

func (c *client) send(ctx context.Context, method, path string, body io.Reader, contentType string, out any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error.Message == "" {
			return nil, fmt.Errorf("HTTP %d from %s: %s", resp.StatusCode, path, strings.TrimSpace(string(raw)))
		}
		e.Error.Status = resp.StatusCode
		return nil, &e.Error
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("unexpected answer from %s: %w", path, err)
		}
	}
	return raw, nil
}

// printJSON writes an API answer indented.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
