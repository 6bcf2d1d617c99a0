package registry

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/forensics/scan"
	"github.com/airlock-ir/airlock/internal/store"
)

// The monitor's alerts.
const (
	Detector = "registry"
	Rule     = "registry.integrity"
	// TypeTampered is the incident type of a deployed model whose files
	// changed: weights or architecture altered in storage.
	TypeTampered = "weight_manipulation"
	// TypeSupplyChain is the type when a changed or added file now holds
	// code that loading the model would run.
	TypeSupplyChain = "supply_chain"
)

// DefaultInterval is how often Monitor re-verifies when Interval is zero.
const DefaultInterval = time.Hour

// maxExcerpt bounds the file list an alert carries.
const maxExcerpt = 1000

// Monitor re-verifies every deployed model version on a schedule and
// raises an alert when one stops matching its registration (or can no
// longer be read). It raises one alert per change of state: a model that
// stays tampered is not alerted again at every check, a different change
// is, and a model put back as registered clears the state so that the next
// tampering alerts again. The state is kept on the version in the store,
// so a restart does not repeat an alert, and two monitors on one store
// alert once.
type Monitor struct {
	Store    store.Store
	Interval time.Duration // DefaultInterval when zero
	// Publish receives the registry's events (verified, mismatch...);
	// Alert receives the alerts. Either may be nil.
	Publish func(event.Event)
	Alert   func(event.Alert)
	Log     *slog.Logger
	Now     func() time.Time
	// Scan configures the scan of changed and added files.
	Scan scan.Options
}

// Run checks at once, then every Interval, until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(cmp.Or(m.Interval, DefaultInterval))
	defer t.Stop()
	for {
		if err := m.Check(ctx); err != nil && ctx.Err() == nil {
			m.log().Error("model integrity check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Monitor) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (m *Monitor) registry() *Registry {
	return &Registry{Store: m.Store, Publish: m.Publish, Now: m.Now, Scan: m.Scan}
}

// Check verifies every deployed version once and raises the alerts due.
// It returns an error only when the versions cannot be listed or ctx ends;
// a model that cannot be read is an alert, not an error.
func (m *Monitor) Check(ctx context.Context) error {
	reg := m.registry()
	deployed, err := reg.List(ctx, store.ModelVersionFilter{Deployed: true})
	if err != nil {
		return err
	}
	for _, mv := range deployed {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raise bool
		v, eventID, err := reg.verify(ctx, mv, VerifyOptions{By: "monitor", OnlyChanges: true}, func(cur *store.ModelVersion, v *store.ModelVerification) error {
			state := alertState(v)
			if !cur.Deployed || state == cur.Alerted {
				return nil
			}
			cur.Alerted, raise = state, state != ""
			return nil
		})
		if v == nil { // not recorded: the store failed or ctx ended
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.log().Error("model not verified", "model", mv.Name, "version", mv.Version, "err", err)
			continue
		}
		if v.Result != ResultOK {
			m.log().Warn("deployed model does not verify", "model", mv.Name, "version", mv.Version, "result", v.Result, "err", err)
		}
		if raise && m.Alert != nil {
			m.Alert(m.alert(ctx, reg.now(), mv, v, eventID))
		}
	}
	return nil
}

// alertState is the compact form of State kept on the record.
func alertState(v *store.ModelVerification) string {
	s := State(v)
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return v.Result + ":" + hex.EncodeToString(sum[:12])
}

func (m *Monitor) alert(ctx context.Context, now time.Time, mv *store.ModelVersion, v *store.ModelVerification, eventID string) event.Alert {
	entities := []event.Entity{{Kind: event.EntityModel, Value: mv.Name}, {Kind: event.EntityModelVersion, Value: mv.Version}}
	a := event.Alert{
		ID: newID(), Time: now, Detector: Detector, Rule: Rule,
		Type: TypeTampered, ATLAS: []string{"AML.T0018.000"}, Severity: event.SeverityHigh, Confidence: 0.9,
		Entities: entities, Evidence: event.AlertEvidence{EventIDs: []string{}},
		Fingerprint: detect.Fingerprint(Detector, Rule, entities), // as any detector's, for suppressions
	}
	if eventID != "" {
		a.Evidence.EventIDs = append(a.Evidence.EventIDs, eventID)
	}
	who := fmt.Sprintf("deployed model %q version %q", mv.Name, mv.Version)
	if v.Result == ResultError {
		a.Severity, a.Confidence = event.SeverityMedium, 0.5
		a.Summary = fmt.Sprintf("%s can no longer be verified at %s: %s", who, v.Path, v.Error)
		a.Evidence.Excerpt = clip(v.Error, maxExcerpt)
		return a
	}
	d := Difference{Changed: v.Changed, Missing: v.Missing, Added: v.Added}
	a.Summary = fmt.Sprintf("%s no longer matches its registration at %s: %s", who, v.Path, d)
	if bad := m.dangerous(ctx, v, append(slices.Clone(v.Changed), v.Added...)); len(bad) > 0 {
		a.Type, a.ATLAS = TypeSupplyChain, []string{"AML.T0010", "AML.T0011.000"}
		a.Severity, a.Confidence = event.SeverityCritical, 1
		a.Summary += "; the scanner finds code that loading it would run in " + strings.Join(bad, ", ")
	}
	a.Summary = clip(a.Summary, 2*maxExcerpt)
	a.Evidence.Excerpt = clip(d.String(), maxExcerpt)
	return a
}

// dangerous scans the files that differ and returns those now dangerous.
func (m *Monitor) dangerous(ctx context.Context, v *store.ModelVerification, files []string) []string {
	var bad []string
	info, err := os.Stat(v.Path)
	if err != nil {
		return nil
	}
	for _, f := range files {
		full := v.Path
		if info.IsDir() {
			full = filepath.Join(v.Path, filepath.FromSlash(f))
		}
		rep, err := scan.Scan(ctx, full, m.Scan)
		if err == nil && rep.Verdict() == scan.VerdictDangerous {
			bad = append(bad, f)
		}
	}
	return bad
}
