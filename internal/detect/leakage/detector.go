package leakage

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/redact"
	"github.com/airlock-ir/airlock/internal/textnorm"
)

// Name is the detector's name in alerts.
const Name = "leakage"

// The rules, as they appear in alerts.
const (
	RuleSecret       = "leakage.secret"
	RulePII          = "leakage.pii"
	RuleCanary       = "leakage.canary"
	RuleSystemPrompt = "leakage.system_prompt"
)

// Limits on the configuration.
const (
	MinCanary   = 8  // bytes: a shorter canary would turn up by chance
	MinFragment = 20 // characters
)

// Config says what counts as leaked beyond secrets and personal data.
type Config struct {
	// Canaries are unique strings planted in system prompts, documents or
	// training data; one in an output proves that it leaked.
	Canaries []string
	// SystemPromptFragments are, per route, passages of that route's
	// system prompt (at least MinFragment characters each) that must never
	// appear in its output.
	SystemPromptFragments map[string][]string
	// PIIMin is how many contact details (emails, phone numbers) one
	// output must hold to alert; a single identifier (card, IBAN, national
	// ID) is enough. [3]
	PIIMin int
	// MaxScan bounds the bytes of each output scanned. [1 MiB]
	MaxScan int
}

// Validate reports the first thing wrong with c, naming it.
func (c Config) Validate() error {
	for i, s := range c.Canaries {
		if strings.TrimSpace(s) != s || len(s) < MinCanary {
			return fmt.Errorf("canary %d: must be at least %d bytes without surrounding spaces", i+1, MinCanary)
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("canary %d: not valid UTF-8", i+1)
		}
	}
	for route, fs := range c.SystemPromptFragments {
		if strings.TrimSpace(route) == "" {
			return fmt.Errorf("system prompt fragments: empty route name")
		}
		for i, f := range fs {
			if !utf8.ValidString(f) {
				return fmt.Errorf("route %q: fragment %d: not valid UTF-8", route, i+1)
			}
			if n := utf8.RuneCountInString(strings.TrimSpace(f)); n < MinFragment {
				return fmt.Errorf("route %q: fragment %d: %d characters, want at least %d", route, i+1, n, MinFragment)
			}
		}
	}
	if c.PIIMin < 0 || c.MaxScan < 0 {
		return fmt.Errorf("PIIMin and MaxScan must not be negative")
	}
	return nil
}

// Detector is the leakage detector. It is not safe for concurrent use;
// the engine calls it from one goroutine.
type Detector struct {
	cfg       Config
	redactor  *redact.Redactor
	fragments map[string][]fragment
	buf       []byte // normalised output, reused
}

type fragment struct {
	text string
	norm []byte
	// word is a word of norm that any output holding the fragment, even
	// with other capitals or spacing, holds too, in some case; anchor is
	// the index in word of its rarest byte, which is looked for first.
	word   string
	anchor int
}

func newFragment(f string) fragment {
	fr := fragment{text: f, norm: normalise(nil, f)}
	best := 1 << 30
	for w := range strings.FieldsSeq(string(fr.norm)) {
		i := textnorm.Rarest(w)
		if c := int(textnorm.Commonness(w[i])); c < best || c == best && len(w) > len(fr.word) {
			best, fr.word, fr.anchor = c, w, i
		}
	}
	return fr
}

// mayOccur is false when text certainly holds f neither verbatim nor
// normalised: it lacks f's word in every case. That spares almost every
// output the normalising.
func (f *fragment) mayOccur(text string) bool {
	return textnorm.IndexASCIIFold(text, f.word, f.anchor) >= 0
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector for cfg, or the reason cfg is invalid.
func New(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("leakage: %w", err)
	}
	if cfg.PIIMin == 0 {
		cfg.PIIMin = 3
	}
	if cfg.MaxScan == 0 {
		cfg.MaxScan = 1 << 20
	}
	d := &Detector{cfg: cfg, redactor: redact.New(), fragments: map[string][]fragment{}}
	d.cfg.Canaries = append([]string(nil), cfg.Canaries...)
	for route, fs := range cfg.SystemPromptFragments {
		for _, f := range fs {
			f = strings.TrimSpace(f)
			d.fragments[route] = append(d.fragments[route], newFragment(f))
		}
	}
	return d, nil
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// maxFindings bounds the findings of one output that are looked for in the
// prompt.
const maxFindings = 256

// identifiers are the personal-data rules one finding of which is enough.
var identifiers = map[string]bool{"payment-card": true, "iban": true, "us-ssn": true, "uk-nino": true}

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	text := detect.OutputOf(ev)
	if text == "" {
		return
	}
	if len(text) > d.cfg.MaxScan {
		text = text[:d.cfg.MaxScan]
	}
	d.canaries(ev, text, out)
	d.systemPrompt(ev, text, out)
	d.findings(ev, text, out)
}

func (d *Detector) canaries(ev *event.Event, text string, out detect.Sink) {
	var hit []int // indices of the canaries found
	first, at := "", -1
	for i, c := range d.cfg.Canaries {
		if j := strings.Index(text, c); j >= 0 {
			hit = append(hit, i+1)
			if at < 0 || j < at {
				first, at = c, j
			}
		}
	}
	if len(hit) == 0 {
		return
	}
	// Mask every canary in the neighbourhood before the excerpt is cut.
	lo, hi := max(0, at-detect.MaxExcerpt), min(len(text), at+len(first)+detect.MaxExcerpt)
	w := text[lo:hi]
	for _, c := range d.cfg.Canaries {
		w = strings.ReplaceAll(w, c, "[CANARY]")
	}
	i := strings.Index(w, "[CANARY]")
	d.raise(ev, out, RuleCanary, "system_prompt_override", []string{"AML.T0056", "AML.T0069.002"},
		event.SeverityCritical, 0.95,
		fmt.Sprintf("output on route %q contains canary token %s (of %d configured): what it was planted in has leaked", detect.EntityValue(ev.Route), joinInts(hit), len(d.cfg.Canaries)),
		detect.Excerpt(w, i, i+len("[CANARY]")), false)
}

func (d *Detector) systemPrompt(ev *event.Event, text string, out detect.Sink) {
	fs := d.fragments[ev.Route]
	if len(fs) == 0 {
		return
	}
	var norm []byte
	var hit []int
	excerpt := ""
	for i, f := range fs {
		if !f.mayOccur(text) {
			continue
		}
		if j := strings.Index(text, f.text); j >= 0 {
			hit = append(hit, i+1)
			if excerpt == "" {
				lo, hi := max(0, j-detect.MaxExcerpt), min(len(text), j+len(f.text)+detect.MaxExcerpt)
				mark := fmt.Sprintf("[SYSTEM PROMPT FRAGMENT %d]", i+1)
				w := text[lo:j] + mark + text[j+len(f.text):hi]
				excerpt = detect.Excerpt(w, j-lo, j-lo+len(mark))
			}
			continue
		}
		// The same words with other capitals or spacing still leak it.
		if norm == nil {
			d.buf = normalise(d.buf[:0], text)
			norm = d.buf
		}
		if bytes.Contains(norm, f.norm) {
			hit = append(hit, i+1)
			if excerpt == "" {
				excerpt = fmt.Sprintf("[SYSTEM PROMPT FRAGMENT %d, matched ignoring case and spacing]", i+1)
			}
		}
	}
	if len(hit) == 0 {
		return
	}
	sev := event.SeverityHigh
	if len(hit) > 1 {
		sev = event.SeverityCritical
	}
	d.raise(ev, out, RuleSystemPrompt, "system_prompt_override", []string{"AML.T0056", "AML.T0069.002"},
		sev, 0.9,
		fmt.Sprintf("output on route %q repeats %d of its %d configured system prompt fragments (%s) verbatim", detect.EntityValue(ev.Route), len(hit), len(fs), joinInts(hit)),
		excerpt, true)
}

func (d *Detector) findings(ev *event.Event, text string, out detect.Sink) {
	fs := d.redactor.Find(text)
	if len(fs) == 0 {
		return
	}
	if len(fs) > maxFindings {
		fs = fs[:maxFindings]
	}
	var prompt []byte // the prompt's letters and digits, made when needed
	inPrompt := func(f redact.Finding) bool {
		if prompt == nil {
			prompt = compact(make([]byte, 0, 256), detect.PromptOf(ev))
		}
		return bytes.Contains(prompt, compact(nil, text[f.Start:f.End]))
	}
	var secrets, ids, contacts []redact.Finding
	for _, f := range fs {
		switch {
		case f.Class == redact.Secret:
			secrets = append(secrets, f)
		case inPrompt(f):
			// Personal data the caller (or the conversation) supplied,
			// however reformatted, is not the model's to leak.
		case identifiers[f.Rule]:
			ids = append(ids, f)
		default:
			contacts = append(contacts, f)
		}
	}
	if len(secrets) > 0 {
		f := secrets[0]
		d.raise(ev, out, RuleSecret, "training_data_extraction", []string{"AML.T0057"},
			event.SeverityHigh, 0.85,
			fmt.Sprintf("output on route %q contains %d secret(s): %s", detect.EntityValue(ev.Route), len(secrets), ruleCounts(secrets)),
			detect.Excerpt(text, f.Start, f.End), false)
	}
	if len(ids) > 0 || len(contacts) >= d.cfg.PIIMin {
		all := append(ids, contacts...)
		sort.Slice(all, func(i, j int) bool { return all[i].Start < all[j].Start })
		sev := event.SeverityMedium
		if len(all) >= 5 {
			sev = event.SeverityHigh
		}
		f := all[0]
		d.raise(ev, out, RulePII, "training_data_extraction", []string{"AML.T0057", "AML.T0024"},
			sev, 0.6,
			fmt.Sprintf("output on route %q contains %d item(s) of personal data not in the prompt: %s", detect.EntityValue(ev.Route), len(all), ruleCounts(all)),
			detect.Excerpt(text, f.Start, f.End), false)
	}
}

func (d *Detector) raise(ev *event.Event, out detect.Sink, rule, typ string, atlas []string, sev event.Severity, conf float64, summary, excerpt string, withRoute bool) {
	entities := detect.Entities(ev)
	subject := entities
	if who, ok := detect.Caller(ev); ok {
		subject = []event.Entity{who}
	}
	if r := detect.EntityValue(ev.Route); r != "" {
		route := event.Entity{Kind: event.EntityRoute, Value: r}
		entities = append(entities, route)
		if withRoute || len(subject) == 0 {
			subject = append(subject, route)
		}
	}
	out.Raise(event.Alert{
		Detector:    Name,
		Rule:        rule,
		Type:        typ,
		ATLAS:       atlas,
		Severity:    sev,
		Confidence:  conf,
		Summary:     summary,
		Entities:    entities,
		Evidence:    event.AlertEvidence{EventIDs: []string{ev.ID}, Excerpt: excerpt},
		Fingerprint: detect.Fingerprint(Name, rule, subject),
	})
}

// normalise appends s folded for matching: ASCII lower case, every run of
// white space one space.
func normalise(dst []byte, s string) []byte {
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		space = false
	}
	if n := len(dst); n > 0 && dst[n-1] == ' ' {
		dst = dst[:n-1]
	}
	return dst
}

// compact appends s's ASCII letters and digits, in lower case: what is left
// of a card number or a phone number whatever its separators.
func compact(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		default:
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// ruleCounts describes findings as "email ×2, phone".
func ruleCounts(fs []redact.Finding) string {
	var order []string
	n := map[string]int{}
	for _, f := range fs {
		if n[f.Rule] == 0 {
			order = append(order, f.Rule)
		}
		n[f.Rule]++
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = r
		if n[r] > 1 {
			parts[i] += fmt.Sprintf(" ×%d", n[r])
		}
	}
	return strings.Join(parts, ", ")
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return "#" + strings.Join(s, ", #")
}
