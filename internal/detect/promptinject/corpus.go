package promptinject

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"

	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Example is one labelled text of a corpus.
type Example struct {
	Text  string
	Label int    // 1 attack, 0 benign
	Set   string // the corpus it comes from, one of the Set* names
	// Role is where the text would sit in a conversation: "" or RoleUser
	// for a prompt, RoleTool or RoleDocument for content the application
	// fetched, which Evaluate scores with the indirect-injection view.
	Role string
	// Contextual marks an attack that is one only against the system
	// prompt it was written for, which the text does not include:
	// CyberSecEval's "logic-violating" cases, most of them ordinary
	// questions on a topic that system prompt forbids.
	Contextual bool
}

// The sets LoadCorpus reads. Each is reported on its own: a blend would let
// a large easy set hide a small hard one.
const (
	SetCyberSecEval = "cyberseceval"              // prompt_injection.json user_input: attacks
	SetMultilingual = "cyberseceval_multilingual" // machine-translated injections: attacks
	SetInTheWild    = "inthewild"                 // in-the-wild jailbreak prompts: attacks
	SetBIPIAText    = "bipia_text"                // indirect-injection payloads (text): attacks
	SetBIPIACode    = "bipia_code"                // indirect-injection payloads (code): attacks
	SetMITREFRR     = "mitre_frr"                 // security-flavoured coding requests: benign
	SetNotInject    = "notinject"                 // benign prompts with trigger words: benign
	SetWildGuard    = "wildguard"                 // ordinary benign prompts: benign

	// Derived benign sets: the system prompts and judge questions of the
	// CyberSecEval cases, in the same 17 languages as the attacks. Without
	// them every non-English text in the corpus would be an attack and the
	// classifier would learn the language rather than the attack.
	SetSystemPrompts  = "cyberseceval_system"
	SetJudgeQuestions = "cyberseceval_judge"
)

// Roles of a Message, and of an Example.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
	RoleFunction  = "function"
	RoleDocument  = "document"
)

// Split assigns an example to "train" or "test" by a hash of its folded
// text: one in five texts is held out. The assignment depends on nothing
// but the text, so duplicates land together and Train never sees a test
// text. Near-duplicates (the same case translated, or a template with
// another payload) can still fall on both sides; see docs/promptinject.md.
func Split(ex Example) string {
	if splitHash(ex.Text)%5 == 0 {
		return "test"
	}
	return "train"
}

func splitHash(text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("airlock-promptinject-split-v1\x00"))
	h.Write([]byte(textnorm.Fold(capMarks(text))))
	return h.Sum64()
}

// validationFold is the fold, 0..k-1, of a training example in the
// cross-validation Train runs to choose its threshold. It uses other bits of
// the split hash than Split does.
func validationFold(text string, k int) int {
	return int((splitHash(text) / 5) % uint64(k))
}

// LoadCorpus reads the prompt-attack corpora described in
// ../shared/data/README.md from dataDir (the data folder, or its
// promptinject folder). Identical texts within a set are kept once. The
// order is fixed: by set, then by position in the file.
func LoadCorpus(dataDir string) ([]Example, error) {
	dir := filepath.Join(dataDir, "promptinject")
	if _, err := os.Stat(dir); err != nil {
		dir = dataDir
	}
	var c corpusBuilder
	steps := []func(dir string, c *corpusBuilder) error{
		loadCyberSecEval, loadMITRE, loadInTheWild, loadNotInject, loadWildGuard, loadBIPIA, loadEveryday, loadEverydayOther,
	}
	for _, step := range steps {
		if err := step(dir, &c); err != nil {
			return nil, err
		}
	}
	return c.out, nil
}

type corpusBuilder struct {
	out  []Example
	seen map[[2]string]bool
}

func (c *corpusBuilder) add(set string, label int, role, text string) {
	c.addExample(Example{Text: text, Label: label, Set: set, Role: role})
}

func (c *corpusBuilder) addExample(ex Example) {
	set, text := ex.Set, ex.Text
	if text == "" {
		return
	}
	if c.seen == nil {
		c.seen = make(map[[2]string]bool)
	}
	k := [2]string{set, text}
	if c.seen[k] {
		return
	}
	c.seen[k] = true
	c.out = append(c.out, ex)
}

// readJSON decodes one corpus file, naming it in errors.
func readJSON(dir, rel string, v any) error {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read corpus: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read corpus %s: %w", path, err)
	}
	return nil
}

type cyberSecEvalCase struct {
	UserInput      string `json:"user_input"`
	RiskCategory   string `json:"risk_category"`
	TestCasePrompt string `json:"test_case_prompt"`
	JudgeQuestion  string `json:"judge_question"`
}

func loadCyberSecEval(dir string, c *corpusBuilder) error {
	var derived []cyberSecEvalCase
	for _, f := range []struct{ rel, set string }{
		{"cyberseceval/prompt_injection.json", SetCyberSecEval},
		{"cyberseceval/prompt_injection_multilingual_machine_translated.json", SetMultilingual},
	} {
		var cases []cyberSecEvalCase
		if err := readJSON(dir, f.rel, &cases); err != nil {
			return err
		}
		if len(cases) == 0 {
			return fmt.Errorf("read corpus %s: no cases", f.rel)
		}
		for _, k := range cases {
			c.addExample(Example{Text: k.UserInput, Label: 1, Set: f.set, Contextual: k.RiskCategory == "logic-violating"})
		}
		derived = append(derived, cases...)
	}
	for _, k := range derived {
		c.add(SetSystemPrompts, 0, "", k.TestCasePrompt)
	}
	for _, k := range derived {
		c.add(SetJudgeQuestions, 0, "", k.JudgeQuestion)
	}
	return nil
}

func loadMITRE(dir string, c *corpusBuilder) error {
	var rows []struct {
		MutatedPrompt string `json:"mutated_prompt"`
	}
	if err := readJSON(dir, "cyberseceval/mitre_frr.json", &rows); err != nil {
		return err
	}
	for _, r := range rows {
		c.add(SetMITREFRR, 0, "", r.MutatedPrompt)
	}
	return nil
}

func loadInTheWild(dir string, c *corpusBuilder) error {
	var rows []string
	if err := readJSON(dir, "inthewild-jailbreaks/inthewild_jailbreak_llms.json", &rows); err != nil {
		return err
	}
	for _, r := range rows {
		c.add(SetInTheWild, 1, "", r)
	}
	return nil
}

func loadNotInject(dir string, c *corpusBuilder) error {
	for _, n := range []string{"one", "two", "three"} {
		var rows []struct {
			Prompt string `json:"prompt"`
		}
		if err := readJSON(dir, "injecguard/NotInject_"+n+".json", &rows); err != nil {
			return err
		}
		for _, r := range rows {
			c.add(SetNotInject, 0, "", r.Prompt)
		}
	}
	return nil
}

func loadWildGuard(dir string, c *corpusBuilder) error {
	var rows []struct {
		Prompt string          `json:"prompt"`
		Label  json.RawMessage `json:"label"`
	}
	if err := readJSON(dir, "injecguard/wildguard.json", &rows); err != nil {
		return err
	}
	for i, r := range rows {
		// The label is the string "0" in the file; accept 0 too.
		if l := string(r.Label); l != `"0"` && l != "0" && l != "" {
			return fmt.Errorf("read corpus injecguard/wildguard.json: row %d: label %s, want 0", i, l)
		}
		c.add(SetWildGuard, 0, "", r.Prompt)
	}
	return nil
}

// loadBIPIA reads the BIPIA payloads: objects mapping an attack category to
// its strings. They are what an attacker plants in an email, a web page or a
// code snippet the application retrieves, so they carry RoleDocument.
func loadBIPIA(dir string, c *corpusBuilder) error {
	for _, f := range []struct{ rel, set string }{
		{"injecguard/BIPIA_text.json", SetBIPIAText},
		{"injecguard/BIPIA_code.json", SetBIPIACode},
	} {
		var byCategory map[string][]string
		if err := readJSON(dir, f.rel, &byCategory); err != nil {
			return err
		}
		if len(byCategory) == 0 {
			return errors.New("read corpus " + f.rel + ": no categories")
		}
		cats := make([]string, 0, len(byCategory))
		for k := range byCategory {
			cats = append(cats, k)
		}
		sort.Strings(cats)
		for _, k := range cats {
			for _, t := range byCategory[k] {
				c.add(f.set, 1, RoleDocument, t)
			}
		}
	}
	return nil
}
