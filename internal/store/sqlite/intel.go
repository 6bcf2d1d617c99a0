package sqlite

import (
	"context"
	"fmt"
	"strconv"

	"github.com/airlock-ir/airlock/internal/store"
)

func (t *tx) ReplaceIntelFeed(ctx context.Context, f *store.IntelFeed, inds []store.IntelIndicator) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE feed = ?`, f.Name); err != nil {
		return err
	}
	f.Count = len(inds)
	_, err := t.tx.ExecContext(ctx, `INSERT INTO intel_feeds (name, imported_at, imported_by, sha256, count) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET imported_at = excluded.imported_at, imported_by = excluded.imported_by, sha256 = excluded.sha256, count = excluded.count`,
		f.Name, fmtTime(f.ImportedAt), f.ImportedBy, f.SHA256, f.Count)
	if err != nil {
		return err
	}
	stmt, err := t.tx.PrepareContext(ctx, `INSERT INTO intel_indicators (feed, seq, type, value, doc) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range inds {
		ind := &inds[i]
		ind.Feed, ind.Seq = f.Name, i+1
		if _, err := stmt.ExecContext(ctx, f.Name, ind.Seq, ind.Type, ind.Value, string(ind.Doc)); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) DeleteIntelFeed(ctx context.Context, name string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM intel_indicators WHERE feed = ?`, name); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM intel_feeds WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("intel feed %q: %w", name, store.ErrNotFound)
	}
	return nil
}

func (t *tx) ListIntelFeeds(ctx context.Context) ([]*store.IntelFeed, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT name, imported_at, imported_by, sha256, count FROM intel_feeds ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.IntelFeed
	for rows.Next() {
		var f store.IntelFeed
		var at string
		if err := rows.Scan(&f.Name, &at, &f.ImportedBy, &f.SHA256, &f.Count); err != nil {
			return nil, err
		}
		if f.ImportedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, &f)
	}
	return out, rows.Err()
}

// ListIntelIndicators pages by (feed, seq); the cursor is "feed\x00seq".
func (t *tx) ListIntelIndicators(ctx context.Context, feed string, limit int, cursor string) ([]store.IntelIndicator, string, error) {
	limit = pageSize(limit)
	afterFeed, afterSeq := "", 0
	if cursor != "" {
		f, s, ok := cutCursor(cursor)
		if !ok {
			return nil, "", fmt.Errorf("cursor %q: %w", cursor, store.ErrInvalid)
		}
		afterFeed, afterSeq = f, s
	}
	q := `SELECT feed, seq, type, value, doc FROM intel_indicators WHERE (feed > ? OR (feed = ? AND seq > ?))`
	args := []any{afterFeed, afterFeed, afterSeq}
	if feed != "" {
		q += ` AND feed = ?`
		args = append(args, feed)
	}
	q += fmt.Sprintf(` ORDER BY feed, seq LIMIT %d`, limit+1)
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []store.IntelIndicator
	for rows.Next() {
		var ind store.IntelIndicator
		var doc string
		if err := rows.Scan(&ind.Feed, &ind.Seq, &ind.Type, &ind.Value, &doc); err != nil {
			return nil, "", err
		}
		ind.Doc = []byte(doc)
		out = append(out, ind)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = last.Feed + "\x00" + strconv.Itoa(last.Seq)
	}
	return out, next, nil
}

func cutCursor(c string) (string, int, bool) {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i] == 0 {
			n, err := strconv.Atoi(c[i+1:])
			return c[:i], n, err == nil && n >= 0
		}
	}
	return "", 0, false
}
