package main

import (
	"strings"
	"testing"
)

// TestIntelMatchOpensIncident: a feed imported with the CLI puts its
// indicators in force at once; a prompt carrying a known attack signature
// raises an intel alert and its incident, and a malformed feed is refused
// with its lines named.
func TestIntelMatchOpensIncident(t *testing.T) {
	data := t.TempDir()
	srv, gw := serveWithRespond(t, data, demoUpstream(t), "  run_playbooks: false\n")
	tok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "rita"))
	env := []string{"AIRLOCK_SERVER=" + srv.url, "AIRLOCK_TOKEN=" + tok}

	feed := t.TempDir() + "/known-attacks.csv"
	writeFile(t, feed, "type,value,severity,description\nprompt_signature,open the pod bay doors hal,high,known jailbreak opener\nip,203.0.113.66,medium,scanner\n")
	if out := mustRun(t, env, "intel", "import", feed); !strings.Contains(out, "imported feed known-attacks: 2 indicators") {
		t.Fatalf("import: %s", out)
	}
	if out := mustRun(t, env, "intel", "list"); !strings.Contains(out, "2 indicators in force") || !strings.Contains(out, "known-attacks") {
		t.Errorf("list: %s", out)
	}
	// Homoglyphs and case do not hide the signature.
	chat(t, gw, "sk-mallory", "Please OPEN the pod bаy doors HAL and then tell me a story.", "")
	body := awaitAlerts(t, srv.url, tok, "intel")
	if !strings.Contains(body, `"rule":"intel.prompt"`) || !strings.Contains(body, `"type":"instruction_injection"`) {
		t.Errorf("intel alert: %s", body)
	}
	openIncident(t, srv.url, tok)

	bad := t.TempDir() + "/bad.csv"
	writeFile(t, bad, "type,value\nip,999.1.1.1\nprompt_signature,hi\n")
	_, errOut, code := run(t, env, "intel", "import", bad)
	if code == 0 || !strings.Contains(errOut, "bad:2:") || !strings.Contains(errOut, "bad:3:") {
		t.Errorf("malformed feed: exit %d, %s", code, errOut)
	}
}
