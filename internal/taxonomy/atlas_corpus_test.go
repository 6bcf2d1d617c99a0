package taxonomy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestParseATLASCorpus parses the ATLAS 5.6.0 release kept in the shared
// data directory and checks the built-in types against it.
func TestParseATLASCorpus(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "atlas", "ATLAS.yaml")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ATLAS corpus missing at %s: CI must provide ../shared/data", path)
		}
		t.Skipf("needs ../shared/data next to the module (ATLAS corpus %s not found)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	c, err := ParseATLAS(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "5.6.0" {
		t.Errorf("version = %q, want 5.6.0", c.Version)
	}
	if len(c.Tactics) != 16 {
		t.Errorf("%d tactics, want 16", len(c.Tactics))
	}
	var top, sub int
	byID := map[string]CatalogTechnique{}
	for _, tech := range c.Techniques {
		byID[tech.ID] = tech
		if tech.Parent == "" {
			top++
		} else {
			sub++
		}
	}
	if len(c.Techniques) != 170 || top != 101 || sub != 69 {
		t.Errorf("%d techniques (%d top-level, %d sub-techniques), want 170 (101 + 69)", len(c.Techniques), top, sub)
	}
	if c.Tactics[0] != (Tactic{"AML.TA0002", "Reconnaissance"}) {
		t.Errorf("first tactic = %+v, want Reconnaissance (the matrix's order)", c.Tactics[0])
	}

	for _, typ := range Types() {
		for _, tech := range typ.ATLAS {
			got, ok := byID[tech.ID]
			if !ok {
				t.Errorf("type %s: technique %s is not in ATLAS %s", typ.ID, tech.ID, c.Version)
				continue
			}
			if got.Name != tech.Name {
				t.Errorf("type %s: technique %s is named %q here, %q in ATLAS", typ.ID, tech.ID, tech.Name, got.Name)
			}
		}
	}
	for id, name := range techniqueNames {
		if byID[id].Name != name {
			t.Errorf("techniqueNames[%s] = %q, ATLAS has %q", id, name, byID[id].Name)
		}
	}
}
