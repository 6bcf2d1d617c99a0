package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/airlock-ir/airlock/internal/api"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Commands that work on a data directory directly, with or without a server
// running on it.

const tokenUsage = `usage: airlock token <subcommand> --data DIR
  create --role admin|responder|viewer|gateway --name NAME   print a new token (alone on stdout)
  list                                                       tokens, without their secrets
  revoke ID                                                  refuse the token from now on`

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("%s", tokenUsage)
	}
	fs := newFlags("token "+args[0], stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	role := fs.String("role", "", "role: "+strings.Join(api.Roles, ", "))
	name := fs.String("name", "", "who or what the token is for")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	open := func() (*dataDir, error) { return openDataDir(ctx, *data, false) }
	switch args[0] {
	case "create":
		if *role == "" || *name == "" {
			return usageError("--role and --name are required")
		}
		dir, err := open()
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
	case "list":
		dir, err := open()
		if err != nil {
			return err
		}
		defer dir.Close()
		var toks []*store.Token
		if err := dir.store.View(ctx, func(tx store.Tx) (err error) { toks, err = tx.ListTokens(ctx); return err }); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tLAST USED\tREVOKED")
		for _, t := range toks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Name, fmtMilestone(&t.CreatedAt), fmtMilestone(t.LastUsed), fmtMilestone(t.Revoked))
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return usageError("usage: airlock token revoke --data DIR ID")
		}
		dir, err := open()
		if err != nil {
			return err
		}
		defer dir.Close()
		err = dir.store.Update(ctx, func(tx store.Tx) error {
			now := nowUTC()
			if err := tx.RevokeToken(ctx, pos[0], now); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: "airlock token revoke (" + currentUser() + ")",
				Role: api.RoleAdmin, Addr: "local", Action: "token.revoke", Target: pos[0]})
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked token %s\n", pos[0])
		return nil
	}
	return usageError("unknown subcommand %q\n%s", args[0], tokenUsage)
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
