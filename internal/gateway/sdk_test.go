package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/airlock-ir/airlock/internal/policy"
)

// TestOpenAISDK points the official Go SDK at the gateway: changing the base
// URL is all a client needs to do.
func TestOpenAISDK(t *testing.T) {
	h := newHarness(t)
	h.up.reply = "Paris is the capital of France."
	client := openai.NewClient(option.WithBaseURL(h.srv.URL+"/v1/"), option.WithAPIKey("sk-sdk-client"), option.WithMaxRetries(0))
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "demo-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the capital of France?")},
	}

	resp, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != h.up.reply {
		t.Errorf("chat: %q", got)
	}

	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var sb strings.Builder
	chunks := 0
	for stream.Next() {
		chunks++
		for _, c := range stream.Current().Choices {
			sb.WriteString(c.Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if sb.String() != h.up.reply || chunks < 3 {
		t.Errorf("stream: %q in %d chunks", sb.String(), chunks)
	}

	emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "demo-embed",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Data) != 1 || len(emb.Data[0].Embedding) != 3 {
		t.Errorf("embeddings: %+v", emb.Data)
	}

	// A refusal reaches the SDK as an API error with the status and code.
	h.apply(policy.Action{Kind: policy.KindBlock, Target: policy.Target{APIKeyHash: h.keys.Hash("sk-sdk-client")}})
	_, err = client.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Code != "blocked" {
		t.Errorf("blocked call: %v", err)
	}
}
