package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/policy"
	"github.com/airlock-ir/airlock/internal/redact"
)

// bufferPool recycles the proxy's copy buffers.
type bufferPool struct{}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBufs.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBufs.Put(&b) }

// modifyResponse inspects what the upstream answered before the client sees
// it: whole JSON bodies are read (bounded), protected and measured; event
// streams are wrapped so each chunk is handled as it passes.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	st, _ := resp.Request.Context().Value(stateKey{}).(*reqState)
	if st == nil {
		return nil
	}
	st.ev.Status = resp.StatusCode
	if v := resp.Header.Get("X-Model-Version"); v != "" && len(v) <= maxVersionLen && utf8.ValidString(v) {
		st.ev.ModelVersion = v
	}
	st.ev.Decision = event.DecisionAllowed
	if resp.StatusCode >= 500 {
		st.ev.Decision = event.DecisionUpstreamError
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	out := st.decision.Output
	switch {
	case mt == "text/event-stream":
		resp.Body = g.newStreamInspector(resp.Body, st, out)
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		return nil
	case mt == "application/json" && resp.StatusCode < 300:
		return g.inspectJSON(resp, st, out)
	}
	resp.Body = &emitOnClose{ReadCloser: resp.Body, done: func() { g.emit(st) }}
	return nil
}

// errMalformed refuses an upstream answer that cannot be inspected while
// output protection is on: failing open would leak what it protects.
var errMalformed = errors.New("the model endpoint returned a malformed body")

func (g *Gateway) inspectJSON(resp *http.Response, st *reqState, out policy.Output) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, g.opts.MaxResponse+1))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read upstream body: %w", err)
	}
	if int64(len(body)) > g.opts.MaxResponse {
		if out.Active() {
			return fmt.Errorf("upstream body is larger than %d bytes and cannot be inspected", g.opts.MaxResponse)
		}
		resp.Body = &emitOnClose{ReadCloser: io.NopCloser(io.MultiReader(bytes.NewReader(body), resp.Body)), done: func() { g.emit(st) }}
		return nil
	}
	// Read only what the event and the protection checks need; a generic
	// decode and re-encode happens only when something must be rewritten.
	var sum responseSummary
	summarised := json.Unmarshal(body, &sum) == nil
	output := sum.text()
	if summarised && (!out.Active() || !g.mustRewrite(&sum, output, out)) {
		g.account(st, output, sum.Usage.in(), sum.Usage.out())
		g.setBody(resp, body, st)
		return nil
	}
	// Something must be rewritten, or the body is JSON the summary cannot
	// hold (content parts, a count written 7.0): decode it generically.
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		if out.Active() {
			return errMalformed
		}
		st.ev.Error = "upstream body is not a JSON object"
		g.setBody(resp, body, st)
		return nil
	}
	texts := responseTexts(doc)
	g.measureUsage(doc, st)
	changed := g.protect(texts, doc, st, out)
	var all strings.Builder
	for _, t := range texts {
		all.WriteString(t.get())
	}
	g.account(st, all.String(), st.ev.TokensIn, st.ev.TokensOut)
	if changed {
		if body, err = json.Marshal(doc); err != nil {
			return err
		}
	}
	g.setBody(resp, body, st)
	return nil
}

// account records a whole response's output on the event.
func (g *Gateway) account(st *reqState, output string, tokensIn, tokensOut int) {
	st.ev.TokensIn, st.ev.TokensOut = tokensIn, tokensOut
	st.ev.OutputChars = utf8.RuneCountInString(output)
	st.ev.OutputSHA256 = digest(output)
	st.ev.OutputText = output
	if st.capture {
		st.ev.Output = output
	}
}

// responseSummary is what an unprotected response is read for.
type responseSummary struct {
	Choices []struct {
		Text     string          `json:"text"`
		Logprobs json.RawMessage `json:"logprobs"`
		Message  struct {
			Content string `json:"content"`
			Refusal string `json:"refusal"`
		} `json:"message"`
	} `json:"choices"`
	Output []struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage usage `json:"usage"`
}

// mustRewrite reports whether output protection changes this response.
func (g *Gateway) mustRewrite(sum *responseSummary, output string, out policy.Output) bool {
	if out.MaxOutputChars > 0 && utf8.RuneCountInString(output) > out.MaxOutputChars {
		return true
	}
	if out.Logprobs != "" {
		for _, c := range sum.Choices {
			if len(c.Logprobs) > 0 && string(c.Logprobs) != "null" {
				return true
			}
		}
	}
	// Each text on its own, as protect redacts them: joined, a match at the
	// end of one can run into the next and fail its checks.
	if r := g.redactor(out); r != nil {
		for _, p := range sum.parts() {
			if len(r.Find(p)) > 0 {
				return true
			}
		}
	}
	return false
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	InputTokens      int `json:"input_tokens"`
	OutputTokens     int `json:"output_tokens"`
}

func (u usage) in() int  { return u.PromptTokens + u.InputTokens }
func (u usage) out() int { return u.CompletionTokens + u.OutputTokens }

func (r *responseSummary) text() string { return strings.Join(r.parts(), "") }

func (r *responseSummary) parts() []string {
	var parts []string
	for _, c := range r.Choices {
		parts = append(parts, c.Text, c.Message.Content, c.Message.Refusal)
	}
	for _, o := range r.Output {
		for _, c := range o.Content {
			parts = append(parts, c.Text)
		}
	}
	return parts
}

func (g *Gateway) setBody(resp *http.Response, body []byte, st *reqState) {
	resp.Body = &emitOnClose{ReadCloser: io.NopCloser(bytes.NewReader(body)), done: func() { g.emit(st) }}
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// textRef is a string in a response document that can be rewritten.
type textRef struct {
	get func() string
	set func(string)
}

// responseTexts finds the generated text of chat, completions and responses
// bodies.
func responseTexts(doc map[string]any) []textRef {
	var refs []textRef
	field := func(m map[string]any, k string) {
		if _, ok := m[k].(string); ok {
			refs = append(refs, textRef{get: func() string { s, _ := m[k].(string); return s }, set: func(v string) { m[k] = v }})
		}
	}
	if choices, ok := doc["choices"].([]any); ok {
		for _, c := range choices {
			choice, ok := c.(map[string]any)
			if !ok {
				continue
			}
			field(choice, "text")
			for _, k := range []string{"message", "delta"} {
				if msg, ok := choice[k].(map[string]any); ok {
					field(msg, "content")
					field(msg, "refusal")
					if parts, ok := msg["content"].([]any); ok { // content parts
						for _, p := range parts {
							if part, ok := p.(map[string]any); ok {
								field(part, "text")
							}
						}
					}
				}
			}
		}
	}
	if items, ok := doc["output"].([]any); ok {
		for _, it := range items {
			item, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if parts, ok := item["content"].([]any); ok {
				for _, p := range parts {
					if part, ok := p.(map[string]any); ok {
						field(part, "text")
					}
				}
			}
		}
	}
	return refs
}

func (g *Gateway) measureUsage(doc map[string]any, st *reqState) {
	u, ok := doc["usage"].(map[string]any)
	if !ok {
		return
	}
	if n := intOf(u["prompt_tokens"]) + intOf(u["input_tokens"]); n > 0 {
		st.ev.TokensIn = n
	}
	if n := intOf(u["completion_tokens"]) + intOf(u["output_tokens"]); n > 0 {
		st.ev.TokensOut = n
	}
}

func (g *Gateway) redactor(out policy.Output) *redact.Redactor {
	switch {
	case out.RedactPII && out.RedactSecrets:
		return g.redactAll
	case out.RedactPII:
		return g.redactPII
	case out.RedactSecrets:
		return g.redactSec
	}
	return nil
}

// protect applies output protection to a whole response document.
func (g *Gateway) protect(texts []textRef, doc map[string]any, st *reqState, out policy.Output) bool {
	changed := false
	if r := g.redactor(out); r != nil {
		for _, t := range texts {
			if red, found := r.Redact(t.get()); len(found) > 0 {
				t.set(red)
				st.ev.Redactions += len(found)
				changed = true
			}
		}
	}
	if out.MaxOutputChars > 0 {
		left := out.MaxOutputChars
		for _, t := range texts {
			s := t.get()
			if n := utf8.RuneCountInString(s); n > left {
				t.set(string([]rune(s)[:left]))
				changed = true
				n = left
				left = 0
			} else {
				left -= n
			}
		}
	}
	if out.Logprobs != "" {
		if choices, ok := doc["choices"].([]any); ok {
			for _, c := range choices {
				if choice, ok := c.(map[string]any); ok && choice["logprobs"] != nil {
					if out.Logprobs == "drop" {
						choice["logprobs"] = nil
					} else {
						roundLogprobs(choice["logprobs"], out.LogprobDigits)
					}
					changed = true
				}
			}
		}
	}
	return changed
}

// roundLogprobs rounds every "logprob" number below v, in place, and drops
// the alternatives (top_logprobs): they are what extraction attacks harvest.
func roundLogprobs(v any, digits int) {
	scale := math.Pow(10, float64(digits))
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "logprob":
					if n, ok := val.(json.Number); ok {
						f, _ := n.Float64()
						x[k] = math.Round(f*scale) / scale
					}
				case "top_logprobs":
					x[k] = []any{}
				case "token_logprobs":
					if list, ok := val.([]any); ok {
						for i, e := range list {
							if n, ok := e.(json.Number); ok {
								f, _ := n.Float64()
								list[i] = math.Round(f*scale) / scale
							}
						}
					}
				default:
					walk(val)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// emitOnClose emits the request's event when the proxy has copied the body
// to the client and closes it.
type emitOnClose struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (e *emitOnClose) Close() error {
	err := e.ReadCloser.Close()
	e.once.Do(e.done)
	return err
}

// streamInspector passes a server-sent event stream through event by event,
// redacting across chunk boundaries, measuring output, and ending the stream
// with a proper error event when output protection must stop it.
type streamInspector struct {
	g      *Gateway
	st     *reqState
	out    policy.Output
	src    io.ReadCloser
	rd     *bufio.Reader
	pend   bytes.Buffer // processed bytes not yet returned
	eof    bool
	stop   bool
	redact *redact.Redactor
	// per choice index
	streams map[int]*redact.Stream
	chars   int
	output  strings.Builder
	sum     hashWriter
	once    sync.Once
}

func (g *Gateway) newStreamInspector(body io.ReadCloser, st *reqState, out policy.Output) *streamInspector {
	return &streamInspector{
		g: g, st: st, out: out, src: body, rd: bufio.NewReaderSize(body, 8<<10),
		redact: g.redactor(out), streams: map[int]*redact.Stream{}, sum: newHashWriter(),
	}
}

// maxStreamText bounds how much of a streamed answer is kept for detectors
// and capture.
const maxStreamText = 1 << 20

// maxSSELine bounds one event line; longer is an upstream out of order.
const maxSSELine = 1 << 20

func (s *streamInspector) Read(p []byte) (int, error) {
	for s.pend.Len() == 0 {
		if s.eof {
			return 0, io.EOF
		}
		line, err := s.readLine()
		if len(line) > 0 {
			s.handleLine(line)
		}
		if err != nil {
			s.finish(err)
		}
	}
	return s.pend.Read(p)
}

// readLine reads one line including its newline, bounded by maxSSELine.
func (s *streamInspector) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := s.rd.ReadSlice('\n')
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			if len(line) > maxSSELine {
				return nil, fmt.Errorf("stream line longer than %d bytes", maxSSELine)
			}
			continue
		}
		return line, err
	}
}

func (s *streamInspector) handleLine(line []byte) {
	if s.stop {
		return
	}
	payload, isData := bytes.CutPrefix(line, []byte("data:"))
	if !isData {
		s.pend.Write(line)
		return
	}
	data := bytes.TrimSpace(payload)
	if bytes.Equal(data, []byte("[DONE]")) {
		s.flushStreams()
		s.pend.Write(line)
		return
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&doc) != nil || doc == nil {
		if s.out.Active() {
			s.abort("the model endpoint sent a malformed stream event")
			return
		}
		s.pend.Write(line)
		return
	}
	s.g.measureUsage(doc, s.st)
	changed := false
	if choices, ok := doc["choices"].([]any); ok {
		for _, c := range choices {
			choice, ok := c.(map[string]any)
			if !ok {
				continue
			}
			idx := intOf(choice["index"])
			for _, ref := range responseTexts(map[string]any{"choices": []any{choice}}) {
				text := ref.get()
				s.account(text)
				if s.redact != nil {
					rs := s.streams[idx]
					if rs == nil {
						rs = s.redact.NewStream()
						s.streams[idx] = rs
					}
					text = rs.Write(text)
					if choice["finish_reason"] != nil {
						text += rs.Flush()
						s.st.ev.Redactions += len(rs.Findings())
						delete(s.streams, idx)
					}
					ref.set(text)
					changed = true
				}
			}
			// A final chunk usually carries no text ("delta": {}): release
			// what is held back in it, not after the finish reason.
			if rs := s.streams[idx]; rs != nil && choice["finish_reason"] != nil {
				rest := rs.Flush()
				s.st.ev.Redactions += len(rs.Findings())
				delete(s.streams, idx)
				if rest != "" {
					delta, _ := choice["delta"].(map[string]any)
					if delta == nil {
						delta = map[string]any{}
						choice["delta"] = delta
					}
					delta["content"] = rest
					changed = true
				}
			}
			if s.out.Logprobs != "" && choice["logprobs"] != nil {
				if s.out.Logprobs == "drop" {
					choice["logprobs"] = nil
				} else {
					roundLogprobs(choice["logprobs"], s.out.LogprobDigits)
				}
				changed = true
			}
		}
	}
	if s.out.MaxOutputChars > 0 && s.chars > s.out.MaxOutputChars {
		s.abort("the response reached the output limit set by an incident response action")
		return
	}
	if !changed {
		s.pend.Write(line)
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		s.abort("cannot re-encode a stream event")
		return
	}
	s.pend.WriteString("data: ")
	s.pend.Write(b)
	s.pend.WriteByte('\n')
}

// account measures generated text for the event.
func (s *streamInspector) account(text string) {
	s.chars += utf8.RuneCountInString(text)
	s.sum.WriteString(text)
	if s.output.Len() < maxStreamText {
		s.output.WriteString(text)
	}
}

// flushStreams releases text held back for redaction at the end of the
// stream, as one more chunk.
func (s *streamInspector) flushStreams() {
	for idx, rs := range s.streams {
		rest := rs.Flush()
		s.st.ev.Redactions += len(rs.Findings())
		if rest == "" {
			continue
		}
		b, _ := json.Marshal(map[string]any{"object": "chat.completion.chunk",
			"choices": []any{map[string]any{"index": idx, "delta": map[string]any{"content": rest}, "finish_reason": nil}}})
		fmt.Fprintf(&s.pend, "data: %s\n\n", b)
	}
	s.streams = map[int]*redact.Stream{}
}

// abort ends the stream with an error event the client's SDK can parse,
// then [DONE], and stops reading the upstream.
func (s *streamInspector) abort(msg string) {
	s.stop = true
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "output_blocked", "code": "output_stopped", "param": nil}})
	fmt.Fprintf(&s.pend, "\ndata: %s\n\ndata: [DONE]\n\n", b)
	s.st.ev.Decision = event.DecisionStopped
	s.src.Close()
	s.finish(io.EOF)
}

func (s *streamInspector) finish(err error) {
	s.eof = true
	if err != nil && err != io.EOF && !s.stop {
		s.st.ev.Error = "stream: " + err.Error()
	}
	s.once.Do(func() {
		s.st.ev.OutputChars = s.chars
		if s.chars > 0 {
			s.st.ev.OutputSHA256 = s.sum.Sum()
		}
		s.st.ev.OutputText = s.output.String()
		if s.st.capture {
			s.st.ev.Output = s.st.ev.OutputText
		}
	})
}

func (s *streamInspector) Close() error {
	err := s.src.Close()
	s.finish(nil)
	s.g.emit(s.st)
	return err
}
