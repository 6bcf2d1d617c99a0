package intel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

// Service keeps the imported feeds in the store and the indicators in
// force as a Set that matchers read without locking.
type Service struct {
	st  store.Store
	set atomic.Pointer[Set]
	now func() time.Time
}

// NewService loads the stored feeds.
func NewService(ctx context.Context, st store.Store) (*Service, error) {
	s := &Service{st: st, now: time.Now}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Set returns the indicators in force.
func (s *Service) Set() *Set { return s.set.Load() }

func (s *Service) reload(ctx context.Context) error {
	var all []Indicator
	err := s.st.View(ctx, func(tx store.Tx) error {
		cursor := ""
		for {
			page, next, err := tx.ListIntelIndicators(ctx, "", 1000, cursor)
			if err != nil {
				return err
			}
			for _, row := range page {
				var ind Indicator
				if err := json.Unmarshal(row.Doc, &ind); err != nil {
					return fmt.Errorf("intel feed %s indicator %d: %w", row.Feed, row.Seq, err)
				}
				all = append(all, ind)
			}
			if next == "" {
				return nil
			}
			cursor = next
		}
	})
	if err != nil {
		return fmt.Errorf("load intel: %w", err)
	}
	s.set.Store(NewSet(all))
	return nil
}

// Formats of a feed.
const (
	FormatCSV  = "csv"
	FormatSTIX = "stix"
)

var feedName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Import parses a feed (strictly: one bad indicator refuses the whole feed,
// with every problem's line) and replaces the stored feed of that name.
// format "" picks by content: a JSON object is STIX, anything else CSV.
func (s *Service) Import(ctx context.Context, actor, name, format string, r io.Reader) (*store.IntelFeed, error) {
	if !feedName.MatchString(name) {
		return nil, &ParseError{File: name, Reason: "feed name: want 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"}
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFeedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read feed %s: %w", name, err)
	}
	if len(data) > MaxFeedBytes {
		return nil, &ParseError{File: name, Reason: fmt.Sprintf("larger than %d bytes", MaxFeedBytes)}
	}
	if format == "" {
		format = FormatCSV
		if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
			format = FormatSTIX
		}
	}
	var inds []Indicator
	switch strings.ToLower(format) {
	case FormatCSV:
		inds, err = ParseCSV(name, bytes.NewReader(data))
	case FormatSTIX:
		inds, err = ParseSTIX(name, bytes.NewReader(data))
	default:
		return nil, &ParseError{File: name, Reason: fmt.Sprintf("format %q: want csv or stix", format)}
	}
	if err != nil {
		return nil, err
	}
	rows := make([]store.IntelIndicator, len(inds))
	for i, ind := range inds {
		doc, err := json.Marshal(ind)
		if err != nil {
			return nil, err
		}
		rows[i] = store.IntelIndicator{Type: string(ind.Type), Value: ind.Value, Doc: doc}
	}
	sum := sha256.Sum256(data)
	feed := &store.IntelFeed{Name: name, ImportedAt: s.now().UTC(), ImportedBy: actor, SHA256: hex.EncodeToString(sum[:])}
	if err := s.st.Update(ctx, func(tx store.Tx) error { return tx.ReplaceIntelFeed(ctx, feed, rows) }); err != nil {
		return nil, err
	}
	return feed, s.reload(ctx)
}

// Delete removes a feed and its indicators.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := s.st.Update(ctx, func(tx store.Tx) error { return tx.DeleteIntelFeed(ctx, name) }); err != nil {
		return err
	}
	return s.reload(ctx)
}

// Feeds lists the imported feeds.
func (s *Service) Feeds(ctx context.Context) (feeds []*store.IntelFeed, err error) {
	err = s.st.View(ctx, func(tx store.Tx) error { feeds, err = tx.ListIntelFeeds(ctx); return err })
	return feeds, err
}

// Indicators lists one feed's indicators ("" for all), a page at a time.
func (s *Service) Indicators(ctx context.Context, feed string, limit int, cursor string) ([]Indicator, string, error) {
	var rows []store.IntelIndicator
	var next string
	err := s.st.View(ctx, func(tx store.Tx) (err error) {
		rows, next, err = tx.ListIntelIndicators(ctx, feed, limit, cursor)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]Indicator, 0, len(rows))
	for _, row := range rows {
		var ind Indicator
		if err := json.Unmarshal(row.Doc, &ind); err != nil {
			return nil, "", err
		}
		out = append(out, ind)
	}
	return out, next, nil
}
