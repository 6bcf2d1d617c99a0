package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

// ---- model registry

func (t *tx) CreateModelVersion(ctx context.Context, mv *store.ModelVersion) error {
	mv.Revision = 1
	doc, err := json.Marshal(mv)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO model_versions (name, version, registered_at, manifest_digest, deployed, revision, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		mv.Name, mv.Version, sortableTime(mv.RegisteredAt), mv.ManifestDigest, mv.Deployed, mv.Revision, string(doc))
	if isConstraint(err) {
		return fmt.Errorf("model %s version %s: %w", mv.Name, mv.Version, store.ErrConflict)
	}
	return err
}

// sortableTime formats the registered_at column, which lists order by:
// fixed-width, so that text order is time order (RFC 3339 with trimmed
// fractions is not: "…53.5Z" sorts after "…53.589Z"). The document keeps
// the time itself.
func sortableTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

const modelVersionCols = `doc, revision, name, version, manifest_digest, deployed`

// scanModelVersion reads a row. As for incidents, indexed columns that
// disagree with the document mean the row was edited behind the store's
// back; the columns decide immutability and lists, so the row is refused.
func scanModelVersion(row scanner) (*store.ModelVersion, error) {
	var doc, name, version, digest string
	var revision int64
	var deployed bool
	if err := row.Scan(&doc, &revision, &name, &version, &digest, &deployed); err != nil {
		return nil, err
	}
	mv := new(store.ModelVersion)
	if err := json.Unmarshal([]byte(doc), mv); err != nil {
		return nil, fmt.Errorf("decode model version: %w", err)
	}
	if mv.Name != name || mv.Version != version || mv.ManifestDigest != digest || mv.Deployed != deployed {
		return nil, fmt.Errorf("model %s version %s: indexed columns disagree with its record", name, version)
	}
	mv.Revision = revision
	return mv, nil
}

func (t *tx) GetModelVersion(ctx context.Context, name, version string) (*store.ModelVersion, error) {
	mv, err := scanModelVersion(t.tx.QueryRowContext(ctx, `SELECT `+modelVersionCols+` FROM model_versions WHERE name = ? AND version = ?`, name, version))
	return mv, notFound(err, fmt.Sprintf("model %s version %s", name, version))
}

func (t *tx) UpdateModelVersion(ctx context.Context, mv *store.ModelVersion) error {
	next := *mv
	next.Revision++
	doc, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE model_versions SET deployed = ?, revision = ?, doc = ? WHERE name = ? AND version = ? AND revision = ? AND manifest_digest = ?`,
		next.Deployed, next.Revision, string(doc), mv.Name, mv.Version, mv.Revision, mv.ManifestDigest)
	if err == nil {
		what := fmt.Sprintf("model %s version %s", mv.Name, mv.Version)
		err = updated(res, func() error {
			cur, err := t.GetModelVersion(ctx, mv.Name, mv.Version)
			if err == nil && cur.ManifestDigest != mv.ManifestDigest {
				return fmt.Errorf("%s: the manifest digest cannot change: %w", what, store.ErrConflict)
			}
			return err
		}, what, mv.Revision)
	}
	if err != nil {
		return err
	}
	mv.Revision = next.Revision
	return nil
}

func (t *tx) ListModelVersions(ctx context.Context, f store.ModelVersionFilter) ([]*store.ModelVersion, error) {
	q := `SELECT ` + modelVersionCols + ` FROM model_versions WHERE 1 = 1`
	var args []any
	if f.Name != "" {
		q += ` AND name = ?`
		args = append(args, f.Name)
	}
	if f.Deployed {
		q += ` AND deployed = 1`
	}
	q += ` ORDER BY name, registered_at, version`
	return queryAll(ctx, t.tx, scanModelVersion, q, args...)
}

func (t *tx) AppendModelEvent(ctx context.Context, e *store.ModelEvent) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return err
	}
	err = t.tx.QueryRowContext(ctx, `INSERT INTO model_events (name, version, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.Name, e.Version, fmtTime(e.At), e.Kind, e.Actor, string(detail)).Scan(&e.Seq)
	if isConstraint(err) {
		return fmt.Errorf("model %s version %s: %w", e.Name, e.Version, store.ErrNotFound)
	}
	return err
}

func scanModelEvent(row scanner) (*store.ModelEvent, error) {
	e := new(store.ModelEvent)
	var at, detail string
	if err := row.Scan(&e.Seq, &e.Name, &e.Version, &at, &e.Kind, &e.Actor, &detail); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
		return nil, fmt.Errorf("decode model event: %w", err)
	}
	var err error
	e.At, err = parseTime(at)
	return e, err
}

func (t *tx) ListModelEvents(ctx context.Context, name, version string) ([]*store.ModelEvent, error) {
	return queryAll(ctx, t.tx, scanModelEvent, `SELECT seq, name, version, at, kind, actor, detail FROM model_events WHERE name = ? AND version = ? ORDER BY seq`, name, version)
}
