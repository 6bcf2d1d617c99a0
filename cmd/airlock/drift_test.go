package main

import (
	"strings"
	"testing"
)

// TestGoldenPromptsThroughTheGateway: a golden prompt configured in the
// file is asked through the running gateway on its schedule; an answer that
// fails its expectation raises a drift.golden alert naming it.
func TestGoldenPromptsThroughTheGateway(t *testing.T) {
	data := t.TempDir()
	cfg := t.TempDir() + "/airlock.yaml"
	writeFile(t, cfg, `detect:
  golden:
    interval: 1s
    prompts:
      - {id: refund-policy, model: support-bot, prompt: "How do refunds work?", expected: "We never give refunds.", match: exact}
respond:
  run_playbooks: false
`)
	srv, _ := startServeArgs(t, data, "--upstream", demoUpstream(t), "--config", cfg)
	tok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "viewer", "--name", "v"))
	body := awaitAlerts(t, srv.url, tok, "drift")
	if !strings.Contains(body, `"rule":"drift.golden"`) || !strings.Contains(body, "refund-policy") {
		t.Errorf("golden alert: %s", body)
	}
}
