package playbook

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"reflect"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func FuzzParse(f *testing.F) {
	names, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	for _, name := range names {
		b, _ := builtinFS.ReadFile(name)
		f.Add(b)
	}
	for _, s := range []string{
		"#",
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: approval}\n",
		`{"name": "j", "types": ["jailbreak"], "steps": [{"id": "a", "title": "A", "kind": "transition", "to": "eradication"}]}`,
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: notify, message: '{{.Incident.ID}}{{.Step.Title}}'}\n",
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: policy, action: {kind: rate_limit, target: attacker, params: {requests: 1, window: 1m}, ttl: 1h}}\n",
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: policy, action: {kind: route, target: model, params: {weights: {a: 1, b: 2}}}}\n",
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: policy, action: {kind: prompt_filter, target: all, params: {literal: [x], regex: ['a+b']}}}\n",
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: policy, action: {kind: output_protection, target: all, params: {logprobs: round, logprob_digits: 2}}}\n",
		"name: x\ntypes: [jailbreak]\nsteps:\n  - {id: a, title: A, kind: task, task: {title: T, due: 1h, assignee: bob}}\n",
		"a: &a [x, *a]\n",
		"a: &a [1,2]\nb: [*a, *a, *a]\n",
		"name: x\n---\nname: y\n",
		"name: [\n",
		"name: \"\xff\"\n",
		"steps:\n  - id: a\n    title: \"\\u2028\"\n",
	} {
		f.Add([]byte(s))
	}
	for _, c := range badCases() {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pb, err := Parse("fuzz.yaml", b)
		if err != nil {
			if pb != nil {
				t.Fatal("a playbook and an error")
			}
			lines := bytes.Count(b, []byte("\n")) + 1
			errs := allErrors(err)
			if len(errs) == 0 || len(errs) > maxErrors+1 {
				t.Fatalf("%d errors: %v", len(errs), err)
			}
			for _, e := range errs {
				if e.File != "fuzz.yaml" || e.Line < 0 || e.Line > lines || e.Reason == "" || !utf8.ValidString(e.Reason) {
					t.Fatalf("bad error %#v for %d lines", e, lines)
				}
			}
			return
		}
		// What parsed is complete and says the same when written out again.
		if pb.Name == "" || len(pb.Types) == 0 || len(pb.Steps) == 0 {
			t.Fatalf("incomplete playbook %+v", pb)
		}
		pb.Source = ""
		j, err := json.Marshal(pb)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yaml.Marshal(pb)
		if err != nil {
			t.Fatal(err)
		}
		for _, again := range [][]byte{j, y} {
			back, err := Parse("fuzz.yaml", again)
			if err != nil {
				t.Fatalf("written out, it does not parse: %v\n%s", err, again)
			}
			back.Source = ""
			if !reflect.DeepEqual(back, pb) {
				t.Fatalf("written out, it parses differently:\n%+v\n%+v\n%s", back, pb, again)
			}
		}
		for _, s := range pb.Steps {
			if s.Kind == KindNotify {
				if _, err := s.RenderMessage(MessageData{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
