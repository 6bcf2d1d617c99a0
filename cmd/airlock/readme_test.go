package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlocks returns the sh code blocks of one README section.
func readmeBlocks(t *testing.T, section string) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## "+section+"\n")
	if start < 0 {
		t.Fatalf("README has no section %q", section)
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	var blocks [][]string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		blocks = append(blocks, strings.Split(strings.TrimSpace(m[1]), "\n"))
	}
	return blocks
}

var updateReadme = flag.Bool("update-readme", false, "rewrite the demo output shown in README.md from a real run")

// demoOutputMarker precedes the README's block of demo output.
const demoOutputMarker = "<!-- demo output:"

// TestReadmeCommands keeps the README's two commands true: it runs the
// demo and checks that the summary table the README shows is the one a run
// prints, but for times and incident ids.
func TestReadmeCommands(t *testing.T) {
	blocks := readmeBlocks(t, "The two commands")
	if len(blocks) != 2 || blocks[0][0] != "go run ./cmd/airlock demo" || blocks[1][0] != ".ci/run" {
		t.Fatalf("README's two commands changed: %q", blocks)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil || !strings.Contains(string(ci), "go test -race") || !strings.Contains(string(ci), "go run ./cmd/airlock demo --json") {
		t.Errorf(".ci/run must run the tests and the demo: %v %q", err, ci)
	}
	out, errOut, code := run(t, nil, "demo")
	if code != 0 || !strings.Contains(out, "every benign request was answered") || !strings.Contains(out, ", 0 problems.") {
		t.Errorf("demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.TrimSpace(errOut) != "" {
		t.Errorf("demo wrote to stderr (logs belong in the data directory):\n%s", errOut)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(readme), demoOutputMarker)
	if at < 0 {
		t.Fatal("README lacks the demo output block")
	}
	open := at + strings.Index(string(readme[at:]), "\n```\n") + len("\n```\n")
	end := open + strings.Index(string(readme[open:]), "```\n")
	if end < open {
		t.Fatal("README's demo output block is not closed")
	}
	if *updateReadme {
		updated := string(readme[:open]) + demoExcerpt(out) + string(readme[end:])
		if err := os.WriteFile("../../README.md", []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	shown, real := demoTable(string(readme[open:end])), demoTable(out)
	if len(real) == 0 || !slices.EqualFunc(shown, real, slices.Equal[[]string]) {
		t.Errorf("README's demo summary is not what the demo prints (times and ids aside); rerun with -update-readme.\nREADME:\n%q\ndemo:\n%q", shown, real)
	}
}

// demoExcerpt is what the README shows of a demo run: the start, the first
// scenario, and the summary to the end.
func demoExcerpt(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var b strings.Builder
	i := 0
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "2/"); i++ {
		b.WriteString(lines[i] + "\n")
	}
	b.WriteString("...\n\n")
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "Summary"); i++ {
	}
	for ; i < len(lines); i++ {
		b.WriteString(lines[i] + "\n")
	}
	return b.String()
}

var (
	demoTime = regexp.MustCompile(`^\d+\.\d+s$`)
	demoID   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// demoTable is the summary table in text, one row of fields per line,
// times and incident ids replaced by placeholders.
func demoTable(text string) [][]string {
	var rows [][]string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "SCENARIO ") {
			in = true
		}
		if !in {
			continue
		}
		if strings.TrimSpace(line) == "" {
			break
		}
		fields := strings.Fields(line)
		for i, f := range fields {
			switch {
			case demoTime.MatchString(f):
				fields[i] = "TIME"
			case demoID.MatchString(f):
				fields[i] = "ID"
			}
		}
		rows = append(rows, fields)
	}
	return rows
}

// TestReadmeQuickstart runs the quickstart's commands as written, with the
// binary this test built standing in for ./airlock.
func TestReadmeQuickstart(t *testing.T) {
	blocks := readmeBlocks(t, "Quickstart")
	if len(blocks) != 3 {
		t.Fatalf("quickstart has %d sh blocks, want 3 (build+serve, work, verify)", len(blocks))
	}
	work := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(work, "airlock")); err != nil {
		t.Fatal(err)
	}
	// Block 1: build (done by TestMain) and serve.
	var serveArgs []string
	for _, line := range blocks[0] {
		if strings.HasPrefix(line, "./airlock serve ") {
			serveArgs = strings.Fields(strings.TrimPrefix(line, "./airlock "))
		}
	}
	if len(serveArgs) == 0 {
		t.Fatal("quickstart does not start ./airlock serve")
	}
	cmd := exec.Command(binary, append(serveArgs, "--api-addr", "127.0.0.1:0")...)
	cmd.Dir = work
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	data := filepath.Join(work, "airlock-data")
	srv := &proc{cmd: cmd, data: data}
	waitAddr(t, srv)

	shell := func(lines []string, env ...string) string {
		c := exec.Command("bash", "-euo", "pipefail", "-c", strings.Join(lines, "\n"))
		c.Dir = work
		c.Env = append(os.Environ(), env...)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("quickstart block failed: %v\n%s\n--- output:\n%s", err, strings.Join(lines, "\n"), out)
		}
		return string(out)
	}
	out := shell(blocks[1], "AIRLOCK_SERVER="+srv.url)
	for _, want := range []string{"Jailbreak attempts from one IP", "edge-block-1", "containment"} {
		if !strings.Contains(out, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if out := shell(blocks[2]); !strings.Contains(out, "OK") {
		t.Errorf("quickstart verify:\n%s", out)
	}
}

// TestReadmeGateway runs the gateway section as written, with a fake model
// standing in for the upstream and the test's addresses for the defaults.
func TestReadmeGateway(t *testing.T) {
	blocks := readmeBlocks(t, "Contain an attack at the gateway")
	if len(blocks) != 2 || len(blocks[0]) != 1 || !strings.HasPrefix(blocks[0][0], "./airlock serve ") {
		t.Fatalf("gateway section blocks changed: %q", blocks)
	}
	work := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(work, "airlock")); err != nil {
		t.Fatal(err)
	}
	model := fakeModel(t)
	args := strings.Fields(strings.TrimPrefix(blocks[0][0], "./airlock "))
	for i, a := range args {
		if strings.HasPrefix(a, "http://127.0.0.1:11434/v1") {
			args[i] = model.URL + "/v1"
		}
	}
	data := filepath.Join(work, "airlock-data")
	cmd := exec.Command(binary, append(args, "--api-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0")...)
	cmd.Dir = work
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	srv := &proc{cmd: cmd, data: data}
	waitAddr(t, srv)
	var gw []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if gw, _ = os.ReadFile(filepath.Join(data, "gateway.addr")); len(gw) > 0 {
			break
		}
	}
	script := strings.ReplaceAll(strings.Join(blocks[1], "\n"), "http://127.0.0.1:7701", strings.TrimSpace(string(gw)))
	c := exec.Command("bash", "-euo", "pipefail", "-c", script)
	c.Dir = work
	c.Env = append(os.Environ(), "AIRLOCK_SERVER="+srv.url)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("gateway block failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"content":"ok"`) || !strings.Contains(string(out), `"code":"blocked"`) || !strings.Contains(string(out), "block") {
		t.Errorf("gateway section output:\n%s", out)
	}
}
