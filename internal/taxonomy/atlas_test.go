package taxonomy

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// goodATLAS is a small release in the ATLAS.yaml shape: two matrices that
// share a tactic, techniques out of order, sub-techniques, and keys Airlock
// does not use.
const goodATLAS = `---
id: ATLAS
name: Adversarial Threat Landscape for AI Systems
version: 9.9.9
future-key: {nested: [1, 2]}
matrices:
- id: ATLAS
  name: ATLAS Matrix
  tactics:
  - id: AML.TA0002
    name: Reconnaissance
    description: 'long text'
    object-type: tactic
  - id: AML.TA0000
    name: AI Model Access
  techniques:
  - id: AML.T0051
    name: LLM Prompt Injection
    description: 'An adversary may craft malicious prompts.'
    object-type: technique
    tactics:
    - AML.TA0000
    maturity: realized
  - id: AML.T0051.001
    name: Indirect
    subtechnique-of: AML.T0051
    maturity: demonstrated
  - id: AML.T0000
    name: Search Open Technical Databases
    tactics: [AML.TA0002, AML.TA0002]
    created_date: 2021-05-13
  - id: AML.T0051.000
    name: Direct
    subtechnique-of: AML.T0051
  mitigations:
  - id: AML.M0000
    name: Limit Public Release of Information
- id: OTHER
  name: Another matrix
  tactics:
  - id: AML.TA0000
    name: AI Model Access
  - id: AML.TA0100
    name: New Tactic
  techniques:
  - id: AML.T0200
    name: New Technique
    tactics: [AML.TA0100, AML.TA0000]
case-studies:
- id: AML.CS0000
  name: A case study
  procedure:
  - tactic: AML.TA0002
    technique: AML.T0000
`

func TestParseATLASGood(t *testing.T) {
	got, err := ParseATLAS(strings.NewReader(goodATLAS))
	if err != nil {
		t.Fatal(err)
	}
	want := Catalog{
		Version: "9.9.9",
		Tactics: []Tactic{
			{"AML.TA0002", "Reconnaissance"},
			{"AML.TA0000", "AI Model Access"},
			{"AML.TA0100", "New Tactic"},
		},
		Techniques: []CatalogTechnique{
			{ID: "AML.T0000", Name: "Search Open Technical Databases", Tactics: []string{"AML.TA0002"}},
			{ID: "AML.T0051", Name: "LLM Prompt Injection", Tactics: []string{"AML.TA0000"}, Maturity: "realized"},
			{ID: "AML.T0051.000", Name: "Direct", Parent: "AML.T0051"},
			{ID: "AML.T0051.001", Name: "Indirect", Parent: "AML.T0051", Maturity: "demonstrated"},
			{ID: "AML.T0200", Name: "New Technique", Tactics: []string{"AML.TA0100", "AML.TA0000"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseATLAS =\n%+v\nwant\n%+v", got, want)
	}
}

// atlasWith returns a minimal valid release whose technique list is techniques.
func atlasWith(techniques string) string {
	return `version: 1.0.0
matrices:
- id: ATLAS
  tactics:
  - id: AML.TA0000
    name: AI Model Access
  techniques:
` + techniques
}

func TestParseATLASBad(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty", "", "input is empty"},
		{"blank", " \n\n   \n", "input is empty"},
		{"unclosed flow", "version: [1.0\n", "malformed YAML"},
		{"tab indentation", "version: 1\nmatrices:\n\t- id: x\n", "malformed YAML"},
		{"comment only", "# nothing here\n", "input is empty"},
		{"top level list", "- version: 1\n", "line 1: top level: want a mapping, got a sequence"},
		{"top level scalar", "ATLAS\n", "line 1: top level: want a mapping, got a scalar"},
		{"matrices not a list", "version: 1\nmatrices: 3\n", "line 2: matrices: want a sequence, got a scalar"},
		{"matrix not a mapping", "version: 1\nmatrices: [ATLAS]\n", "line 2: matrix 0: want a mapping, got a scalar"},
		{"techniques not a list", "version: 1\nmatrices:\n- techniques: {id: AML.T0000}\n", `line 3: matrix 0 techniques: want a sequence, got a mapping`},
		{"version not a scalar", "version: [5, 6]\n", "line 1: version: want a scalar, got a sequence"},
		{"name not a scalar", atlasWith("  - {id: AML.T0001, name: [X]}\n"), `technique 0 name: want a scalar, got a sequence`},
		{"duplicate key", "version: 1\nversion: 2\n", `line 2: top level: key "version" given twice`},
		{"duplicate technique key", atlasWith("  - {id: AML.T0001, name: X, id: AML.T0002}\n"), `technique 0: key "id" given twice`},
		{"merge key", atlasWith("  - {<<: {id: AML.T0001}, name: X}\n"), "technique 0: merge keys are not supported"},
		{"scalar alias", "version: &v 1\nmatrices: [{id: *v}]\n", "matrix 0 id: aliases are not supported"},
		{"invalid utf-8", "version: \"\xff\xfe\"\n", "malformed YAML"},
		{"missing version", "matrices:\n- id: ATLAS\n  techniques:\n  - {id: AML.T0000, name: X}\n", "missing version"},
		{"blank version", "version: '  '\nmatrices: []\n", "missing version"},
		{"long version", "version: " + strings.Repeat("9", 65) + "\n", "version is longer than 64 bytes"},
		{"no matrices", "version: 1.0.0\n", "no techniques"},
		{"no techniques", atlasWith("    []\n"), "no techniques"},
		{"technique without id", atlasWith("  - name: Nameless\n"), `line 8: matrix 0 ("ATLAS") technique 0: missing id`},
		{"technique with blank id", atlasWith("  - {id: ' ', name: X}\n"), "technique 0: missing id"},
		{"technique without name", atlasWith("  - id: AML.T0001\n"), `line 8: matrix 0 ("ATLAS") technique 0 (AML.T0001): missing name`},
		{"technique with null name", atlasWith("  - {id: AML.T0001, name: ~}\n"), "technique 0 (AML.T0001): missing name"},
		{"technique with long name", atlasWith("  - {id: AML.T0001, name: " + strings.Repeat("n", 257) + "}\n"), "technique 0 name is longer than 256 bytes"},
		{"technique id without prefix", atlasWith("  - {id: T0001, name: X}\n"), `id "T0001" does not look like AML.T####[.###]`},
		{"technique id too short", atlasWith("  - {id: AML.T001, name: X}\n"), `id "AML.T001" does not look like AML.T####[.###]`},
		{"technique id bad suffix", atlasWith("  - {id: AML.T0001.01, name: X}\n"), `id "AML.T0001.01" does not look like`},
		{"technique id is a tactic", atlasWith("  - {id: AML.TA0000, name: X}\n"), `id "AML.TA0000" does not look like AML.T####`},
		{"technique id with trailing text", atlasWith("  - {id: \"AML.T0001\\nAML.T0002\", name: X}\n"), "does not look like AML.T####"},
		{"technique id with non-ASCII digits", atlasWith("  - {id: AML.T٠٠٠١, name: X}\n"), "does not look like AML.T####"},
		{"duplicate technique", atlasWith("  - {id: AML.T0001, name: X}\n  - {id: AML.T0001, name: Y}\n"), `line 9: matrix 0 ("ATLAS") technique 1 (AML.T0001): duplicate technique id AML.T0001`},
		{
			"duplicate technique across matrices",
			atlasWith("  - {id: AML.T0001, name: X}\n") + "- id: OTHER\n  techniques:\n  - {id: AML.T0001, name: X}\n",
			`matrix 1 ("OTHER") technique 0 (AML.T0001): duplicate technique id AML.T0001`,
		},
		{"parent missing", atlasWith("  - {id: AML.T0001.000, name: X, subtechnique-of: AML.T0001}\n"), "technique AML.T0001.000: parent technique AML.T0001 is not in the file"},
		{"sub-technique without parent", atlasWith("  - {id: AML.T0001, name: X}\n  - {id: AML.T0001.000, name: Y}\n"), "sub-technique id without subtechnique-of"},
		{"wrong parent", atlasWith("  - {id: AML.T0001, name: X}\n  - {id: AML.T0002.000, name: Y, subtechnique-of: AML.T0001}\n"), "subtechnique-of is AML.T0001, want AML.T0002"},
		{"parent on top-level id", atlasWith("  - {id: AML.T0001, name: X}\n  - {id: AML.T0002, name: Y, subtechnique-of: AML.T0001}\n"), "subtechnique-of AML.T0001 on a top-level technique id"},
		{"bad tactic reference", atlasWith("  - {id: AML.T0001, name: X, tactics: [TA0000]}\n"), `tactic id "TA0000" does not look like AML.TA####`},
		{"technique as tactic reference", atlasWith("  - {id: AML.T0001, name: X, tactics: [AML.T0000]}\n"), `tactic id "AML.T0000" does not look like AML.TA####`},
		{"undefined tactic reference", atlasWith("  - {id: AML.T0001, name: X, tactics: [AML.TA0009]}\n"), `line 8: matrix 0 ("ATLAS") technique 0 (AML.T0001): tactic AML.TA0009 is not defined in any matrix`},
		{"long maturity", atlasWith("  - {id: AML.T0001, name: X, maturity: " + strings.Repeat("m", 65) + "}\n"), `line 8: matrix 0 ("ATLAS") technique 0 (AML.T0001) maturity is longer than 64 bytes`},
		{
			"bad tactic id",
			"version: 1\nmatrices:\n- id: ATLAS\n  tactics:\n  - {id: AML.TA000, name: X}\n",
			`matrix 0 ("ATLAS") tactic 0: id "AML.TA000" does not look like AML.TA####`,
		},
		{
			"tactic without name",
			"version: 1\nmatrices:\n- id: ATLAS\n  tactics:\n  - {id: AML.TA0000}\n",
			"tactic 0 (AML.TA0000): missing name",
		},
		{
			"tactic named two ways",
			"version: 1\nmatrices:\n- tactics: [{id: AML.TA0000, name: X}]\n- tactics: [{id: AML.TA0000, name: Y}]\n",
			`tactic AML.TA0000 named both "X" and "Y"`,
		},
		// Merge keys nest: expanding *h would visit *a ten million times.
		{"alias bomb", aliasBomb(), "technique 0: aliases are not supported"},
		{"too much structure", "version: 1\nx: [" + strings.Repeat("a,", maxATLASStructure) + "a]\n", "more than 262144 YAML indicators"},
		{"quadratic keys", "version: 1\n" + strings.Repeat("? \n", maxATLASStructure+1), "more than 262144 YAML indicators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseATLAS(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ParseATLAS succeeded with %+v; want error containing %q", got, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "parse ATLAS: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseATLAS error = %q; want it to contain %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, Catalog{}) {
				t.Errorf("ParseATLAS returned %+v with its error", got)
			}
		})
	}
}

func TestParseATLASSizeLimit(t *testing.T) {
	for _, tt := range []struct {
		name    string
		limit   int64
		size    int
		wantErr string
	}{
		{"at the limit", int64(len(goodATLAS)), len(goodATLAS), ""},
		{"one byte over", int64(len(goodATLAS)) - 1, len(goodATLAS), fmt.Sprintf("input is larger than the %d bytes limit", len(goodATLAS)-1)},
	} {
		_, err := parseATLAS(strings.NewReader(goodATLAS[:tt.size]), tt.limit)
		if tt.wantErr == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}

	// The real limit, with input that never ends: ParseATLAS must stop reading.
	if testing.Short() {
		t.Skip("reads 16 MiB")
	}
	r := &countingReader{r: endless{}}
	_, err := ParseATLAS(r)
	if err == nil || !strings.Contains(err.Error(), "input is larger than the 16 MiB limit") {
		t.Errorf("ParseATLAS(endless input) error = %v, want the 16 MiB limit", err)
	}
	if r.n > maxATLASSize+1 {
		t.Errorf("ParseATLAS read %d bytes, more than the limit + 1", r.n)
	}
}

func TestParseATLASReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := ParseATLAS(io.MultiReader(strings.NewReader("version: 1\n"), failingReader{boom}))
	if !errors.Is(err, boom) {
		t.Errorf("ParseATLAS error = %v, want it to wrap the read error", err)
	}
}

func aliasBomb() string {
	in := "version: 1\na: &a {id: AML.T0000, name: X}\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		refs := strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", ")
		in += name + ": &" + name + " {<<: [" + refs + "]}\n"
		prev = name
	}
	return in + "matrices: [{techniques: [*h]}]\n"
}

type endless struct{}

var spaces = []byte(strings.Repeat(" ", 32<<10))

func (endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], spaces)
	}
	return n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
