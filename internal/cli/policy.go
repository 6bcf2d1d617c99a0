package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/policy"
)

const policyUsage = `usage: airlock policy <subcommand> [flags]

  list                                  the actions in force
  block   --ip A | --cidr C | --user U | --key K | --key-hash H   --reason R
  unblock ID | --ip A | --cidr C | --user U | --key K | --key-hash H
  limit   (--key K | --user U | --ip A) --requests N [--tokens N] [--window 1m] --reason R
  filter  --literal S... | --regex RE...  [--route R]  --reason R
  guard   --mode alert|block [--threshold 0.5] [--route R | --model M]  --reason R
          inline prompt-attack detection (no target: every route)
  disable --route R | --model M  --reason R
  enable  ID | --route R | --model M
  route   --model M (--upstream NAME | --weights primary=90,canary=10)  --reason R
  add     FILE|-                        any action as JSON (sanitize, request_limits, output_protection, capture...)
  remove  ID [--why TEXT]

Actions take --incident ID (the change is written on its timeline) and --ttl 1h.
Every subcommand takes --server, --token and --json.`

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("%s", policyUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("policy "+sub, stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	var req containment.Request
	target := &req.Target
	fs.StringVar(&target.IP, "ip", "", "a client IP address")
	fs.StringVar(&target.CIDR, "cidr", "", "a client network, e.g. 203.0.113.0/24")
	fs.StringVar(&target.User, "user", "", "the request's user field")
	fs.StringVar(&target.APIKey, "key", "", "a client API key (hashed by the server, never stored)")
	fs.StringVar(&target.APIKeyHash, "key-hash", "", "a client API key's hash, as events show it")
	fs.StringVar(&target.Route, "route", "", "a gateway route")
	fs.StringVar(&target.Model, "model", "", "a model name")
	fs.StringVar(&req.Reason, "reason", "", "why (required for new actions)")
	fs.StringVar(&req.Incident, "incident", "", "the incident this action contains")
	fs.StringVar(&req.TTL, "ttl", "", "lift the action after this long, e.g. 30m or 24h")
	requests := fs.Int("requests", 0, "limit: requests per window")
	tokens := fs.Int("tokens", 0, "limit: tokens per window")
	window := fs.Duration("window", time.Minute, "limit: window length")
	var literals, regexes stringList
	fs.Var(&literals, "literal", "filter: a phrase to refuse (repeatable)")
	fs.Var(&regexes, "regex", "filter: an RE2 pattern to refuse (repeatable)")
	upstream := fs.String("upstream", "", "route: the upstream to send the model's traffic to")
	weights := fs.String("weights", "", "route: a split such as primary=90,canary=10")
	why := fs.String("why", "", "remove: why the action is lifted")
	mode := fs.String("mode", "", "guard: alert or block")
	threshold := fs.Float64("threshold", 0, "guard: the score in (0, 1) from which a prompt is an attack (default 0.5)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	c, err := conn()
	if err != nil {
		return err
	}
	show := func(raw []byte, human string) error {
		if *asJSON {
			return printJSON(stdout, raw)
		}
		fmt.Fprintln(stdout, human)
		return nil
	}
	add := func() error {
		var act policy.Action
		raw, err := c.do(ctx, "POST", "/api/v1/policy/actions", req, &act)
		if err != nil {
			return err
		}
		return show(raw, fmt.Sprintf("added %s action %s", act.Kind, act.ID))
	}
	remove := func(id string) error {
		var act policy.Action
		raw, err := c.do(ctx, "DELETE", "/api/v1/policy/actions/"+url.PathEscape(id)+"?reason="+url.QueryEscape(*why), nil, &act)
		if err != nil {
			return err
		}
		return show(raw, fmt.Sprintf("removed %s action %s", act.Kind, act.ID))
	}
	// removeMatching lifts the actions of kind whose target is the one given.
	removeMatching := func(kind policy.Kind) error {
		if len(pos) == 1 {
			return remove(pos[0])
		}
		want := req.Target.Target
		if req.Target.APIKey != "" {
			return usageError("give the key's hash (--key-hash, as 'policy list' shows it) or the action id")
		}
		if want.IsZero() {
			return usageError("name the action id or its target")
		}
		var p struct{ Actions []policy.Action }
		if _, err := c.do(ctx, "GET", "/api/v1/policy", nil, &p); err != nil {
			return err
		}
		n := 0
		for _, a := range p.Actions {
			if a.Kind == kind && a.Target == want {
				if err := remove(a.ID); err != nil {
					return err
				}
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("no %s action on that target is in force", kind)
		}
		return nil
	}
	switch sub {
	case "list":
		return policyList(ctx, c, stdout, *asJSON)
	case "block":
		req.Kind = policy.KindBlock
		return add()
	case "unblock":
		return removeMatching(policy.KindBlock)
	case "limit":
		req.Kind = policy.KindRateLimit
		req.Params = policy.Params{Requests: *requests, Tokens: *tokens, Window: policy.Duration(*window)}
		return add()
	case "filter":
		req.Kind = policy.KindPromptFilter
		req.Params = policy.Params{Literal: literals, Regex: regexes}
		return add()
	case "guard":
		req.Kind = policy.KindPromptGuard
		req.Params = policy.Params{Mode: *mode, Threshold: *threshold}
		return add()
	case "disable":
		req.Kind = policy.KindDisable
		return add()
	case "enable":
		return removeMatching(policy.KindDisable)
	case "route":
		req.Kind = policy.KindRoute
		req.Params.Upstream = *upstream
		if *weights != "" {
			w, err := parseWeights(*weights)
			if err != nil {
				return usageError("--weights: %v", err)
			}
			req.Params.Weights = w
		}
		return add()
	case "add":
		if len(pos) != 1 {
			return usageError("usage: airlock policy add FILE|-")
		}
		var in io.Reader = os.Stdin
		if pos[0] != "-" {
			f, err := os.Open(pos[0])
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		dec := json.NewDecoder(io.LimitReader(in, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		return add()
	case "remove":
		if len(pos) != 1 {
			return usageError("usage: airlock policy remove ID")
		}
		return remove(pos[0])
	}
	return usageError("unknown subcommand %q\n%s", sub, policyUsage)
}

func parseWeights(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil {
			return nil, fmt.Errorf("%q: want name=weight", part)
		}
		out[name] = w
	}
	return out, nil
}

func policyList(ctx context.Context, c *client, stdout io.Writer, asJSON bool) error {
	var p struct {
		Version int64
		Actions []policy.Action
	}
	raw, err := c.do(ctx, "GET", "/api/v1/policy", nil, &p)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, raw)
	}
	fmt.Fprintf(stdout, "policy version %d, %d actions\n", p.Version, len(p.Actions))
	if len(p.Actions) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTARGET\tEXPIRES\tINCIDENT\tREASON")
	for _, a := range p.Actions {
		b, _ := json.Marshal(a.Target)
		target := strings.Trim(string(b), "{}")
		if target == "" {
			target = "everything"
		}
		exp := "-"
		if a.ExpiresAt != nil {
			exp = a.ExpiresAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Kind, target, exp, dash(a.Incident), truncate(a.Reason, 50))
	}
	return tw.Flush()
}
