package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/airlock-ir/airlock/internal/alerts"
	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/intel"
	"github.com/airlock-ir/airlock/internal/metrics"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/respond"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/store/sqlite"
)

// The limits every test server runs with.
const (
	maxBody     = 64 << 10
	maxEvidence = 1 << 20
)

// A token name per role; the names are what the audit log records as actor.
var tokenNames = map[string]string{
	api.RoleAdmin:     "ann-admin",
	api.RoleResponder: "rita-responder",
	api.RoleViewer:    "vic-viewer",
	api.RoleGateway:   "gus-gateway",
	api.RoleClient:    "cleo-client",
}

// env is a real API server on loopback over a fresh SQLite store and
// evidence directory, with one token per role.
type env struct {
	ctx     context.Context
	srv     *httptest.Server
	st      *sqlite.Store
	blobDir string
	tok     map[string]string       // role → secret
	tokRec  map[string]*store.Token // role → stored token
	policy  *containment.Service
	alerts  *alerts.Service
	events  *published
	intel   *intel.Service
}

// published keeps what POST /api/v1/events handed on.
type published struct {
	mu     sync.Mutex
	events []event.Event
}

func (p *published) publish(e event.Event) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
}

func (p *published) all() []event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]event.Event(nil), p.events...)
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "airlock.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	blobDir := filepath.Join(dir, "evidence")
	blobs, err := incident.OpenBlobs(blobDir)
	if err != nil {
		tb.Fatalf("open blobs: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	inc := incident.NewService(st, blobs)
	pol, err := containment.New(ctx, st, inc, policy.NewHolder(policy.Empty()), containment.Options{HashKey: func(k string) string { return "kh_test_" + k }})
	if err != nil {
		tb.Fatalf("containment: %v", err)
	}
	e0 := &published{}
	al, err := alerts.New(ctx, st, nil)
	if err != nil {
		tb.Fatalf("alerts: %v", err)
	}
	iv, err := intel.NewService(ctx, st)
	if err != nil {
		tb.Fatalf("intel: %v", err)
	}
	h := api.New(st, inc, api.Options{MaxBodyBytes: maxBody, MaxEvidenceBytes: maxEvidence, Policy: pol, Alerts: al, Events: e0.publish,
		Playbooks: &fakePlaybooks{inc: inc}, Intel: iv,
		Metrics: promhttp.HandlerFor(metrics.NewRegistry(metrics.Sources{}), promhttp.HandlerOpts{})}, logger)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	e := &env{ctx: ctx, srv: srv, st: st, blobDir: blobDir, tok: map[string]string{}, tokRec: map[string]*store.Token{}, policy: pol, alerts: al, events: e0, intel: iv}
	for _, role := range api.Roles {
		secret, rec, err := api.CreateToken(ctx, st, tokenNames[role], role, "test")
		if err != nil {
			tb.Fatalf("create %s token: %v", role, err)
		}
		e.tok[role], e.tokRec[role] = secret, rec
	}
	return e
}

// apiError is the body of every error response.
type apiError struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []string `json:"details"`
}

// result is one response, read in full.
type result struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	err          apiError // zero unless the body is an error
}

func (r *result) String() string {
	b := r.body
	if len(b) > 600 {
		b = append(b[:600:600], "..."...)
	}
	return fmt.Sprintf("%s %s: %d %s", r.method, r.path, r.status, b)
}

// decode unmarshals the body into v.
func (r *result) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("%s: decode body: %v", r, err)
	}
}

// want fails unless the status is status.
func (r *result) want(tb testing.TB, status int) *result {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("want %d, got %s", status, r)
	}
	return r
}

// wantErr fails unless the response is an error with status and code whose
// message contains every one of substrs.
func (r *result) wantErr(tb testing.TB, status int, code string, substrs ...string) *result {
	tb.Helper()
	if r.status != status || r.err.Code != code {
		tb.Fatalf("want %d %q, got %s", status, code, r)
	}
	if r.err.Message == "" {
		tb.Fatalf("%s: empty error message", r)
	}
	for _, s := range substrs {
		if !strings.Contains(r.err.Message, s) {
			tb.Errorf("%s: message %q does not mention %q", r, r.err.Message, s)
		}
	}
	return r
}

// detailsMention fails unless some detail contains each of substrs.
func (r *result) detailsMention(tb testing.TB, substrs ...string) {
	tb.Helper()
	for _, s := range substrs {
		found := false
		for _, d := range r.err.Details {
			found = found || strings.Contains(d, s)
		}
		if !found {
			tb.Errorf("%s: no detail mentions %q (details: %q)", r, s, r.err.Details)
		}
	}
}

// header sets a request header in do.
type header struct{ key, value string }

// do sends a request with token (none if "") and reads the whole response.
// body is sent as is if it is a []byte, string or io.Reader, as JSON
// otherwise; nil sends nothing.
func (e *env) do(tb testing.TB, method, path, token string, body any, hdrs ...header) *result {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("marshal request: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range hdrs {
		req.Header.Set(h.key, h.value)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := &result{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: data}
	if resp.StatusCode >= 400 {
		var eb struct {
			Error *apiError `json:"error"`
		}
		if err := json.Unmarshal(data, &eb); err != nil || eb.Error == nil {
			tb.Fatalf("%s: error response is not {\"error\": {...}}: %v", r, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			tb.Errorf("%s: error Content-Type %q, want application/json", r, ct)
		}
		r.err = *eb.Error
	}
	return r
}

// Shortcuts for the roles.
func (e *env) responder() string { return e.tok[api.RoleResponder] }
func (e *env) admin() string     { return e.tok[api.RoleAdmin] }
func (e *env) viewer() string    { return e.tok[api.RoleViewer] }
func (e *env) gateway() string   { return e.tok[api.RoleGateway] }

// newIncident is a valid creation request; fields may be overridden.
func newIncident(overrides map[string]any) map[string]any {
	in := map[string]any{
		"title":    "Jailbreak attempts against the support assistant",
		"type":     "jailbreak",
		"severity": "high",
		"entities": []map[string]string{{"kind": "ip", "value": "203.0.113.9"}},
	}
	for k, v := range overrides {
		in[k] = v
	}
	return in
}

// create opens an incident as the responder.
func (e *env) create(tb testing.TB, overrides map[string]any) *incident.Incident {
	tb.Helper()
	var inc incident.Incident
	e.do(tb, "POST", "/api/v1/incidents", e.responder(), newIncident(overrides)).want(tb, http.StatusCreated).decode(tb, &inc)
	return &inc
}

// get reads an incident as the admin.
func (e *env) get(tb testing.TB, id string) *incident.Incident {
	tb.Helper()
	var inc incident.Incident
	e.do(tb, "GET", "/api/v1/incidents/"+id, e.admin(), nil).want(tb, http.StatusOK).decode(tb, &inc)
	return &inc
}

// listAll follows next_cursor from path (which has no query, or one that
// ends so that "&" can follow) and returns every item.
func listAll[T any](tb testing.TB, e *env, token, path string, limit int) []T {
	tb.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			tb.Fatalf("%s: pagination does not end", path)
		}
		p := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		e.do(tb, "GET", p, token, nil).want(tb, http.StatusOK).decode(tb, &page)
		if page.Items == nil || page.NextCursor == nil {
			tb.Fatalf("%s: page without items or next_cursor", p)
		}
		if len(page.Items) > limit {
			tb.Fatalf("%s: %d items, more than the limit", p, len(page.Items))
		}
		all = append(all, page.Items...)
		if *page.NextCursor == "" {
			return all
		}
		cursor = *page.NextCursor
	}
}

// counts is what bad requests must leave alone.
type counts struct{ incidents, audit int }

func (e *env) counts(tb testing.TB) counts {
	tb.Helper()
	return counts{
		incidents: len(listAll[json.RawMessage](tb, e, e.admin(), "/api/v1/incidents", 500)),
		audit:     len(listAll[json.RawMessage](tb, e, e.admin(), "/api/v1/audit", 500)),
	}
}

// audit lists the audit log, newest first, with an optional query.
func (e *env) audit(tb testing.TB, query string) []store.AuditEntry {
	tb.Helper()
	return listAll[store.AuditEntry](tb, e, e.admin(), "/api/v1/audit"+query, 500)
}

// fakePlaybooks stands in for the runner, whose behaviour internal/respond
// tests: here only the API's side of the routes is under test.
type fakePlaybooks struct {
	inc       *incident.Service
	mu        sync.Mutex
	decisions []string
}

func (f *fakePlaybooks) Decide(ctx context.Context, a incident.Actor, id, step string, approve bool, note string) error {
	if _, err := f.inc.Get(ctx, id); err != nil {
		return err
	}
	if step == "not-waiting" {
		return fmt.Errorf("%w: step %s", respond.ErrNotWaiting, step)
	}
	f.mu.Lock()
	f.decisions = append(f.decisions, fmt.Sprintf("%s %s %s %v %s", a.Name, id, step, approve, note))
	f.mu.Unlock()
	return nil
}

func (f *fakePlaybooks) View(ctx context.Context, id string) (*respond.PlaybookView, error) {
	if _, err := f.inc.Get(ctx, id); err != nil {
		return nil, err
	}
	return &respond.PlaybookView{Playbook: "test", Steps: []respond.StepView{{ID: "s1", Status: "waiting"}}}, nil
}
