package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/airlock-ir/airlock/internal/detect/promptinject"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting. Real requests nest a handful of levels (tool
// schemas a few more); anything deeper is an attack on parsers.
const maxDepth = 64

// checkDepth scans JSON for nesting deeper than maxDepth without building
// anything, so a hostile body costs one linear pass.
func checkDepth(b []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return fmt.Errorf("JSON nests deeper than %d levels", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// apiRequest is a parsed OpenAI request body: the generic document (so it
// can be rewritten and forwarded with every field it had) and what the
// gateway needs from it.
type apiRequest struct {
	doc   map[string]any
	Model string
	User  string

	Stream      bool
	Messages    int
	MaxTokens   int
	N           int
	Logprobs    bool
	TopLogprobs int
	LogitBias   int

	changed bool // the document was rewritten and must be re-encoded

	texts   []*string      // every prompt string, in order
	roles   []string       // the role that wrote texts[i]
	setters []func(string) // writes texts[i] back into doc
}

// parseRequest decodes a JSON request body. It refuses invalid UTF-8, deep
// nesting, trailing data and anything that is not an object.
func parseRequest(body []byte) (*apiRequest, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("request body is not valid UTF-8")
	}
	if err := checkDepth(body); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	if doc == nil {
		return nil, fmt.Errorf("request body is not a JSON object")
	}
	r := &apiRequest{doc: doc}
	r.Model, _ = doc["model"].(string)
	r.User, _ = doc["user"].(string)
	r.Stream, _ = doc["stream"].(bool)
	r.MaxTokens = intField(doc, "max_tokens", "max_completion_tokens", "max_output_tokens")
	r.N = intField(doc, "n")
	r.Logprobs = requested(doc["logprobs"])
	if _, isBool := doc["logprobs"].(bool); !isBool { // the completions API takes a count
		r.TopLogprobs = max(intOf(doc["logprobs"]), 0)
	}
	if n := intField(doc, "top_logprobs"); n > 0 {
		r.TopLogprobs = n
	}
	if lb, ok := doc["logit_bias"].(map[string]any); ok {
		r.LogitBias = len(lb)
	}
	r.collectTexts()
	return r, nil
}

func intField(doc map[string]any, names ...string) int {
	for _, name := range names {
		if n := intOf(doc[name]); n != 0 {
			return n
		}
	}
	return 0
}

// collectTexts finds every string a model reads as input: chat messages
// (string or parts), tool-call arguments, legacy prompts, embeddings and
// responses inputs, and instructions.
func (r *apiRequest) collectTexts() {
	if msgs, ok := r.doc["messages"].([]any); ok {
		r.Messages = len(msgs)
		for _, m := range msgs {
			r.collectMessage(m)
		}
	}
	for _, f := range []struct{ key, role string }{
		{"prompt", "user"}, {"input", "user"}, {"instructions", "system"}, {"system", "system"},
	} {
		r.collectValue(r.doc, f.key, f.role)
	}
}

func (r *apiRequest) collectMessage(m any) {
	msg, ok := m.(map[string]any)
	if !ok {
		return
	}
	role, _ := msg["role"].(string)
	if role == "" {
		role = "user"
	}
	r.collectValue(msg, "content", role)
	if calls, ok := msg["tool_calls"].([]any); ok {
		for _, c := range calls {
			if call, ok := c.(map[string]any); ok {
				if fn, ok := call["function"].(map[string]any); ok {
					r.collectValue(fn, "arguments", role)
				}
			}
		}
	}
}

// collectValue records parent[key] if it is a string, or walks it if it is a
// list of strings, content parts or messages.
func (r *apiRequest) collectValue(parent map[string]any, key, role string) {
	switch v := parent[key].(type) {
	case string:
		r.addText(parent, key, role)
	case []any:
		for i, item := range v {
			switch it := item.(type) {
			case string:
				r.addListText(v, i, role)
			case map[string]any:
				if _, isText := it["text"].(string); isText {
					r.addText(it, "text", role)
				}
				if _, isMsg := it["content"]; isMsg {
					r.Messages++
					r.collectMessage(it)
				}
			}
		}
	}
}

// Texts are kept as pointers into small boxes so the rewrite can write back.
func (r *apiRequest) addText(parent map[string]any, key, role string) {
	s := parent[key].(string)
	r.texts = append(r.texts, &s)
	r.roles = append(r.roles, role)
	r.setters = append(r.setters, func(v string) { parent[key] = v })
}

func (r *apiRequest) addListText(list []any, i int, role string) {
	s := list[i].(string)
	r.texts = append(r.texts, &s)
	r.roles = append(r.roles, role)
	r.setters = append(r.setters, func(v string) { list[i] = v })
}

// Conversation is every input text with the role that wrote it, for the
// prompt guard, which scores tool results and documents differently.
func (r *apiRequest) Conversation() []promptinject.Message {
	msgs := make([]promptinject.Message, len(r.texts))
	for i, t := range r.texts {
		msgs[i] = promptinject.Message{Role: r.roles[i], Content: *t}
	}
	return msgs
}

// Prompt is every input text joined by newlines.
func (r *apiRequest) Prompt() string {
	switch len(r.texts) {
	case 0:
		return ""
	case 1:
		return *r.texts[0]
	}
	parts := make([]string, len(r.texts))
	for i, t := range r.texts {
		parts[i] = *t
	}
	return strings.Join(parts, "\n")
}

// PromptChars counts characters (not bytes) of input text.
func (r *apiRequest) PromptChars() int {
	n := 0
	for _, t := range r.texts {
		n += utf8.RuneCountInString(*t)
	}
	return n
}

// rewriteTexts applies f to every input text and reports whether any changed.
func (r *apiRequest) rewriteTexts(f func(string) string) bool {
	changed := false
	for i, t := range r.texts {
		if v := f(*t); v != *t {
			*t = v
			r.setters[i](v)
			changed = true
		}
	}
	return changed
}

// set replaces or removes (v == nil) a top-level field.
func (r *apiRequest) set(key string, v any) {
	if v == nil {
		delete(r.doc, key)
		return
	}
	r.doc[key] = v
}

func (r *apiRequest) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.doc); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
