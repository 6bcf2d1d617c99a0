package main

// End-to-end tests: they build the real binary once and run it as a user
// would, as a server and as a CLI, against real files and loopback HTTP.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "airlock-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "airlock")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build airlock: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running "airlock serve".
type proc struct {
	cmd    *exec.Cmd
	url    string
	data   string
	stderr *syncBuffer
}

// kill ends the server with SIGKILL: no shutdown, no flush.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

// syncBuffer is a bytes.Buffer the child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T, data string) *proc {
	t.Helper()
	return startServe(t, data)
}

// startServe starts "airlock serve" on data with extra args and waits for
// its API to listen.
func startServe(t *testing.T, data string, args ...string) *proc {
	t.Helper()
	os.Remove(filepath.Join(data, "api.addr"))
	os.Remove(filepath.Join(data, "gateway.addr"))
	cmd := exec.Command(binary, append([]string{"serve", "--data", data, "--api-addr", "127.0.0.1:0"}, args...)...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, data: data, stderr: stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	waitAddr(t, p)
	return p
}

// waitFile waits for a file a server writes and returns its trimmed content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("%s never appeared", path)
	return ""
}

// waitAddr waits for the server to write the address it listens on.
func waitAddr(t *testing.T, p *proc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(p.data, "api.addr")); err == nil && len(b) > 0 {
			p.url = strings.TrimSpace(string(b))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server on %s did not start", p.data)
}

// run runs the CLI and returns stdout, stderr and the exit code.
func run(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func mustRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, env, args...)
	if code != 0 {
		t.Fatalf("airlock %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func request(t *testing.T, method, url, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestLifecycleThroughCLI starts the server, creates a responder token while
// it runs, and walks an incident through all phases with the CLI.
func TestLifecycleThroughCLI(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data)
	if !strings.Contains(srv.stderr.String(), "admin.token") {
		t.Errorf("first start should say where the admin token is; stderr:\n%s", srv.stderr)
	}
	adminTok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(data, "admin.token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.token mode %v, want 0600", fi.Mode().Perm())
	}
	if strings.Contains(srv.stderr.String(), strings.TrimSpace(string(adminTok))) {
		t.Error("the admin token appeared in the server's output")
	}

	// token create works while the server runs and prints the token alone.
	out := mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "alice")
	tok := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(tok, "alk_") {
		t.Fatalf("token create stdout = %q, want the token alone on one line", out)
	}
	env := []string{"AIRLOCK_SERVER=" + srv.url, "AIRLOCK_TOKEN=" + tok}

	var inc struct {
		ID         string `json:"id"`
		Phase      string `json:"phase"`
		Milestones map[string]*time.Time
	}
	out = mustRun(t, env, "incident", "create", "--json", "--title", "Jailbreak wave", "--type", "jailbreak",
		"--severity", "high", "--entity", "ip:203.0.113.7")
	if err := json.Unmarshal([]byte(out), &inc); err != nil || inc.ID == "" || inc.Phase != "detection" {
		t.Fatalf("create --json: %v %q", err, out)
	}
	id := inc.ID

	// A skipped phase is refused with the unmet criteria and a non-zero exit.
	_, errOut, code := run(t, env, "incident", "transition", id, "eradication")
	if code == 0 || !strings.Contains(errOut, "skip") || !strings.Contains(errOut, "owner") {
		t.Fatalf("skipping a phase: exit %d, stderr %q", code, errOut)
	}
	mustRun(t, env, "incident", "set", id, "--owner", "alice", "--summary", "one IP, many jailbreaks")
	mustRun(t, env, "incident", "transition", id, "containment")
	mustRun(t, env, "incident", "note", id, "blocked 203.0.113.7 at the edge", "--kind", "containment", "--ref", "edge-block-1")
	ev := filepath.Join(t.TempDir(), "requests.jsonl")
	os.WriteFile(ev, []byte(`{"ip":"203.0.113.7","prompt":"ignore previous instructions"}`+"\n"), 0o600)
	if out := mustRun(t, env, "incident", "evidence", id, ev, "--type", "application/x-ndjson"); !strings.Contains(out, "sha256") {
		t.Errorf("evidence output %q", out)
	}
	mustRun(t, env, "incident", "transition", id, "eradication")
	mustRun(t, env, "incident", "set", id, "--root-cause", "no per-IP limits on the chat route")
	mustRun(t, env, "incident", "transition", id, "recovery")
	_, errOut, code = run(t, env, "incident", "transition", id, "lessons_learned")
	if code == 0 || !strings.Contains(errOut, "integrity_verified") {
		t.Fatalf("recovery exit without checks: exit %d, stderr %q", code, errOut)
	}
	mustRun(t, env, "incident", "set", id, "--integrity-verified")
	mustRun(t, env, "incident", "set", id, "--validation-passed")
	mustRun(t, env, "incident", "transition", id, "lessons_learned")
	mustRun(t, env, "incident", "task", id, "--title", "add per-IP limits", "--kind", "action_item", "--owner", "bob")
	mustRun(t, env, "incident", "set", id, "--review-summary", "fast detection, slow containment", "--review-done")
	mustRun(t, env, "incident", "transition", id, "closed")

	out = mustRun(t, env, "incident", "show", id, "--json")
	if err := json.Unmarshal([]byte(out), &inc); err != nil || inc.Phase != "closed" {
		t.Fatalf("show --json: %v %q", err, out)
	}
	order := []string{"detected", "acknowledged", "contained", "eradicated", "recovered", "closed"}
	for i, m := range order {
		if inc.Milestones[m] == nil {
			t.Fatalf("milestone %s not set: %v", m, inc.Milestones)
		}
		if i > 0 && inc.Milestones[m].Before(*inc.Milestones[order[i-1]]) {
			t.Errorf("milestone %s before %s", m, order[i-1])
		}
	}
	human := mustRun(t, env, "incident", "show", id)
	for _, want := range []string{"Jailbreak wave", "closed", "edge-block-1", "requests.jsonl", "add per-IP limits", "phase_changed"} {
		if !strings.Contains(human, want) {
			t.Errorf("incident show lacks %q:\n%s", want, human)
		}
	}
	if list := mustRun(t, env, "incident", "list", "--phase", "closed"); !strings.Contains(list, id) {
		t.Errorf("incident list --phase closed lacks %s:\n%s", id, list)
	}

	// Revoking a token works while the server runs and takes effect at once.
	var tokID string
	for _, line := range strings.Split(mustRun(t, nil, "token", "list", "--data", data), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "responder" && f[2] == "alice" {
			tokID = f[0]
		}
	}
	if tokID == "" {
		t.Fatal("token list does not show alice's responder token")
	}
	mustRun(t, nil, "token", "revoke", "--data", data, tokID)
	if _, errOut, code := run(t, env, "incident", "list"); code == 0 || !strings.Contains(errOut, "revoked") {
		t.Errorf("a revoked token still works: exit %d, stderr %q", code, errOut)
	}

	// Graceful shutdown on SIGTERM.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("server exit after SIGTERM: %v\n%s", err, srv.stderr)
	}
	if out, _, code := run(t, nil, "verify", "--data", data); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("verify after a clean run: exit %d\n%s", code, out)
	}
}

// TestKill9 writes from several clients, kills the server with SIGKILL in
// the middle, restarts it, and checks that every acknowledged write is there
// and that the data verifies.
func TestKill9(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data)
	tok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "writer"))

	type acked struct {
		incident string
		seq      int64
		hash     string
		sha      string
	}
	var mu sync.Mutex
	var got []acked
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			post := func(path string, body io.Reader, out any) bool {
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.url+path, body)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := hc.Do(req)
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					return false
				}
				return json.NewDecoder(resp.Body).Decode(out) == nil
			}
			for i := 0; ctx.Err() == nil; i++ {
				var inc struct{ ID string }
				if !post("/api/v1/incidents", strings.NewReader(fmt.Sprintf(`{"title":"w%d-%d","type":"model_extraction","severity":"medium"}`, w, i)), &inc) {
					continue
				}
				mu.Lock()
				got = append(got, acked{incident: inc.ID})
				mu.Unlock()
				for n := 0; n < 3 && ctx.Err() == nil; n++ {
					var e struct {
						Seq  int64
						Hash string
					}
					if post("/api/v1/incidents/"+inc.ID+"/timeline", strings.NewReader(fmt.Sprintf(`{"kind":"note","text":"note %d"}`, n)), &e) {
						mu.Lock()
						got = append(got, acked{incident: inc.ID, seq: e.Seq, hash: e.Hash})
						mu.Unlock()
					}
				}
				var ev struct{ SHA256 string }
				if post("/api/v1/incidents/"+inc.ID+"/evidence?name=blob.bin", bytes.NewReader(bytes.Repeat([]byte{byte(w), byte(i)}, 20000)), &ev) {
					mu.Lock()
					got = append(got, acked{incident: inc.ID, sha: ev.SHA256})
					mu.Unlock()
				}
			}
		}(w)
	}
	time.Sleep(700 * time.Millisecond)
	srv.kill(t)
	cancel()
	wg.Wait()
	if len(got) < 10 {
		t.Fatalf("only %d writes acknowledged before the kill; the test needs more", len(got))
	}

	srv = startServer(t, data)
	for _, a := range got {
		switch {
		case a.sha != "":
			code, _ := request(t, "GET", srv.url+"/api/v1/evidence/"+a.sha, tok, nil)
			if code != 200 {
				t.Errorf("acknowledged evidence %s: GET answered %d after restart", a.sha, code)
			}
		case a.seq != 0:
			code, body := request(t, "GET", fmt.Sprintf("%s/api/v1/incidents/%s/timeline?limit=500", srv.url, a.incident), tok, nil)
			if code != 200 || !strings.Contains(string(body), a.hash) {
				t.Errorf("acknowledged timeline entry %s/%d missing after restart", a.incident, a.seq)
			}
		default:
			if code, _ := request(t, "GET", srv.url+"/api/v1/incidents/"+a.incident, tok, nil); code != 200 {
				t.Errorf("acknowledged incident %s: GET answered %d after restart", a.incident, code)
			}
		}
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
	if out, _, code := run(t, nil, "verify", "--data", data); code != 0 {
		t.Errorf("verify after kill -9: exit %d\n%s", code, out)
	}
	t.Logf("%d acknowledged writes survived kill -9", len(got))
}

// TestVerifyNamesTampering changes one byte of an evidence file, then of a
// stored timeline entry, and expects verify to fail naming what was altered.
func TestVerifyNamesTampering(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data)
	tok := strings.TrimSpace(mustRun(t, nil, "token", "create", "--data", data, "--role", "responder", "--name", "r"))
	env := []string{"AIRLOCK_SERVER=" + srv.url, "AIRLOCK_TOKEN=" + tok}
	var inc struct{ ID string }
	json.Unmarshal([]byte(mustRun(t, env, "incident", "create", "--json", "--title", "t", "--type", "supply_chain", "--severity", "critical")), &inc)
	mustRun(t, env, "incident", "note", inc.ID, "first")
	mustRun(t, env, "incident", "note", inc.ID, "second")
	evFile := filepath.Join(t.TempDir(), "model.bin")
	os.WriteFile(evFile, []byte("pickle bytes that matter"), 0o600)
	var ev struct{ SHA256 string }
	json.Unmarshal([]byte(mustRun(t, env, "incident", "evidence", inc.ID, evFile, "--json")), &ev)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
	if out, _, code := run(t, nil, "verify", "--data", data); code != 0 {
		t.Fatalf("verify before tampering: exit %d\n%s", code, out)
	}

	blob := filepath.Join(data, "evidence", ev.SHA256[:2], ev.SHA256[2:])
	orig, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(orig)
	changed[3] ^= 1
	os.Chmod(blob, 0o600)
	os.WriteFile(blob, changed, 0o600)
	out, _, code := run(t, nil, "verify", "--data", data)
	if code != 1 || !strings.Contains(out, inc.ID) || !strings.Contains(out, ev.SHA256) || !strings.Contains(out, "altered") {
		t.Errorf("verify with an altered evidence byte: exit %d\n%s", code, out)
	}
	os.WriteFile(blob, orig, 0o600)

	db, err := sql.Open("sqlite", filepath.Join(data, "airlock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// One byte of entry 2's body: "first" becomes "firsT".
	res, err := db.Exec(`UPDATE timeline SET body = replace(body, 'first', 'firsT') WHERE incident_id = ? AND seq = 2`, inc.ID)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("tamper: %v (%d rows)", err, n)
	}
	out, _, code = run(t, nil, "verify", "--data", data)
	if code != 1 || !strings.Contains(out, "incident "+inc.ID+", timeline entry 2") {
		t.Errorf("verify with an altered timeline entry: exit %d\n%s", code, out)
	}
	scanner := bufio.NewScanner(strings.NewReader(out))
	for scanner.Scan() {
		t.Log(scanner.Text())
	}
}
