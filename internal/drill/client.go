package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Target is the deployment a drill runs against, as a client and a
// responder reach it.
type Target struct {
	// Gateway is the gateway's base URL, e.g. http://127.0.0.1:7701 (a
	// trailing /v1 is accepted).
	Gateway string
	// API is the API's base URL, e.g. http://127.0.0.1:7700.
	API string
	// Token is a responder or admin token: the drill reads incidents and
	// decides playbook approvals with it.
	Token string
	// EventsToken is an admin or gateway token for POST /api/v1/events
	// (the poisoned-model scenario reports a model registration with it);
	// empty means Token.
	EventsToken string
	// Client is the HTTP client; nil means one with a 30 s timeout.
	Client *http.Client
}

func (t Target) normalised() Target {
	t.Gateway = strings.TrimSuffix(strings.TrimRight(t.Gateway, "/"), "/v1")
	t.API = strings.TrimSuffix(strings.TrimRight(t.API, "/"), "/api/v1")
	if t.EventsToken == "" {
		t.EventsToken = t.Token
	}
	if t.Client == nil {
		t.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return t
}

// caller is one client of the gateway.
type caller struct {
	role string // what the progress lines call it
	key  string // its API key
	ip   string // the address it claims in X-Forwarded-For
	user string // the OpenAI "user" field, "" for none
}

// ask is one chat request.
type ask struct {
	prompt string
	extra  map[string]any // request fields beyond model, messages and user
}

// reply is what the gateway answered.
type reply struct {
	status   int
	code     string // the OpenAI error code of a refusal
	content  string // the first choice's text
	version  string // X-Model-Version: which model version served it
	logprobs bool   // the answer carried logprobs
	err      error  // the request did not complete
	at       time.Time
}

// ok is an answer the caller could use.
func (r reply) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// refused is a refusal by an incident response action: the attacker is
// stopped at the gateway.
func (r reply) refused() bool {
	return r.err == nil && (r.status == http.StatusForbidden || r.status == http.StatusTooManyRequests)
}

func (r reply) String() string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.code != "":
		return fmt.Sprintf("%d %s", r.status, r.code)
	}
	return fmt.Sprintf("%d", r.status)
}

// chat sends one chat completion through the gateway as c.
func (t Target) chat(ctx context.Context, model string, c caller, q ask) reply {
	body := map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": q.prompt}}}
	if c.user != "" {
		body["user"] = c.user
	}
	for k, v := range q.extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", t.Gateway+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		return reply{err: err, at: time.Now()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	if c.ip != "" {
		req.Header.Set("X-Forwarded-For", c.ip)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return reply{err: fmt.Errorf("gateway: %w", err), at: time.Now()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	r := reply{status: resp.StatusCode, version: resp.Header.Get("X-Model-Version"), at: time.Now()}
	if err != nil {
		r.err = fmt.Errorf("gateway: read the answer: %w", err)
		return r
	}
	var doc struct {
		Choices []struct {
			Message  struct{ Content string }
			Logprobs json.RawMessage
		}
		Error *struct{ Code string }
	}
	if json.Unmarshal(raw, &doc) == nil {
		if doc.Error != nil {
			r.code = doc.Error.Code
		}
		if len(doc.Choices) > 0 {
			r.content = doc.Choices[0].Message.Content
			lp := bytes.TrimSpace(doc.Choices[0].Logprobs)
			r.logprobs = len(lp) > 0 && !bytes.Equal(lp, []byte("null"))
		}
	}
	return r
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// api calls the Airlock API with token and decodes a JSON answer into out.
func (t Target) api(ctx context.Context, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.API+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("api: %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal(raw, &e)
		return fmt.Errorf("%s %s: %w", method, path, &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message})
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("api: %s %s: %w", method, path, err)
		}
	}
	return nil
}

// entity is an incident's entity.
type entity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// incidentView is what the drill reads of an incident.
type incidentView struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	Phase       string    `json:"phase"`
	Owner       string    `json:"owner"`
	Summary     string    `json:"summary"`
	Entities    []entity  `json:"entities"`
	CreatedAt   time.Time `json:"created_at"`
	Containment []struct {
		Ref string `json:"ref"`
	} `json:"containment"`
	ContainmentWaiver string `json:"containment_waiver"`
}

func (i *incidentView) has(e entity) bool {
	for _, x := range i.Entities {
		if x == e {
			return true
		}
	}
	return false
}

// openIncidents lists the newest open incidents.
func (t Target) openIncidents(ctx context.Context) ([]incidentView, error) {
	var page struct{ Items []incidentView }
	err := t.api(ctx, t.Token, "GET", "/api/v1/incidents?open=true&limit=100", nil, &page)
	return page.Items, err
}

// alertSeen is an alert that joined an incident.
type alertSeen struct{ detector, rule string }

// name is how results show the alert: its rule, prefixed with the
// detector where the rule does not say it.
func (a alertSeen) name() string {
	if strings.HasPrefix(a.rule, a.detector+".") || a.detector == "" {
		return a.rule
	}
	return a.detector + ":" + a.rule
}

// matches says whether the alert is what want names: a detector, a rule,
// or both as name() writes them.
func (a alertSeen) matches(want string) bool {
	return want == a.detector || want == a.rule || want == a.name()
}

// alerts lists the alerts that joined the incident, in order.
func (t Target) alerts(ctx context.Context, id string) ([]alertSeen, error) {
	var page struct {
		Items []struct {
			Kind string
			Body struct{ Detector, Rule string }
		}
	}
	if err := t.api(ctx, t.Token, "GET", "/api/v1/incidents/"+id+"/timeline?limit=500", nil, &page); err != nil {
		return nil, err
	}
	var out []alertSeen
	for _, e := range page.Items {
		if e.Kind == "alert_joined" && e.Body.Rule != "" {
			out = append(out, alertSeen{e.Body.Detector, e.Body.Rule})
		}
	}
	return out, nil
}

// playbookView is an incident's playbook as the API shows it.
type playbookView struct {
	Playbook string `json:"playbook"`
	Steps    []struct {
		ID     string `json:"id"`
		Title  string `json:"title"`
		Mode   string `json:"mode"`
		Status string `json:"status"`
		Ref    string `json:"ref"`
	} `json:"steps"`
	Executed  int `json:"executed"`
	Automatic int `json:"automatic"`
}

func (t Target) playbook(ctx context.Context, id string) (*playbookView, error) {
	var v playbookView
	err := t.api(ctx, t.Token, "GET", "/api/v1/incidents/"+id+"/playbook", nil, &v)
	return &v, err
}

// decide approves or declines a playbook step that waits for a responder.
func (t Target) decide(ctx context.Context, id, step string, approve bool, note string) error {
	return t.api(ctx, t.Token, "POST", "/api/v1/incidents/"+id+"/steps/"+step+"/approve",
		map[string]any{"approve": approve, "note": note}, nil)
}

// policyAction is one action of the containment policy in force.
type policyAction struct {
	ID       string            `json:"id"`
	Kind     string            `json:"kind"`
	Target   map[string]string `json:"target"`
	Params   map[string]any    `json:"params"`
	Incident string            `json:"incident"`
	Reason   string            `json:"reason"`
}

func (t Target) policy(ctx context.Context) ([]policyAction, error) {
	var p struct{ Actions []policyAction }
	err := t.api(ctx, t.Token, "GET", "/api/v1/policy", nil, &p)
	return p.Actions, err
}

// postEvent hands one event to the detectors, as another system would.
func (t Target) postEvent(ctx context.Context, ev map[string]any) error {
	return t.api(ctx, t.EventsToken, "POST", "/api/v1/events", map[string]any{"events": []any{ev}}, nil)
}
