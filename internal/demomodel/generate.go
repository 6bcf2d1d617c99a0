package demomodel

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Bounds on request parameters.
const (
	maxChoices = 16  // n
	maxOutputs = 128 // choices in one response: prompts × n
)

// generation is one choice's answer.
type generation struct {
	text   string
	toks   []string
	finish string // "stop", or "length" when max tokens cut it
	kind   kind
}

// generate answers c for one choice, cut to maxTokens if that is set.
func (s *Server) generate(c *conversation, choice, maxTokens int) generation {
	text, k := s.answer(c, choice)
	text, cut := truncate(text, maxTokens)
	finish := "stop"
	if cut {
		finish = "length"
	}
	return generation{text: text, toks: tokenize(text), finish: finish, kind: k}
}

// promptTokens counts what the model read, its own system prompt included.
func (s *Server) promptTokens(c *conversation) int { return countTokens(s.systemPrompt) + c.tokens }

// choiceCount checks n.
func choiceCount(n *int) (int, error) {
	if n == nil {
		return 1, nil
	}
	if *n < 1 || *n > maxChoices {
		return 0, invalidValue("n", fmt.Sprintf("n must be between 1 and %d", maxChoices))
	}
	return *n, nil
}

// tokenLimit checks the first of the max-tokens parameters that is set; 0
// means no limit.
func tokenLimit(names []string, values ...*int) (int, error) {
	for i, v := range values {
		if v == nil {
			continue
		}
		if *v < 1 {
			return 0, invalidValue(names[i], names[i]+" must be at least 1")
		}
		return *v, nil
	}
	return 0, nil
}

// streamOptions is the stream_options parameter.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// eventStream writes server-sent events, one flushed event per chunk, and
// remembers the first write error (a client that went away).
type eventStream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	r   *http.Request
	err error
}

func startStream(w http.ResponseWriter, r *http.Request) *eventStream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &eventStream{w: w, rc: http.NewResponseController(w), r: r}
}

// send writes v as one "data:" event; false once the stream is broken.
func (e *eventStream) send(v any) bool {
	if e.err == nil {
		e.err = e.r.Context().Err()
	}
	if e.err != nil {
		return false
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return false
	}
	return e.write(append(append([]byte("data: "), b...), '\n', '\n'))
}

// done ends the stream the OpenAI way.
func (e *eventStream) done() { e.write([]byte("data: [DONE]\n\n")) }

func (e *eventStream) write(b []byte) bool {
	if e.err != nil {
		return false
	}
	if _, e.err = e.w.Write(b); e.err == nil {
		e.err = e.rc.Flush()
	}
	return e.err == nil
}
