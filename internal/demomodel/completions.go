package demomodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// maxLegacyLogprobs is the most alternatives the completions API returns.
const maxLegacyLogprobs = 5

type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	N             *int            `json:"n"`
	MaxTokens     *int            `json:"max_tokens"`
	Logprobs      *int            `json:"logprobs"`
}

type completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *usage             `json:"usage,omitempty"`
}

type completionChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

func toCompletionLogprobs(lps []logprob) *completionLogprobs {
	out := &completionLogprobs{
		Tokens: make([]string, len(lps)), TokenLogprobs: make([]float64, len(lps)),
		TopLogprobs: make([]map[string]float64, len(lps)), TextOffset: make([]int, len(lps)),
	}
	offset := 0
	for i, lp := range lps {
		out.Tokens[i], out.TokenLogprobs[i], out.TextOffset[i] = lp.token, lp.lp, offset
		offset += len(lp.token)
		top := make(map[string]float64, len(lp.top))
		for _, a := range lp.top {
			top[a.token] = a.lp
		}
		out.TopLogprobs[i] = top
	}
	return out
}

// prompts reads the prompt parameter: a string or a list of strings.
func prompts(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, missing("prompt")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, invalidType("prompt", "a string or a list of strings (token arrays are not supported by the demo model)")
	}
	if len(many) == 0 {
		return nil, invalidValue("prompt", "prompt must not be empty")
	}
	return many, nil
}

// completions serves POST /v1/completions. Each prompt is a conversation
// of one user message.
func (s *Server) completions(w http.ResponseWriter, r *http.Request) error {
	var req completionRequest
	body, err := s.readBody(w, r, &req)
	if err != nil {
		return err
	}
	if req.Model == "" {
		return missing("model")
	}
	ps, err := prompts(req.Prompt)
	if err != nil {
		return err
	}
	n, err := choiceCount(req.N)
	if err != nil {
		return err
	}
	if len(ps)*n > maxOutputs {
		return invalidValue("n", fmt.Sprintf("prompts × n must be at most %d", maxOutputs))
	}
	limit, err := tokenLimit([]string{"max_tokens"}, req.MaxTokens)
	if err != nil {
		return err
	}
	if req.Logprobs != nil && (*req.Logprobs < 0 || *req.Logprobs > maxLegacyLogprobs) {
		return invalidValue("logprobs", fmt.Sprintf("logprobs must be between 0 and %d", maxLegacyLogprobs))
	}
	if req.StreamOptions != nil && !req.Stream {
		return invalidValue("stream_options", "stream_options is only allowed when stream is true")
	}
	if !s.wait(r.Context()) {
		return nil
	}
	resp := completion{
		ID: s.id("cmpl-", body), Object: "text_completion", Created: s.created(), Model: req.Model, SystemFingerprint: s.fingerprint,
	}
	var choices []completionChoice
	promptToks, completionToks := 0, 0
	for p, text := range ps {
		c := &conversation{}
		c.add("user", text)
		promptToks += s.promptTokens(c)
		salt := hashStrings(s.opts.Seed, c.key.String())
		for i := range n {
			g := s.generate(c, i, limit)
			if p == 0 && i == 0 {
				s.count(g.kind)
			}
			completionToks += len(g.toks)
			ch := completionChoice{Text: g.text, Index: p*n + i, FinishReason: &g.finish}
			if req.Logprobs != nil {
				ch.Logprobs = toCompletionLogprobs(logprobs(s.opts.Seed, salt+uint64(i), g.toks, *req.Logprobs))
			}
			choices = append(choices, ch)
		}
	}
	if !req.Stream {
		resp.Choices = choices
		resp.Usage = newUsage(promptToks, completionToks)
		writeJSON(w, http.StatusOK, resp)
		return nil
	}

	st := startStream(w, r)
	for _, ch := range choices {
		finish := ch.FinishReason
		lps := ch.Logprobs
		for j, tok := range tokenize(ch.Text) {
			part := completionChoice{Text: tok, Index: ch.Index}
			if lps != nil {
				part.Logprobs = &completionLogprobs{
					Tokens: lps.Tokens[j : j+1], TokenLogprobs: lps.TokenLogprobs[j : j+1],
					TopLogprobs: lps.TopLogprobs[j : j+1], TextOffset: lps.TextOffset[j : j+1],
				}
			}
			resp.Choices = []completionChoice{part}
			if !st.send(resp) {
				return nil
			}
		}
		resp.Choices = []completionChoice{{Index: ch.Index, FinishReason: finish}}
		if !st.send(resp) {
			return nil
		}
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		resp.Choices = []completionChoice{}
		resp.Usage = newUsage(promptToks, completionToks)
		if !st.send(resp) {
			return nil
		}
	}
	st.done()
	return nil
}
