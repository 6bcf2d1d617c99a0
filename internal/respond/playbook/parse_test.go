package playbook

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/policy"
)

func doc(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// head is the first four lines of most test files; steps start on line 5.
var head = []string{
	"name: test",
	"types: [jailbreak]",
	"steps:",
	"  - id: first",
}

func withHead(lines ...string) []byte { return doc(append(append([]string{}, head...), lines...)...) }

func allErrors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var pe *Error
		if errors.As(err, &pe) {
			out = append(out, pe)
		}
	}
	walk(err)
	return out
}

func TestParseGood(t *testing.T) {
	b := doc(
		"# every field of every kind",
		"name: all-fields",
		"description: |",
		"  Two lines",
		"  of description.",
		"types:",
		"  - jailbreak",
		"  - model_extraction",
		"steps:",
		"  - id: evidence",
		"    title: Freeze events",
		"    kind: collect_evidence",
		"  - id: evidence-long",
		"    title: Freeze a day",
		"    kind: collect_evidence",
		"    window: 24h",
		"    retries: 0",
		"  - id: limit",
		"    title: Limit",
		"    kind: policy",
		"    approval_from: high",
		"    critical: true",
		"    retries: 10",
		"    action:",
		"      kind: rate_limit",
		"      target: attacker",
		"      params: {requests: 10, tokens: 1000, window: 1m, per: ip}",
		"      ttl: 1h",
		"      lift: keep",
		"  - id: protect",
		"    title: Protect output",
		"    kind: policy",
		"    action:",
		"      kind: output_protection",
		"      target: all",
		"      params:",
		"        logprobs: round",
		"        logprob_digits: 0",
		"        redact_pii: true",
		"  - id: canary",
		"    title: Canary",
		"    kind: policy",
		"    mode: approval",
		"    action:",
		"      kind: route",
		"      target: model_version",
		"      params:",
		"        weights: {good: 90, canary: 10}",
		"  - id: filter",
		"    title: Filter",
		"    kind: policy",
		"    action:",
		"      kind: prompt_filter",
		"      target: route",
		"      params:",
		"        literal: [ignore previous instructions]",
		"        regex: ['dan\\s+mode']",
		"  - id: guard",
		"    title: Guard",
		"    kind: policy",
		"    action: {kind: prompt_guard, target: route, params: {mode: alert, threshold: 0.8}}",
		"  - id: tell",
		"    title: Tell",
		"    kind: notify",
		"  - id: tell-ops",
		"    title: Tell ops",
		"    kind: notify",
		"    channel: ops-pager",
		"    message: \"{{.Incident.ID}} {{- .Incident.Title}}: {{.Step.Title}} ({{.Incident.Severity}}, {{.Incident.Type}})\"",
		"  - id: check",
		"    title: Check the model",
		"    kind: scan",
		"    scan: {target: model}",
		"  - id: review",
		"    title: Review",
		"    kind: task",
		"    mode: manual",
		"    task:",
		"      title: Review the filters",
		"      description: Look hard.",
		"      assignee: alice",
		"      due: 4h",
		"  - id: go-on",
		"    title: Go on?",
		"    kind: approval",
		"  - id: contain",
		"    title: Contain",
		"    kind: transition",
		"    to: containment",
		"    critical: ~", // null is the same as absent
	)
	pb, err := Parse("all.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Playbook{
		Name:        "all-fields",
		Description: "Two lines\nof description.\n",
		Types:       []string{"jailbreak", "model_extraction"},
		Source:      "all.yaml",
		Steps: []Step{
			{ID: "evidence", Title: "Freeze events", Kind: KindCollectEvidence, Mode: ModeAuto, Retries: 3, Window: Duration(15 * time.Minute)},
			{ID: "evidence-long", Title: "Freeze a day", Kind: KindCollectEvidence, Mode: ModeAuto, Retries: 0, Window: Duration(24 * time.Hour)},
			{ID: "limit", Title: "Limit", Kind: KindPolicy, Mode: ModeAuto, ApprovalFrom: "high", Critical: true, Retries: 10,
				Action: &ActionSpec{Kind: policy.KindRateLimit, Target: TargetAttacker, TTL: Duration(time.Hour), Lift: LiftKeep,
					Params: policy.Params{Requests: 10, Tokens: 1000, Window: policy.Duration(time.Minute), Per: "ip"}}},
			{ID: "protect", Title: "Protect output", Kind: KindPolicy, Mode: ModeAuto, Retries: 3,
				Action: &ActionSpec{Kind: policy.KindOutputProtection, Target: TargetAll, Lift: LiftOnClose,
					Params: policy.Params{Logprobs: "round", LogprobDigits: new(int), RedactPII: true}}},
			{ID: "canary", Title: "Canary", Kind: KindPolicy, Mode: ModeApproval, Retries: 3,
				Action: &ActionSpec{Kind: policy.KindRoute, Target: TargetModelVersion, Lift: LiftOnClose,
					Params: policy.Params{Weights: map[string]int{"good": 90, "canary": 10}}}},
			{ID: "filter", Title: "Filter", Kind: KindPolicy, Mode: ModeAuto, Retries: 3,
				Action: &ActionSpec{Kind: policy.KindPromptFilter, Target: TargetRoute, Lift: LiftOnClose,
					Params: policy.Params{Literal: []string{"ignore previous instructions"}, Regex: []string{`dan\s+mode`}}}},
			{ID: "guard", Title: "Guard", Kind: KindPolicy, Mode: ModeAuto, Retries: 3,
				Action: &ActionSpec{Kind: policy.KindPromptGuard, Target: TargetRoute, Lift: LiftOnClose,
					Params: policy.Params{Mode: "alert", Threshold: 0.8}}},
			{ID: "tell", Title: "Tell", Kind: KindNotify, Mode: ModeAuto, Retries: 3, Channel: "default", Message: DefaultMessage},
			{ID: "tell-ops", Title: "Tell ops", Kind: KindNotify, Mode: ModeAuto, Retries: 3, Channel: "ops-pager",
				Message: "{{.Incident.ID}} {{- .Incident.Title}}: {{.Step.Title}} ({{.Incident.Severity}}, {{.Incident.Type}})"},
			{ID: "check", Title: "Check the model", Kind: KindScan, Mode: ModeAuto, Retries: 3, Scan: &ScanSpec{Target: ScanModel}},
			{ID: "review", Title: "Review", Kind: KindTask, Mode: ModeManual, Retries: 3,
				Task: &TaskSpec{Title: "Review the filters", Description: "Look hard.", Assignee: "alice", Due: Duration(4 * time.Hour)}},
			{ID: "go-on", Title: "Go on?", Kind: KindApproval, Mode: ModeApproval, Retries: 3},
			{ID: "contain", Title: "Contain", Kind: KindTransition, Mode: ModeAuto, Retries: 3, To: "containment"},
		},
	}
	if !reflect.DeepEqual(pb, want) {
		for i := range max(len(pb.Steps), len(want.Steps)) {
			if i >= len(pb.Steps) || i >= len(want.Steps) || !reflect.DeepEqual(pb.Steps[i], want.Steps[i]) {
				t.Errorf("step %d differs", i)
			}
		}
		t.Fatalf("got  %+v\nwant %+v", pb, want)
	}

	msg, err := pb.Steps[8].RenderMessage(MessageData{
		Incident: MessageIncident{ID: "inc-1", Title: " Jailbreak from key k", Type: "jailbreak", Severity: "high"},
		Step:     MessageStep{Title: "Tell ops"},
	})
	if want := "inc-1 Jailbreak from key k: Tell ops (high, jailbreak)"; err != nil || msg != want {
		t.Errorf("RenderMessage = %q, %v; want %q", msg, err, want)
	}
	if def, err := pb.Steps[7].RenderMessage(MessageData{Incident: MessageIncident{ID: "inc-2"}}); err != nil || !strings.Contains(def, "inc-2") {
		t.Errorf("default message = %q, %v", def, err)
	}
}

func TestParseJSON(t *testing.T) {
	b := []byte(`{"name": "json-one", "types": ["jailbreak"], "steps": [
		{"id": "block", "title": "Block", "kind": "policy",
		 "action": {"kind": "block", "target": "attacker", "ttl": "30m"}},
		{"id": "limit", "title": "Limit", "kind": "policy",
		 "action": {"kind": "rate_limit", "target": "attacker", "params": {"requests": 5, "window": "10s"}}}]}`)
	pb, err := Parse("one.json", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := pb.Steps[0].Action.TTL; got != Duration(30*time.Minute) {
		t.Errorf("ttl = %v", got)
	}
	if got := pb.Steps[1].Action.Params; got.Requests != 5 || got.Window != policy.Duration(10*time.Second) {
		t.Errorf("params = %+v", got)
	}
}

func TestNeedsApproval(t *testing.T) {
	auto := Step{Kind: KindPolicy, Mode: ModeAuto}
	fromHigh := Step{Kind: KindPolicy, Mode: ModeAuto, ApprovalFrom: "high"}
	approval := Step{Kind: KindPolicy, Mode: ModeApproval}
	gate := Step{Kind: KindApproval, Mode: ModeApproval}
	task := Step{Kind: KindTask, Mode: ModeManual}
	for _, c := range []struct {
		s    Step
		sev  event.Severity
		want bool
	}{
		{auto, event.SeverityCritical, false},
		{fromHigh, event.SeverityMedium, false},
		{fromHigh, event.SeverityHigh, true},
		{fromHigh, event.SeverityCritical, true},
		{approval, event.SeverityLow, true},
		{gate, event.SeverityLow, true},
		{task, event.SeverityCritical, false},
	} {
		if got := c.s.NeedsApproval(c.sev); got != c.want {
			t.Errorf("%+v at %s: NeedsApproval = %v, want %v", c.s, c.sev, got, c.want)
		}
	}
}

type badCase struct {
	name   string
	b      []byte
	line   int
	reason string
}

// badCases are malformed playbooks, each with the line and a part of the
// reason it must be refused with.
func badCases() []badCase {
	longTitle := strings.Repeat("x", MaxTitle+1)
	var many []string
	many = append(many, "name: many", "types: [jailbreak]", "steps:")
	for i := range MaxSteps + 1 {
		many = append(many, fmt.Sprintf("  - {id: s%d, title: S, kind: transition, to: containment}", i))
	}
	return []badCase{
		{"unknown top key", doc("name: test", "nmae: x", "types: [jailbreak]", "steps: []"), 2, `unknown key "nmae"`},
		{"unknown step key", withHead("    title: T", "    kind: notify", "    tilte: x"), 7, `step "first": unknown key "tilte"`},
		{"key of another kind", withHead("    title: T", "    kind: notify", "    to: containment"), 7, "to: only allowed on a transition step, not on notify"},
		{"bad playbook name", doc("name: Prompt_Injection", "types: [jailbreak]", "steps: []"), 1, "not a valid name"},
		{"missing name", doc("types: [jailbreak]", "steps:", "  - {id: a, title: A, kind: transition, to: containment}"), 1, "name: missing"},
		{"unknown type", doc("name: test", "types:", "  - jailbreak", "  - jailbrake", "steps: []"), 4, `unknown incident type "jailbrake"`},
		{"duplicate type", doc("name: test", "types:", "  - jailbreak", "  - jailbreak"), 4, "listed twice (first on line 3)"},
		{"duplicate step id", withHead("    title: T", "    kind: approval", "  - id: first", "    title: U", "    kind: approval"), 7, "id: duplicate (first on line 4)"},
		{"bad step id", withHead("    title: T", "    kind: approval", "  - id: Block Attacker", "    title: U", "    kind: approval"), 7, `"Block Attacker" is not a valid name`},
		{"unknown step kind", withHead("    title: T", "    kind: email"), 6, `unknown kind "email"`},
		{"unknown mode", withHead("    title: T", "    kind: notify", "    mode: later"), 7, `unknown mode "later"`},
		{"manual policy step", withHead("    title: T", "    kind: policy", "    mode: manual", "    action: {kind: block, target: attacker}"), 7, "manual is only for task steps"},
		{"auto task step", withHead("    title: T", "    kind: task", "    mode: auto", "    task: {title: Do it}"), 7, "a task step is manual"},
		{"approval_from on approval step", withHead("    title: T", "    kind: notify", "    mode: approval", "    approval_from: high"), 8, "approval_from: only for auto steps"},
		{"bad severity", withHead("    title: T", "    kind: notify", "    approval_from: severe"), 7, `unknown severity "severe"`},
		{"too many retries", withHead("    title: T", "    kind: notify", "    retries: 11"), 7, "11 is not a whole number from 0 to 10"},
		{"retries not a number", withHead("    title: T", "    kind: notify", "    retries: three"), 7, "retries: want a whole number"},
		{"rate limit without window", withHead("    title: T", "    kind: policy", "    action:", "      kind: rate_limit", "      target: attacker", "      params: {requests: 10}"), 4, "action.params.window: required"},
		{"rate limit window too short", withHead("    title: T", "    kind: policy", "    action:", "      kind: rate_limit", "      target: attacker", "      params:", "        requests: 10", "        window: 500ms"), 12, "params.window: 500ms is outside 1s..24h"},
		{"unknown action kind", withHead("    title: T", "    kind: policy", "    action:", "      kind: throttle", "      target: attacker"), 8, `unknown action kind "throttle"`},
		{"unknown target", withHead("    title: T", "    kind: policy", "    action:", "      kind: block", "      target: everyone"), 9, `target: unknown value "everyone"`},
		{"block everyone", withHead("    title: T", "    kind: policy", "    action:", "      kind: block", "      target: all"), 9, `target "all" does not fit a block action`},
		{"param of another kind", withHead("    title: T", "    kind: policy", "    action:", "      kind: block", "      target: attacker", "      params:", "        requests: 5"), 11, "params.requests: not allowed for block"},
		{"unknown param", withHead("    title: T", "    kind: policy", "    action:", "      kind: block", "      target: attacker", "      params:", "        reqests: 5"), 11, `unknown key "reqests"`},
		{"param of the wrong type", withHead("    title: T", "    kind: policy", "    action:", "      kind: rate_limit", "      target: attacker", "      params:", "        requests: lots", "        window: 1m"), 11, "requests: want a whole number, got string"},
		{"guard without mode", withHead("    title: T", "    kind: policy", "    action: {kind: prompt_guard, target: route}"), 4, "params.mode: required"},
		{"route without upstream", withHead("    title: T", "    kind: policy", "    mode: approval", "    action: {kind: route, target: model}"), 4, "route needs upstream or weights"},
		{"bad regex", withHead("    title: T", "    kind: policy", "    action:", "      kind: prompt_filter", "      target: route", "      params:", "        regex: ['(unclosed']"), 11, "params.regex[0]: invalid regex"},
		{"unknown phase", withHead("    title: T", "    kind: transition", "    to: contained"), 7, `unknown phase "contained"`},
		{"back to detection", withHead("    title: T", "    kind: transition", "    to: detection"), 7, "cannot move it back there"},
		{"bad window", withHead("    title: T", "    kind: collect_evidence", "    window: forever"), 7, `"forever" is not a duration`},
		{"window too long", withHead("    title: T", "    kind: collect_evidence", "    window: 200h"), 7, "200h is outside 1s to 168h"},
		{"unknown template field", withHead("    title: T", "    kind: notify", "    message: 'owner is {{.Incident.Owner}}'"), 7, "{{.Incident.Owner}} is not allowed"},
		{"template function", withHead("    title: T", "    kind: notify", `    message: '{{printf "%099999999d" 1}}'`), 7, "is not allowed"},
		{"template syntax", withHead("    title: T", "    kind: notify", "    message: '{{.Incident.ID'"), 7, "message: message:1: unclosed action"},
		{"template range", withHead("    title: T", "    kind: notify", "    message: '{{range .Incident.ID}}x{{end}}'"), 7, "is not allowed"},
		{"task without title", withHead("    title: T", "    kind: task", "    task:", "      assignee: bob"), 8, "task.title: missing"},
		{"negative due", withHead("    title: T", "    kind: task", "    task:", "      title: Do it", "      due: -1h"), 9, `"-1h" is negative`},
		{"unknown scan target", withHead("    title: T", "    kind: scan", "    scan: {target: dataset}"), 7, `unknown value "dataset"`},
		{"missing action", withHead("    title: T", "    kind: policy"), 4, "action: missing"},
		{"anchor", withHead("    title: &t T", "    kind: approval"), 5, "anchors and aliases are not allowed"},
		{"alias", withHead("    title: &t T", "    kind: approval", "  - id: second", "    title: *t", "    kind: approval"), 8, "anchors and aliases are not allowed"},
		{"invalid UTF-8", doc("name: test", "types: [jailbreak]", "description: \xff\xfe", "steps: []"), 3, "not valid UTF-8"},
		{"YAML syntax", doc("name: test", "types: [jailbreak", "steps:"), 2, "invalid YAML: did not find expected ',' or ']'"},
		{"YAML bad indent", doc("name: test", "types: x", "  bad: indent"), 3, "invalid YAML: mapping values are not allowed"},
		{"YAML stray item", doc("name: test", "types: [jailbreak]", "- steps"), 3, "invalid YAML: did not find expected key"},
		{"second document", doc("name: test", "---", "name: again"), 2, "a second YAML document"},
		{"too many steps", doc(many...), 4, "101 steps, more than the limit of 100"},
		{"title too long", withHead("    title: "+longTitle, "    kind: approval"), 5, "201 bytes, more than the limit of 200"},
		{"control character", withHead("    title: \"a\\u0007b\"", "    kind: approval"), 5, "contains a control character"},
		{"step not a mapping", doc("name: test", "types: [jailbreak]", "steps:", "  - block the attacker"), 4, "step 1: want a mapping, got string"},
		{"bad lift", withHead("    title: T", "    kind: policy", "    action:", "      kind: block", "      target: attacker", "      lift: never"), 10, `lift: unknown value "never"`},
		{"bad ttl", withHead("    title: T", "    kind: policy", "    action:", "      kind: block", "      target: attacker", "      ttl: 2y"), 10, `"2y" is not a duration`},
		{"bad channel", withHead("    title: T", "    kind: notify", "    channel: 'ops pager!'"), 7, "is not a webhook name"},
		{"name is a number", doc("name: 42", "types: [jailbreak]"), 1, "want a string, got integer \"42\" (quote it)"},
		{"missing kind", withHead("    title: T"), 4, `step "first": kind: missing`},
		{"missing title", withHead("    kind: approval"), 4, "title: missing"},
		{"empty steps", doc("name: test", "types: [jailbreak]", "steps: []"), 3, "steps: empty"},
		{"top level list", doc("- name: test"), 1, "want a mapping, got a list"},
		{"billion laughs", doc(
			"name: test",
			"a: &a [x, x, x, x, x, x, x, x, x, x]",
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
			"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]",
			"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]",
			"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]",
			"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]",
		), 2, "anchors and aliases are not allowed"},
	}
}

func TestParseBad(t *testing.T) {
	for _, c := range badCases() {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("test.yaml", c.b)
			if err == nil {
				t.Fatalf("parsed:\n%s", c.b)
			}
			for _, e := range allErrors(err) {
				if e.File != "test.yaml" {
					t.Errorf("error names file %q", e.File)
				}
				if e.Line == c.line && strings.Contains(e.Reason, c.reason) {
					if want := fmt.Sprintf("test.yaml:%d: ", c.line); !strings.Contains(err.Error(), want) {
						t.Errorf("%q does not contain %q", err, want)
					}
					return
				}
			}
			t.Errorf("want line %d: %q; got:\n%v", c.line, c.reason, err)
		})
	}
}

func TestParseFileLevel(t *testing.T) {
	for _, c := range []struct {
		name   string
		b      []byte
		reason string
	}{
		{"empty", nil, "empty"},
		{"comments only", doc("# nothing"), "empty"},
		{"too many nodes", append(doc("name: test", "types:"), []byte(strings.Repeat("- x\n", maxNodes))...), "more than 200000 YAML nodes"},
		{"too large", append(doc("name: test", "description: |"), []byte(strings.Repeat("  x\n", MaxFileSize/4))...), "more than the limit of 1048576"},
	} {
		_, err := Parse("f.yaml", c.b)
		if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:") || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: got %v, want f.yaml: ...%s", c.name, err, c.reason)
		}
	}
}

// Every problem is reported, up to a bound.
func TestParseManyErrors(t *testing.T) {
	lines := []string{"name: test", "types: [jailbreak]", "steps:"}
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("  - {id: s%d, title: S, kind: nope}", i))
	}
	_, err := Parse("many.yaml", doc(lines...))
	errs := allErrors(err)
	if len(errs) != maxErrors+1 {
		t.Fatalf("%d errors, want %d:\n%v", len(errs), maxErrors+1, err)
	}
	for i, e := range errs[:maxErrors] {
		if e.Line != 4+i {
			t.Errorf("error %d on line %d, want %d", i, e.Line, 4+i)
		}
	}
	if last := errs[maxErrors]; last.Reason != "and 10 more problems" {
		t.Errorf("last error %q", last.Reason)
	}
}

func TestErrorString(t *testing.T) {
	if got := (&Error{File: "a.yaml", Line: 3, Reason: "bad"}).Error(); got != "a.yaml:3: bad" {
		t.Errorf("got %q", got)
	}
	if got := (&Error{File: "a.yaml", Reason: "bad"}).Error(); got != "a.yaml: bad" {
		t.Errorf("got %q", got)
	}
}
