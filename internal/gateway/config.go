package gateway

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Upstream is one model endpoint: an OpenAI-compatible base URL ending in
// the API version (e.g. http://127.0.0.1:11434/v1).
type Upstream struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	APIKeyEnv string `json:"api_key_env,omitempty"` // the environment variable holding its key
	Backup    bool   `json:"backup,omitempty"`      // used only when a route action points at it
	// Version names the model version this upstream serves, for events and
	// drift; an X-Model-Version answer header overrides it. Default: Name.
	Version string `json:"version,omitempty"`
}

// maxVersionLen bounds a model version taken from an upstream's header.
const maxVersionLen = 128

// version is what events record as the model version served.
func (u *Upstream) version() string {
	if u.Version != "" {
		return u.Version
	}
	return u.Name
}

// Route maps model names to upstreams. Models may be exact names, a prefix
// ending in "*", or "*" for everything.
type Route struct {
	Name      string     `json:"name"`
	Models    []string   `json:"models"`
	Upstreams []Upstream `json:"upstreams"`
}

func (r *Route) matches(model string) bool {
	for _, m := range r.Models {
		if m == "*" || m == model || (strings.HasSuffix(m, "*") && strings.HasPrefix(model, strings.TrimSuffix(m, "*"))) {
			return true
		}
	}
	return false
}

// primary is the first upstream not marked backup.
func (r *Route) primary() *Upstream {
	for i := range r.Upstreams {
		if !r.Upstreams[i].Backup {
			return &r.Upstreams[i]
		}
	}
	return &r.Upstreams[0]
}

func (r *Route) upstream(name string) *Upstream {
	for i := range r.Upstreams {
		if r.Upstreams[i].Name == name {
			return &r.Upstreams[i]
		}
	}
	return nil
}

// ValidateRoutes checks routes before the gateway starts.
func ValidateRoutes(routes []Route) error {
	if len(routes) == 0 {
		return fmt.Errorf("no routes: configure gateway.routes or pass --upstream")
	}
	names := map[string]bool{}
	for i, rt := range routes {
		where := fmt.Sprintf("routes[%d] (%s)", i, rt.Name)
		if rt.Name == "" || names[rt.Name] {
			return fmt.Errorf("%s: each route needs a unique name", where)
		}
		names[rt.Name] = true
		if len(rt.Models) == 0 {
			return fmt.Errorf("%s: models is empty (use \"*\" for every model)", where)
		}
		if len(rt.Upstreams) == 0 {
			return fmt.Errorf("%s: no upstreams", where)
		}
		ups := map[string]bool{}
		for j, u := range rt.Upstreams {
			uw := fmt.Sprintf("%s.upstreams[%d] (%s)", where, j, u.Name)
			if u.Name == "" || ups[u.Name] {
				return fmt.Errorf("%s: each upstream needs a unique name", uw)
			}
			ups[u.Name] = true
			p, err := url.Parse(u.URL)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" {
				return fmt.Errorf("%s: url %q is not an http(s) base URL", uw, u.URL)
			}
			if u.APIKeyEnv != "" && os.Getenv(u.APIKeyEnv) == "" {
				return fmt.Errorf("%s: environment variable %s (api_key_env) is not set", uw, u.APIKeyEnv)
			}
		}
	}
	return nil
}
