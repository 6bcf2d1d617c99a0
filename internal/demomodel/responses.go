package demomodel

import (
	"encoding/json"
	"net/http"
)

type responsesRequest struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    string          `json:"instructions"`
	Stream          bool            `json:"stream"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
}

type response struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	CreatedAt         int64              `json:"created_at"`
	Status            string             `json:"status"`
	IncompleteDetails *incompleteDetails `json:"incomplete_details"`
	Model             string             `json:"model"`
	Output            []outputMessage    `json:"output"`
	Usage             responseUsage      `json:"usage"`
}

type incompleteDetails struct {
	Reason string `json:"reason"`
}

type outputMessage struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []outputText `json:"content"`
}

type outputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

type responseUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	TotalTokens        int `json:"total_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// responses serves POST /v1/responses: one output message of output_text,
// not streamed.
func (s *Server) responses(w http.ResponseWriter, r *http.Request) error {
	var req responsesRequest
	body, err := s.readBody(w, r, &req)
	if err != nil {
		return err
	}
	if req.Model == "" {
		return missing("model")
	}
	if req.Stream {
		return invalidValue("stream", "the demo model does not stream /v1/responses; use /v1/chat/completions to stream")
	}
	limit, err := tokenLimit([]string{"max_output_tokens"}, req.MaxOutputTokens)
	if err != nil {
		return err
	}
	c, err := responsesConversation(req.Instructions, req.Input)
	if err != nil {
		return err
	}
	if !s.wait(r.Context()) {
		return nil
	}
	g := s.generate(c, 0, limit)
	s.count(g.kind)
	id := s.id("resp_", body)
	resp := response{
		ID: id, Object: "response", CreatedAt: s.created(), Status: "completed", Model: req.Model,
		Output: []outputMessage{{
			Type: "message", ID: "msg_" + id[len("resp_"):], Status: "completed", Role: "assistant",
			Content: []outputText{{Type: "output_text", Text: g.text, Annotations: []any{}}},
		}},
	}
	if g.finish == "length" {
		resp.Status, resp.Output[0].Status = "incomplete", "incomplete"
		resp.IncompleteDetails = &incompleteDetails{Reason: "max_output_tokens"}
	}
	resp.Usage.InputTokens = s.promptTokens(c)
	resp.Usage.OutputTokens = len(g.toks)
	resp.Usage.TotalTokens = resp.Usage.InputTokens + resp.Usage.OutputTokens
	writeJSON(w, http.StatusOK, resp)
	return nil
}
