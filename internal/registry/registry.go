package registry

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/forensics/scan"
	"github.com/airlock-ir/airlock/internal/store"
)

// Errors that say why the registry refused or flagged something, for
// errors.Is. Register and Verify may return them together with a record
// that was stored.
var (
	// ErrImmutable: the name and version are registered with other content.
	ErrImmutable = errors.New("already registered with different content")
	// ErrDangerous: the scanner found code that loading the model would run.
	ErrDangerous = errors.New("dangerous")
	// ErrSignature: the signature given did not verify.
	ErrSignature = errors.New("signature check failed")
	// ErrNotDeployable: the version may not be marked deployed.
	ErrNotDeployable = errors.New("not deployed")
	// ErrMismatch: the files on disk differ from the registered ones.
	ErrMismatch = errors.New("does not match its registration")
	// ErrInvalid: a malformed name, version or metrics document.
	ErrInvalid = errors.New("invalid")
)

// The verification results.
const (
	ResultOK       = "ok"
	ResultMismatch = "mismatch"
	ResultError    = "error"
)

// Event kinds written to a version's history and, as the "action"
// attribute, to the bus.
const (
	KindRegistered  = "registered"
	KindVerified    = "verified"
	KindMismatch    = "mismatch"
	KindVerifyError = "verify_error"
	KindDeployed    = "deployed"
	KindUndeployed  = "undeployed"
)

// EventSource and EventKind mark the registry's events on the bus.
const (
	EventSource = "registry"
	EventKind   = "model_registry"
)

// Bounds on what a record keeps.
const (
	maxNameLen     = 128
	maxFindings    = 100
	maxReasonLen   = 500
	maxMetricsSize = 1 << 20
	maxAttrLen     = 1024
)

// Registry records model versions in Store and checks them.
type Registry struct {
	Store store.Store
	// Publish, when set, receives an event for each registration,
	// verification and deployment change.
	Publish func(event.Event)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Scan configures the scan at registration.
	Scan scan.Options
}

// Registration is what Register records.
type Registration struct {
	Name, Version string
	Path          string // a model folder or a single file
	By            string // who registers it
	// IgnorePaths are left out of the manifest, besides model-signing's
	// defaults (.git, model.sig...): relative to the model folder.
	IgnorePaths []string
	// Signature, when set, is verified over the model folder.
	Signature *SignatureCheck
	// Metrics are optional baseline metrics: a JSON object whose leaves
	// are numbers.
	Metrics json.RawMessage
	// Deploy marks the version deployed, unless it may not be.
	Deploy bool
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Register hashes, scans and (when asked) signature-checks the model at
// reg.Path and records it. It returns the stored version and whether it was
// already registered with the same content (then nothing is recorded, except
// deployment when asked for). A version that is stored but must stop a
// pipeline comes back with an error wrapping ErrDangerous, ErrSignature or
// ErrNotDeployable; a refused registration returns a nil version.
func (r *Registry) Register(ctx context.Context, reg Registration) (mv *store.ModelVersion, existing bool, err error) {
	if err := checkName("name", reg.Name); err != nil {
		return nil, false, err
	}
	if err := checkName("version", reg.Version); err != nil {
		return nil, false, err
	}
	metrics, err := checkMetrics(reg.Metrics)
	if err != nil {
		return nil, false, err
	}
	path, err := filepath.Abs(reg.Path)
	if err != nil {
		return nil, false, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	ignores := slices.Clone(reg.IgnorePaths)
	if reg.Signature != nil {
		if !info.IsDir() {
			return nil, false, fmt.Errorf("%w: a signature is checked over a model folder; %s is a file", ErrInvalid, reg.Path)
		}
		if rel, ok := inside(path, reg.Signature.Bundle); ok {
			ignores = append(ignores, rel) // the signature is not part of what it signs
		}
	}
	if !info.IsDir() && len(ignores) > 0 {
		return nil, false, fmt.Errorf("%w: ignore paths apply to a model folder; %s is a file", ErrInvalid, reg.Path)
	}
	m, err := hashModel(path, ignores)
	if err != nil {
		return nil, false, err
	}
	digest := ManifestDigest(m.Files)

	if old, err := r.Get(ctx, reg.Name, reg.Version); err == nil {
		return r.reregister(ctx, old, m, digest, reg)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}

	now := r.now()
	mv = &store.ModelVersion{
		Name: reg.Name, Version: reg.Version, Path: path,
		ManifestDigest: digest, SigningDigest: signingDigest(m.Files),
		Files: m.Files, IgnorePaths: m.Ignores,
		Signature: store.ModelSignature{Status: SignatureNone, CheckedAt: now},
		Metrics:   metrics, RegisteredAt: now, RegisteredBy: reg.By,
	}
	if mv.Scan, err = r.scanFiles(ctx, path, info.IsDir(), m.Files); err != nil {
		return nil, false, err
	}
	if reg.Signature != nil {
		mv.Signature = checkSignature(path, reg.Signature, reg.IgnorePaths, now)
	}
	var problems []error
	if mv.Scan.Verdict == string(scan.VerdictDangerous) {
		problems = append(problems, fmt.Errorf("%w: %s", ErrDangerous, dangerSummary(mv.Scan)))
	}
	if mv.Signature.Status == SignatureInvalid {
		problems = append(problems, fmt.Errorf("%w: %s", ErrSignature, mv.Signature.Error))
	}
	if reg.Deploy {
		if why := undeployable(mv); len(why) > 0 {
			problems = append(problems, fmt.Errorf("%w: %s", ErrNotDeployable, strings.Join(why, "; ")))
		} else {
			mv.Deployed = true
		}
	}

	err = r.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateModelVersion(ctx, mv); err != nil {
			return err
		}
		if err := tx.AppendModelEvent(ctx, &store.ModelEvent{Name: mv.Name, Version: mv.Version, At: now, Kind: KindRegistered, Actor: reg.By, Detail: map[string]string{
			"path": path, "manifest_digest": digest, "files": fmt.Sprint(len(mv.Files)),
			"scan": mv.Scan.Verdict, "signature": mv.Signature.Status,
		}}); err != nil {
			return err
		}
		if mv.Deployed {
			return tx.AppendModelEvent(ctx, &store.ModelEvent{Name: mv.Name, Version: mv.Version, At: now, Kind: KindDeployed, Actor: reg.By})
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) { // registered meanwhile
		old, gerr := r.Get(ctx, reg.Name, reg.Version)
		if gerr != nil {
			return nil, false, gerr
		}
		return r.reregister(ctx, old, m, digest, reg)
	}
	if err != nil {
		return nil, false, err
	}
	// The attributes follow the model_registry vocabulary the modelevents
	// detector reads (scan_verdict, signature, findings), so that a
	// registration on a server's bus alerts like one reported by another
	// registry.
	attrs := map[string]string{"path": path, "scan_verdict": mv.Scan.Verdict, "signature": busSignature(mv.Signature.Status), "deployed": fmt.Sprint(mv.Deployed)}
	if mv.Scan.Verdict == string(scan.VerdictDangerous) {
		attrs["findings"] = dangerSummary(mv.Scan)
	}
	r.publish(mv, KindRegistered, attrs)
	if mv.Deployed {
		r.publish(mv, KindDeployed, nil)
	}
	return mv, false, errors.Join(problems...)
}

// reregister answers a registration of a name and version that exist:
// the same content is a no-op (deploying it when asked), other content is
// refused.
func (r *Registry) reregister(ctx context.Context, old *store.ModelVersion, m *manifest, digest string, reg Registration) (*store.ModelVersion, bool, error) {
	if old.ManifestDigest != digest {
		d := compareFiles(old.Files, m.Files)
		return nil, false, fmt.Errorf("model %s version %s: %w: %s (a registered version never changes: register the new content as a new version)", old.Name, old.Version, ErrImmutable, d)
	}
	if reg.Deploy && !old.Deployed {
		mv, err := r.Deploy(ctx, old.Name, old.Version, reg.By)
		if mv == nil {
			mv = old
		}
		return mv, true, err
	}
	return old, true, nil
}

// scanFiles scans every file of the manifest and checks that each still
// has the digest the manifest gave it: a file that changes while it is
// being registered is refused rather than recorded with a verdict about
// other bytes.
func (r *Registry) scanFiles(ctx context.Context, root string, dir bool, files []store.ModelFile) (store.ModelScan, error) {
	out := store.ModelScan{Findings: []store.ModelFinding{}}
	var rep scan.Report
	for _, f := range files {
		full := root
		if dir {
			full = filepath.Join(root, filepath.FromSlash(f.Path))
		}
		one, err := scan.Scan(ctx, full, r.Scan)
		if err != nil {
			return out, err
		}
		for _, fr := range one.Files {
			if fr.SHA256 != "" && fr.SHA256 != f.SHA256 {
				return out, fmt.Errorf("%s changed while it was being registered: hashed %s, scanned %s", f.Path, f.SHA256, fr.SHA256)
			}
			fr.Path = f.Path
			rep.Files = append(rep.Files, fr)
		}
	}
	out.Verdict = string(rep.Verdict())
	for _, fr := range rep.Files {
		switch fr.Verdict {
		case scan.VerdictDangerous:
			out.Dangerous++
		case scan.VerdictError:
			out.Error++
		case scan.VerdictSuspicious:
			out.Suspicious++
		default:
			out.Clean++
		}
		for _, fd := range fr.Findings {
			if fd.Severity == scan.SeverityInfo {
				continue
			}
			out.Findings = append(out.Findings, store.ModelFinding{
				File: fr.Path, Severity: string(fd.Severity), Module: fd.Module, Name: fd.Name, Reason: clip(fd.Reason, maxReasonLen),
			})
		}
	}
	slices.SortStableFunc(out.Findings, func(a, b store.ModelFinding) int { return cmp.Compare(rank(b.Severity), rank(a.Severity)) })
	if len(out.Findings) > maxFindings {
		out.Findings, out.Truncated = out.Findings[:maxFindings], true
	}
	return out, nil
}

func rank(severity string) int {
	switch scan.Severity(severity) {
	case scan.SeverityDangerous:
		return 3
	case scan.SeverityError:
		return 2
	case scan.SeveritySuspicious:
		return 1
	}
	return 0
}

// dangerSummary names the dangerous files and what they import.
func dangerSummary(s store.ModelScan) string {
	var parts []string
	seen := map[string]bool{}
	for _, f := range s.Findings {
		if f.Severity != string(scan.SeverityDangerous) {
			continue
		}
		what := f.File
		if f.Module != "" || f.Name != "" {
			what += " (" + strings.Trim(f.Module+"."+f.Name, ".") + ")"
		}
		if !seen[what] {
			seen[what] = true
			parts = append(parts, what)
		}
	}
	if len(parts) == 0 {
		return "the scanner found code that loading the model would run"
	}
	return "the scanner found code that loading the model would run in " + strings.Join(parts, ", ")
}

// undeployable lists why a version may not be marked deployed.
func undeployable(mv *store.ModelVersion) []string {
	var why []string
	switch scan.Verdict(mv.Scan.Verdict) {
	case scan.VerdictDangerous:
		why = append(why, "the scan verdict is dangerous")
	case scan.VerdictError:
		why = append(why, "the scan verdict is error: part of the model could not be inspected")
	}
	if mv.Signature.Status == SignatureInvalid {
		why = append(why, "its signature failed")
	}
	return why
}

// Get returns one registered version.
func (r *Registry) Get(ctx context.Context, name, version string) (*store.ModelVersion, error) {
	var mv *store.ModelVersion
	err := r.Store.View(ctx, func(tx store.Tx) (err error) { mv, err = tx.GetModelVersion(ctx, name, version); return err })
	return mv, err
}

// List returns the registered versions f selects.
func (r *Registry) List(ctx context.Context, f store.ModelVersionFilter) ([]*store.ModelVersion, error) {
	var out []*store.ModelVersion
	err := r.Store.View(ctx, func(tx store.Tx) (err error) { out, err = tx.ListModelVersions(ctx, f); return err })
	return out, err
}

// History returns a version's events, oldest first.
func (r *Registry) History(ctx context.Context, name, version string) ([]*store.ModelEvent, error) {
	var out []*store.ModelEvent
	err := r.Store.View(ctx, func(tx store.Tx) (err error) { out, err = tx.ListModelEvents(ctx, name, version); return err })
	return out, err
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Path is where to read the model; the registered path when empty.
	Path string
	By   string
	// OnlyChanges writes a history entry only when the result differs from
	// the previous verification's (the monitor's setting, so that a
	// schedule does not fill the history). The record's last verification
	// is always updated.
	OnlyChanges bool
}

// Verify re-hashes a registered version's files and compares them with
// the registration. The result is recorded on the version and returned;
// a mismatch also returns an error wrapping ErrMismatch that names the
// files, and a model that cannot be read returns that error (recorded as
// result "error").
func (r *Registry) Verify(ctx context.Context, name, version string, opts VerifyOptions) (*store.ModelVerification, error) {
	mv, err := r.Get(ctx, name, version)
	if err != nil {
		return nil, err
	}
	v, _, err := r.verify(ctx, mv, opts, nil)
	return v, err
}

// verify checks mv and records the result; after, when set, runs in the
// same transaction on the freshly read record.
func (r *Registry) verify(ctx context.Context, mv *store.ModelVersion, opts VerifyOptions, after func(cur *store.ModelVersion, v *store.ModelVerification) error) (*store.ModelVerification, string, error) {
	path := cmp.Or(opts.Path, mv.Path)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	v := &store.ModelVerification{At: r.now(), Path: path, Result: ResultOK}
	var diff Difference
	var readErr error
	m, err := hashModel(path, mv.IgnorePaths)
	switch {
	case err == nil:
		diff = compareFiles(mv.Files, m.Files)
	case isMissing(err):
		diff = Difference{Missing: make([]string, len(mv.Files))}
		for i, f := range mv.Files {
			diff.Missing[i] = f.Path
		}
	default:
		readErr = err
	}
	if ctx.Err() != nil {
		return nil, "", ctx.Err()
	}
	switch {
	case readErr != nil:
		v.Result, v.Error = ResultError, clip(readErr.Error(), maxReasonLen)
	case !diff.Empty():
		v.Result, v.Changed, v.Missing, v.Added = ResultMismatch, diff.Changed, diff.Missing, diff.Added
	}

	kind := map[string]string{ResultOK: KindVerified, ResultMismatch: KindMismatch, ResultError: KindVerifyError}[v.Result]
	detail := map[string]string{"path": path}
	// The bus event says "result", not the model_registry vocabulary's
	// "verify": the monitor raises the integrity alert itself, once per
	// change, where a detector would alert on every scheduled check.
	busAttrs := map[string]string{"path": path, "result": v.Result}
	if v.Result == ResultMismatch {
		maps.Copy(detail, diffAttrs(diff))
	}
	if v.Error != "" {
		detail["error"] = v.Error
	}
	maps.Copy(busAttrs, detail)
	err = r.update(ctx, mv.Name, mv.Version, func(tx store.Tx, cur *store.ModelVersion) error {
		prev := cur.LastVerify
		cur.LastVerify = v
		if !opts.OnlyChanges || prev == nil || State(prev) != State(v) {
			if err := tx.AppendModelEvent(ctx, &store.ModelEvent{Name: cur.Name, Version: cur.Version, At: v.At, Kind: kind, Actor: opts.By, Detail: detail}); err != nil {
				return err
			}
		}
		if after != nil {
			return after(cur, v)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	eventID := r.publish(mv, kind, busAttrs)
	switch v.Result {
	case ResultMismatch:
		return v, eventID, fmt.Errorf("model %s version %s %w: %s", mv.Name, mv.Version, ErrMismatch, diff)
	case ResultError:
		return v, eventID, fmt.Errorf("model %s version %s: %w", mv.Name, mv.Version, readErr)
	}
	return v, eventID, nil
}

// State identifies a verification's outcome for the monitor: "" for a
// match, else the result and what differed. Two verifications with the
// same State need one alert between them.
func State(v *store.ModelVerification) string {
	if v == nil || v.Result == ResultOK {
		return ""
	}
	var b strings.Builder
	b.WriteString(v.Result)
	for _, part := range [][]string{v.Changed, v.Missing, v.Added, {v.Error}} {
		b.WriteByte(0)
		b.WriteString(strings.Join(part, "\x01"))
	}
	return b.String()
}

// errSkip ends an update without writing.
var errSkip = errors.New("skip")

// update reads a version, lets fn change it and writes it back, in one
// transaction, retrying when another writer got there first.
func (r *Registry) update(ctx context.Context, name, version string, fn func(tx store.Tx, mv *store.ModelVersion) error) error {
	for attempt := 0; ; attempt++ {
		err := r.Store.Update(ctx, func(tx store.Tx) error {
			mv, err := tx.GetModelVersion(ctx, name, version)
			if err != nil {
				return err
			}
			if err := fn(tx, mv); err != nil {
				return err
			}
			return tx.UpdateModelVersion(ctx, mv)
		})
		switch {
		case errors.Is(err, errSkip):
			return nil
		case errors.Is(err, store.ErrConflict) && attempt < 3:
			continue
		}
		return err
	}
}

// Deploy marks a version deployed after verifying it: the files must match
// the registration, the scan must not have been dangerous or incomplete,
// and a signature, if checked, must have been valid.
func (r *Registry) Deploy(ctx context.Context, name, version, by string) (*store.ModelVersion, error) {
	mv, err := r.Get(ctx, name, version)
	if err != nil {
		return nil, err
	}
	if why := undeployable(mv); len(why) > 0 {
		return mv, fmt.Errorf("model %s version %s %w: %s", name, version, ErrNotDeployable, strings.Join(why, "; "))
	}
	if _, _, err := r.verify(ctx, mv, VerifyOptions{By: by}, nil); err != nil {
		return mv, fmt.Errorf("%w: %w", ErrNotDeployable, err)
	}
	return r.setDeployed(ctx, name, version, by, true)
}

// Undeploy clears a version's deployed mark: the monitor stops watching it.
func (r *Registry) Undeploy(ctx context.Context, name, version, by string) (*store.ModelVersion, error) {
	return r.setDeployed(ctx, name, version, by, false)
}

func (r *Registry) setDeployed(ctx context.Context, name, version, by string, deployed bool) (*store.ModelVersion, error) {
	var out *store.ModelVersion
	changed := false
	err := r.update(ctx, name, version, func(tx store.Tx, mv *store.ModelVersion) error {
		out = mv
		if mv.Deployed == deployed {
			return errSkip
		}
		if deployed && len(undeployable(mv)) > 0 {
			return fmt.Errorf("model %s version %s %w: %s", name, version, ErrNotDeployable, strings.Join(undeployable(mv), "; "))
		}
		mv.Deployed, changed = deployed, true
		kind := KindUndeployed
		if deployed {
			// Deploy has just verified the files: an alert state left from
			// before must not hide the next change.
			kind, mv.Alerted = KindDeployed, ""
		}
		return tx.AppendModelEvent(ctx, &store.ModelEvent{Name: name, Version: version, At: r.now(), Kind: kind, Actor: by})
	})
	if err != nil {
		return nil, err
	}
	if changed {
		kind := KindUndeployed
		if deployed {
			kind = KindDeployed
		}
		r.publish(out, kind, nil)
	}
	return out, nil
}

// busSignature names a signature status as the model_registry events of
// other systems do.
func busSignature(status string) string {
	if status == SignatureNotVerified {
		return "unverified"
	}
	return status
}

// publish sends a registry event to the bus and returns its id ("" when
// there is no bus).
func (r *Registry) publish(mv *store.ModelVersion, action string, attrs map[string]string) string {
	if r.Publish == nil {
		return ""
	}
	id := newID()
	a := map[string]string{"action": action, "name": mv.Name, "version": mv.Version, "manifest_digest": mv.ManifestDigest}
	for k, v := range attrs {
		a[k] = clip(v, maxAttrLen)
	}
	r.Publish(event.Event{
		ID: id, Time: r.now(), Source: EventSource, Kind: EventKind,
		Model: mv.Name, ModelVersion: mv.Version, Attrs: a,
	})
	return id
}

func newID() string {
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
}

func diffAttrs(d Difference) map[string]string {
	out := map[string]string{}
	for k, list := range map[string][]string{"changed": d.Changed, "missing": d.Missing, "added": d.Added} {
		if len(list) > 0 {
			out[k] = strings.Join(list, ",")
		}
	}
	return out
}

// String names the differing files: "changed a, b; missing c".
func (d Difference) String() string {
	var parts []string
	for _, p := range []struct {
		what string
		list []string
	}{{"changed", d.Changed}, {"missing", d.Missing}, {"added", d.Added}} {
		if len(p.list) > 0 {
			parts = append(parts, p.what+" "+strings.Join(p.list, ", "))
		}
	}
	if len(parts) == 0 {
		return "no difference"
	}
	return strings.Join(parts, "; ")
}

func checkName(what, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: the model %s is empty", ErrInvalid, what)
	case len(s) > maxNameLen:
		return fmt.Errorf("%w: the model %s is longer than %d bytes", ErrInvalid, what, maxNameLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the model %s is not valid UTF-8", ErrInvalid, what)
	case strings.IndexFunc(s, unicode.IsControl) >= 0 || s != strings.TrimSpace(s):
		return fmt.Errorf("%w: the model %s %q has control characters or surrounding spaces", ErrInvalid, what, s)
	}
	return nil
}

// checkMetrics accepts null or a JSON object whose leaves are numbers
// (nested objects and arrays allowed) and returns it compacted.
func checkMetrics(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	if len(raw) > maxMetricsSize {
		return nil, fmt.Errorf("%w: metrics are larger than %d bytes", ErrInvalid, maxMetricsSize)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: metrics: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: metrics: more than one JSON value", ErrInvalid)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("%w: metrics must be a JSON object of numbers", ErrInvalid)
	}
	if where := nonNumber(v, "metrics"); where != "" {
		return nil, fmt.Errorf("%w: %s is not a number (metrics are numbers, in objects or arrays)", ErrInvalid, where)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("%w: metrics: %v", ErrInvalid, err)
	}
	return buf.Bytes(), nil
}

// nonNumber returns the path of the first leaf that is not a number.
func nonNumber(v any, at string) string {
	switch x := v.(type) {
	case json.Number:
		return ""
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if w := nonNumber(x[k], at+"."+k); w != "" {
				return w
			}
		}
		return ""
	case []any:
		for i, e := range x {
			if w := nonNumber(e, fmt.Sprintf("%s[%d]", at, i)); w != "" {
				return w
			}
		}
		return ""
	}
	return at
}

// inside returns file's path relative to dir when it lies inside it.
func inside(dir, file string) (string, bool) {
	f, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(dir, f)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
