package demomodel

import (
	"fmt"
	"net/http"
)

type chatRequest struct {
	Model               string         `json:"model"`
	Messages            []chatMessage  `json:"messages"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
	N                   *int           `json:"n"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	Logprobs            *bool          `json:"logprobs"`
	TopLogprobs         *int           `json:"top_logprobs"`
}

// chatCompletion is a chat.completion, or a chat.completion.chunk.
type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             *usage       `json:"usage,omitempty"`
}

type chatChoice struct {
	Index        int           `json:"index"`
	Message      *chatDelta    `json:"message,omitempty"`
	Delta        *chatDelta    `json:"delta,omitempty"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatLogprobs struct {
	Content []tokenLogprob `json:"content"`
	Refusal []tokenLogprob `json:"refusal"`
}

type tokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []topLogprob `json:"top_logprobs"`
}

type topLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

func toTokenLogprobs(lps []logprob) []tokenLogprob {
	out := make([]tokenLogprob, len(lps))
	for i, lp := range lps {
		top := make([]topLogprob, len(lp.top))
		for j, a := range lp.top {
			top[j] = topLogprob{Token: a.token, Logprob: a.lp, Bytes: byteValues(a.token)}
		}
		out[i] = tokenLogprob{Token: lp.token, Logprob: lp.lp, Bytes: byteValues(lp.token), TopLogprobs: top}
	}
	return out
}

// chat serves POST /v1/chat/completions.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) error {
	var req chatRequest
	body, err := s.readBody(w, r, &req)
	if err != nil {
		return err
	}
	if req.Model == "" {
		return missing("model")
	}
	if req.Messages == nil {
		return missing("messages")
	}
	if len(req.Messages) == 0 {
		return invalidValue("messages", "messages must not be empty")
	}
	n, err := choiceCount(req.N)
	if err != nil {
		return err
	}
	limit, err := tokenLimit([]string{"max_completion_tokens", "max_tokens"}, req.MaxCompletionTokens, req.MaxTokens)
	if err != nil {
		return err
	}
	wantLogprobs := req.Logprobs != nil && *req.Logprobs
	top := 0
	if req.TopLogprobs != nil {
		if *req.TopLogprobs < 0 || *req.TopLogprobs > MaxTopLogprobs {
			return invalidValue("top_logprobs", fmt.Sprintf("top_logprobs must be between 0 and %d", MaxTopLogprobs))
		}
		if !wantLogprobs {
			return invalidValue("top_logprobs", "top_logprobs needs logprobs set to true")
		}
		top = *req.TopLogprobs
	}
	if req.StreamOptions != nil && !req.Stream {
		return invalidValue("stream_options", "stream_options is only allowed when stream is true")
	}
	c, err := chatConversation(req.Messages)
	if err != nil {
		return err
	}
	if !s.wait(r.Context()) {
		return nil
	}
	gens := make([]generation, n)
	completion := 0
	for i := range gens {
		gens[i] = s.generate(c, i, limit)
		completion += len(gens[i].toks)
	}
	s.count(gens[0].kind)
	salt := hashStrings(s.opts.Seed, c.key.String())
	resp := chatCompletion{
		ID: s.id("chatcmpl-", body), Created: s.created(), Model: req.Model, SystemFingerprint: s.fingerprint,
	}
	logprobsOf := func(i int, toks []string) *chatLogprobs {
		if !wantLogprobs {
			return nil
		}
		return &chatLogprobs{Content: toTokenLogprobs(logprobs(s.opts.Seed, salt+uint64(i), toks, top))}
	}
	if !req.Stream {
		resp.Object = "chat.completion"
		for i, g := range gens {
			text, finish := g.text, g.finish
			resp.Choices = append(resp.Choices, chatChoice{
				Index: i, Message: &chatDelta{Role: "assistant", Content: &text}, Logprobs: logprobsOf(i, g.toks), FinishReason: &finish,
			})
		}
		resp.Usage = newUsage(s.promptTokens(c), completion)
		writeJSON(w, http.StatusOK, resp)
		return nil
	}

	resp.Object = "chat.completion.chunk"
	st := startStream(w, r)
	chunk := func(ch chatChoice) bool {
		resp.Choices = []chatChoice{ch}
		return st.send(resp)
	}
	for i, g := range gens {
		empty := ""
		if !chunk(chatChoice{Index: i, Delta: &chatDelta{Role: "assistant", Content: &empty}}) {
			return nil
		}
		lps := logprobsOf(i, g.toks)
		for j, tok := range g.toks {
			ch := chatChoice{Index: i, Delta: &chatDelta{Content: &tok}}
			if lps != nil {
				ch.Logprobs = &chatLogprobs{Content: lps.Content[j : j+1]}
			}
			if !chunk(ch) {
				return nil
			}
		}
		finish := g.finish
		if !chunk(chatChoice{Index: i, Delta: &chatDelta{}, FinishReason: &finish}) {
			return nil
		}
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		resp.Choices = []chatChoice{}
		resp.Usage = newUsage(s.promptTokens(c), completion)
		if !st.send(resp) {
			return nil
		}
	}
	st.done()
	return nil
}
