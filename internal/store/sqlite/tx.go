package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type tx struct{ tx *sql.Tx }

type scanner interface{ Scan(...any) error }

// scanDoc reads a (doc, version) row: a record stored as JSON whose
// version column is the authority.
func scanDoc[T any](row scanner, what string, setVersion func(*T, int64)) (*T, error) {
	var doc string
	var version int64
	if err := row.Scan(&doc, &version); err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	setVersion(v, version)
	return v, nil
}

// updated interprets a versioned UPDATE: when no row changed, the record is
// either gone (lookup's error) or was changed since it was read (ErrConflict).
func updated(res sql.Result, lookup func() error, what string, version int64) error {
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	if err := lookup(); err != nil {
		return err
	}
	return fmt.Errorf("%s version %d: %w", what, version, store.ErrConflict)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, sqlTx *sql.Tx, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := sqlTx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

var _ store.Tx = (*tx)(nil)

const defaultLimit, maxLimit = 50, 500

func pageSize(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func fmtOptTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func parseOptTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	return &t, err
}

// isConstraint reports a UNIQUE / PRIMARY KEY / FOREIGN KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return true
		}
	}
	return false
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// ---- incidents

func (t *tx) CreateIncident(ctx context.Context, inc *store.Incident) error {
	inc.Version = 1
	doc, err := json.Marshal(inc)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO incidents (id, phase, type, severity, created_at, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		inc.ID, inc.Phase, inc.Type, int(inc.Severity), fmtTime(inc.CreatedAt), inc.Version, string(doc))
	if isConstraint(err) {
		return fmt.Errorf("incident %s: %w", inc.ID, store.ErrConflict)
	}
	return err
}

const incidentCols = `doc, version, timeline_len, timeline_head, phase, type, severity`

// scanIncident reads a row. The indexed columns duplicate fields of the
// document; a row where they disagree was edited behind the store's back
// (and would hide from filtered lists), so it is reported, not trusted.
func scanIncident(row scanner) (*store.Incident, error) {
	var doc, head, phase, typ string
	var version, tlen int64
	var severity int
	if err := row.Scan(&doc, &version, &tlen, &head, &phase, &typ, &severity); err != nil {
		return nil, err
	}
	inc := new(store.Incident)
	if err := json.Unmarshal([]byte(doc), inc); err != nil {
		return nil, fmt.Errorf("decode incident: %w", err)
	}
	if string(inc.Phase) != phase || string(inc.Type) != typ || int(inc.Severity) != severity {
		return nil, fmt.Errorf("incident %s: indexed columns (phase %s, type %s, severity %d) disagree with its record", inc.ID, phase, typ, severity)
	}
	inc.Version, inc.TimelineLen, inc.TimelineHead = version, tlen, head
	return inc, nil
}

func (t *tx) GetIncident(ctx context.Context, id string) (*store.Incident, error) {
	inc, err := scanIncident(t.tx.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	return inc, notFound(err, "incident "+id)
}

func (t *tx) UpdateIncident(ctx context.Context, inc *store.Incident) error {
	next := *inc
	next.Version++
	doc, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE incidents SET phase = ?, type = ?, severity = ?, version = ?, doc = ? WHERE id = ? AND version = ?`,
		next.Phase, next.Type, int(next.Severity), next.Version, string(doc), inc.ID, inc.Version)
	if err == nil {
		err = updated(res, func() error { _, err := t.GetIncident(ctx, inc.ID); return err }, "incident "+inc.ID, inc.Version)
	}
	if err != nil {
		return err
	}
	inc.Version = next.Version
	return nil
}

func (t *tx) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]*store.Incident, string, error) {
	var where []string
	var args []any
	if f.Phase != "" {
		where, args = append(where, "phase = ?"), append(args, f.Phase)
	}
	if f.Open {
		where = append(where, "phase != 'closed'")
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.Severity != 0 {
		where, args = append(where, "severity = ?"), append(args, int(f.Severity))
	}
	limit := pageSize(f.Limit)
	offset := 0
	if f.ByRisk {
		// Risk changes as alerts come, so a key cursor would skip or repeat
		// rows; an offset is honest about what it is.
		if f.Cursor != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(f.Cursor, "o"))
			if err != nil || n < 0 || !strings.HasPrefix(f.Cursor, "o") {
				return nil, "", fmt.Errorf("cursor %q: %w", f.Cursor, store.ErrInvalid)
			}
			offset = n
		}
	} else if f.Cursor != "" {
		where, args = append(where, "id < ?"), append(args, f.Cursor)
	}
	q := `SELECT ` + incidentCols + ` FROM incidents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.ByRisk {
		q += fmt.Sprintf(" ORDER BY coalesce(json_extract(doc, '$.risk'), 0) DESC, id DESC LIMIT %d OFFSET %d", limit+1, offset)
	} else {
		q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit+1)
	}
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
		if f.ByRisk {
			next = "o" + strconv.Itoa(offset+limit)
		}
	}
	return out, next, nil
}

func (t *tx) ListIncidentIDs(ctx context.Context) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM incidents ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ---- timeline

func (t *tx) AppendTimeline(ctx context.Context, e *store.TimelineEntry) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE incidents SET timeline_len = ?, timeline_head = ? WHERE id = ? AND timeline_len = ? AND timeline_head = ?`,
		e.Seq, e.Hash, e.IncidentID, e.Seq-1, e.PrevHash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := t.GetIncident(ctx, e.IncidentID); err != nil {
			return err
		}
		return fmt.Errorf("timeline of %s: entry %d does not follow the head: %w", e.IncidentID, e.Seq, store.ErrConflict)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO timeline (incident_id, seq, at, actor, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.IncidentID, e.Seq, fmtTime(e.At), e.Actor, e.Kind, string(e.Body), e.PrevHash, e.Hash)
	if isConstraint(err) {
		return fmt.Errorf("timeline of %s: entry %d: %w", e.IncidentID, e.Seq, store.ErrConflict)
	}
	return err
}

func scanTimeline(row scanner) (*store.TimelineEntry, error) {
	e := new(store.TimelineEntry)
	var at, body string
	if err := row.Scan(&e.IncidentID, &e.Seq, &at, &e.Actor, &e.Kind, &body, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	var err error
	if e.At, err = parseTime(at); err != nil {
		return nil, fmt.Errorf("timeline %s/%d: bad time %q", e.IncidentID, e.Seq, at)
	}
	e.Body = json.RawMessage(body)
	return e, nil
}

const timelineCols = `incident_id, seq, at, actor, kind, body, prev_hash, hash`

func (t *tx) LastTimelineEntry(ctx context.Context, incidentID string) (*store.TimelineEntry, error) {
	e, err := scanTimeline(t.tx.QueryRowContext(ctx, `SELECT `+timelineCols+` FROM timeline WHERE incident_id = ? ORDER BY seq DESC LIMIT 1`, incidentID))
	return e, notFound(err, "timeline of "+incidentID)
}

func (t *tx) ListTimeline(ctx context.Context, incidentID string, afterSeq int64, limit int) ([]*store.TimelineEntry, error) {
	q := `SELECT ` + timelineCols + ` FROM timeline WHERE incident_id = ? AND seq > ? ORDER BY seq`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return queryAll(ctx, t.tx, scanTimeline, q, incidentID, afterSeq)
}

// ---- evidence

func (t *tx) PutBlob(ctx context.Context, b *store.Blob) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
		b.SHA256, b.Size, fmtTime(b.CreatedAt))
	return err
}

const blobCols = `sha256, size, created_at, custody_len, custody_head`

func scanBlob(row scanner) (*store.Blob, error) {
	b := new(store.Blob)
	var at string
	if err := row.Scan(&b.SHA256, &b.Size, &at, &b.CustodyLen, &b.CustodyHead); err != nil {
		return nil, err
	}
	var err error
	b.CreatedAt, err = parseTime(at)
	return b, err
}

func (t *tx) GetBlob(ctx context.Context, sha string) (*store.Blob, error) {
	b, err := scanBlob(t.tx.QueryRowContext(ctx, `SELECT `+blobCols+` FROM blobs WHERE sha256 = ?`, sha))
	return b, notFound(err, "evidence "+sha)
}

func (t *tx) ListBlobs(ctx context.Context) ([]*store.Blob, error) {
	return queryAll(ctx, t.tx, scanBlob, `SELECT `+blobCols+` FROM blobs ORDER BY sha256`)
}

func (t *tx) AttachEvidence(ctx context.Context, ev *store.Evidence) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO evidence (id, incident_id, sha256, name, media_type, size, source, collected_by, collected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.IncidentID, ev.SHA256, ev.Name, ev.MediaType, ev.Size, ev.Source, ev.CollectedBy, fmtTime(ev.CollectedAt))
	if isConstraint(err) {
		return fmt.Errorf("evidence %s for incident %s: %w", ev.SHA256, ev.IncidentID, store.ErrConflict)
	}
	return err
}

func (t *tx) listEvidence(ctx context.Context, where string, arg string) ([]*store.Evidence, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, incident_id, sha256, name, media_type, size, source, collected_by, collected_at FROM evidence WHERE `+where+` = ? ORDER BY id`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Evidence
	for rows.Next() {
		ev := new(store.Evidence)
		var at string
		if err := rows.Scan(&ev.ID, &ev.IncidentID, &ev.SHA256, &ev.Name, &ev.MediaType, &ev.Size, &ev.Source, &ev.CollectedBy, &at); err != nil {
			return nil, err
		}
		if ev.CollectedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

func (t *tx) ListEvidence(ctx context.Context, incidentID string) ([]*store.Evidence, error) {
	return t.listEvidence(ctx, "incident_id", incidentID)
}

func (t *tx) ListEvidenceByBlob(ctx context.Context, sha string) ([]*store.Evidence, error) {
	return t.listEvidence(ctx, "sha256", sha)
}

func (t *tx) AppendCustody(ctx context.Context, c *store.Custody) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE blobs SET custody_len = ?, custody_head = ? WHERE sha256 = ? AND custody_len = ? AND custody_head = ?`,
		c.Seq, c.Hash, c.SHA256, c.Seq-1, c.PrevHash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := t.GetBlob(ctx, c.SHA256); err != nil {
			return err
		}
		return fmt.Errorf("custody of %s: entry %d does not follow the head: %w", c.SHA256, c.Seq, store.ErrConflict)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO custody (sha256, seq, at, actor, action, incident_id, addr, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.SHA256, c.Seq, fmtTime(c.At), c.Actor, c.Action, c.IncidentID, c.Addr, c.Detail, c.PrevHash, c.Hash)
	return err
}

func (t *tx) ListCustody(ctx context.Context, sha string) ([]*store.Custody, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT sha256, seq, at, actor, action, incident_id, addr, detail, prev_hash, hash FROM custody WHERE sha256 = ? ORDER BY seq`, sha)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Custody
	for rows.Next() {
		c := new(store.Custody)
		var at string
		if err := rows.Scan(&c.SHA256, &c.Seq, &at, &c.Actor, &c.Action, &c.IncidentID, &c.Addr, &c.Detail, &c.PrevHash, &c.Hash); err != nil {
			return nil, err
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- tasks

func (t *tx) CreateTask(ctx context.Context, task *store.Task) error {
	task.Version = 1
	doc, err := json.Marshal(task)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO tasks (id, incident_id, version, doc) VALUES (?, ?, ?, ?)`, task.ID, task.IncidentID, task.Version, string(doc))
	if isConstraint(err) {
		return fmt.Errorf("task %s: %w", task.ID, store.ErrConflict)
	}
	return err
}

func scanTask(row scanner) (*store.Task, error) {
	return scanDoc(row, "task", func(t *store.Task, v int64) { t.Version = v })
}

func (t *tx) GetTask(ctx context.Context, incidentID, id string) (*store.Task, error) {
	task, err := scanTask(t.tx.QueryRowContext(ctx, `SELECT doc, version FROM tasks WHERE incident_id = ? AND id = ?`, incidentID, id))
	return task, notFound(err, "task "+id)
}

func (t *tx) UpdateTask(ctx context.Context, task *store.Task) error {
	next := *task
	next.Version++
	doc, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE tasks SET version = ?, doc = ? WHERE incident_id = ? AND id = ? AND version = ?`,
		next.Version, string(doc), task.IncidentID, task.ID, task.Version)
	if err == nil {
		err = updated(res, func() error { _, err := t.GetTask(ctx, task.IncidentID, task.ID); return err }, "task "+task.ID, task.Version)
	}
	if err != nil {
		return err
	}
	task.Version = next.Version
	return nil
}

func (t *tx) ListTasks(ctx context.Context, incidentID string) ([]*store.Task, error) {
	return queryAll(ctx, t.tx, scanTask, `SELECT doc, version FROM tasks WHERE incident_id = ? ORDER BY id`, incidentID)
}

// ---- tokens

func (t *tx) CreateToken(ctx context.Context, tok *store.Token) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO tokens (id, hash, name, role, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.Hash, tok.Name, tok.Role, fmtTime(tok.CreatedAt), tok.CreatedBy)
	if isConstraint(err) {
		return fmt.Errorf("token %s: %w", tok.ID, store.ErrConflict)
	}
	return err
}

const tokenCols = `id, hash, name, role, created_at, created_by, last_used, revoked`

func scanToken(row scanner) (*store.Token, error) {
	tok := new(store.Token)
	var created string
	var last, revoked sql.NullString
	if err := row.Scan(&tok.ID, &tok.Hash, &tok.Name, &tok.Role, &created, &tok.CreatedBy, &last, &revoked); err != nil {
		return nil, err
	}
	var err error
	if tok.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if tok.LastUsed, err = parseOptTime(last); err != nil {
		return nil, err
	}
	tok.Revoked, err = parseOptTime(revoked)
	return tok, err
}

func (t *tx) TokenByHash(ctx context.Context, hash string) (*store.Token, error) {
	tok, err := scanToken(t.tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
	return tok, notFound(err, "token")
}

func (t *tx) ListTokens(ctx context.Context) ([]*store.Token, error) {
	return queryAll(ctx, t.tx, scanToken, `SELECT `+tokenCols+` FROM tokens ORDER BY id`)
}

func (t *tx) setTokenTime(ctx context.Context, col, id string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE tokens SET `+col+` = ? WHERE id = ?`, fmtTime(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return t.setTokenTime(ctx, "revoked", id, at)
}

func (t *tx) TouchToken(ctx context.Context, id string, at time.Time) error {
	return t.setTokenTime(ctx, "last_used", id, at)
}

// ---- audit

func (t *tx) AppendAudit(ctx context.Context, a *store.AuditEntry) error {
	var detail any
	if len(a.Detail) > 0 {
		detail = string(a.Detail)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO audit (at, actor, role, addr, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		fmtTime(a.At), a.Actor, a.Role, a.Addr, a.Action, a.Target, detail)
	if err != nil {
		return err
	}
	a.ID, err = res.LastInsertId()
	return err
}

func (t *tx) ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEntry, string, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Cursor != "" {
		where, args = append(where, "id < ?"), append(args, f.Cursor)
	}
	q := `SELECT id, at, actor, role, addr, action, target, detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := pageSize(f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit+1)
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.AuditEntry
	for rows.Next() {
		a := new(store.AuditEntry)
		var at string
		var detail sql.NullString
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Role, &a.Addr, &a.Action, &a.Target, &detail); err != nil {
			return nil, "", err
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, "", err
		}
		if detail.Valid {
			a.Detail = json.RawMessage(detail.String)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = fmt.Sprint(out[limit-1].ID)
	}
	return out, next, nil
}

// ---- ATLAS catalogue

func (t *tx) ReplaceTechniques(ctx context.Context, version string, ts []store.Technique) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM atlas_techniques`); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO atlas_catalog (singleton, version) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET version = excluded.version`, version); err != nil {
		return err
	}
	stmt, err := t.tx.PrepareContext(ctx, `INSERT INTO atlas_techniques (id, name, parent, tactics) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, tech := range ts {
		tactics, err := json.Marshal(tech.Tactics)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, tech.ID, tech.Name, tech.Parent, string(tactics)); err != nil {
			if isConstraint(err) {
				return fmt.Errorf("technique %s twice: %w", tech.ID, store.ErrConflict)
			}
			return err
		}
	}
	return nil
}

func (t *tx) ListTechniques(ctx context.Context) (string, []store.Technique, error) {
	var version string
	err := t.tx.QueryRowContext(ctx, `SELECT version FROM atlas_catalog WHERE singleton = 1`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT id, name, parent, tactics FROM atlas_techniques ORDER BY id`)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var out []store.Technique
	for rows.Next() {
		var tech store.Technique
		var tactics string
		if err := rows.Scan(&tech.ID, &tech.Name, &tech.Parent, &tactics); err != nil {
			return "", nil, err
		}
		if err := json.Unmarshal([]byte(tactics), &tech.Tactics); err != nil {
			return "", nil, err
		}
		out = append(out, tech)
	}
	return version, out, rows.Err()
}

// ---- policy

func (t *tx) PutPolicyAction(ctx context.Context, a *store.PolicyAction) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO policy_actions (id, created_at, doc) VALUES (?, ?, ?)`, a.ID, fmtTime(a.CreatedAt), string(a.Doc))
	if isConstraint(err) {
		return fmt.Errorf("policy action %s: %w", a.ID, store.ErrConflict)
	}
	return err
}

func (t *tx) DeletePolicyAction(ctx context.Context, id string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM policy_actions WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("policy action %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func scanPolicyAction(row scanner) (*store.PolicyAction, error) {
	a := new(store.PolicyAction)
	var at, doc string
	if err := row.Scan(&a.ID, &at, &doc); err != nil {
		return nil, err
	}
	a.Doc = json.RawMessage(doc)
	var err error
	a.CreatedAt, err = parseTime(at)
	return a, err
}

func (t *tx) ListPolicyActions(ctx context.Context) ([]*store.PolicyAction, error) {
	return queryAll(ctx, t.tx, scanPolicyAction, `SELECT id, created_at, doc FROM policy_actions ORDER BY id`)
}

func (t *tx) PolicyVersion(ctx context.Context) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, `SELECT version FROM policy_version WHERE singleton = 1`).Scan(&v)
	return v, err
}

func (t *tx) BumpPolicyVersion(ctx context.Context) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, `UPDATE policy_version SET version = version + 1 WHERE singleton = 1 RETURNING version`).Scan(&v)
	return v, err
}

// ---- alerts

func (t *tx) CreateAlert(ctx context.Context, a *store.Alert) error {
	a.Version = 1
	doc, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO alerts (id, at, detector, type, severity, fingerprint, verdict, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, fmtTime(a.Time), a.Detector, a.Type, int(a.Severity), a.Fingerprint, a.Verdict, a.Version, string(doc))
	if isConstraint(err) {
		return fmt.Errorf("alert %s: %w", a.ID, store.ErrConflict)
	}
	return err
}

func scanAlert(row scanner) (*store.Alert, error) {
	return scanDoc(row, "alert", func(a *store.Alert, v int64) { a.Version = v })
}

func (t *tx) GetAlert(ctx context.Context, id string) (*store.Alert, error) {
	a, err := scanAlert(t.tx.QueryRowContext(ctx, `SELECT doc, version FROM alerts WHERE id = ?`, id))
	return a, notFound(err, "alert "+id)
}

func (t *tx) UpdateAlert(ctx context.Context, a *store.Alert) error {
	next := *a
	next.Version++
	doc, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE alerts SET verdict = ?, severity = ?, version = ?, doc = ? WHERE id = ? AND version = ?`,
		next.Verdict, int(next.Severity), next.Version, string(doc), a.ID, a.Version)
	if err == nil {
		err = updated(res, func() error { _, err := t.GetAlert(ctx, a.ID); return err }, "alert "+a.ID, a.Version)
	}
	if err != nil {
		return err
	}
	a.Version = next.Version
	return nil
}

func (t *tx) ListAlerts(ctx context.Context, f store.AlertFilter) ([]*store.Alert, string, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.Detector != "" {
		add("detector = ?", f.Detector)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.Severity != 0 {
		add("severity = ?", int(f.Severity))
	}
	switch f.Verdict {
	case "":
	case "none":
		add("verdict = ?", "")
	default:
		add("verdict = ?", f.Verdict)
	}
	if f.Fingerprint != "" {
		add("fingerprint = ?", f.Fingerprint)
	}
	if f.Cursor != "" {
		add("id < ?", f.Cursor)
	}
	q := `SELECT doc, version FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := pageSize(f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit+1)
	out, err := queryAll(ctx, t.tx, scanAlert, q, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

func (t *tx) CountVerdicts(ctx context.Context) (map[string]int64, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT verdict, COUNT(*) FROM alerts GROUP BY verdict`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var v string
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, rows.Err()
}

func (t *tx) PutSuppression(ctx context.Context, s *store.Suppression) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO suppressions (fingerprint, alert_id, created_at, created_by, note) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET alert_id = excluded.alert_id, created_at = excluded.created_at, created_by = excluded.created_by, note = excluded.note`,
		s.Fingerprint, s.AlertID, fmtTime(s.CreatedAt), s.CreatedBy, s.Note)
	return err
}

func (t *tx) DeleteSuppression(ctx context.Context, fingerprint string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM suppressions WHERE fingerprint = ?`, fingerprint)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("suppression %s: %w", fingerprint, store.ErrNotFound)
	}
	return nil
}

func scanSuppression(row scanner) (*store.Suppression, error) {
	s := new(store.Suppression)
	var at string
	if err := row.Scan(&s.Fingerprint, &s.AlertID, &at, &s.CreatedBy, &s.Note); err != nil {
		return nil, err
	}
	var err error
	s.CreatedAt, err = parseTime(at)
	return s, err
}

func (t *tx) ListSuppressions(ctx context.Context) ([]*store.Suppression, error) {
	return queryAll(ctx, t.tx, scanSuppression, `SELECT fingerprint, alert_id, created_at, created_by, note FROM suppressions ORDER BY fingerprint`)
}
