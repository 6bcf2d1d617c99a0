package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airlock-ir/airlock/internal/registry"
	"github.com/airlock-ir/airlock/internal/store"
)

const modelUsage = `usage: airlock model <subcommand> [flags]

  register NAME VERSION PATH [--signature model.sig (--public-key PEM | --cert-chain PEM |
           --identity ID --oidc-issuer URL)] [--ignore PATH]... [--metrics FILE.json] [--deploy]
                               hash, scan and record a model folder or file (immutable)
  verify NAME VERSION [--path PATH]
                               re-hash the files and compare with the registration
  deploy NAME VERSION          verify, then mark deployed (the monitor watches it)
  undeploy NAME VERSION        clear the deployed mark
  list [--deployed]            registered versions
  show NAME [VERSION]          one version: files, scan, signature, history
  stats PATH                   per-tensor statistics of a safetensors or GGUF file
  diff A B                     which tensors changed between two files, and how

The registry subcommands take --data DIR; every subcommand takes --json.
Exit status: 0 fine; 1 dangerous, a failed signature, a mismatch, a refused
deployment or re-registration (diff: the files differ); 2 misuse or an error.`

func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("%s", modelUsage)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, modelUsage)
		return nil
	}
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"register": modelRegister, "verify": modelVerify, "deploy": modelDeploy, "undeploy": modelUndeploy,
		"list": modelList, "show": modelShow, "stats": modelStats, "diff": modelDiff,
	}[args[0]]
	if sub == nil {
		return usageError("unknown subcommand %q\n%s", args[0], modelUsage)
	}
	return sub(ctx, args[1:], stdout, stderr)
}

// registryError maps the registry's errors to exit statuses: a finding that
// must stop a pipeline is 1, misuse and failures to do the job are 2.
func registryError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, registry.ErrInvalid):
		return &exitError{code: 2, err: err}
	case errors.Is(err, registry.ErrDangerous), errors.Is(err, registry.ErrSignature), errors.Is(err, registry.ErrNotDeployable),
		errors.Is(err, registry.ErrImmutable), errors.Is(err, registry.ErrMismatch):
		return &exitError{code: 1, err: err}
	case errors.Is(err, store.ErrNotFound):
		return &exitError{code: 2, err: fmt.Errorf("%w (see 'airlock model list')", err)}
	}
	return &exitError{code: 2, err: err}
}

// openRegistry opens the data directory's registry; create makes a new
// data directory when there is none (only registering does).
func openRegistry(ctx context.Context, data string, create bool) (*registry.Registry, func(), error) {
	dir, err := openDataDir(ctx, data, create)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, nil, err
		}
		return nil, nil, &exitError{code: 2, err: err}
	}
	return &registry.Registry{Store: dir.store}, func() { dir.Close() }, nil
}

func printJSONValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func modelRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model register", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	asJSON := fs.Bool("json", false, "print the record as JSON")
	sig := fs.String("signature", "", "an OpenSSF model-signing bundle (model.sig) to verify")
	pubKey := fs.String("public-key", "", "PEM public key of a key signature")
	certChain := fs.String("cert-chain", "", "PEM CA certificates trusted for a certificate signature")
	identity := fs.String("identity", "", "Sigstore: the signer's expected identity (e-mail or URI)")
	issuer := fs.String("oidc-issuer", "", "Sigstore: the signer's expected OIDC issuer")
	metrics := fs.String("metrics", "", "a JSON file of baseline metrics (an object of numbers)")
	deploy := fs.Bool("deploy", false, "mark the version deployed (refused when it is dangerous or its signature fails)")
	var ignores stringList
	fs.Var(&ignores, "ignore", "a path in the model folder to leave out (repeatable), as model-signing's --ignore-paths")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usageError("usage: airlock model register NAME VERSION PATH [flags]")
	}
	reg := registry.Registration{Name: pos[0], Version: pos[1], Path: pos[2], By: currentUser(), IgnorePaths: ignores, Deploy: *deploy}
	if *sig == "" && (*pubKey != "" || *certChain != "" || *identity != "" || *issuer != "") {
		return usageError("--public-key, --cert-chain, --identity and --oidc-issuer need --signature")
	}
	if *pubKey != "" && *certChain != "" {
		return usageError("--public-key and --cert-chain are exclusive")
	}
	if *sig != "" {
		sc := &registry.SignatureCheck{Bundle: *sig, Identity: *identity, OIDCIssuer: *issuer}
		if *pubKey != "" {
			if sc.PublicKey, err = registry.LoadPublicKey(*pubKey); err != nil {
				return usageError("--public-key: %v", err)
			}
		}
		if *certChain != "" {
			if sc.Roots, err = registry.LoadCertificates(*certChain); err != nil {
				return usageError("--cert-chain: %v", err)
			}
		}
		reg.Signature = sc
	}
	if *metrics != "" {
		b, err := readFileLimited(*metrics, 1<<20)
		if err != nil {
			return usageError("--metrics: %v", err)
		}
		reg.Metrics = b
	}
	reg2, done, err := openRegistry(ctx, *data, true)
	if err != nil {
		return err
	}
	defer done()
	mv, existing, err := reg2.Register(ctx, reg)
	if mv == nil {
		return registryError(err)
	}
	if *asJSON {
		if perr := printJSONValue(stdout, mv); perr != nil {
			return perr
		}
	} else {
		verb := "registered"
		if existing {
			verb = "already registered (same content)"
		}
		fmt.Fprintf(stdout, "%s %s %s\n", verb, mv.Name, mv.Version)
		printModelSummary(stdout, mv)
		printFindings(stdout, mv.Scan, 10)
	}
	warnModel(stderr, mv)
	return registryError(err)
}

// readFileLimited reads a file of at most limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// warnModel says on stderr what a person should not miss but that does not
// fail the command.
func warnModel(stderr io.Writer, mv *store.ModelVersion) {
	switch mv.Scan.Verdict {
	case "suspicious":
		fmt.Fprintf(stderr, "warning: %d suspicious files: review the findings before loading the model\n", mv.Scan.Suspicious)
	case "error":
		fmt.Fprintf(stderr, "warning: %d files could not be fully inspected; the version cannot be deployed\n", mv.Scan.Error)
	}
	if mv.Signature.Status == registry.SignatureNotVerified {
		fmt.Fprintf(stderr, "warning: the signature checks out offline but is not verified: %s\n", strings.Join(mv.Signature.NotVerified, "; "))
	}
}

func printModelSummary(w io.Writer, mv *store.ModelVersion) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	var size int64
	for _, f := range mv.Files {
		size += f.Size
	}
	row("path", mv.Path)
	row("files", fmt.Sprintf("%d (%s)", len(mv.Files), fmtBytes(size)))
	row("manifest", "sha256:"+mv.ManifestDigest)
	row("signing digest", "sha256:"+mv.SigningDigest)
	row("scan", fmt.Sprintf("%s (%d dangerous, %d error, %d suspicious, %d clean)", mv.Scan.Verdict, mv.Scan.Dangerous, mv.Scan.Error, mv.Scan.Suspicious, mv.Scan.Clean))
	row("signature", signatureLine(mv.Signature))
	if len(mv.Metrics) > 0 {
		row("metrics", string(mv.Metrics))
	}
	row("registered", fmt.Sprintf("%s by %s", mv.RegisteredAt.Format(time.RFC3339), dash(mv.RegisteredBy)))
	row("deployed", yesOrNo(mv.Deployed))
	row("last verify", verifyLine(mv.LastVerify))
	tw.Flush()
}

func signatureLine(s store.ModelSignature) string {
	var parts []string
	if s.Kind != "" {
		parts = append(parts, s.Kind)
	}
	if s.Subject != "" {
		parts = append(parts, "subject "+s.Subject)
	}
	if len(s.Identities) > 0 {
		parts = append(parts, "identity "+strings.Join(s.Identities, ","))
	}
	if s.KeyHint != "" {
		parts = append(parts, "key hint "+s.KeyHint[:min(16, len(s.KeyHint))]+"…")
	}
	if s.Error != "" {
		parts = append(parts, truncate(s.Error, 200))
	}
	if len(parts) == 0 {
		return s.Status
	}
	return s.Status + " (" + strings.Join(parts, "; ") + ")"
}

func verifyLine(v *store.ModelVerification) string {
	if v == nil {
		return "never"
	}
	line := v.Result + " at " + v.At.Format(time.RFC3339)
	if d := (registry.Difference{Changed: v.Changed, Missing: v.Missing, Added: v.Added}); !d.Empty() {
		line += ": " + truncate(d.String(), 200)
	}
	if v.Error != "" {
		line += ": " + truncate(v.Error, 200)
	}
	return line
}

func yesOrNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printFindings(w io.Writer, s store.ModelScan, limit int) {
	if len(s.Findings) == 0 {
		return
	}
	fmt.Fprintln(w, "findings:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, f := range s.Findings {
		if i == limit {
			fmt.Fprintf(tw, "  (%d more: see 'airlock model show --json' or 'airlock scan')\n", len(s.Findings)-limit)
			break
		}
		what := strings.Trim(f.Module+"."+f.Name, ".")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Severity, f.File, dash(what), truncate(strings.ReplaceAll(f.Reason, "\n", " "), 100))
	}
	tw.Flush()
}

func nameVersion(fs interface{ Name() string }, pos []string) (string, string, error) {
	if len(pos) != 2 {
		return "", "", usageError("usage: %s NAME VERSION", fs.Name())
	}
	return pos[0], pos[1], nil
}

func modelVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model verify", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	asJSON := fs.Bool("json", false, "print the verification as JSON")
	path := fs.String("path", "", "verify the model at this path instead of the registered one")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	name, version, err := nameVersion(fs, pos)
	if err != nil {
		return err
	}
	reg, done, err := openRegistry(ctx, *data, false)
	if err != nil {
		return err
	}
	defer done()
	v, err := reg.Verify(ctx, name, version, registry.VerifyOptions{Path: *path, By: currentUser()})
	if v == nil {
		return registryError(err)
	}
	if *asJSON {
		if perr := printJSONValue(stdout, v); perr != nil {
			return perr
		}
		return registryError(err)
	}
	switch v.Result {
	case registry.ResultOK:
		mv, gerr := reg.Get(ctx, name, version)
		if gerr != nil {
			return registryError(gerr)
		}
		fmt.Fprintf(stdout, "OK %s %s: %d files match the registration (manifest sha256:%s) at %s\n", name, version, len(mv.Files), mv.ManifestDigest, v.Path)
		return nil
	case registry.ResultMismatch:
		fmt.Fprintf(stdout, "MISMATCH %s %s at %s\n", name, version, v.Path)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, l := range []struct {
			what  string
			files []string
		}{{"changed", v.Changed}, {"missing", v.Missing}, {"added", v.Added}} {
			for _, f := range l.files {
				fmt.Fprintf(tw, "  %s\t%s\n", l.what, f)
			}
		}
		tw.Flush()
		return &exitError{code: 1, err: errSilent}
	}
	fmt.Fprintf(stdout, "ERROR %s %s at %s: %s\n", name, version, v.Path, v.Error)
	return &exitError{code: 2, err: errSilent}
}

func modelDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return modelSetDeployed(ctx, "model deploy", args, stdout, stderr, true)
}

func modelUndeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return modelSetDeployed(ctx, "model undeploy", args, stdout, stderr, false)
}

func modelSetDeployed(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer, deploy bool) error {
	fs := newFlags(cmd, stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	asJSON := fs.Bool("json", false, "print the record as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	name, version, err := nameVersion(fs, pos)
	if err != nil {
		return err
	}
	reg, done, err := openRegistry(ctx, *data, false)
	if err != nil {
		return err
	}
	defer done()
	var mv *store.ModelVersion
	if deploy {
		mv, err = reg.Deploy(ctx, name, version, currentUser())
	} else {
		mv, err = reg.Undeploy(ctx, name, version, currentUser())
	}
	if err != nil {
		return registryError(err)
	}
	if *asJSON {
		return printJSONValue(stdout, mv)
	}
	fmt.Fprintf(stdout, "%s %s deployed: %s\n", name, version, yesOrNo(mv.Deployed))
	return nil
}

func modelList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model list", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	asJSON := fs.Bool("json", false, "print JSON")
	deployed := fs.Bool("deployed", false, "only deployed versions")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("usage: airlock model list [--deployed] (for one model: airlock model show NAME)")
	}
	return listVersions(ctx, *data, store.ModelVersionFilter{Deployed: *deployed}, *asJSON, stdout)
}

func listVersions(ctx context.Context, data string, f store.ModelVersionFilter, asJSON bool, stdout io.Writer) error {
	reg, done, err := openRegistry(ctx, data, false)
	if err != nil {
		return err
	}
	defer done()
	list, err := reg.List(ctx, f)
	if err != nil {
		return registryError(err)
	}
	if asJSON {
		if list == nil {
			list = []*store.ModelVersion{}
		}
		return printJSONValue(stdout, map[string]any{"items": list})
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no model versions")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tFILES\tSCAN\tSIGNATURE\tDEPLOYED\tLAST VERIFY\tREGISTERED")
	for _, mv := range list {
		last := "never"
		if v := mv.LastVerify; v != nil {
			last = v.Result + " " + v.At.Format("2006-01-02 15:04Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", mv.Name, mv.Version, len(mv.Files), mv.Scan.Verdict,
			mv.Signature.Status, yesOrNo(mv.Deployed), last, mv.RegisteredAt.Format("2006-01-02 15:04Z"))
	}
	return tw.Flush()
}

func modelShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("model show", stderr)
	data := fs.String("data", defaultDataDir(), "data directory")
	asJSON := fs.Bool("json", false, "print JSON (the record, with its history)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 1:
		return listVersions(ctx, *data, store.ModelVersionFilter{Name: pos[0]}, *asJSON, stdout)
	case 2:
	default:
		return usageError("usage: airlock model show NAME [VERSION]")
	}
	reg, done, err := openRegistry(ctx, *data, false)
	if err != nil {
		return err
	}
	defer done()
	mv, err := reg.Get(ctx, pos[0], pos[1])
	if err != nil {
		return registryError(err)
	}
	hist, err := reg.History(ctx, pos[0], pos[1])
	if err != nil {
		return registryError(err)
	}
	if *asJSON {
		if hist == nil {
			hist = []*store.ModelEvent{}
		}
		return printJSONValue(stdout, struct {
			*store.ModelVersion
			History []*store.ModelEvent `json:"history"`
		}{mv, hist})
	}
	fmt.Fprintf(stdout, "%s %s\n", mv.Name, mv.Version)
	printModelSummary(stdout, mv)
	fmt.Fprintln(stdout, "files:")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, f := range mv.Files {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", f.SHA256, f.Size, f.Path)
	}
	tw.Flush()
	printFindings(stdout, mv.Scan, 50)
	if len(hist) > 0 {
		fmt.Fprintln(stdout, "history:")
		tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, e := range hist {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Kind, dash(e.Actor), truncate(detailLine(e.Detail), 120))
		}
		tw.Flush()
	}
	return nil
}

// detailLine writes an event's details as k=v pairs in a fixed order.
func detailLine(d map[string]string) string {
	var parts []string
	for _, k := range []string{"changed", "missing", "added", "error", "scan", "signature", "files", "path"} {
		if v, ok := d[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
