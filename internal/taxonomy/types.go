package taxonomy

import (
	"errors"
	"fmt"
	"strings"
)

// Category groups incident types by what the attack targets.
type Category string

// The categories.
const (
	CategoryModelCompromise  Category = "model_compromise"
	CategoryPromptInjection  Category = "prompt_injection"
	CategoryDataExtraction   Category = "data_extraction"
	CategorySystemCompromise Category = "system_compromise"
)

// TypeID names an incident type, e.g. "training_data_poisoning".
type TypeID string

// ErrUnknownType is wrapped by LookupType's error for an ID that is not a type.
var ErrUnknownType = errors.New("unknown incident type")

// IncidentType is one kind of AI incident and what it maps to in the public
// frameworks: ATLAS techniques, OWASP LLM Top 10 entries (empty where the type
// is outside the Top 10) and a NIST AI 100-2 attack class.
type IncidentType struct {
	ID          TypeID      `json:"id"`
	Name        string      `json:"name"`
	Category    Category    `json:"category"`
	Description string      `json:"description"`
	ATLAS       []Technique `json:"atlas"`
	OWASP       []OWASPRef  `json:"owasp"`
	NIST        string      `json:"nist"`
}

// CategoryInfo describes a category and lists its types in order.
type CategoryInfo struct {
	ID          Category `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Types       []TypeID `json:"types"`
}

var categories = []CategoryInfo{
	{
		ID:          CategoryModelCompromise,
		Name:        "Model compromise",
		Description: "The model itself is tampered with or stolen: poisoned training data, planted backdoors, altered weights or a copy taken through its API.",
	},
	{
		ID:          CategoryPromptInjection,
		Name:        "Prompt injection",
		Description: "Crafted input makes the AI system set aside its instructions and behave as the attacker wants.",
	},
	{
		ID:          CategoryDataExtraction,
		Name:        "Data extraction",
		Description: "Queries are used to draw sensitive training data or private facts about the model out of it.",
	},
	{
		ID:          CategorySystemCompromise,
		Name:        "System compromise",
		Description: "The infrastructure, dependencies and access controls that AI systems are built and served on are attacked.",
	},
}

var types = []IncidentType{
	{
		ID:          "training_data_poisoning",
		Name:        "Training data poisoning",
		Category:    CategoryModelCompromise,
		Description: "An attacker plants or alters training data so that the model learns behaviour of their choosing.",
		ATLAS:       techniques("AML.T0020", "AML.T0019", "AML.T0010.002", "AML.T0059"),
		OWASP:       owaspRefs(owasp2025("LLM04")),
		NIST:        "poisoning",
	},
	{
		ID:          "model_backdoor",
		Name:        "Model backdoor",
		Category:    CategoryModelCompromise,
		Description: "A hidden trigger is built into the model so that chosen inputs get the attacker's output while others behave normally.",
		ATLAS:       techniques("AML.T0018.000", "AML.T0043.004", "AML.T0020"),
		OWASP:       owaspRefs(owasp2025("LLM04")),
		NIST:        "backdoor poisoning",
	},
	{
		ID:          "weight_manipulation",
		Name:        "Weight manipulation",
		Category:    CategoryModelCompromise,
		Description: "The model's weights or architecture are changed directly, in storage or in a shipped artefact, to alter what it does.",
		ATLAS:       techniques("AML.T0018.000", "AML.T0018.001", "AML.T0031"),
		OWASP:       owaspRefs(owasp2025("LLM04"), owasp2025Note("LLM03", "via a tampered artefact")),
		NIST:        "model poisoning",
	},
	{
		ID:          "model_extraction",
		Name:        "Model extraction",
		Category:    CategoryModelCompromise,
		Description: "Many queries to the inference API are used to train a replica of the model that the attacker owns.",
		ATLAS:       techniques("AML.T0024.002", "AML.T0005.001", "AML.T0048.004"),
		OWASP:       owaspRefs(owasp2025("LLM10")),
		NIST:        "privacy: model extraction",
	},
	{
		ID:          "jailbreak",
		Name:        "Jailbreak",
		Category:    CategoryPromptInjection,
		Description: "A prompt crafted to get past the model's safety guardrails so that it produces what it should refuse.",
		ATLAS:       techniques("AML.T0054"),
		OWASP:       owaspRefs(owasp2025("LLM01")),
		NIST:        "direct prompting / misuse",
	},
	{
		ID:          "system_prompt_override",
		Name:        "System prompt override",
		Category:    CategoryPromptInjection,
		Description: "User input tries to replace or reveal the system prompt so that the operator's instructions no longer hold.",
		ATLAS:       techniques("AML.T0051.000", "AML.T0056", "AML.T0069.002"),
		OWASP:       owaspRefs(owasp2025("LLM01"), owasp2025("LLM07")),
		NIST:        "direct prompt injection",
	},
	{
		ID:          "context_manipulation",
		Name:        "Context manipulation",
		Category:    CategoryPromptInjection,
		Description: "Poisoned content reaches the model's context through retrieval, agent memory or chat history and steers its answers.",
		ATLAS:       techniques("AML.T0080", "AML.T0070", "AML.T0092", "AML.T0051.001"),
		OWASP:       owaspRefs(owasp2025("LLM01"), owasp2025("LLM08"), owasp2025("LLM04")),
		NIST:        "indirect prompt injection",
	},
	{
		ID:          "instruction_injection",
		Name:        "Instruction injection",
		Category:    CategoryPromptInjection,
		Description: "Instructions smuggled into input the application passes on make the model, or the tools it drives, act for the attacker.",
		ATLAS:       techniques("AML.T0051", "AML.T0093", "AML.T0053"),
		OWASP:       owaspRefs(owasp2025("LLM01"), owasp2025("LLM06")),
		NIST:        "direct / indirect prompt injection",
	},
	{
		ID:          "training_data_extraction",
		Name:        "Training data extraction",
		Category:    CategoryDataExtraction,
		Description: "Queries make the model repeat sensitive or private data it was trained on.",
		ATLAS:       techniques("AML.T0057", "AML.T0024"),
		OWASP:       owaspRefs(owasp2025("LLM02")),
		NIST:        "privacy: data reconstruction",
	},
	{
		ID:          "model_architecture_inference",
		Name:        "Model architecture inference",
		Category:    CategoryDataExtraction,
		Description: "Probing reveals the model's family, ontology, outputs or configuration, usually to plan a further attack.",
		ATLAS:       techniques("AML.T0013", "AML.T0014", "AML.T0063", "AML.T0069"),
		OWASP:       owaspRefs(owasp2025("LLM02")),
		NIST:        "privacy: model extraction (partial)",
	},
	{
		ID:          "membership_inference",
		Name:        "Membership inference",
		Category:    CategoryDataExtraction,
		Description: "Queries reveal whether a given record was part of the model's training data.",
		ATLAS:       techniques("AML.T0024.000"),
		OWASP:       owaspRefs(owasp2025("LLM02")),
		NIST:        "privacy: membership inference",
	},
	{
		ID:          "model_inversion",
		Name:        "Model inversion",
		Category:    CategoryDataExtraction,
		Description: "The model's outputs are used to reconstruct representative training inputs, such as faces or personal records.",
		ATLAS:       techniques("AML.T0024.001"),
		OWASP:       owaspRefs(owasp2025("LLM02")),
		NIST:        "privacy: data reconstruction",
	},
	{
		ID:          "supply_chain",
		Name:        "Supply chain attack",
		Category:    CategorySystemCompromise,
		Description: "A model, dataset or dependency obtained from outside was compromised before it entered the pipeline.",
		ATLAS:       techniques("AML.T0010", "AML.T0058", "AML.T0011.000"),
		OWASP:       owaspRefs(owasp2025("LLM03")),
		NIST:        "supply-chain attack",
	},
	{
		ID:          "infrastructure_compromise",
		Name:        "Infrastructure compromise",
		Category:    CategorySystemCompromise,
		Description: "The machines, storage or pipelines that train and serve models are breached by conventional intrusion.",
		ATLAS:       techniques("AML.T0112", "AML.T0049", "AML.T0025"),
		OWASP:       owaspRefs(),
		NIST:        "outside AML (use ATT&CK)",
	},
	{
		ID:          "api_endpoint_attack",
		Name:        "API endpoint attack",
		Category:    CategorySystemCompromise,
		Description: "The model's inference endpoint is abused to exhaust it, run up its cost or push unsafe output to the systems behind it.",
		ATLAS:       techniques("AML.T0040", "AML.T0034", "AML.T0029"),
		OWASP:       owaspRefs(owasp2025("LLM10"), owasp2025("LLM05")),
		NIST:        "availability",
	},
	{
		ID:          "authentication_bypass",
		Name:        "Authentication bypass",
		Category:    CategorySystemCompromise,
		Description: "Stolen, leaked or forged credentials and tokens give an attacker access to models or their APIs.",
		ATLAS:       techniques("AML.T0012", "AML.T0055", "AML.T0091.000"),
		OWASP:       owaspRefs(),
		NIST:        "outside AML (use ATT&CK)",
	},
}

// Categories returns the four categories in the guide's order, each with its
// types. The result is the caller's to change.
func Categories() []CategoryInfo {
	out := make([]CategoryInfo, len(categories))
	for i, c := range categories {
		c.Types = []TypeID{}
		for _, t := range types {
			if t.Category == c.ID {
				c.Types = append(c.Types, t.ID)
			}
		}
		out[i] = c
	}
	return out
}

// Types returns the sixteen incident types in the guide's order. The result
// is the caller's to change.
func Types() []IncidentType {
	out := make([]IncidentType, len(types))
	for i, t := range types {
		out[i] = t.clone()
	}
	return out
}

// LookupType returns the incident type with the given ID.
func LookupType(id string) (IncidentType, error) {
	for _, t := range types {
		if string(t.ID) == id {
			return t.clone(), nil
		}
	}
	ids := make([]string, len(types))
	for i, t := range types {
		ids[i] = string(t.ID)
	}
	return IncidentType{}, fmt.Errorf("%w %q; valid types: %s", ErrUnknownType, id, strings.Join(ids, ", "))
}

// Valid reports whether c is one of the four categories.
func (c Category) Valid() bool {
	for _, info := range categories {
		if info.ID == c {
			return true
		}
	}
	return false
}

func (t IncidentType) clone() IncidentType {
	t.ATLAS = append([]Technique{}, t.ATLAS...)
	t.OWASP = append([]OWASPRef{}, t.OWASP...)
	return t
}
