package playbook

import (
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// MessageData is what a notify step's message is rendered with.
type MessageData struct {
	Incident MessageIncident
	Step     MessageStep
}

// MessageIncident is the incident as a message sees it.
type MessageIncident struct {
	ID       string
	Title    string
	Type     string
	Severity string
}

// MessageStep is the notify step as a message sees it.
type MessageStep struct {
	Title string
}

// DefaultMessage is the message of a notify step that does not set one.
const DefaultMessage = "Airlock incident {{.Incident.ID}} ({{.Incident.Type}}, {{.Incident.Severity}}): {{.Incident.Title}}. {{.Step.Title}}"

// messageFields are the only things a message may refer to. Templates are
// limited to text and these fields so that rendering is as cheap as the
// text: no loops, no functions (printf "%999999999d" would allocate a
// gigabyte), nothing that can fail once the playbook has loaded.
var messageFields = []string{".Incident.ID", ".Incident.Title", ".Incident.Type", ".Incident.Severity", ".Step.Title"}

// parseMessage parses a message template and checks that it uses only text
// and the fields in messageFields.
func parseMessage(text string) (*template.Template, error) {
	t, err := template.New("message").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if t.Tree == nil || t.Tree.Root == nil {
		return t, nil
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("define and block are not allowed; use only text and %s", fieldList())
	}
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			if !plainField(n.Pipe) {
				return nil, fmt.Errorf("{{%s}} is not allowed; use only %s", clip(strings.TrimSuffix(strings.TrimPrefix(n.String(), "{{"), "}}")), fieldList())
			}
		default:
			return nil, fmt.Errorf("%s is not allowed; use only text and %s", clip(n.String()), fieldList())
		}
	}
	return t, nil
}

func plainField(p *parse.PipeNode) bool {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok {
		return false
	}
	name := "." + strings.Join(f.Ident, ".")
	for _, m := range messageFields {
		if name == m {
			return true
		}
	}
	return false
}

func fieldList() string {
	parts := make([]string, len(messageFields))
	for i, f := range messageFields {
		parts[i] = "{{" + f + "}}"
	}
	return strings.Join(parts, ", ")
}

// RenderMessage renders a notify step's message (DefaultMessage if it has
// none) for data.
func (s *Step) RenderMessage(data MessageData) (string, error) {
	text := s.Message
	if text == "" {
		text = DefaultMessage
	}
	t, err := parseMessage(text)
	if err != nil {
		return "", fmt.Errorf("step %q: message: %w", s.ID, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("step %q: message: %w", s.ID, err)
	}
	return b.String(), nil
}
