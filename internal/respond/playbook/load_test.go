package playbook

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/taxonomy"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const userJailbreak = `name: my-jailbreak
types: [jailbreak]
steps:
  - id: block
    title: Block
    kind: policy
    action: {kind: block, target: attacker}
`

func TestLoadBuiltinsOnly(t *testing.T) {
	for _, dir := range []string{"", filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		got, err := Load(dir)
		if err != nil {
			t.Fatalf("Load(%q): %v", dir, err)
		}
		for _, typ := range taxonomy.Types() {
			pb := got[string(typ.ID)]
			if pb == nil || pb.Source != SourceBuiltin || !slices.Contains(pb.Types, string(typ.ID)) {
				t.Errorf("Load(%q)[%s] = %+v", dir, typ.ID, pb)
			}
		}
		if len(got) != len(taxonomy.Types()) {
			t.Errorf("Load(%q): %d types", dir, len(got))
		}
	}
}

func TestLoadOverrideByType(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"jailbreak.yaml": userJailbreak,
		"notes.txt":      "not a playbook",
		".hidden.yaml":   "not: [valid",
	})
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	jb := got["jailbreak"]
	if jb.Name != "my-jailbreak" || jb.Source != filepath.Join(dir, "jailbreak.yaml") {
		t.Errorf("jailbreak: %s from %s", jb.Name, jb.Source)
	}
	// The built-in keeps its other types, and says so.
	pi := got["instruction_injection"]
	if pi.Name != "prompt-injection" || pi.Source != SourceBuiltin {
		t.Fatalf("instruction_injection: %s from %s", pi.Name, pi.Source)
	}
	if slices.Contains(pi.Types, "jailbreak") || len(pi.Types) != 3 {
		t.Errorf("prompt-injection serves %v", pi.Types)
	}
	if got["system_prompt_override"] != pi || got["context_manipulation"] != pi {
		t.Error("the other prompt injection types lost their playbook")
	}
	if len(got) != len(taxonomy.Types()) {
		t.Errorf("%d types", len(got))
	}
}

func TestLoadOverrideByName(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		// Replaces the built-in entirely, for two of its five types.
		"extraction.yml": `name: data-extraction
types: [model_extraction, model_inversion]
steps:
  - {id: limit, title: Limit, kind: policy, action: {kind: rate_limit, target: attacker, params: {requests: 1, window: 1m}}}
`,
	})
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"model_extraction", "model_inversion"} {
		if pb := got[typ]; pb == nil || pb.Source != filepath.Join(dir, "extraction.yml") || len(pb.Steps) != 1 {
			t.Errorf("%s: %+v", typ, pb)
		}
	}
	for _, typ := range []string{"training_data_extraction", "membership_inference", "model_architecture_inference"} {
		if pb, ok := got[typ]; ok {
			t.Errorf("%s still has %s from %s", typ, pb.Name, pb.Source)
		}
	}
	if got["jailbreak"].Name != "prompt-injection" {
		t.Error("an unrelated built-in was touched")
	}
}

// The map shares nothing with the built-ins: trimming types for one load
// does not show in the next.
func TestLoadLeavesBuiltinsAlone(t *testing.T) {
	if _, err := Load(writeFiles(t, map[string]string{"j.yaml": userJailbreak})); err != nil {
		t.Fatal(err)
	}
	got, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(got["jailbreak"].Types) != 4 {
		t.Errorf("prompt-injection serves %v", got["jailbreak"].Types)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	bad := strings.Replace(userJailbreak, "target: attacker", "target: everyone", 1)
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"bad file", map[string]string{"a.yaml": userJailbreak, "b.yaml": bad},
			[]string{"b.yaml:7: step \"block\": action.target: unknown value \"everyone\""}},
		{"two bad files", map[string]string{"a.yaml": "name: [", "b.yaml": bad},
			[]string{"a.yaml:1: invalid YAML", "b.yaml:7: "}},
		{"same name", map[string]string{"a.yaml": userJailbreak, "b.yaml": strings.Replace(userJailbreak, "[jailbreak]", "[model_backdoor]", 1)},
			[]string{"b.yaml:1: name: playbook \"my-jailbreak\" is also defined in "}},
		{"same type", map[string]string{"a.yaml": userJailbreak, "b.yaml": "name: other\ntypes:\n  - model_backdoor\n  - jailbreak\nsteps:\n  - {id: x, title: X, kind: approval}\n"},
			[]string{"b.yaml:4: types: \"jailbreak\" already has a playbook, \"my-jailbreak\" in "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, c.files)
			got, err := Load(dir)
			if err == nil || got != nil {
				t.Fatalf("Load = %v, %v", got, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), filepath.Join(dir, w)) {
					t.Errorf("error does not contain %q:\n%v", filepath.Join(dir, w), err)
				}
			}
		})
	}
}

func TestLoadOddDirectories(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "sub.yaml: not a regular file") {
		t.Errorf("directory named .yaml: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(file); err == nil {
		t.Error("Load of a file succeeded")
	}
}
