package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Config is the whole configuration file.
type Config struct {
	API      API      `yaml:"api"`
	Gateway  Gateway  `yaml:"gateway"`
	Detect   Detect   `yaml:"detect"`
	Respond  Respond  `yaml:"respond"`
	Evidence Evidence `yaml:"evidence"`
	Log      Log      `yaml:"log"`
}

// Gateway configures the OpenAI-compatible proxy.
type Gateway struct {
	Addr            string   `yaml:"addr"`                      // host:port; port 0 picks a free port
	MaxBodyBytes    Bytes    `yaml:"max_body_bytes"`            // largest request body a client may send
	UpstreamTimeout Duration `yaml:"upstream_timeout"`          // time to the upstream's response headers
	TrustedProxies  []string `yaml:"trusted_proxies,omitempty"` // CIDRs whose X-Forwarded-For is believed
	// RequireClientKey admits only callers whose API key is an Airlock
	// client token (airlock token create --role client); others get 401.
	RequireClientKey bool    `yaml:"require_client_key"`
	Routes           []Route `yaml:"routes,omitempty"`
}

// Route maps model names to upstreams.
type Route struct {
	Name      string     `yaml:"name"`
	Models    []string   `yaml:"models"` // exact names, "prefix*", or "*"
	Upstreams []Upstream `yaml:"upstreams"`
}

// Upstream is an OpenAI-compatible endpoint. Its key is read from the
// environment variable APIKeyEnv names, never written in the file.
type Upstream struct {
	Name      string `yaml:"name"`
	URL       string `yaml:"url"`
	APIKeyEnv string `yaml:"api_key_env"`
	Backup    bool   `yaml:"backup"`
	Version   string `yaml:"version"` // the model version it serves; default: the name
}

// Respond configures how alerts become incidents.
type Respond struct {
	// Window: an alert joins an open incident whose last alert is at most
	// this old.
	Window Duration `yaml:"window"`
	// Criticality weighs the risk score of alerts about a route or model
	// (by name), 0.1 to 10; unnamed assets weigh 1.
	Criticality map[string]float64 `yaml:"criticality,omitempty"`
	// RunPlaybooks runs each new incident's playbook automatically; false
	// only correlates (playbook steps can still be approved through the API
	// once a runner has started them).
	RunPlaybooks bool `yaml:"run_playbooks"`
	// Owner is who playbooks hand an incident to when they move it out of
	// detection and nobody owns it yet.
	Owner string `yaml:"owner"`
	// PlaybooksDir holds YAML playbooks that override the built-in ones (by
	// name or by incident type).
	PlaybooksDir string `yaml:"playbooks_dir"`
	// Webhooks are the notification channels of notify steps: name → URL.
	Webhooks map[string]string `yaml:"webhooks,omitempty"`
}

// API configures the HTTP API listener.
type API struct {
	Addr              string   `yaml:"addr"`                // host:port; port 0 picks a free port
	MaxBodyBytes      Bytes    `yaml:"max_body_bytes"`      // largest JSON request body
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"` // slow-loris bound
	ShutdownTimeout   Duration `yaml:"shutdown_timeout"`    // grace for in-flight requests
}

// Detect configures the detectors.
type Detect struct {
	RulesFile string `yaml:"rules_file,omitempty"` // user rules (docs/detectors.md), reloaded when the file changes
	// PromptClassifier also raises alerts for prompt-attack verdicts the
	// classifier made without a signature rule (docs/promptinject.md).
	PromptClassifier bool `yaml:"prompt_classifier,omitempty"`
	// Canaries are unique strings planted in system prompts or documents:
	// one in an output proves a leak.
	Canaries []string `yaml:"canaries,omitempty"`
	// SystemPrompts are, per route, passages of its system prompt that
	// must never appear in its output.
	SystemPrompts map[string][]string `yaml:"system_prompts,omitempty"`
	// Credential tunes when a key counts as established for the
	// stolen-key signal.
	Credential Credential `yaml:"credential,omitempty"`
	// Golden prompts are asked through the gateway on a schedule; their
	// answers must stay consistent (docs/detectors.md#drift-and-model-integrity).
	Golden Golden `yaml:"golden,omitempty"`
}

// Credential: a key is judged once it has made Established requests over
// at least EstablishedFor; zero values mean 20 and 10m.
type Credential struct {
	Established    int      `yaml:"established,omitempty"`
	EstablishedFor Duration `yaml:"established_for,omitempty"`
}

// Golden schedules golden prompts.
type Golden struct {
	Interval Duration       `yaml:"interval,omitempty"` // default 10m
	Prompts  []GoldenPrompt `yaml:"prompts,omitempty"`
}

// GoldenPrompt is one prompt whose answer must not change.
type GoldenPrompt struct {
	ID             string  `yaml:"id"`
	Model          string  `yaml:"model"` // the model name sent, which picks the route
	Prompt         string  `yaml:"prompt"`
	Expected       string  `yaml:"expected,omitempty"`
	ExpectedSHA256 string  `yaml:"expected_sha256,omitempty"`
	Match          string  `yaml:"match,omitempty"` // exact, contains or similarity
	MinSimilarity  float64 `yaml:"min_similarity,omitempty"`
}

// Evidence configures the evidence store.
type Evidence struct {
	MaxBytes Bytes `yaml:"max_bytes"` // largest evidence upload
}

// Log configures Airlock's own logs.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// Bounds, shared with the documentation in docs/configuration.md.
const (
	minBodyBytes     = KiB
	maxBodyBytes     = 64 * MiB
	minEvidenceBytes = 1
	maxEvidenceBytes = TiB
)

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Default returns the configuration used for every key the file leaves out.
func Default() Config {
	return Config{
		API: API{
			Addr:              "127.0.0.1:7700",
			MaxBodyBytes:      MiB,
			ReadHeaderTimeout: Duration(10 * time.Second),
			ShutdownTimeout:   Duration(15 * time.Second),
		},
		Gateway: Gateway{
			Addr:            "127.0.0.1:7701",
			MaxBodyBytes:    4 * MiB,
			UpstreamTimeout: Duration(120 * time.Second),
		},
		Respond: Respond{
			Window:       Duration(time.Hour),
			Owner:        "on-call",
			RunPlaybooks: true,
		},
		Evidence: Evidence{
			MaxBytes: GiB,
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
	}
}

// keyError is one validation problem, tied to the dotted key path it is
// about so that Parse can add the line the key is on.
type keyError struct {
	key string
	msg string
}

func (e *keyError) Error() string { return e.key + ": " + e.msg }

// Validate reports every problem at once, joined with errors.Join; each
// names its key path, e.g. "api.max_body_bytes: ...".
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, &keyError{key: key, msg: fmt.Sprintf(format, args...)})
	}
	if msg := checkAddr(c.API.Addr); msg != "" {
		add("api.addr", "%s", msg)
	}
	if b := c.API.MaxBodyBytes; b < minBodyBytes || b > maxBodyBytes {
		add("api.max_body_bytes", "%s is out of range: want %s to %s", b, minBodyBytes, maxBodyBytes)
	}
	if d := c.API.ReadHeaderTimeout; d <= 0 {
		add("api.read_header_timeout", "must be greater than 0, got %s", d)
	}
	if d := c.API.ShutdownTimeout; d <= 0 {
		add("api.shutdown_timeout", "must be greater than 0, got %s", d)
	}
	c.validateGateway(add)
	if g := c.Detect.Golden; len(g.Prompts) > 0 && (g.Interval != 0 && g.Interval < Duration(time.Second) || g.Interval > Duration(24*time.Hour)) {
		add("detect.golden.interval", "%s is out of range: want 1s to 24h", g.Interval)
	}
	if cr := c.Detect.Credential; cr.Established < 0 || cr.Established > 1_000_000 || cr.EstablishedFor < 0 || cr.EstablishedFor > Duration(90*24*time.Hour) {
		add("detect.credential", "established must be 0 to 1000000 and established_for 0 to 2160h")
	}
	if n := len(c.Detect.Golden.Prompts); n > 1000 {
		add("detect.golden.prompts", "%d prompts, more than 1000", n)
	}
	golden := map[string]bool{}
	for i, p := range c.Detect.Golden.Prompts {
		key := fmt.Sprintf("detect.golden.prompts[%d]", i)
		if p.ID == "" || golden[p.ID] {
			add(key+".id", "each golden prompt needs a unique id")
		}
		golden[p.ID] = true
		if strings.TrimSpace(p.Prompt) == "" || strings.TrimSpace(p.Model) == "" {
			add(key, "model and prompt are required")
		}
	}
	if w := c.Respond.Window; w < Duration(time.Minute) || w > Duration(7*24*time.Hour) {
		add("respond.window", "%s is out of range: want 1m to 168h", w)
	}
	if len(c.Respond.Criticality) > 1000 {
		add("respond.criticality", "%d entries, more than 1000", len(c.Respond.Criticality))
	}
	if len(c.Respond.Owner) > 200 || !utf8.ValidString(c.Respond.Owner) {
		add("respond.owner", "want at most 200 bytes of UTF-8")
	}
	if len(c.Respond.Webhooks) > 100 {
		add("respond.webhooks", "%d entries, more than 100", len(c.Respond.Webhooks))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Respond.Webhooks)) {
		if msg := checkURL(c.Respond.Webhooks[name]); msg != "" {
			add("respond.webhooks."+name, "%s", strings.Replace(msg, "base URL such as http://127.0.0.1:11434/v1", "URL such as https://hooks.example.com/airlock", 1))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Respond.Criticality)) {
		if v := c.Respond.Criticality[name]; !(v >= 0.1 && v <= 10) {
			add("respond.criticality."+name, "%v is out of range: want 0.1 to 10", v)
		}
	}
	if b := c.Evidence.MaxBytes; b < minEvidenceBytes || b > maxEvidenceBytes {
		add("evidence.max_bytes", "%s is out of range: want %s byte to %s", b, Bytes(minEvidenceBytes), Bytes(maxEvidenceBytes))
	}
	if !slices.Contains(logLevels, c.Log.Level) {
		add("log.level", "unknown level %q: want %s", c.Log.Level, orList(logLevels))
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		add("log.format", "unknown format %q: want %s", c.Log.Format, orList(logFormats))
	}
	return errors.Join(errs...)
}

// checkAddr returns why addr is not a listen address, or "". An empty host
// (":7700") means every interface, as with net.Listen.
func checkAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port, e.g. \"127.0.0.1:7700\"", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil || strings.HasPrefix(port, "+") {
		return fmt.Sprintf("%q: port %q must be a number from 0 to 65535", addr, port)
	}
	if host == "" {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	if !isHostname(host) {
		return fmt.Sprintf("%q: host %q is neither an IP address nor a host name", addr, host)
	}
	return ""
}

func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// orList renders ["a", "b", "c"] as `a, b or c`.
func orList(set []string) string {
	if len(set) == 1 {
		return set[0]
	}
	return strings.Join(set[:len(set)-1], ", ") + " or " + set[len(set)-1]
}

const maxRoutes, maxUpstreams, maxModels = 100, 20, 1000

func (c Config) validateGateway(add func(key, format string, args ...any)) {
	g := c.Gateway
	if msg := checkAddr(g.Addr); msg != "" {
		add("gateway.addr", "%s", msg)
	}
	if b := g.MaxBodyBytes; b < minBodyBytes || b > maxBodyBytes {
		add("gateway.max_body_bytes", "%s is out of range: want %s to %s", b, minBodyBytes, maxBodyBytes)
	}
	if g.UpstreamTimeout <= 0 {
		add("gateway.upstream_timeout", "must be greater than 0, got %s", g.UpstreamTimeout)
	}
	for i, p := range g.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				add(fmt.Sprintf("gateway.trusted_proxies[%d]", i), "%q is not an address or CIDR", p)
			}
		}
	}
	if len(g.Routes) > maxRoutes {
		add("gateway.routes", "%d routes, more than %d", len(g.Routes), maxRoutes)
		return
	}
	names := map[string]bool{}
	for i, r := range g.Routes {
		key := fmt.Sprintf("gateway.routes[%d]", i)
		if r.Name == "" || names[r.Name] {
			add(key+".name", "each route needs a unique name")
		}
		names[r.Name] = true
		if len(r.Models) == 0 || len(r.Models) > maxModels {
			add(key+".models", "want 1 to %d model names (\"*\" matches every model)", maxModels)
		}
		if len(r.Upstreams) == 0 || len(r.Upstreams) > maxUpstreams {
			add(key+".upstreams", "want 1 to %d upstreams", maxUpstreams)
		}
		ups := map[string]bool{}
		for j, u := range r.Upstreams {
			ukey := fmt.Sprintf("%s.upstreams[%d]", key, j)
			if u.Name == "" || ups[u.Name] {
				add(ukey+".name", "each upstream of a route needs a unique name")
			}
			ups[u.Name] = true
			if msg := checkURL(u.URL); msg != "" {
				add(ukey+".url", "%s", msg)
			}
			if len(u.Version) > 128 || !utf8.ValidString(u.Version) {
				add(ukey+".version", "want at most 128 bytes of UTF-8")
			}
		}
	}
}

// checkURL returns why u is not an http(s) base URL, or "".
func checkURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
		return fmt.Sprintf("%q is not an http(s) base URL such as http://127.0.0.1:11434/v1", u)
	}
	return ""
}

// TrustedPrefixes returns the trusted proxies as prefixes; Validate has
// checked them.
func (g Gateway) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range g.TrustedProxies {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pfx.Masked())
		} else if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}
