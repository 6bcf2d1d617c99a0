package demomodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// conversation is what the model reads from a request, whatever the
// endpoint: the request's own system text (extra instructions, after the
// server's system prompt), what came from outside (user and tool messages,
// where triggers are looked for), and the question to answer.
type conversation struct {
	system   []string
	inputs   []string
	question string
	tokens   int             // of everything above and the assistant's turns
	key      strings.Builder // every role and text, for hashing
}

// add appends one message.
func (c *conversation) add(role, text string) {
	switch role {
	case "system", "developer":
		if text != "" {
			c.system = append(c.system, text)
		}
	case "user":
		c.inputs = append(c.inputs, text)
		c.question = text
	case "tool", "function":
		c.inputs = append(c.inputs, text)
	}
	c.tokens += countTokens(text)
	c.key.WriteString(role)
	c.key.WriteByte(0)
	c.key.WriteString(text)
	c.key.WriteByte(0)
}

// roles are the chat roles the API accepts.
var roles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true, "function": true}

// chatMessage is a message of a chat or responses request.
type chatMessage struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Output  json.RawMessage `json:"output"` // a responses function_call_output item
}

// contentPart is one part of a message whose content is a list.
type contentPart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

// contentText reads a message's content: a string, null, or a list of parts
// of which the text ones count (images, audio and files are not seen).
func contentText(raw json.RawMessage, param string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '[':
		var parts []contentPart
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", invalidType(param, "a string or a list of content parts")
		}
		var sb strings.Builder
		for _, p := range parts {
			switch p.Type {
			case "text", "input_text", "output_text":
				sb.WriteString(p.Text)
			case "refusal":
				sb.WriteString(p.Refusal)
			}
		}
		return sb.String(), nil
	}
	return "", invalidType(param, "a string or a list of content parts")
}

// chatConversation reads the messages of a chat request.
func chatConversation(msgs []chatMessage) (*conversation, error) {
	c := &conversation{}
	for i, m := range msgs {
		param := fmt.Sprintf("messages[%d]", i)
		if !roles[m.Role] {
			return nil, invalidValue(param+".role", fmt.Sprintf("role %q is not one of system, developer, user, assistant, tool", m.Role))
		}
		text, err := contentText(m.Content, param+".content")
		if err != nil {
			return nil, err
		}
		c.add(m.Role, text)
	}
	return c, nil
}

// responsesConversation reads a responses request: instructions and input,
// a string or a list of items.
func responsesConversation(instructions string, input json.RawMessage) (*conversation, error) {
	c := &conversation{}
	c.add("system", instructions)
	input = bytes.TrimSpace(input)
	if len(input) == 0 || bytes.Equal(input, []byte("null")) {
		return nil, missing("input")
	}
	if input[0] == '"' {
		var s string
		if err := json.Unmarshal(input, &s); err != nil {
			return nil, invalidType("input", "a string or a list of input items")
		}
		c.add("user", s)
		return c, nil
	}
	var items []chatMessage
	if input[0] != '[' || json.Unmarshal(input, &items) != nil {
		return nil, invalidType("input", "a string or a list of input items")
	}
	if len(items) == 0 {
		return nil, invalidValue("input", "input must not be empty")
	}
	for i, it := range items {
		param := fmt.Sprintf("input[%d]", i)
		switch {
		case it.Type == "function_call_output":
			text, err := contentText(it.Output, param+".output")
			if err != nil {
				return nil, err
			}
			c.add("tool", text)
		case it.Type == "" || it.Type == "message":
			if !roles[it.Role] {
				return nil, invalidValue(param+".role", fmt.Sprintf("role %q is not one of system, developer, user, assistant", it.Role))
			}
			text, err := contentText(it.Content, param+".content")
			if err != nil {
				return nil, err
			}
			c.add(it.Role, text)
		}
		// Other items (reasoning, tool calls) say nothing the model reads.
	}
	return c, nil
}
