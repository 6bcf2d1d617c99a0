package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/respond"
)

// eventLog reads the gateway's event log (events.jsonl) for playbooks that
// freeze an incident's events as evidence.
type eventLog struct{ path string }

var _ respond.EventSource = eventLog{}

// Related writes the logged events since since that name one of the
// entities (caller or model version), as they are in the log.
func (l eventLog) Related(ctx context.Context, ents []event.Entity, since time.Time, w io.Writer) (int, error) {
	want := map[event.Entity]bool{}
	for _, e := range ents {
		switch e.Kind {
		case event.EntityAPIKey, event.EntityUser, event.EntityIP, event.EntityModelVersion:
			want[e] = true
		}
	}
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) || len(want) == 0 {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		line, err := readLogLine(r)
		if len(line) > 0 {
			var ev struct {
				Time         time.Time `json:"time"`
				APIKeyHash   string    `json:"api_key_hash"`
				User         string    `json:"user"`
				IP           string    `json:"ip"`
				ModelVersion string    `json:"model_version"`
			}
			if json.Unmarshal(line, &ev) == nil && !ev.Time.Before(since) &&
				(want[event.Entity{Kind: event.EntityAPIKey, Value: ev.APIKeyHash}] ||
					want[event.Entity{Kind: event.EntityUser, Value: ev.User}] ||
					want[event.Entity{Kind: event.EntityIP, Value: ev.IP}] ||
					want[event.Entity{Kind: event.EntityModelVersion, Value: ev.ModelVersion}]) {
				if _, err := w.Write(append(line, '\n')); err != nil {
					return n, err
				}
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// readLogLine returns the next line without its newline; a line longer
// than maxEventLine is skipped and returned empty, so one huge captured
// prompt does not stop the collection.
func readLogLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if len(line)+len(chunk) <= maxEventLine {
			line = append(line, chunk...)
		} else {
			line = line[:0:0]
			for isPrefix && err == nil { // drop the rest of the long line
				_, isPrefix, err = r.ReadLine()
			}
			return nil, err
		}
		if !isPrefix || err != nil {
			return line, err
		}
	}
}
