package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/config"
	"github.com/airlock-ir/airlock/internal/detect/drift"
	"github.com/airlock-ir/airlock/internal/event"
)

// runGolden asks the golden prompts through the gateway itself (in
// process, so the policy and routing in force apply, as for any caller),
// one scheduler per model, until ctx ends.
func runGolden(ctx context.Context, gw http.Handler, g config.Golden, publish func(event.Event), log *slog.Logger) {
	byModel := map[string][]drift.Golden{}
	for _, p := range goldenPrompts(g) {
		byModel[p.Model] = append(byModel[p.Model], p)
	}
	for model, prompts := range byModel {
		go func() {
			err := drift.RunGolden(ctx, drift.GoldenOptions{
				Prompts: prompts, Interval: time.Duration(g.Interval),
				Ask: func(ctx context.Context, prompt string) (string, string, error) {
					return askGateway(ctx, gw, model, prompt)
				},
				Publish: publish,
			})
			if err != nil {
				log.Error("golden prompts not scheduled", "model", model, "err", err)
			}
		}()
	}
}

// askGateway sends one chat request through the gateway handler and
// returns the answer and the model version that served it.
func askGateway(ctx context.Context, gw http.Handler, model, prompt string) (string, string, error) {
	body, _ := json.Marshal(map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": prompt}}})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "airlock-golden")
	req.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return "", "", fmt.Errorf("golden prompt answered %d: %.200s", rec.Code, rec.Body.String())
	}
	var ans struct {
		Choices []struct {
			Message struct{ Content string }
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || len(ans.Choices) == 0 {
		return "", "", fmt.Errorf("golden prompt: unreadable answer: %.200s", rec.Body.String())
	}
	return ans.Choices[0].Message.Content, rec.Header().Get("X-Model-Version"), nil
}
