// Package cli implements the airlock command's subcommands. Each is a
// function of (ctx, args, stdout, stderr) returning an error, so tests run
// them in-process exactly as a person runs them at a terminal. Output for
// people is a table; --json gives scripts the API's JSON.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the API server on a data directory", runServe},
		{"demo", "play every drill scenario against the whole system, in-process on a fresh data directory", runDemo},
		{"drill", "play an attack scenario against a running deployment and score detection and containment", runDrill},
		{"incident", "list, show, create, update and move incidents (talks to the API)", runIncident},
		{"gateway", "run a gateway apart from the server, enforcing the policy it polls from the API", runGateway},
		{"policy", "list and change the containment policy the gateway enforces (talks to the API)", runPolicy},
		{"intel", "import, list and remove threat-intelligence feeds (talks to the API)", runIntel},
		{"verify", "re-check every timeline chain and evidence hash in a data directory", runVerify},
		{"scan", "scan model files and folders for code that loading them would run", runScan},
		{"model", "register, verify and deploy model versions; weight statistics and diffs", runModel},
		{"dataset", "fingerprint and diff datasets; look for poisoning and label shift", runDataset},
		{"token", "create, list and revoke API tokens in a data directory", runToken},
		{"atlas", "import a MITRE ATLAS.yaml into a data directory", runAtlas},
		{"detect", "replay recorded events through every detector", runDetect},
		{"train", "retrain the prompt-attack classifier from the public corpora", runTrain},
		{"eval", "score a labelled JSON-lines file with the prompt-attack detector", runEval},
		{"version", "print the version", runVersion},
	}
}

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake in how a command was called: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// Main runs the command line and returns the process exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != errSilent {
				fmt.Fprintf(stderr, "airlock %s: %v\n", c.name, ee.err)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "airlock %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "airlock: unknown command %q; run 'airlock help'\n", args[0])
	return 2
}

// errSilent is for a failure the command has already explained on stdout.
var errSilent = errors.New("failed")

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "airlock: incident response for AI systems")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: airlock <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'airlock <command> -h' for a command's flags.")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("airlock "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("airlock incident show ID --json"), and maps errors to usage errors.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{code: 2, err: errSilent}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "airlock", Version)
	return nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
