package tensors

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// templateRule is one template-injection pattern. Most are matched
// against the template's code with string literals emptied, so prose in a
// literal ("answer the user's request.") cannot trip them; names that are
// only ever reached through literals (dunders, given to attr() or [ ]) are
// matched against the code with literals kept, escapes decoded and
// adjacent literals joined.
type templateRule struct {
	re         *regexp.Regexp
	reason     string // may hold %s for the first group (or the match)
	inLiterals bool
}

// templateRules are the ways a Jinja template reaches out of the sandbox of
// "format these messages": Python object internals, gadgets among Jinja's
// and Flask's globals, process and file access, and the tricks that build
// forbidden names out of harmless-looking pieces. None has a place in a
// chat template.
var templateRules = []templateRule{
	{regexp.MustCompile(`_TemplateReference__context`), "reaches the template context through self._TemplateReference__context", true},
	{regexp.MustCompile(`\bnamespace\s*\.\s*__init__`), "namespace.__init__ gadget (leads to __globals__)", true},
	{regexp.MustCompile(`__[A-Za-z][A-Za-z0-9_]*?__`), "Python dunder name %s", true},
	{regexp.MustCompile(`\b(mro|func_globals|f_globals|f_locals|f_back|f_builtins|gi_frame|gi_code|cr_frame|tb_frame|co_code)\b`), "Python frame or class internals: %s", true},
	{regexp.MustCompile(`\b(popen|subprocess|check_output|spawn[lv]p?e?)\b`), "process execution: %s", true},
	{regexp.MustCompile(`%c[^'"]*['"]\s*(\|\s*format|%)`), "builds characters with %%c formatting", true},
	{regexp.MustCompile(`\b(lipsum|cycler|joiner)\b`), "Jinja global %s (a known gadget for reaching Python globals)", false},
	{regexp.MustCompile(`\bself\s*(\.\s*[A-Za-z_]|\[|\|)`), "uses self (the template reference object)", false},
	{regexp.MustCompile(`\b(request|config)\s*(\.\s*[A-Za-z_]|\[|\|)`), "Flask global %s", false},
	{regexp.MustCompile(`\b(url_for|get_flashed_messages)\b`), "Flask global %s", false},
	{regexp.MustCompile(`\b(os|sys|subprocess|importlib|shutil|socket|pty|builtins)\s*(\.\s*[A-Za-z_]|\[|\|)`), "Python module access: %s", false},
	{regexp.MustCompile(`\b(eval|exec|compile|__import__|import_module|system|open|getattr|setattr|delattr|globals|locals|vars|breakpoint|chr|ord)\s*\(`), "calls %s", false},
	{regexp.MustCompile(`\battr\s*\(`), "attr() filter: attribute looked up by computed name", false},
	{regexp.MustCompile(`\bdict\s*\(\s*_\w*\s*=`), "dict(...) with underscore keywords (names built from keyword arguments)", false},
	{regexp.MustCompile(`(?m)^[-+]?\s*(import|include|extends|from)\s`), "loads another template: %s", false},
}

// escapeRE matches the escapes Python and Jinja string literals accept that
// can spell any character.
var escapeRE = regexp.MustCompile(`\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0-7]{1,3})`)

// literalJoinRE matches the seam between two adjacent string literals
// joined with ~, + or a list comma: 'ab'~'cd', "ab" + "cd", ['ab','cd'].
var literalJoinRE = regexp.MustCompile(`['"]\s*[~+,]?\s*['"]`)

// CheckChatTemplate returns the reasons a Jinja chat template looks like a
// template-injection (server-side template injection) payload, one per kind
// of pattern found, or nil. It reports and does not decide: the caller
// weighs the reasons.
//
// Only the template's code is examined — what lies inside {{ }} and {% %}
// — since text outside them is printed, never evaluated. Patterns are matched after escape sequences are decoded
// ('\x5f' is '_') and adjacent string literals joined ('__cla'~'ss__' is
// '__class__'), so the usual disguises do not hide them; the escapes
// themselves are a reason when they spell identifier characters.
func CheckChatTemplate(tpl string) []string {
	code := templateCode(tpl)
	var reasons []string
	seen := map[string]bool{}
	add := func(r string) {
		if !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	decoded, hidden := decodeEscapes(code)
	if hidden != "" {
		add(fmt.Sprintf("escape sequences spell identifier characters (%s)", hidden))
	}
	withLiterals := literalJoinRE.ReplaceAllString(decoded, "")
	withoutLiterals := emptyLiterals(code)
	for _, rule := range templateRules {
		text := withoutLiterals
		if rule.inLiterals {
			text = withLiterals
		}
		for _, m := range rule.re.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(rule.reason, "%s") {
				add(rule.reason)
				break
			}
			add(fmt.Sprintf(rule.reason, m[min(1, len(m)-1)])) // the first group, or the match
		}
	}
	return reasons
}

// decodeEscapes decodes numeric escapes. hidden lists, for the report, the
// first escapes that stand for letters, digits, '_' or '.': characters that
// have no reason to be escaped but to hide a name.
func decodeEscapes(s string) (decoded, hidden string) {
	var examples []string
	decoded = escapeRE.ReplaceAllStringFunc(s, func(esc string) string {
		var v uint64
		var err error
		switch esc[1] {
		case 'x', 'u', 'U':
			v, err = strconv.ParseUint(esc[2:], 16, 32)
		default:
			v, err = strconv.ParseUint(esc[1:], 8, 32)
		}
		if err != nil || v > 0x10ffff {
			return esc
		}
		r := rune(v)
		if r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			if len(examples) < 3 {
				examples = append(examples, esc)
			}
		}
		return string(r)
	})
	return decoded, strings.Join(examples, " ")
}

// templateCode returns the contents of the template's {{ }} and {% %}
// blocks, one per line.
func templateCode(tpl string) string {
	var b strings.Builder
	for {
		i := strings.Index(tpl, "{")
		if i < 0 || i+1 >= len(tpl) {
			return b.String()
		}
		var closer byte
		switch tpl[i+1] {
		case '{':
			closer = '}'
		case '%':
			closer = '%'
		default:
			tpl = tpl[i+1:]
			continue
		}
		body := tpl[i+2:]
		j := blockEnd(body, closer)
		b.WriteString(body[:j])
		b.WriteByte('\n')
		tpl = body[min(j+2, len(body)):]
	}
}

// blockEnd is the index in body of the delimiter closer+'}' that ends a
// block, skipping string literals; len(body) if the block is unterminated.
func blockEnd(body string, closer byte) int {
	quote := byte(0)
	for j := 0; j < len(body); j++ {
		c := body[j]
		switch {
		case quote != 0 && c == '\\':
			j++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == closer && j+1 < len(body) && body[j+1] == '}':
			return j
		}
	}
	return len(body)
}

// emptyLiterals replaces each string literal in code by an empty one.
func emptyLiterals(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c != '\'' && c != '"' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("''")
		for i++; i < len(code) && code[i] != c; i++ {
			if code[i] == '\\' {
				i++
			}
		}
	}
	return b.String()
}
