package taxonomy

import "fmt"

// OWASPRef points to an entry of the OWASP Top 10 for LLM Applications. The
// edition is kept with the ID because editions renumber their entries.
type OWASPRef struct {
	ID      string `json:"id"`
	Edition string `json:"edition"`
	Name    string `json:"name"`
	Note    string `json:"note,omitempty"`
}

const owaspEdition2025 = "2025"

var owasp2025Names = map[string]string{
	"LLM01": "Prompt Injection",
	"LLM02": "Sensitive Information Disclosure",
	"LLM03": "Supply Chain",
	"LLM04": "Data and Model Poisoning",
	"LLM05": "Improper Output Handling",
	"LLM06": "Excessive Agency",
	"LLM07": "System Prompt Leakage",
	"LLM08": "Vector and Embedding Weaknesses",
	"LLM09": "Misinformation",
	"LLM10": "Unbounded Consumption",
}

// owasp2025 builds a reference to a 2025 entry. An unknown ID is a mistake in
// this package's data, caught by every test run, so it panics.
func owasp2025(id string) OWASPRef {
	name, ok := owasp2025Names[id]
	if !ok {
		panic(fmt.Sprintf("taxonomy: no OWASP LLM 2025 entry %s", id))
	}
	return OWASPRef{ID: id, Edition: owaspEdition2025, Name: name}
}

func owasp2025Note(id, note string) OWASPRef {
	r := owasp2025(id)
	r.Note = note
	return r
}

func owaspRefs(refs ...OWASPRef) []OWASPRef {
	// Never nil, so that a type outside the LLM Top 10 encodes as [] in JSON.
	return append([]OWASPRef{}, refs...)
}
