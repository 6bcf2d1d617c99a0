package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the parsed good files")

// goodWant holds the Config each testdata/*.good.yaml must parse to; every
// good file needs an entry so that none only checks "no error".
var goodWant = map[string]func() Config{
	"defaults.good.yaml": Default,
	"full.good.yaml": func() Config {
		return Config{
			API: API{
				Addr:              "0.0.0.0:8443",
				MaxBodyBytes:      2 * MiB,
				ReadHeaderTimeout: Duration(5 * time.Second),
				ShutdownTimeout:   Duration(90 * time.Second),
			},
			Gateway: Gateway{
				Addr:            "127.0.0.1:8080",
				MaxBodyBytes:    8 * MiB,
				UpstreamTimeout: Duration(45 * time.Second),
				TrustedProxies:  []string{"10.0.0.0/8", "192.0.2.1"},
				Routes: []Route{{
					Name:   "chat",
					Models: []string{"support-bot", "gpt-*"},
					Upstreams: []Upstream{
						{Name: "primary", URL: "http://127.0.0.1:11434/v1", APIKeyEnv: "OPENAI_API_KEY"},
						{Name: "previous", URL: "http://127.0.0.1:11435/v1", Backup: true},
					},
				}},
			},
			Respond:  Respond{Window: Duration(time.Hour), Owner: "on-call", RunPlaybooks: true},
			Evidence: Evidence{MaxBytes: 500e9},
			Log:      Log{Level: "debug", Format: "json"},
		}
	},
	"partial.good.yaml": func() Config {
		c := Default()
		c.API.Addr = ":0"
		c.Log.Format = "json"
		return c
	},
	"units.good.yaml": func() Config {
		c := Default()
		c.API.Addr = "[::1]:7700"
		c.API.MaxBodyBytes = KiB
		c.API.ReadHeaderTimeout = Duration(250 * time.Millisecond)
		c.API.ShutdownTimeout = Duration(time.Hour)
		c.Evidence.MaxBytes = TiB
		return c
	},
	"flow.good.yaml": func() Config {
		c := Default()
		c.API.Addr = "localhost:7700"
		c.API.MaxBodyBytes = 64 * KiB
		c.Evidence.MaxBytes = 1
		c.Log.Level = "warn"
		return c
	},
}

func TestGoodFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good files: %v", err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := goodWant[name]
			if !ok {
				t.Fatalf("add the Config %s must parse to to goodWant", name)
			}
			got, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, want()) {
				t.Errorf("got  %+v\nwant %+v", got, want())
			}

			// The printed form is golden, and reads back as the same Config.
			out, err := yaml.Marshal(got)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			golden := strings.TrimSuffix(file, ".good.yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantOut, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out, wantOut) {
				t.Errorf("printed config differs from %s (go test -update rewrites it):\n%s", golden, out)
			}
			again, err := Parse(out, "printed")
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("printed config does not read back: %+v, %v", again, err)
			}
		})
	}
	for name := range goodWant {
		if !seen[name] {
			t.Errorf("goodWant has %s but testdata does not", name)
		}
	}
}

// TestBadFiles parses each testdata/*.bad.yaml and checks the error holds
// every "# want: ..." line at the top of the file.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			wants := wantLines(data)
			if len(wants) == 0 {
				t.Fatalf("%s has no \"# want: ...\" line at the top", name)
			}
			cfg, err := Parse(data, name)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", cfg)
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Errorf("Parse returned a Config with its error: %+v", cfg)
			}
			for _, want := range wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			checkSourced(t, err, name)
			checkNoLeaks(t, err, name)
		})
	}
}

func wantLines(data []byte) []string {
	var wants []string
	for line := range strings.Lines(string(data)) {
		want, ok := strings.CutPrefix(line, "# want: ")
		if !ok {
			break
		}
		wants = append(wants, strings.TrimRight(want, "\r\n"))
	}
	return wants
}

// checkSourced fails unless every line of err starts with the source name.
func checkSourced(t *testing.T, err error, source string) {
	t.Helper()
	for line := range strings.Lines(err.Error()) {
		if !strings.HasPrefix(line, source+": ") {
			t.Errorf("error line %q does not start with %q", line, source+": ")
		}
	}
}

// checkNoLeaks fails if a raw yaml.v3 message or a Go type got through.
func checkNoLeaks(t *testing.T, err error, source string) {
	t.Helper()
	for line := range strings.Lines(err.Error()) {
		msg := strings.TrimPrefix(line, source+": ")
		for _, leak := range []string{"config.", "yaml: ", "!!", "int64", "not found in type", "already defined"} {
			if strings.Contains(msg, leak) {
				t.Errorf("error line %q leaks %q", line, leak)
			}
		}
	}
}

func TestParseInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{[]byte("\xff"), "x.yaml: line 1: invalid UTF-8 (byte 0xff at column 1)"},
		{[]byte("api:\n  addr: \"é\xc3\"\n"), "x.yaml: line 2: invalid UTF-8 (byte 0xc3 at column 11)"},
		{[]byte("log:\r\n  level: \xed\xa0\x80\n"), "x.yaml: line 2: invalid UTF-8 (byte 0xed at column 10)"}, // a UTF-16 surrogate
		{[]byte("\xfe\xff\x00a\x00:\x00 \x001"), "x.yaml: line 1: invalid UTF-8 (byte 0xfe at column 1)"},     // UTF-16 with its BOM
	} {
		_, err := Parse(tc.data, "x.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.data, err, tc.want)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, data := range []string{"", "\n\n", "# only a comment\n", "---\n", "--- # doc\n...\n", "~\n", "\ufeff# BOM\n"} {
		got, err := Parse([]byte(data), "x.yaml")
		if err != nil || !reflect.DeepEqual(got, Default()) {
			t.Errorf("Parse(%q) = %+v, %v; want the defaults", data, got, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "absent.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load = %v, want fs.ErrNotExist", err)
		}
	})

	t.Run("errors name the path", func(t *testing.T) {
		path := filepath.Join(dir, "airlock.yaml")
		if err := os.WriteFile(path, []byte("api:\n  adr: x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := path + `: line 2: unknown key "adr" in api`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load = %v, want %q", err, want)
		}
	})

	// A file of exactly the limit loads; one byte more is refused before
	// it is parsed.
	comments := func(n int) []byte {
		line := "# " + strings.Repeat("x", 61) + "\n"
		b := bytes.Repeat([]byte(line), n/len(line)+1)[:n]
		b[n-1] = '\n'
		return b
	}
	t.Run("at the limit", func(t *testing.T) {
		path := filepath.Join(dir, "limit.yaml")
		if err := os.WriteFile(path, comments(int(maxFileSize)), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil || !reflect.DeepEqual(got, Default()) {
			t.Errorf("Load = %+v, %v; want the defaults", got, err)
		}
	})
	t.Run("huge", func(t *testing.T) {
		path := filepath.Join(dir, "huge.yaml")
		if err := os.WriteFile(path, comments(int(maxFileSize)+1), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := path + ": the file is larger than the 4MiB limit"
		if err == nil || err.Error() != want {
			t.Errorf("Load = %v, want %q", err, want)
		}
	})
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := Config{
		API: API{Addr: "x", MaxBodyBytes: 64*MiB + 1, ReadHeaderTimeout: -1},
		Respond: Respond{Window: Duration(30 * time.Second), Criticality: map[string]float64{"support": 11, "chat": 2},
			Webhooks: map[string]string{"default": "ftp://x", "ops": "https://hooks.example.com/a"}},
		Evidence: Evidence{MaxBytes: TiB + 1},
		Log:      Log{Level: "Info", Format: ""},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate passed")
	}
	want := []string{
		`api.addr: "x" is not host:port, e.g. "127.0.0.1:7700"`,
		`api.max_body_bytes: 67108865 is out of range: want 1KiB to 64MiB`,
		`api.read_header_timeout: must be greater than 0, got -1ns`,
		`api.shutdown_timeout: must be greater than 0, got 0s`,
		`gateway.addr: "" is not host:port, e.g. "127.0.0.1:7700"`,
		`gateway.max_body_bytes: 0 is out of range: want 1KiB to 64MiB`,
		`gateway.upstream_timeout: must be greater than 0, got 0s`,
		`respond.window: 30s is out of range: want 1m to 168h`,
		`respond.webhooks.default: "ftp://x" is not an http(s) URL such as https://hooks.example.com/airlock`,
		`respond.criticality.support: 11 is out of range: want 0.1 to 10`,
		`evidence.max_bytes: 1099511627777 is out of range: want 1 byte to 1TiB`,
		`log.level: unknown level "Info": want debug, info, warn or error`,
		`log.format: unknown format "": want text or json`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("Validate =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestValidateAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:7700":     true,
		"127.0.0.1:0":        true,
		":7700":              true,
		"[::1]:7700":         true,
		"[fe80::1%eth0]:80":  true,
		"localhost:65535":    true,
		"api.example.com.:1": true,
		"localhost":          false,
		"localhost:65536":    false,
		"localhost:-1":       false,
		"localhost:+1":       false,
		"localhost:":         false,
		"::1:7700":           false,
		"-bad-:80":           false,
		"a..b:80":            false,
		"":                   false,
	} {
		c := Default()
		c.API.Addr = addr
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("addr %q: Validate = %v, want ok=%v", addr, err, ok)
		}
	}
}

// TestParseShapeLimits covers the bounds that keep yaml.v3's quadratic key
// checks and alias expansion from turning a small file into minutes of work.
func TestParseShapeLimits(t *testing.T) {
	var keys, aliases strings.Builder
	keys.WriteString("api:\n")
	for i := range maxMappingKeys + 1 {
		fmt.Fprintf(&keys, "  k%d: 1\n", i)
	}
	aliases.WriteString("x: &x {a: 1}\napi:\n  <<: [")
	for range maxAliases + 1 {
		aliases.WriteString("*x, ")
	}
	aliases.WriteString("]\n")
	var many strings.Builder
	many.WriteString("api:\n")
	for i := range 30 {
		fmt.Fprintf(&many, "  k%d: 1\n", i)
	}

	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"too many keys", keys.String(), []string{"x.yaml: line 2: the api mapping has 257 keys, more than the 256 allowed"}},
		{"too many aliases", aliases.String(), []string{"x.yaml: line 3: more than 64 aliases"}},
		{"nested duplicate", "api:\n  addr: [{a: 1}, {b: 1, b: 2}]\n", []string{`x.yaml: line 2: duplicate key "b" in api.addr[1] (first set on line 2)`}},
		{"duplicate section", "log: {}\napi: {}\nlog: {}\n", []string{`x.yaml: line 3: duplicate key "log" (first set on line 1)`}},
		{"capped", many.String(), []string{
			`x.yaml: line 2: unknown key "k0" in api`,
			`x.yaml: line 21: unknown key "k19" in api`,
			"x.yaml: and 10 more problems",
		}},
	} {
		_, err := Parse([]byte(tc.data), "x.yaml")
		if err == nil {
			t.Errorf("%s: Parse succeeded", tc.name)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error does not contain %q:\n%v", tc.name, want, err)
			}
		}
		if n := strings.Count(err.Error(), "\n") + 1; n > maxProblems+1 {
			t.Errorf("%s: %d error lines, want at most %d", tc.name, n, maxProblems+1)
		}
	}
}
