package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Commands that work on a data directory directly, with or without a server
// running on it.

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError("usage: airlock token create --data DIR --role admin|responder|viewer|gateway --name NAME")
	}
	fs := newFlags("token create", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	role := fs.String("role", "", "role: "+strings.Join(api.Roles, ", "))
	name := fs.String("name", "", "who or what the token is for")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *role == "" || *name == "" {
		return usageError("--role and --name are required")
	}
	dir, err := openDataDir(ctx, *data, false)
	if err != nil {
		return err
	}
	defer dir.Close()
	secret, tok, err := api.CreateToken(ctx, dir.store, *name, *role, "airlock token create ("+currentUser()+")")
	if err != nil {
		return err
	}
	// The token alone on stdout, so scripts can capture it.
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "created %s token %q (id %s); it is shown only this once\n", tok.Role, tok.Name, tok.ID)
	return nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "local"
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := openDataDir(ctx, *data, false)
	if err != nil {
		return err
	}
	defer dir.Close()
	rep, err := dir.service().VerifyAll(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "FAIL %s\n", p)
		}
		status := "OK"
		if !rep.OK {
			status = "FAILED"
		}
		fmt.Fprintf(stdout, "%s: %d incidents, %d timeline entries, %d evidence files checked; %d problems\n",
			status, rep.Incidents, rep.Entries, rep.Blobs, len(rep.Problems))
	}
	if !rep.OK {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

func runAtlas(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError("usage: airlock atlas import [--data DIR] FILE")
	}
	fs := newFlags("atlas import", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: airlock atlas import [--data DIR] FILE")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	cat, err := taxonomy.ParseATLAS(f)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	dir, err := openDataDir(ctx, *data, true)
	if err != nil {
		return err
	}
	defer dir.Close()
	ts := make([]store.Technique, len(cat.Techniques))
	for i, t := range cat.Techniques {
		ts[i] = store.Technique{ID: t.ID, Name: t.Name, Parent: t.Parent, Tactics: t.Tactics}
	}
	err = dir.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.ReplaceTechniques(ctx, cat.Version, ts); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"version": cat.Version, "techniques": len(ts), "file": pos[0]})
		return tx.AppendAudit(ctx, &store.AuditEntry{
			At: nowUTC(), Actor: "airlock atlas import (" + currentUser() + ")", Role: api.RoleAdmin,
			Addr: "local", Action: "atlas.import", Target: cat.Version, Detail: detail,
		})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported ATLAS %s: %d tactics, %d techniques\n", cat.Version, len(cat.Tactics), len(ts))
	return nil
}
