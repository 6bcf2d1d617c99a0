package taxonomy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCategoriesAndTypes(t *testing.T) {
	want := []struct {
		category Category
		types    []TypeID
	}{
		{"model_compromise", []TypeID{"training_data_poisoning", "model_backdoor", "weight_manipulation", "model_extraction"}},
		{"prompt_injection", []TypeID{"jailbreak", "system_prompt_override", "context_manipulation", "instruction_injection"}},
		{"data_extraction", []TypeID{"training_data_extraction", "model_architecture_inference", "membership_inference", "model_inversion"}},
		{"system_compromise", []TypeID{"supply_chain", "infrastructure_compromise", "api_endpoint_attack", "authentication_bypass"}},
	}
	cats := Categories()
	if len(cats) != len(want) {
		t.Fatalf("Categories() has %d entries, want %d", len(cats), len(want))
	}
	var wantTypes []TypeID
	for i, w := range want {
		c := cats[i]
		if c.ID != w.category {
			t.Errorf("category %d = %q, want %q", i, c.ID, w.category)
		}
		if c.Name == "" || c.Description == "" {
			t.Errorf("category %q has an empty name or description", c.ID)
		}
		if !reflect.DeepEqual(c.Types, w.types) {
			t.Errorf("category %q types = %v, want %v", c.ID, c.Types, w.types)
		}
		wantTypes = append(wantTypes, w.types...)
	}

	types := Types()
	if len(types) != 16 {
		t.Fatalf("Types() has %d entries, want 16", len(types))
	}
	seen := map[TypeID]bool{}
	for i, typ := range types {
		if typ.ID != wantTypes[i] {
			t.Errorf("type %d = %q, want %q", i, typ.ID, wantTypes[i])
		}
		if seen[typ.ID] {
			t.Errorf("type %q appears twice", typ.ID)
		}
		seen[typ.ID] = true
		if !typ.Category.Valid() {
			t.Errorf("type %q has invalid category %q", typ.ID, typ.Category)
		}
		if want := cats[i/4].ID; typ.Category != want {
			t.Errorf("type %q has category %q, want %q", typ.ID, typ.Category, want)
		}
		if typ.Name == "" || typ.Description == "" || typ.NIST == "" {
			t.Errorf("type %q has an empty name, description or NIST class", typ.ID)
		}
		if len(typ.ATLAS) == 0 {
			t.Errorf("type %q maps to no ATLAS technique", typ.ID)
		}
		for _, tech := range typ.ATLAS {
			name, ok := TechniqueName(tech.ID)
			if !ok || name != tech.Name || name == "" {
				t.Errorf("type %q technique %s named %q; TechniqueName = %q, %v", typ.ID, tech.ID, tech.Name, name, ok)
			}
			if !techniqueIDPattern.MatchString(tech.ID) {
				t.Errorf("type %q technique id %q is not an ATLAS technique id", typ.ID, tech.ID)
			}
		}
		if typ.OWASP == nil {
			t.Errorf("type %q has a nil OWASP slice", typ.ID)
		}
		for _, o := range typ.OWASP {
			if o.Edition != "2025" || o.Name != owasp2025Names[o.ID] || o.Name == "" {
				t.Errorf("type %q OWASP ref %+v is not a 2025 entry with its name", typ.ID, o)
			}
		}
	}
}

func TestCategoryValid(t *testing.T) {
	tests := []struct {
		c    Category
		want bool
	}{
		{"model_compromise", true},
		{"prompt_injection", true},
		{"data_extraction", true},
		{"system_compromise", true},
		{"", false},
		{"jailbreak", false},
		{"Model_compromise", false},
	}
	for _, tt := range tests {
		if got := tt.c.Valid(); got != tt.want {
			t.Errorf("Category(%q).Valid() = %v, want %v", tt.c, got, tt.want)
		}
	}
}

// TestTypeMappings pins the mappings of TAXONOMY.md, one row per type.
func TestTypeMappings(t *testing.T) {
	tests := []struct {
		id    TypeID
		atlas string
		owasp string
		nist  string
	}{
		{"training_data_poisoning", "AML.T0020 AML.T0019 AML.T0010.002 AML.T0059", "LLM04", "poisoning"},
		{"model_backdoor", "AML.T0018.000 AML.T0043.004 AML.T0020", "LLM04", "backdoor poisoning"},
		{"weight_manipulation", "AML.T0018.000 AML.T0018.001 AML.T0031", "LLM04 LLM03(via a tampered artefact)", "model poisoning"},
		{"model_extraction", "AML.T0024.002 AML.T0005.001 AML.T0048.004", "LLM10", "privacy: model extraction"},
		{"jailbreak", "AML.T0054", "LLM01", "direct prompting / misuse"},
		{"system_prompt_override", "AML.T0051.000 AML.T0056 AML.T0069.002", "LLM01 LLM07", "direct prompt injection"},
		{"context_manipulation", "AML.T0080 AML.T0070 AML.T0092 AML.T0051.001", "LLM01 LLM08 LLM04", "indirect prompt injection"},
		{"instruction_injection", "AML.T0051 AML.T0093 AML.T0053", "LLM01 LLM06", "direct / indirect prompt injection"},
		{"training_data_extraction", "AML.T0057 AML.T0024", "LLM02", "privacy: data reconstruction"},
		{"model_architecture_inference", "AML.T0013 AML.T0014 AML.T0063 AML.T0069", "LLM02", "privacy: model extraction (partial)"},
		{"membership_inference", "AML.T0024.000", "LLM02", "privacy: membership inference"},
		{"model_inversion", "AML.T0024.001", "LLM02", "privacy: data reconstruction"},
		{"supply_chain", "AML.T0010 AML.T0058 AML.T0011.000", "LLM03", "supply-chain attack"},
		{"infrastructure_compromise", "AML.T0112 AML.T0049 AML.T0025", "", "outside AML (use ATT&CK)"},
		{"api_endpoint_attack", "AML.T0040 AML.T0034 AML.T0029", "LLM10 LLM05", "availability"},
		{"authentication_bypass", "AML.T0012 AML.T0055 AML.T0091.000", "", "outside AML (use ATT&CK)"},
	}
	for _, tt := range tests {
		typ, err := LookupType(string(tt.id))
		if err != nil {
			t.Errorf("LookupType(%q): %v", tt.id, err)
			continue
		}
		var atlas, owasp []string
		for _, tech := range typ.ATLAS {
			atlas = append(atlas, tech.ID)
		}
		for _, o := range typ.OWASP {
			s := o.ID
			if o.Note != "" {
				s += "(" + o.Note + ")"
			}
			owasp = append(owasp, s)
		}
		if got := strings.Join(atlas, " "); got != tt.atlas {
			t.Errorf("%s ATLAS = %s, want %s", tt.id, got, tt.atlas)
		}
		if got := strings.Join(owasp, " "); got != tt.owasp {
			t.Errorf("%s OWASP = %s, want %s", tt.id, got, tt.owasp)
		}
		if typ.NIST != tt.nist {
			t.Errorf("%s NIST = %q, want %q", tt.id, typ.NIST, tt.nist)
		}
	}
}

func TestLookupTypeErrors(t *testing.T) {
	for _, id := range []string{"", "Jailbreak", "jailbreak ", "model_compromise", "prompt-injection", "unknown"} {
		typ, err := LookupType(id)
		if err == nil {
			t.Errorf("LookupType(%q) = %+v, want an error", id, typ)
			continue
		}
		if !errors.Is(err, ErrUnknownType) {
			t.Errorf("LookupType(%q) error %v does not wrap ErrUnknownType", id, err)
		}
		msg := err.Error()
		for _, valid := range []string{"training_data_poisoning", "jailbreak", "model_inversion", "authentication_bypass"} {
			if !strings.Contains(msg, valid) {
				t.Errorf("LookupType(%q) error %q does not list %s", id, msg, valid)
			}
		}
		if typ.ID != "" || typ.ATLAS != nil {
			t.Errorf("LookupType(%q) returned a type with its error: %+v", id, typ)
		}
	}
}

func TestReturnedDataIsCopied(t *testing.T) {
	// Snapshots as JSON, so that they share no memory with what is mutated.
	snapshot := func() string {
		b, err := json.Marshal([]any{Types(), Categories()})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := snapshot()

	mutations := []struct {
		name   string
		mutate func()
	}{
		{"Types element", func() { Types()[0].Name = "x" }},
		{"Types ATLAS", func() { Types()[0].ATLAS[0].Name = "x" }},
		{"Types OWASP", func() { Types()[2].OWASP[1].Note = "x" }},
		{"Types ATLAS append", func() {
			ts := Types()
			_ = append(ts[0].ATLAS[:1], Technique{ID: "x"})
		}},
		{"LookupType ATLAS", func() {
			typ, _ := LookupType("jailbreak")
			typ.ATLAS[0].ID = "x"
		}},
		{"LookupType OWASP", func() {
			typ, _ := LookupType("jailbreak")
			typ.OWASP[0].Name = "x"
		}},
		{"Categories element", func() { Categories()[0].Name = "x" }},
		{"Categories Types", func() { Categories()[0].Types[0] = "x" }},
	}
	for _, m := range mutations {
		m.mutate()
		if got := snapshot(); got != want {
			t.Errorf("mutating %s changed the package's data", m.name)
		}
	}
}

func TestTypeJSON(t *testing.T) {
	typ, err := LookupType("infrastructure_compromise")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"owasp":[]`) {
		t.Errorf("type outside the LLM Top 10 encodes OWASP as other than []: %s", b)
	}

	typ, err = LookupType("weight_manipulation")
	if err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(typ.OWASP)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"id":"LLM04","edition":"2025","name":"Data and Model Poisoning"},` +
		`{"id":"LLM03","edition":"2025","name":"Supply Chain","note":"via a tampered artefact"}]`
	if string(b) != want {
		t.Errorf("weight_manipulation OWASP JSON = %s, want %s", b, want)
	}
}

func TestTechniqueNameUnknown(t *testing.T) {
	for _, id := range []string{"", "AML.T0000", "AML.T0054.000", "aml.t0054"} {
		if name, ok := TechniqueName(id); ok {
			t.Errorf("TechniqueName(%q) = %q, true; want false", id, name)
		}
	}
	if name, ok := TechniqueName("AML.T0054"); !ok || name != "LLM Jailbreak" {
		t.Errorf("TechniqueName(AML.T0054) = %q, %v", name, ok)
	}
}
