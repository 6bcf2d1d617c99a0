package playbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/taxonomy"
	"go.yaml.in/yaml/v3"
)

// Bounds on a playbook file. What is really there bounds the work.
const (
	MaxFileSize    = 1 << 20
	MaxSteps       = 100
	MaxTypes       = 64
	MaxRetries     = 10
	DefaultRetries = 3
	DefaultWindow  = 15 * time.Minute
	DefaultChannel = "default"

	MaxNameLen  = 64   // playbook names, step ids, channels
	MaxTitle    = 200  // step and task titles, assignees
	MaxText     = 4000 // descriptions and messages
	MaxWindow   = 7 * 24 * time.Hour
	MaxDuration = 365 * 24 * time.Hour // ttl and due

	maxErrors = 20
	maxNodes  = 200_000 // YAML nodes in one file
)

// Error is one problem in a playbook file and where it is.
type Error struct {
	File   string
	Line   int // 0 when the problem is with the file as a whole
	Reason string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return e.File + ": " + e.Reason
}

var (
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	channelPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// Parse reads one playbook from b, a YAML document (JSON is YAML too);
// name is the file name used in errors and as the playbook's Source.
//
// Parsing is strict: unknown keys, values of the wrong type, fields that do
// not belong to a step's kind, anchors and aliases are all errors. Every
// problem found (up to 20) is reported, each as an *Error naming the file,
// the line and the reason, joined with errors.Join. The returned playbook
// has its defaults filled in.
func Parse(name string, b []byte) (*Playbook, error) {
	p := &parser{file: name}
	root := p.document(b)
	if root == nil {
		return nil, p.err()
	}
	pb := p.playbook(root)
	if err := p.err(); err != nil {
		return nil, err
	}
	pb.Source = name
	return pb, nil
}

type parser struct {
	file string
	errs []error
	more int
}

func (p *parser) errorf(line int, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		p.more++
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Reason: fmt.Sprintf(format, args...)})
}

func (p *parser) failed() bool { return len(p.errs)+p.more > 0 }

func (p *parser) err() error {
	switch {
	case len(p.errs) == 0:
		return nil
	case len(p.errs) == 1 && p.more == 0:
		return p.errs[0]
	}
	errs := p.errs
	if p.more > 0 {
		errs = append(errs, &Error{File: p.file, Reason: fmt.Sprintf("and %d more problems", p.more)})
	}
	return errors.Join(errs...)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document checks the bytes and parses them into nodes: one document, no
// anchors or aliases, a bounded number of nodes. It returns the root, or
// nil after reporting why there is none.
func (p *parser) document(b []byte) *yaml.Node {
	if len(b) > MaxFileSize {
		p.errorf(0, "%d bytes, more than the limit of %d", len(b), MaxFileSize)
		return nil
	}
	if !utf8.Valid(b) {
		p.errorf(invalidUTF8Line(b), "not valid UTF-8")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		p.errorf(0, "empty: a playbook needs a name, types and steps")
		return nil
	case err != nil:
		p.yamlError(err, b)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.yamlError(err, b)
		return nil
	default:
		p.errorf(next.Line, "a second YAML document starts here; a playbook file holds one")
		return nil
	}
	// Anchors and aliases are refused outright: a playbook has no use for
	// them, and aliases are how a small file expands into a huge one.
	count := 0
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if count++; count > maxNodes {
			p.errorf(n.Line, "more than %d YAML nodes", maxNodes)
			return false
		}
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			p.errorf(n.Line, "anchors and aliases are not allowed in a playbook")
		}
		for _, c := range n.Content {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	if !walk(&doc) || p.failed() {
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(0, "empty: a playbook needs a name, types and steps")
		return nil
	}
	return doc.Content[0]
}

func (p *parser) yamlError(err error, b []byte) {
	msg := strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(err.Error())
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// yaml.v3 counts lines from 0 in the parser's errors (and leaves out
	// line 0), from 1 in the scanner's.
	if parserError(msg) {
		line++
	}
	// At the end of the file, the line after the last one.
	last := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		last++
	}
	line = min(line, max(last, 1))
	p.errorf(line, "invalid YAML: %s", msg)
}

func parserError(msg string) bool {
	for _, s := range []string{"did not find expected ", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(msg, s) {
			return true
		}
	}
	return false
}

// invalidUTF8Line is the line of the first byte that is not valid UTF-8.
func invalidUTF8Line(b []byte) int {
	line := 1
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		b = b[size:]
	}
	return line
}

// fields is a mapping's entries by key. Keys whose value is null are
// treated as absent.
type fields struct {
	node *yaml.Node
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

// keyLine is the line of key if it is written, else def.
func (f fields) keyLine(key string, def int) int {
	if k, ok := f.keys[key]; ok {
		return k.Line
	}
	return def
}

// mapping reads n as a mapping with only the allowed keys (in the order
// given, which is the order error messages list them in).
func (p *parser) mapping(n *yaml.Node, where string, allowed []string) (fields, bool) {
	f := fields{node: n, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%swant a mapping, got %s", prefix(where), describe(n))
		return f, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			p.errorf(k.Line, "%skeys must be plain names, got %s", prefix(where), describe(k))
			continue
		}
		if first, dup := f.keys[k.Value]; dup {
			p.errorf(k.Line, "%sduplicate key %q (first on line %d)", prefix(where), clip(k.Value), first.Line)
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			p.errorf(k.Line, "%sunknown key %q (want one of %s)", prefix(where), clip(k.Value), strings.Join(allowed, ", "))
			continue
		}
		f.keys[k.Value] = k
		if !isNull(v) {
			f.vals[k.Value] = v
		}
	}
	return f, true
}

func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

// join names a step's field: `step "x"` and "action" give `step "x": action`.
func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + ": " + key
}

// sub names a field within a field: `step "x": action` and "kind" give
// `step "x": action.kind`.
func sub(where, key string) string { return where + "." + key }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		tag := strings.TrimPrefix(n.Tag, "!!")
		switch tag {
		case "str":
			tag = "string"
		case "int":
			tag = "integer"
		case "bool":
			tag = "boolean"
		}
		return fmt.Sprintf("%s %q", tag, clip(n.Value))
	}
	return "an alias"
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const n = 48
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// str reads a string scalar.
func (p *parser) str(n *yaml.Node, where string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = " (quote it)"
		}
		p.errorf(n.Line, "%s: want a string, got %s%s", where, describe(n), hint)
		return "", false
	}
	return n.Value, true
}

// text reads a bounded string without control characters (but line breaks
// and tabs where multiline).
func (p *parser) text(n *yaml.Node, where string, limit int, multiline bool) (string, bool) {
	s, ok := p.str(n, where)
	if !ok {
		return "", false
	}
	switch {
	case len(s) > limit:
		p.errorf(n.Line, "%s: %d bytes, more than the limit of %d", where, len(s), limit)
	case strings.IndexFunc(s, func(r rune) bool {
		return (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	}) >= 0:
		p.errorf(n.Line, "%s: contains a control character", where)
	default:
		return s, true
	}
	return "", false
}

// title reads the required, non-blank single-line text at key, called
// label in errors.
func (p *parser) title(f fields, key, label string, line int) string {
	n, ok := f.vals[key]
	if !ok {
		p.errorf(line, "%s: missing", label)
		return ""
	}
	s, ok := p.text(n, label, MaxTitle, false)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(n.Line, "%s: blank", label)
	}
	return s
}

// name reads a name or id: lower-case letters, digits and hyphens.
func (p *parser) name(n *yaml.Node, where string) (string, bool) {
	s, ok := p.str(n, where)
	if !ok {
		return "", false
	}
	if len(s) > MaxNameLen || !namePattern.MatchString(s) {
		p.errorf(n.Line, "%s: %q is not a valid name (lower-case letters, digits and hyphens, starting with a letter or digit, at most %d)", where, clip(s), MaxNameLen)
		return "", false
	}
	return s, true
}

func (p *parser) boolean(n *yaml.Node, where string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n.Line, "%s: want true or false, got %s", where, describe(n))
		return false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		p.errorf(n.Line, "%s: want true or false, got %q", where, clip(n.Value))
	}
	return v
}

func (p *parser) integer(n *yaml.Node, where string, lo, hi int) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n.Line, "%s: want a whole number, got %s", where, describe(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < int64(lo) || v > int64(hi) {
		p.errorf(n.Line, "%s: %s is not a whole number from %d to %d", where, clip(n.Value), lo, hi)
		return 0, false
	}
	return int(v), true
}

// duration reads a duration string within [lo, hi]; 0 is accepted when
// zeroOK.
func (p *parser) duration(n *yaml.Node, where string, lo, hi time.Duration, zeroOK bool) (Duration, bool) {
	s, ok := p.str(n, where)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	switch {
	case err != nil:
		p.errorf(n.Line, "%s: %v", where, err)
	case d == 0 && zeroOK:
		return 0, true
	case d < lo || d > hi:
		p.errorf(n.Line, "%s: %s is outside %s to %s", where, Duration(d), Duration(lo), Duration(hi))
	default:
		return Duration(d), true
	}
	return 0, false
}

// oneOf reads a string that must be one of allowed.
func (p *parser) oneOf(n *yaml.Node, where string, allowed []string) (string, bool) {
	s, ok := p.str(n, where)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		p.errorf(n.Line, "%s: unknown value %q (want one of %s)", where, clip(s), strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

var topKeys = []string{"name", "description", "types", "steps"}

func (p *parser) playbook(n *yaml.Node) *Playbook {
	pb := &Playbook{}
	f, ok := p.mapping(n, "", topKeys)
	if !ok {
		return pb
	}
	if v, ok := f.vals["name"]; ok {
		pb.Name, _ = p.name(v, "name")
	} else {
		p.errorf(n.Line, "name: missing (a name such as prompt-injection)")
	}
	if v, ok := f.vals["description"]; ok {
		pb.Description, _ = p.text(v, "description", MaxText, true)
	}
	if v, ok := f.vals["types"]; ok {
		pb.Types = p.types(v)
	} else {
		p.errorf(n.Line, "types: missing (the incident types the playbook runs for)")
	}
	if v, ok := f.vals["steps"]; ok {
		pb.Steps = p.steps(v)
	} else {
		p.errorf(n.Line, "steps: missing")
	}
	return pb
}

func (p *parser) types(n *yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "types: want a list of incident type ids, got %s", describe(n))
		return nil
	}
	switch l := len(n.Content); {
	case l == 0:
		p.errorf(n.Line, "types: empty (name at least one incident type)")
		return nil
	case l > MaxTypes:
		p.errorf(n.Line, "types: %d types, more than the limit of %d", l, MaxTypes)
		return nil
	}
	var out []string
	seen := map[string]int{}
	for _, c := range n.Content {
		s, ok := p.str(c, "types")
		if !ok {
			continue
		}
		if _, err := taxonomy.LookupType(s); err != nil {
			p.errorf(c.Line, "types: %v", err)
			continue
		}
		if first, dup := seen[s]; dup {
			p.errorf(c.Line, "types: %q is listed twice (first on line %d)", s, first)
			continue
		}
		seen[s] = c.Line
		out = append(out, s)
	}
	return out
}

func (p *parser) steps(n *yaml.Node) []Step {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "steps: want a list of steps, got %s", describe(n))
		return nil
	}
	switch l := len(n.Content); {
	case l == 0:
		p.errorf(n.Line, "steps: empty (a playbook needs at least one step)")
		return nil
	case l > MaxSteps:
		p.errorf(n.Line, "steps: %d steps, more than the limit of %d", l, MaxSteps)
		return nil
	}
	out := make([]Step, 0, len(n.Content))
	seen := map[string]int{}
	for i, c := range n.Content {
		s := p.step(c, i)
		if s.ID != "" {
			if first, dup := seen[s.ID]; dup {
				p.errorf(c.Line, "step %q: id: duplicate (first on line %d)", s.ID, first)
			}
			seen[s.ID] = c.Line
		}
		out = append(out, s)
	}
	return out
}

var stepKeys = []string{"id", "title", "kind", "mode", "approval_from", "critical", "retries",
	"action", "window", "channel", "message", "task", "to", "scan"}

// kindKeys are the step keys that belong to one kind only.
var kindKeys = map[string]StepKind{
	"action":  KindPolicy,
	"window":  KindCollectEvidence,
	"channel": KindNotify,
	"message": KindNotify,
	"task":    KindTask,
	"to":      KindTransition,
	"scan":    KindScan,
}

func (p *parser) step(n *yaml.Node, index int) Step {
	s := Step{Retries: DefaultRetries}
	// The id first, so that every later error can name the step.
	where := fmt.Sprintf("step %d", index+1)
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "id" && v.Tag == "!!str" && len(v.Value) <= MaxNameLen && namePattern.MatchString(v.Value) {
				where = fmt.Sprintf("step %q", v.Value)
			}
		}
	}
	f, ok := p.mapping(n, where, stepKeys)
	if !ok {
		return s
	}
	line := n.Line

	if v, ok := f.vals["id"]; ok {
		s.ID, _ = p.name(v, join(where, "id"))
	} else {
		p.errorf(line, "%s: id: missing (a stable id such as block-attacker)", where)
	}
	s.Title = p.title(f, "title", join(where, "title"), line)

	if v, ok := f.vals["kind"]; ok {
		if k, ok := p.str(v, join(where, "kind")); ok {
			if StepKind(k).Valid() {
				s.Kind = StepKind(k)
			} else {
				p.errorf(v.Line, "%s: kind: unknown kind %q (want one of %s)", where, clip(k), kindList())
			}
		}
	} else {
		p.errorf(line, "%s: kind: missing (want one of %s)", where, kindList())
	}

	// Keys of another kind. With no valid kind there is nothing to say.
	if s.Kind != "" {
		for _, key := range stepKeys {
			if want, ok := kindKeys[key]; ok && want != s.Kind && f.keys[key] != nil {
				p.errorf(f.keys[key].Line, "%s: %s: only allowed on a %s step, not on %s", where, key, want, s.Kind)
			}
		}
	}

	p.mode(&s, f, where)

	if v, ok := f.vals["critical"]; ok {
		s.Critical = p.boolean(v, join(where, "critical"))
	}
	if v, ok := f.vals["retries"]; ok {
		if r, ok := p.integer(v, join(where, "retries"), 0, MaxRetries); ok {
			s.Retries = r
		}
	}

	switch s.Kind {
	case KindPolicy:
		if v, ok := f.vals["action"]; ok {
			s.Action = p.action(v, where, line)
		} else {
			p.errorf(line, "%s: action: missing (a policy step puts an action in force)", where)
		}
	case KindCollectEvidence:
		s.Window = Duration(DefaultWindow)
		if v, ok := f.vals["window"]; ok {
			if d, ok := p.duration(v, join(where, "window"), time.Second, MaxWindow, false); ok {
				s.Window = d
			}
		}
	case KindNotify:
		s.Channel = DefaultChannel
		if v, ok := f.vals["channel"]; ok {
			if c, ok := p.str(v, join(where, "channel")); ok {
				if len(c) > MaxNameLen || !channelPattern.MatchString(c) {
					p.errorf(v.Line, "%s: channel: %q is not a webhook name (letters, digits and _ . -, at most %d)", where, clip(c), MaxNameLen)
				} else {
					s.Channel = c
				}
			}
		}
		s.Message = DefaultMessage
		if v, ok := f.vals["message"]; ok {
			if m, ok := p.text(v, join(where, "message"), MaxText, true); ok {
				if strings.TrimSpace(m) == "" {
					p.errorf(v.Line, "%s: message: blank", where)
				} else if _, err := parseMessage(m); err != nil {
					p.errorf(v.Line, "%s: message: %v", where, err)
				} else {
					s.Message = m
				}
			}
		}
	case KindTask:
		if v, ok := f.vals["task"]; ok {
			s.Task = p.task(v, where)
		} else {
			p.errorf(line, "%s: task: missing (title, and optionally description, assignee, due)", where)
		}
	case KindTransition:
		if v, ok := f.vals["to"]; ok {
			if ph, ok := p.str(v, join(where, "to")); ok {
				switch phase, err := taxonomy.ParsePhase(ph); {
				case err != nil:
					p.errorf(v.Line, "%s: to: %v", where, err)
				case phase == taxonomy.PhaseDetection:
					p.errorf(v.Line, "%s: to: every incident starts in detection; a playbook cannot move it back there", where)
				default:
					s.To = ph
				}
			}
		} else {
			p.errorf(line, "%s: to: missing (the phase to move the incident to)", where)
		}
	case KindScan:
		if v, ok := f.vals["scan"]; ok {
			if sf, ok := p.mapping(v, join(where, "scan"), []string{"target"}); ok {
				s.Scan = &ScanSpec{}
				if t, ok := sf.vals["target"]; ok {
					s.Scan.Target, _ = p.oneOf(t, sub(join(where, "scan"), "target"), scanTargets)
				} else {
					p.errorf(v.Line, "%s: scan.target: missing (want one of %s)", where, strings.Join(scanTargets, ", "))
				}
			}
		} else {
			p.errorf(line, "%s: scan: missing (what to verify, e.g. target: model)", where)
		}
	}
	return s
}

func kindList() string {
	names := make([]string, len(stepKinds))
	for i, k := range stepKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// mode sets the step's mode and approval_from. A task is always manual and
// an approval step always waits for approval; the other kinds are auto or
// approval.
func (p *parser) mode(s *Step, f fields, where string) {
	def, allowed := ModeAuto, []Mode{ModeAuto, ModeApproval}
	switch s.Kind {
	case KindTask:
		def, allowed = ModeManual, []Mode{ModeManual}
	case KindApproval:
		def, allowed = ModeApproval, []Mode{ModeApproval}
	}
	s.Mode = def
	if v, ok := f.vals["mode"]; ok {
		if m, ok := p.str(v, join(where, "mode")); ok {
			switch mode := Mode(m); {
			case !mode.Valid():
				p.errorf(v.Line, "%s: mode: unknown mode %q (want auto, approval or manual)", where, clip(m))
			case s.Kind == "":
			case !slices.Contains(allowed, mode) && s.Kind == KindTask:
				p.errorf(v.Line, "%s: mode: a task step is manual (a person does the work), not %s", where, mode)
			case !slices.Contains(allowed, mode) && s.Kind == KindApproval:
				p.errorf(v.Line, "%s: mode: an approval step always waits for approval, not %s", where, mode)
			case !slices.Contains(allowed, mode):
				p.errorf(v.Line, "%s: mode: manual is only for task steps; use approval to have a responder confirm a %s step", where, s.Kind)
			default:
				s.Mode = mode
			}
		}
	}
	if v, ok := f.vals["approval_from"]; ok {
		sev, ok := p.str(v, join(where, "approval_from"))
		if !ok {
			return
		}
		if _, err := event.ParseSeverity(sev); err != nil {
			p.errorf(v.Line, "%s: approval_from: %v", where, err)
			return
		}
		if s.Mode != ModeAuto {
			p.errorf(v.Line, "%s: approval_from: only for auto steps (this step is %s)", where, s.Mode)
			return
		}
		s.ApprovalFrom = sev
	}
}

var taskKeys = []string{"title", "description", "assignee", "due"}

func (p *parser) task(n *yaml.Node, where string) *TaskSpec {
	where = join(where, "task")
	f, ok := p.mapping(n, where, taskKeys)
	if !ok {
		return nil
	}
	t := &TaskSpec{}
	t.Title = p.title(f, "title", sub(where, "title"), n.Line)
	if v, ok := f.vals["description"]; ok {
		t.Description, _ = p.text(v, sub(where, "description"), MaxText, true)
	}
	if v, ok := f.vals["assignee"]; ok {
		t.Assignee, _ = p.text(v, sub(where, "assignee"), MaxTitle, false)
	}
	if v, ok := f.vals["due"]; ok {
		t.Due, _ = p.duration(v, sub(where, "due"), time.Minute, MaxDuration, true)
	}
	return t
}

var actionKeys = []string{"kind", "target", "params", "ttl", "lift"}

// action reads a policy step's action and checks it by building a sample
// policy.Action with a placeholder target of the right shape and running
// the policy's own Validate, so that what the runner will put in force is
// refused now, at the line that is wrong. stepLine is where problems that
// have no line of their own (a missing param) are reported.
func (p *parser) action(n *yaml.Node, where string, stepLine int) *ActionSpec {
	where = join(where, "action")
	f, ok := p.mapping(n, where, actionKeys)
	if !ok {
		return nil
	}
	a := &ActionSpec{Lift: LiftOnClose}
	before := len(p.errs) + p.more
	if v, ok := f.vals["kind"]; ok {
		if k, ok := p.str(v, sub(where, "kind")); ok {
			if policy.Kind(k).Valid() {
				a.Kind = policy.Kind(k)
			} else {
				p.errorf(v.Line, "%s.kind: unknown action kind %q (want one of %s)", where, clip(k), policyKindList())
			}
		}
	} else {
		p.errorf(n.Line, "%s.kind: missing (want one of %s)", where, policyKindList())
	}
	if v, ok := f.vals["target"]; ok {
		a.Target, _ = p.oneOf(v, sub(where, "target"), targets)
	} else {
		p.errorf(n.Line, "%s.target: missing (want one of %s)", where, strings.Join(targets, ", "))
	}
	var params fields
	if v, ok := f.vals["params"]; ok {
		params, a.Params = p.params(v, where)
	}
	if v, ok := f.vals["ttl"]; ok {
		a.TTL, _ = p.duration(v, sub(where, "ttl"), time.Second, MaxDuration, true)
	}
	if v, ok := f.vals["lift"]; ok {
		a.Lift, _ = p.oneOf(v, sub(where, "lift"), []string{LiftOnClose, LiftKeep})
	}
	if len(p.errs)+p.more > before {
		return a // the sample would only repeat what is already said
	}

	sample := policy.Action{
		ID:        "playbook-check",
		Kind:      a.Kind,
		Target:    placeholder(a.Target),
		Params:    a.Params,
		Reason:    "playbook check",
		CreatedBy: "playbook",
		CreatedAt: time.Unix(0, 0).UTC(),
	}
	if a.TTL > 0 {
		exp := sample.CreatedAt.Add(time.Duration(a.TTL))
		sample.ExpiresAt = &exp
	}
	err := sample.Validate()
	var ve *policy.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		for _, prob := range ve.Problems {
			field, msg, _ := strings.Cut(prob, ": ")
			line := stepLine
			switch {
			case strings.HasPrefix(field, "params."):
				key := strings.TrimPrefix(field, "params.")
				if i := strings.IndexByte(key, '['); i >= 0 {
					key = key[:i]
				}
				line = params.keyLine(key, stepLine)
			case strings.HasPrefix(field, "target"):
				line = f.keyLine("target", stepLine)
				msg = fmt.Sprintf("target %q does not fit a %s action: %s", a.Target, a.Kind, msg)
				field = "target"
			}
			p.errorf(line, "%s.%s: %s", where, field, msg)
		}
	default:
		p.errorf(stepLine, "%s: %v", where, err)
	}
	return a
}

// placeholder is a policy target of the shape the runner will fill in.
func placeholder(target string) policy.Target {
	switch target {
	case TargetAttacker:
		return policy.Target{APIKeyHash: "hmac-sha256:0000"}
	case TargetRoute:
		return policy.Target{Route: "placeholder-route"}
	case TargetModel, TargetModelVersion:
		return policy.Target{Model: "placeholder-model"}
	}
	return policy.Target{}
}

func policyKindList() string {
	ks := policy.Kinds()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
