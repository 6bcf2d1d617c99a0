package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/airlock-ir/airlock/internal/detect/promptinject"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/redact"
	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Sink receives the gateway's events. Publish must not block.
type Sink interface{ Publish(event.Event) }

// Options configure a Gateway.
type Options struct {
	Routes          []Route
	TrustedProxies  []netip.Prefix
	MaxBodyBytes    int64         // request bodies; default 4 MiB
	MaxResponse     int64         // non-streamed responses inspected in memory; default 16 MiB
	UpstreamTimeout time.Duration // time to the upstream's response headers; default 120 s
	Keys            *KeyHasher
	// ClientKeys, when set, admits only requests whose API key it accepts;
	// others get 401. Without it any key (or none) is an identity only.
	ClientKeys func(ctx context.Context, key string) bool
	Policy     *policy.Holder
	// PromptGuard scores conversations for prompt_guard actions; default
	// promptinject.Default().
	PromptGuard Guard
	Sink        Sink
	Logger      *slog.Logger
	Now         func() time.Time // for tests; default time.Now
}

// Guard is the part of the prompt-attack detector the inline guard needs.
type Guard interface {
	ScoreMessages([]promptinject.Message) promptinject.Result
}

var _ Guard = (*promptinject.Detector)(nil)

// Gateway is the proxy. It is an http.Handler.
type Gateway struct {
	opts      Options
	routes    []*routeProxy
	limiter   *limiter
	redactAll *redact.Redactor
	redactPII *redact.Redactor
	redactSec *redact.Redactor
	stats     Stats
}

// Stats are the gateway's counters.
type Stats struct {
	Requests atomic.Uint64
	Refused  atomic.Uint64

	byDecision [len(decisions)]atomic.Uint64
}

// decisions are the outcomes counted per request.
var decisions = [...]string{
	event.DecisionAllowed, event.DecisionBlocked, event.DecisionRateLimited, event.DecisionFiltered,
	event.DecisionDisabled, event.DecisionTooLarge, event.DecisionBadRequest, event.DecisionUpstreamError,
	event.DecisionStopped, event.DecisionGuarded,
}

func (s *Stats) count(decision string) {
	for i, d := range decisions {
		if d == decision {
			s.byDecision[i].Add(1)
			return
		}
	}
}

// Decisions returns how many requests ended with each decision.
func (s *Stats) Decisions() map[string]uint64 {
	out := make(map[string]uint64, len(decisions))
	for i, d := range decisions {
		out[d] = s.byDecision[i].Load()
	}
	return out
}

type routeProxy struct {
	Route
	proxies map[string]*httputil.ReverseProxy // by upstream name
}

// New builds a gateway. Upstream keys are read from the environment now.
func New(opts Options) (*Gateway, error) {
	if err := ValidateRoutes(opts.Routes); err != nil {
		return nil, err
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	if opts.MaxResponse <= 0 {
		opts.MaxResponse = 16 << 20
	}
	if opts.UpstreamTimeout <= 0 {
		opts.UpstreamTimeout = 120 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Policy == nil {
		opts.Policy = policy.NewHolder(policy.Empty())
	}
	if opts.PromptGuard == nil {
		opts.PromptGuard = promptinject.Default()
	}
	if opts.Keys == nil {
		return nil, errors.New("gateway: a key hasher is required")
	}
	g := &Gateway{
		opts: opts, limiter: newLimiter(1 << 20),
		redactAll: redact.New(), redactPII: redact.New(redact.PII), redactSec: redact.New(redact.Secret),
	}
	transport := &http.Transport{
		Proxy:                 nil, // upstreams are reached directly, never through the environment's proxy
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: opts.UpstreamTimeout,
		ForceAttemptHTTP2:     true,
	}
	for _, rt := range opts.Routes {
		rp := &routeProxy{Route: rt, proxies: map[string]*httputil.ReverseProxy{}}
		for _, u := range rt.Upstreams {
			rp.proxies[u.Name] = g.newProxy(u, transport)
		}
		g.routes = append(g.routes, rp)
	}
	return g, nil
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() *Stats { return &g.stats }

func (g *Gateway) newProxy(u Upstream, transport http.RoundTripper) *httputil.ReverseProxy {
	base, _ := url.Parse(strings.TrimRight(u.URL, "/"))
	key := ""
	if u.APIKeyEnv != "" {
		key = os.Getenv(u.APIKeyEnv)
	}
	return &httputil.ReverseProxy{
		Transport: transport,
		// Streams (text/event-stream, unknown length) are flushed on every
		// write by the proxy itself; whole bodies need no extra flushes.
		FlushInterval: 0,
		BufferPool:    bufferPool{},
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			out.URL.Scheme, out.URL.Host = base.Scheme, base.Host
			out.URL.Path = base.Path + strings.TrimPrefix(pr.In.URL.Path, "/v1")
			out.URL.RawPath = ""
			out.Host = base.Host
			// The client's credentials never reach the upstream.
			out.Header.Del("Authorization")
			out.Header.Del("Api-Key")
			out.Header.Del("X-Api-Key")
			out.Header.Del("Cookie")
			if key != "" {
				out.Header.Set("Authorization", "Bearer "+key)
			}
			// Inspection needs plain bodies; the transport negotiates
			// compression itself and decodes it.
			out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.upstreamError,
	}
}

// reqState travels with a request through the proxy's callbacks.
type reqState struct {
	ev       event.Event
	start    time.Time
	upStart  time.Time
	decision policy.Decision
	req      *apiRequest
	limits   []limitKey
	capture  bool
	emitted  atomic.Bool
}

type stateKey struct{}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.stats.Requests.Add(1)
	now := g.opts.Now()
	st := &reqState{start: now}
	st.ev = event.Event{ID: newEventID(), Time: now.UTC(), Source: "gateway", Kind: "request", Endpoint: r.URL.Path}
	if ref := g.admit(w, r, st); ref != nil {
		g.stats.Refused.Add(1)
		ref.write(w)
		st.ev.Status, st.ev.Decision, st.ev.Action = ref.status, ref.decision, ref.action
		if ref.decision == "" {
			st.ev.Decision = event.DecisionBadRequest
		}
		g.emit(st)
		return
	}
}

func newEventID() string { return uuid.Must(uuid.NewV7()).String() }

// admit runs every check that must decide before the upstream is called. It
// returns a refusal, or nil after the request has been proxied.
func (g *Gateway) admit(w http.ResponseWriter, r *http.Request, st *reqState) *refusal {
	ev := &st.ev
	// Upstreams resolve dot segments and repeated slashes, so check and
	// forward the path they will see: "/v1//chat/completions" must not slip
	// past the checks of /v1/chat/completions, nor "/v1/../x" leave /v1.
	if p := cleanPath(r.URL.Path); p != r.URL.Path {
		r.URL.Path, r.URL.RawPath = p, ""
	}
	ev.Endpoint = endpoint(r.URL.Path)
	if !strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Path != "/v1" {
		return &refusal{status: http.StatusNotFound, kind: "invalid_request_error", code: "unknown_url", message: "unknown path " + r.URL.Path + ": the gateway serves the OpenAI API under /v1/"}
	}
	ip := clientIP(r, g.opts.TrustedProxies)
	ev.IP = ip.String()
	key, conflict := apiKey(r.Header)
	if conflict {
		return badRequest("the request carries different API keys in different headers")
	}
	if key != "" {
		ev.APIKeyHash = g.opts.Keys.Hash(key)
	}
	if g.opts.ClientKeys != nil && (key == "" || !g.opts.ClientKeys(r.Context(), key)) {
		return &refusal{status: http.StatusUnauthorized, kind: "invalid_request_error", code: "invalid_api_key",
			message: "a valid client API key is required", decision: event.DecisionBlocked}
	}

	var body []byte
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		if r.ContentLength > g.opts.MaxBodyBytes {
			return tooLarge(fmt.Sprintf("request body is %d bytes; the limit is %d", r.ContentLength, g.opts.MaxBodyBytes), "")
		}
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, g.opts.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooLarge(fmt.Sprintf("request body is larger than the limit of %d bytes", g.opts.MaxBodyBytes), "")
			}
			return badRequest("cannot read the request body: " + err.Error())
		}
	}
	isJSON := len(body) > 0 && jsonEndpoint(ev.Endpoint)
	if isJSON {
		req, err := parseRequest(body)
		if err != nil {
			return badRequest(err.Error())
		}
		st.req = req
		ev.Model, ev.User = req.Model, req.User
		ev.Stream, ev.Messages, ev.MaxTokens, ev.N = req.Stream, req.Messages, req.MaxTokens, req.N
		ev.Logprobs, ev.TopLogprobs, ev.LogitBias = req.Logprobs, req.TopLogprobs, req.LogitBias
		// What the client sent, before any rewriting: detectors see refused
		// requests too.
		ev.PromptText = req.Prompt()
		ev.PromptChars = req.PromptChars()
		ev.PromptSHA256 = digest(ev.PromptText)
	}
	route := g.route(ev.Model)
	ev.Route = route.Name

	snap := g.opts.Policy.Load()
	ev.Policy = snap.Version()
	d := snap.Evaluate(policy.Request{APIKeyHash: ev.APIKeyHash, User: ev.User, IP: ip, Route: route.Name, Model: ev.Model, Now: st.start})
	st.decision = d
	if d.Disabled != nil {
		return &refusal{status: http.StatusServiceUnavailable, kind: "service_unavailable", code: "endpoint_disabled",
			message: "this endpoint is disabled by an incident response action", decision: event.DecisionDisabled, action: d.Disabled.ID}
	}
	if d.Blocked != nil {
		return &refusal{status: http.StatusForbidden, kind: "permission_error", code: "blocked",
			message: "access blocked by an incident response action", decision: event.DecisionBlocked, action: d.Blocked.ID}
	}
	for _, a := range d.RateLimits {
		k := limitKey{action: a.ID, entity: limitEntity(a, ev)}
		ok, wait := g.limiter.admit(k, st.start, time.Duration(a.Params.Window), a.Params.Requests, a.Params.Tokens)
		if !ok {
			return &refusal{status: http.StatusTooManyRequests, kind: "rate_limit_error", code: "rate_limited",
				message: "rate limited by an incident response action", retryAfter: wait, decision: event.DecisionRateLimited, action: a.ID}
		}
		st.limits = append(st.limits, k)
	}

	if req := st.req; req != nil {
		if ref := g.enforceRequest(req, &d, ev); ref != nil {
			return ref
		}
		if d.Capture != nil {
			st.capture = true
			ev.Prompt, ev.Captured = ev.PromptText, d.Capture.ID
		}
		// Re-encode only when the body was changed.
		if req.changed {
			var err error
			if body, err = req.encode(); err != nil {
				return badRequest("cannot re-encode the request: " + err.Error())
			}
		}
	}

	up := g.pickUpstream(route, &d)
	ev.Upstream = up
	ev.ModelVersion = route.upstream(up).version()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if len(body) == 0 {
		r.Body, r.ContentLength = http.NoBody, 0
		r.Header.Del("Content-Length")
	}
	st.upStart = g.opts.Now()
	route.proxies[up].ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
	return nil
}

// cleanPath is path.Clean that keeps a trailing slash.
func cleanPath(p string) string {
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// endpoint names the OpenAI endpoint a clean path reaches. Some upstreams
// ignore case and a trailing slash, so "/v1/Chat/Completions/" is
// /v1/chat/completions and gets its checks; any other path is itself.
func endpoint(p string) string {
	if e := strings.ToLower(strings.TrimSuffix(p, "/")); jsonEndpoint(e) {
		return e
	}
	return p
}

func jsonEndpoint(path string) bool {
	switch path {
	case "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses":
		return true
	}
	return false
}

func digest(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func limitEntity(a *policy.Action, ev *event.Event) string {
	switch a.Params.Per {
	case "user":
		return "u:" + ev.User
	case "ip":
		return "i:" + ev.IP
	}
	return "k:" + ev.APIKeyHash
}

func (g *Gateway) route(model string) *routeProxy {
	for _, rt := range g.routes {
		if rt.matches(model) {
			return rt
		}
	}
	return g.routes[0]
}

// pickUpstream applies a route action: a fixed upstream, or a weighted split.
func (g *Gateway) pickUpstream(rt *routeProxy, d *policy.Decision) string {
	if d.Upstream != "" && rt.upstream(d.Upstream) != nil {
		return d.Upstream
	}
	if len(d.Weights) > 0 {
		total := 0
		for name, w := range d.Weights {
			if rt.upstream(name) != nil {
				total += w
			}
		}
		if total > 0 {
			n := rand.IntN(total)
			for _, name := range slices.Sorted(maps.Keys(d.Weights)) {
				if rt.upstream(name) == nil {
					continue
				}
				if n -= d.Weights[name]; n < 0 {
					return name
				}
			}
		}
	}
	return rt.primary().Name
}

// enforceRequest applies request limits, sanitisation and prompt filters,
// rewriting the request where the policy says to.
func (g *Gateway) enforceRequest(req *apiRequest, d *policy.Decision, ev *event.Event) *refusal {
	lim := d.Limits
	if lim.MaxMessages > 0 && req.Messages > lim.MaxMessages {
		return tooLarge(fmt.Sprintf("%d messages; the limit is %d", req.Messages, lim.MaxMessages), "")
	}
	if lim.MaxPromptChars > 0 && req.PromptChars() > lim.MaxPromptChars {
		return tooLarge(fmt.Sprintf("the prompt is %d characters; the limit is %d", req.PromptChars(), lim.MaxPromptChars), "")
	}
	if lim.MaxTokens > 0 {
		for _, k := range []string{"max_tokens", "max_completion_tokens", "max_output_tokens"} {
			// Some upstreams read zero or a negative count as no limit.
			if v := req.doc[k]; v != nil && (intOf(v) > lim.MaxTokens || intOf(v) < 1) {
				req.set(k, lim.MaxTokens)
				req.changed = true
			}
		}
		// null is no limit too, so it counts as absent.
		if req.doc["max_tokens"] == nil && req.doc["max_completion_tokens"] == nil && req.doc["max_output_tokens"] == nil && ev.Endpoint != "/v1/embeddings" {
			key := "max_tokens"
			if ev.Endpoint == "/v1/responses" {
				key = "max_output_tokens"
			}
			req.set(key, lim.MaxTokens)
			req.changed = true
		}
	}
	if lim.MaxN > 0 && req.N > lim.MaxN {
		req.set("n", lim.MaxN)
		req.changed = true
	}
	if lim.Logprobs != "" && (requested(req.doc["logprobs"]) || requested(req.doc["top_logprobs"]) || requested(req.doc["logit_bias"])) {
		if lim.Logprobs == "refuse" {
			return &refusal{status: http.StatusForbidden, kind: "invalid_request_error", code: "parameter_refused",
				message: "logprobs, top_logprobs and logit_bias are refused by an incident response action", decision: event.DecisionFiltered}
		}
		for _, k := range []string{"logprobs", "top_logprobs", "logit_bias"} {
			if _, ok := req.doc[k]; ok {
				req.set(k, nil)
				req.changed = true
			}
		}
	}
	if d.Sanitize && req.rewriteTexts(textnorm.Sanitize) {
		req.changed = true
	}
	if d.Filter != nil {
		if a, _, hit := d.Filter.Match(req.Prompt()); hit {
			return &refusal{status: http.StatusForbidden, kind: "invalid_request_error", code: "prompt_filtered",
				message: "the prompt was refused by an incident response filter", decision: event.DecisionFiltered, action: a.ID}
		}
	}
	if gd := d.Guard; gd.Mode != "" {
		r := g.opts.PromptGuard.ScoreMessages(req.Conversation())
		ev.Guard, ev.GuardScore, ev.GuardAttack = gd.Mode, r.Score, r.Score >= gd.Threshold
		if ev.GuardAttack && gd.Mode == policy.GuardBlock {
			return &refusal{status: http.StatusForbidden, kind: "invalid_request_error", code: "prompt_attack",
				message: "the prompt was refused as a prompt attack by an incident response guard", decision: event.DecisionGuarded, action: gd.Action.ID}
		}
	}
	return nil
}

// upstreamError answers for an upstream that could not be reached or timed
// out, and records it.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	ref := &refusal{status: http.StatusBadGateway, kind: "upstream_error", code: "upstream_unavailable",
		message: "the model endpoint could not be reached", decision: event.DecisionUpstreamError}
	var ne net.Error
	switch {
	case r.Context().Err() != nil:
		ref.status, ref.message = 499, "the client went away"
	case errors.As(err, &ne) && ne.Timeout():
		ref.status, ref.code, ref.message = http.StatusGatewayTimeout, "upstream_timeout", "the model endpoint did not answer in time"
	}
	if ref.status != 499 {
		ref.write(w)
	}
	if st != nil {
		st.ev.Status, st.ev.Decision, st.ev.Error = ref.status, ref.decision, err.Error()
		g.emit(st)
	}
}

// emit finishes the event and hands it on, once.
func (g *Gateway) emit(st *reqState) {
	if !st.emitted.CompareAndSwap(false, true) {
		return
	}
	end := g.opts.Now()
	st.ev.LatencyMS = float64(end.Sub(st.start).Microseconds()) / 1000
	if !st.upStart.IsZero() {
		st.ev.UpstreamMS = float64(end.Sub(st.upStart).Microseconds()) / 1000
	}
	if st.ev.TokensOut > 0 || st.ev.TokensIn > 0 {
		for _, k := range st.limits {
			g.limiter.spend(k, end, st.ev.TokensIn+st.ev.TokensOut)
		}
	}
	g.stats.count(st.ev.Decision)
	if g.opts.Sink != nil {
		g.opts.Sink.Publish(st.ev)
	}
}

// intOf reads a number in any form a lenient upstream accepts as an
// integer (5, 5.0, 1e9, "5"), rounding up and saturating, so a cap cannot be
// dodged by spelling the number differently. Anything else is 0.
func intOf(v any) int {
	var f float64
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
			return int(i)
		}
		f, _ = n.Float64()
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(n), 64); err != nil {
			return 0
		}
	case int:
		return n
	case float64:
		f = n
	default:
		return 0
	}
	switch {
	case f != f: // NaN
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int(math.Ceil(f))
}

// requested reports whether a request parameter asks for something, in any
// form a lenient upstream accepts: anything but absent, null, false, zero,
// empty, or a string meaning false.
func requested(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "", "false", "f", "no", "n", "off", "0", "null":
			return false
		}
		return true
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}
