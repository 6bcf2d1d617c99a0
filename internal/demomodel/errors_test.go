package demomodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/airlock-ir/airlock/internal/demomodel"
)

func asAPIError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an API error, got %v", err)
	}
	return apiErr
}

// errorBody is the OpenAI error shape.
type errorBody struct {
	Error *struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

const okChat = `{"model":"m","messages":[{"role":"user","content":"hi"}]`

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, param        string
	}{
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[`, 400, "invalid_json", ""},
		{"POST", "/v1/chat/completions", `not json`, 400, "invalid_json", ""},
		{"POST", "/v1/chat/completions", ``, 400, "invalid_json", ""},
		{"POST", "/v1/chat/completions", `[]`, 400, "invalid_json", ""},
		{"POST", "/v1/chat/completions", `null`, 400, "invalid_json", ""},
		{"POST", "/v1/chat/completions", okChat + `} {}`, 400, "invalid_json", ""},
		{"POST", "/v1/chat/completions", `{"model":"m"}`, 400, "missing_required_parameter", "messages"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":null}`, 400, "missing_required_parameter", "messages"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, 400, "invalid_value", "messages"},
		{"POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "missing_required_parameter", "model"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":"hi"}`, 400, "invalid_type", "messages"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"wizard","content":"hi"}]}`, 400, "invalid_value", "messages[0].role"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":42}]}`, 400, "invalid_type", "messages[0].content"},
		{"POST", "/v1/chat/completions", okChat + `,"stream":"yes"}`, 400, "invalid_type", "stream"},
		{"POST", "/v1/chat/completions", okChat + `,"n":0}`, 400, "invalid_value", "n"},
		{"POST", "/v1/chat/completions", okChat + `,"n":17}`, 400, "invalid_value", "n"},
		{"POST", "/v1/chat/completions", okChat + `,"max_tokens":0}`, 400, "invalid_value", "max_tokens"},
		{"POST", "/v1/chat/completions", okChat + `,"logprobs":true,"top_logprobs":21}`, 400, "invalid_value", "top_logprobs"},
		{"POST", "/v1/chat/completions", okChat + `,"top_logprobs":2}`, 400, "invalid_value", "top_logprobs"},
		{"POST", "/v1/chat/completions", okChat + `,"stream_options":{"include_usage":true}}`, 400, "invalid_value", "stream_options"},
		{"POST", "/v1/completions", `{"model":"m"}`, 400, "missing_required_parameter", "prompt"},
		{"POST", "/v1/completions", `{"model":"m","prompt":[1,2,3]}`, 400, "invalid_type", "prompt"},
		{"POST", "/v1/completions", `{"model":"m","prompt":[]}`, 400, "invalid_value", "prompt"},
		{"POST", "/v1/completions", `{"model":"m","prompt":"hi","logprobs":6}`, 400, "invalid_value", "logprobs"},
		{"POST", "/v1/completions", `{"model":"m","prompt":"hi","n":16,"stream":false}`, 200, "", ""},
		{"POST", "/v1/embeddings", `{"model":"e"}`, 400, "missing_required_parameter", "input"},
		{"POST", "/v1/embeddings", `{"model":"e","input":""}`, 400, "invalid_value", "input[0]"},
		{"POST", "/v1/embeddings", `{"model":"e","input":[]}`, 400, "invalid_value", "input"},
		{"POST", "/v1/embeddings", `{"model":"e","input":{"text":"hi"}}`, 400, "invalid_type", "input"},
		{"POST", "/v1/embeddings", `{"model":"e","input":"hi","dimensions":0}`, 400, "invalid_value", "dimensions"},
		{"POST", "/v1/embeddings", `{"model":"e","input":"hi","encoding_format":"hex"}`, 400, "invalid_value", "encoding_format"},
		{"POST", "/v1/embeddings", `{"model":"e","input":[[1,2],[3]]}`, 200, "", ""},
		{"POST", "/v1/responses", `{"model":"m"}`, 400, "missing_required_parameter", "input"},
		{"POST", "/v1/responses", `{"model":"m","input":"hi","stream":true}`, 400, "invalid_value", "stream"},
		{"POST", "/v1/responses", `{"model":"m","input":[{"role":"robot","content":"hi"}]}`, 400, "invalid_value", "input[0].role"},
		{"GET", "/v1/chat/completions", ``, 405, "method_not_allowed", ""},
		{"PUT", "/v1/embeddings", ``, 405, "method_not_allowed", ""},
		{"POST", "/v1/models", `{}`, 405, "method_not_allowed", ""},
		{"POST", "/v1/images/generations", `{}`, 404, "unknown_url", ""},
		{"POST", "/v1/chat/completions/", okChat + `}`, 404, "unknown_url", ""},
		{"GET", "/", ``, 404, "unknown_url", ""},
		{"GET", "/v1/models/nope", ``, 404, "model_not_found", "model"},
	} {
		s := demomodel.New(demomodel.Options{Version: "v3"})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		name := tc.method + " " + tc.path + " " + tc.body
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", name, rec.Code, tc.status, rec.Body)
			continue
		}
		if rec.Header().Get("X-Model-Version") != "v3" {
			t.Errorf("%s: no X-Model-Version", name)
		}
		if tc.status == 200 {
			continue
		}
		var eb errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == nil {
			t.Errorf("%s: not the OpenAI error shape: %s", name, rec.Body)
			continue
		}
		e := eb.Error
		param := ""
		if e.Param != nil {
			param = *e.Param
		}
		if e.Code != tc.code || param != tc.param || e.Type != "invalid_request_error" || e.Message == "" ||
			rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: error %+v (param %q), want code %q param %q", name, e, param, tc.code, tc.param)
		}
		if tc.status == 405 && rec.Header().Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", name)
		}
		if st := s.Stats(); st.Errors != 1 {
			t.Errorf("%s: Stats().Errors = %d", name, st.Errors)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := demomodel.New(demomodel.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("a", demomodel.DefaultMaxBodyBytes) + `"}]}`
	for _, path := range []string{"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb errorBody
		if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(body, &eb) != nil || eb.Error == nil || eb.Error.Code != "request_too_large" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}

	// The bound is an option; just under it is fine.
	small := demomodel.New(demomodel.Options{MaxBodyBytes: 200})
	pad := func(n int) string {
		b := `{"model":"m","messages":[{"role":"user","content":"hi"}],"user":"`
		return b + strings.Repeat("x", n-len(b)-2) + `"}`
	}
	for size, want := range map[int]int{200: 200, 201: 413} {
		rec := httptest.NewRecorder()
		small.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(pad(size))))
		if rec.Code != want {
			t.Errorf("%d bytes: %d, want %d", size, rec.Code, want)
		}
	}
}

func TestSDKSeesErrors(t *testing.T) {
	client := newClient(t, demomodel.New(demomodel.Options{}))
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{}})
	if e := asAPIError(t, err); e.StatusCode != 400 || e.Code != "invalid_value" || e.Param != "messages" {
		t.Errorf("empty messages: %d %q %q", e.StatusCode, e.Code, e.Param)
	}
}
