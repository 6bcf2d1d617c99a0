package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

var registryTests = []subtest{
	{"RoundTrip", testModelVersionRoundTrip},
	{"UniqueNameAndVersion", testModelVersionUnique},
	{"UpdateVersioning", testModelVersionUpdate},
	{"ListOrderAndFilters", testModelVersionList},
	{"History", testModelEvents},
}

func newModelVersion(name, version string, at time.Time) *store.ModelVersion {
	return &store.ModelVersion{
		Name: name, Version: version, Path: "/models/" + name + "/" + version,
		ManifestDigest: "md-" + name + "-" + version, SigningDigest: "sd-" + name + "-" + version,
		Files: []store.ModelFile{
			{Path: "config.json", SHA256: "aa", Size: 10},
			{Path: "weights/model.safetensors", SHA256: "bb", Size: 1 << 40},
		},
		IgnorePaths: []string{"README.md"},
		Scan: store.ModelScan{Verdict: "suspicious", Suspicious: 1, Clean: 1, Findings: []store.ModelFinding{
			{File: "weights/model.safetensors", Severity: "suspicious", Module: "mymod", Name: "Thing", Reason: "not on the allow list"},
		}},
		Signature:    store.ModelSignature{Status: "valid", Kind: "key", KeyHint: "e845", SubjectDigest: "sd", CheckedAt: at},
		Metrics:      json.RawMessage(`{"accuracy":0.91,"f1":{"macro":0.88}}`),
		RegisteredAt: at, RegisteredBy: "alice",
	}
}

func testModelVersionRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	mv := newModelVersion("fraud-detector", "1.4.0", at(0))
	update(t, s, func(tx store.Tx) error { return tx.CreateModelVersion(ctx, mv) })
	if mv.Revision != 1 {
		t.Errorf("revision after create = %d, want 1", mv.Revision)
	}
	var got *store.ModelVersion
	view(t, s, func(tx store.Tx) (err error) {
		got, err = tx.GetModelVersion(ctx, "fraud-detector", "1.4.0")
		return err
	})
	want := newModelVersion("fraud-detector", "1.4.0", at(0))
	want.Revision = 1
	// Metrics are kept as the same JSON value; compare them as values.
	var gm, wm any
	json.Unmarshal(got.Metrics, &gm)
	json.Unmarshal(want.Metrics, &wm)
	deepEqual(t, "metrics", gm, wm)
	got.Metrics, want.Metrics = nil, nil
	deepEqual(t, "model version", got, want)
	sameTime(t, "registered_at", got.RegisteredAt, at(0))

	var missing error
	s.View(ctx, func(tx store.Tx) error { _, missing = tx.GetModelVersion(ctx, "fraud-detector", "9.9.9"); return nil })
	wantErr(t, "unknown version", missing, store.ErrNotFound)
	s.View(ctx, func(tx store.Tx) error { _, missing = tx.GetModelVersion(ctx, "nope", "1.4.0"); return nil })
	wantErr(t, "unknown model", missing, store.ErrNotFound)
}

func testModelVersionUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error { return tx.CreateModelVersion(ctx, newModelVersion("m", "v1", at(0))) })
	var dup error
	s.Update(ctx, func(tx store.Tx) error {
		dup = tx.CreateModelVersion(ctx, newModelVersion("m", "v1", at(time.Hour)))
		return dup
	})
	wantErr(t, "same name and version", dup, store.ErrConflict)
	// The same version string under another name, and another version of
	// the same name, are different records.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateModelVersion(ctx, newModelVersion("other", "v1", at(0))); err != nil {
			return err
		}
		return tx.CreateModelVersion(ctx, newModelVersion("m", "v2", at(0)))
	})
	var got *store.ModelVersion
	view(t, s, func(tx store.Tx) (err error) { got, err = tx.GetModelVersion(ctx, "m", "v1"); return err })
	sameTime(t, "the first registration is kept", got.RegisteredAt, at(0))
}

func testModelVersionUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mv := newModelVersion("m", "v1", at(0))
	update(t, s, func(tx store.Tx) error { return tx.CreateModelVersion(ctx, mv) })

	mv.Deployed = true
	mv.LastVerify = &store.ModelVerification{At: at(time.Minute), Path: mv.Path, Result: "mismatch", Changed: []string{"config.json"}}
	mv.Alerted = "mismatch:config.json"
	update(t, s, func(tx store.Tx) error { return tx.UpdateModelVersion(ctx, mv) })
	if mv.Revision != 2 {
		t.Errorf("revision after update = %d, want 2", mv.Revision)
	}
	var got *store.ModelVersion
	view(t, s, func(tx store.Tx) (err error) { got, err = tx.GetModelVersion(ctx, "m", "v1"); return err })
	if !got.Deployed || got.Revision != 2 || got.LastVerify == nil || got.LastVerify.Result != "mismatch" ||
		len(got.LastVerify.Changed) != 1 || got.Alerted != "mismatch:config.json" {
		t.Errorf("after update: %+v", got)
	}
	sameTime(t, "last verify", got.LastVerify.At, at(time.Minute))

	var err error
	stale := *got
	stale.Revision = 1
	s.Update(ctx, func(tx store.Tx) error { err = tx.UpdateModelVersion(ctx, &stale); return err })
	wantErr(t, "stale revision", err, store.ErrConflict)

	changed := *got
	changed.ManifestDigest = "md-other"
	s.Update(ctx, func(tx store.Tx) error { err = tx.UpdateModelVersion(ctx, &changed); return err })
	wantErr(t, "changed manifest digest", err, store.ErrConflict)

	ghost := newModelVersion("m", "v404", at(0))
	ghost.Revision = 1
	s.Update(ctx, func(tx store.Tx) error { err = tx.UpdateModelVersion(ctx, ghost); return err })
	wantErr(t, "unknown version", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) (err error) { got, err = tx.GetModelVersion(ctx, "m", "v1"); return err })
	if got.Revision != 2 || got.ManifestDigest != "md-m-v1" {
		t.Errorf("a refused update changed the record: revision %d digest %s", got.Revision, got.ManifestDigest)
	}
}

func testModelVersionList(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Created out of order: the list is by name, then registration time,
	// then version.
	for _, mv := range []*store.ModelVersion{
		newModelVersion("zeta", "1", at(0)),
		newModelVersion("alpha", "b", at(2*time.Hour)),
		newModelVersion("alpha", "c", at(time.Hour)),
		newModelVersion("alpha", "a", at(2*time.Hour)),
	} {
		mv.Deployed = mv.Version == "b" || mv.Name == "zeta"
		update(t, s, func(tx store.Tx) error { return tx.CreateModelVersion(ctx, mv) })
	}
	list := func(f store.ModelVersionFilter) []string {
		var out []*store.ModelVersion
		view(t, s, func(tx store.Tx) (err error) { out, err = tx.ListModelVersions(ctx, f); return err })
		var ids []string
		for _, mv := range out {
			ids = append(ids, mv.Name+"@"+mv.Version)
		}
		return ids
	}
	// Registration times whose RFC 3339 forms sort in the wrong order as
	// text: "…53.5Z" is after "…53.589793Z".
	for _, mv := range []*store.ModelVersion{
		newModelVersion("omega", "late", at(0)),
		newModelVersion("omega", "early", at(-89793*time.Microsecond)),
	} {
		update(t, s, func(tx store.Tx) error { return tx.CreateModelVersion(ctx, mv) })
	}
	deepEqual(t, "by time, not by text", list(store.ModelVersionFilter{Name: "omega"}), []string{"omega@early", "omega@late"})
	deepEqual(t, "all", list(store.ModelVersionFilter{}), []string{"alpha@c", "alpha@a", "alpha@b", "omega@early", "omega@late", "zeta@1"})
	deepEqual(t, "by name", list(store.ModelVersionFilter{Name: "alpha"}), []string{"alpha@c", "alpha@a", "alpha@b"})
	deepEqual(t, "deployed", list(store.ModelVersionFilter{Deployed: true}), []string{"alpha@b", "zeta@1"})
	if got := list(store.ModelVersionFilter{Name: "nope"}); len(got) != 0 {
		t.Errorf("unknown name: %v", got)
	}

	// Undeploying takes a version out of the deployed list.
	var mv *store.ModelVersion
	view(t, s, func(tx store.Tx) (err error) { mv, err = tx.GetModelVersion(ctx, "zeta", "1"); return err })
	mv.Deployed = false
	update(t, s, func(tx store.Tx) error { return tx.UpdateModelVersion(ctx, mv) })
	deepEqual(t, "deployed after undeploy", list(store.ModelVersionFilter{Deployed: true}), []string{"alpha@b"})
}

func testModelEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateModelVersion(ctx, newModelVersion("m", "v1", at(0))); err != nil {
			return err
		}
		return tx.CreateModelVersion(ctx, newModelVersion("m", "v2", at(0)))
	})
	var seqs []int64
	update(t, s, func(tx store.Tx) error {
		for i, kind := range []string{"registered", "verified", "mismatch"} {
			for _, v := range []string{"v1", "v2"} {
				e := &store.ModelEvent{Name: "m", Version: v, At: at(time.Duration(i) * time.Minute), Kind: kind, Actor: "alice",
					Detail: map[string]string{"changed": "config.json"}}
				if err := tx.AppendModelEvent(ctx, e); err != nil {
					return err
				}
				seqs = append(seqs, e.Seq)
			}
		}
		return nil
	})
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("event seqs not increasing: %v", seqs)
		}
	}
	var got []*store.ModelEvent
	view(t, s, func(tx store.Tx) (err error) { got, err = tx.ListModelEvents(ctx, "m", "v1"); return err })
	if len(got) != 3 || got[0].Kind != "registered" || got[2].Kind != "mismatch" || got[1].Detail["changed"] != "config.json" {
		t.Fatalf("history of v1: %+v", got)
	}
	sameTime(t, "event time", got[1].At, at(time.Minute))
	if got[0].Seq != seqs[0] || got[0].Actor != "alice" {
		t.Errorf("first event %+v", got[0])
	}

	var err error
	s.Update(ctx, func(tx store.Tx) error {
		err = tx.AppendModelEvent(ctx, &store.ModelEvent{Name: "m", Version: "v404", At: at(0), Kind: "registered"})
		return err
	})
	wantErr(t, "event for an unknown version", err, store.ErrNotFound)
	// An unknown version has an empty history, not an error.
	view(t, s, func(tx store.Tx) (err error) { got, err = tx.ListModelEvents(ctx, "m", "v404"); return err })
	if len(got) != 0 {
		t.Errorf("unknown version has history %+v", got)
	}
}
