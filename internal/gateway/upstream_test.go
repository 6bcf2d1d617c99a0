package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeUpstream is an OpenAI-compatible model endpoint on loopback that
// records what it received and answers with scripted text.
type fakeUpstream struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []seenRequest
	reply    string   // the assistant's answer
	chunks   []string // streamed answer pieces (default: reply split in words)
	logprobs bool
	status   int    // non-200 answer
	rawBody  string // answer verbatim (malformed bodies)
	gate     chan struct{}
}

type seenRequest struct {
	Path   string
	Header http.Header
	Body   map[string]any
	Raw    string
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	f := &fakeUpstream{reply: "Hello from the model."}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeUpstream) URL() string { return f.srv.URL + "/v1" }

func (f *fakeUpstream) last() seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return seenRequest{}
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeUpstream) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.requests = append(f.requests, seenRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: string(raw)})
	reply, chunks, status, rawBody, logprobs, gate := f.reply, f.chunks, f.status, f.rawBody, f.logprobs, f.gate
	f.mu.Unlock()

	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"upstream says no","type":"server_error"}}`)
		return
	}
	if rawBody != "" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, rawBody)
		return
	}
	switch r.URL.Path {
	case "/v1/models":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"demo-model","object":"model","created":0,"owned_by":"test"}]}`)
	case "/v1/embeddings":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"demo-embed","usage":{"prompt_tokens":3,"total_tokens":3}}`)
	case "/v1/chat/completions":
		if stream, _ := body["stream"].(bool); stream {
			if chunks == nil {
				for _, w := range strings.SplitAfter(reply, " ") {
					chunks = append(chunks, w)
				}
			}
			w.Header().Set("Content-Type", "text/event-stream")
			fl := w.(http.Flusher)
			for i, c := range chunks {
				if gate != nil && i > 0 {
					<-gate
				}
				b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "demo-model",
					"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": c}, "finish_reason": nil}}})
				fmt.Fprintf(w, "data: %s\n\n", b)
				fl.Flush()
			}
			b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "demo-model",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
			fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
			return
		}
		choice := map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": reply}, "finish_reason": "stop"}
		if logprobs {
			choice["logprobs"] = map[string]any{"content": []any{map[string]any{"token": "Hello", "logprob": -0.123456,
				"top_logprobs": []any{map[string]any{"token": "Hi", "logprob": -2.5}}}}}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c1", "object": "chat.completion", "created": 1, "model": "demo-model",
			"choices": []any{choice}, "usage": map[string]any{"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}})
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}
}
