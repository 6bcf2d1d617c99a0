package incident_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// scene is a populated store: incident id with six timeline entries and one
// evidence file, and a second, untouched incident that must stay clean
// whatever is done to the first.
type scene struct {
	id, other    string
	sha, evID    string
	otherSHA     string
	content      []byte
	entries      int64 // of id
	totalEntries int64
}

func populate(t *testing.T, e *env) scene {
	t.Helper()
	in := basic()
	in.Owner, in.Summary = "alice", "DAN prompts from one key"
	s := scene{id: e.create(t, in).ID, content: []byte("POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"ignore all previous\"}]}\n")}
	e.clock.Advance(time.Minute)
	e.append(t, s.id, incident.Entry{Kind: incident.KindNote, Text: "first note"}) // 2
	e.clock.Advance(time.Minute)
	e.append(t, s.id, incident.Entry{Kind: incident.KindAction, Text: "rotated the key"}) // 3
	e.clock.Advance(time.Minute)
	e.append(t, s.id, incident.Entry{Kind: incident.KindNote, Text: "third note"}) // 4
	e.clock.Advance(time.Minute)
	ev := e.attach(t, s.id, "requests.log", s.content) // 5
	s.sha, s.evID = ev.SHA256, ev.ID
	e.clock.Advance(time.Minute)
	e.transition(t, s.id, taxonomy.PhaseContainment, "") // 6
	s.entries = 6

	o := basic()
	o.Title, o.Severity = "Other incident", event.SeverityLow
	s.other = e.create(t, o).ID
	e.append(t, s.other, incident.Entry{Kind: incident.KindNote, Text: "unrelated"})
	s.otherSHA = e.attach(t, s.other, "other.log", []byte("other content")).SHA256
	s.totalEntries = s.entries + 3
	return s
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s %v: no row changed, the tampering did not happen", q, args)
	}
}

// editDoc replaces old with new in the incident's stored JSON document,
// keeping the column's storage class.
func editDoc(t *testing.T, db *sql.DB, id, old, new string) {
	t.Helper()
	var doc []byte
	if err := db.QueryRow(`SELECT doc FROM incidents WHERE id = ?`, id).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(doc, []byte(old), []byte(new), 1)
	if bytes.Equal(changed, doc) {
		t.Fatalf("doc holds no %s: %s", old, doc)
	}
	exec(t, db, `UPDATE incidents SET doc = ? WHERE id = ?`, changed, id)
}

func TestVerifyClean(t *testing.T) {
	e := newEnv(t)
	s := populate(t, e)

	r, err := e.svc.Verify(e.ctx, s.id)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || len(r.Problems) != 0 || r.Problems == nil || r.Incidents != 1 || r.Entries != s.entries || r.Blobs != 1 {
		t.Errorf("Verify = %+v; want ok, 1 incident, %d entries, 1 blob, empty (non-nil) problems", r, s.entries)
	}
	all, err := e.svc.VerifyAll(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !all.OK || len(all.Problems) != 0 || all.Incidents != 2 || all.Entries != s.totalEntries || all.Blobs != 2 {
		t.Errorf("VerifyAll = %+v; want ok, 2 incidents, %d entries, 2 blobs", all, s.totalEntries)
	}

	// Reading evidence and adding work keep the store verifiable.
	f, err := e.svc.OpenEvidence(e.ctx, bob, s.sha, incident.CustodyAccessed)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := e.svc.CreateTask(e.ctx, alice, s.id, incident.TaskInput{Title: ptr("check the logs")}); err != nil {
		t.Fatal(err)
	}
	e.verifyOK(t, s.id)

	if _, err := e.svc.Verify(e.ctx, "01900000-0000-7000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Verify of an unknown incident: err = %v, want store.ErrNotFound", err)
	}
}

// problemWant is a problem Verify must report about the scene's incident.
type problemWant struct {
	seq int64  // the timeline entry it names, 0 for the incident itself
	sha bool   // names the evidence blob
	msg string // part of its message
}

func TestVerifyDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, e *env, db *sql.DB, s scene)
		want   []problemWant
	}{
		{
			name: "one byte of an entry body",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				var body string
				if err := db.QueryRow(`SELECT body FROM timeline WHERE incident_id = ? AND seq = 2`, s.id).Scan(&body); err != nil {
					t.Fatal(err)
				}
				changed := strings.Replace(body, "first note", "first nott", 1)
				if changed == body || len(changed) != len(body) {
					t.Fatalf("body %s has no note text to change", body)
				}
				exec(t, db, `UPDATE timeline SET body = ? WHERE incident_id = ? AND seq = 2`, changed, s.id)
			},
			want: []problemWant{{seq: 2, msg: "content does not match its hash"}},
		},
		{
			name: "an entry's actor",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE timeline SET actor = 'mallory' WHERE incident_id = ? AND seq = 3`, s.id)
			},
			want: []problemWant{{seq: 3, msg: "content does not match its hash"}},
		},
		{
			name: "an entry's time",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE timeline SET at = ? WHERE incident_id = ? AND seq = 4`, clockStart.Add(-24*time.Hour).UTC().Format(time.RFC3339Nano), s.id)
			},
			want: []problemWant{{seq: 4, msg: "content does not match its hash"}},
		},
		{
			name: "an entry's kind",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE timeline SET kind = 'communication' WHERE incident_id = ? AND seq = 2`, s.id)
			},
			want: []problemWant{{seq: 2, msg: "content does not match its hash"}},
		},
		{
			name: "the last entry deleted",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `DELETE FROM timeline WHERE incident_id = ? AND seq = 6`, s.id)
			},
			want: []problemWant{{msg: "timeline has 5 entries"}},
		},
		{
			name: "a middle entry deleted",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `DELETE FROM timeline WHERE incident_id = ? AND seq = 3`, s.id)
			},
			want: []problemWant{{seq: 4, msg: "out of sequence"}, {seq: 4, msg: "does not link"}},
		},
		{
			name: "two entries swapped",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE timeline SET seq = -2 WHERE incident_id = ? AND seq = 2`, s.id)
				exec(t, db, `UPDATE timeline SET seq = 2 WHERE incident_id = ? AND seq = 4`, s.id)
				exec(t, db, `UPDATE timeline SET seq = 4 WHERE incident_id = ? AND seq = -2`, s.id)
			},
			want: []problemWant{{seq: 2, msg: "does not link"}, {seq: 2, msg: "does not match its hash"}, {seq: 4, msg: "does not match its hash"}},
		},
		{
			name: "an entry appended outside Airlock",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `INSERT INTO timeline (incident_id, seq, at, actor, kind, body, prev_hash, hash)
					SELECT incident_id, 7, at, actor, 'note', '{"text":"all clear"}', hash, hash FROM timeline WHERE incident_id = ? AND seq = 6`, s.id)
			},
			want: []problemWant{{seq: 7, msg: "does not match its hash"}, {msg: "timeline has 7 entries"}},
		},
		{
			name: "the timeline head rewound",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE incidents SET timeline_len = 5 WHERE id = ?`, s.id)
			},
			want: []problemWant{{msg: "head records 5"}},
		},
		{
			name: "severity inside the incident doc",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				editDoc(t, db, s.id, `"severity":"high"`, `"severity":"low"`)
			},
			// The indexed severity column no longer agrees with the record.
			want: []problemWant{{msg: "disagree with its record"}},
		},
		{
			name: "severity in the record and its indexed column",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				editDoc(t, db, s.id, `"severity":"high"`, `"severity":"low"`)
				exec(t, db, `UPDATE incidents SET severity = 1 WHERE id = ?`, s.id)
				if got := e.get(t, s.id); got.Severity != event.SeverityLow {
					t.Fatalf("tampering did not take: severity %s", got.Severity)
				}
			},
			want: []problemWant{{msg: "does not match the state its timeline last recorded"}},
		},
		{
			name: "owner inside the incident doc",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				editDoc(t, db, s.id, `"owner":"alice"`, `"owner":"mallory"`)
			},
			want: []problemWant{{msg: "record altered"}},
		},
		{
			name: "incident doc no longer decodes",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE incidents SET doc = '{"id":' WHERE id = ?`, s.id)
			},
			want: []problemWant{{msg: "record cannot be read"}},
		},
		{
			name: "one byte of the evidence file",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				p := e.blobs.Path(s.sha)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/2] ^= 0x01
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: []problemWant{{sha: true, msg: "evidence altered"}},
		},
		{
			name: "evidence file truncated",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				if err := os.Truncate(e.blobs.Path(s.sha), 10); err != nil {
					t.Fatal(err)
				}
			},
			want: []problemWant{{sha: true, msg: "evidence altered"}},
		},
		{
			name: "evidence file deleted",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				if err := os.Remove(e.blobs.Path(s.sha)); err != nil {
					t.Fatal(err)
				}
			},
			want: []problemWant{{sha: true, msg: "file is missing"}},
		},
		{
			name: "evidence name",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE evidence SET name = 'harmless.txt' WHERE id = ?`, s.evID)
			},
			want: []problemWant{{sha: true, msg: "name differs from what the timeline recorded"}},
		},
		{
			name: "evidence media type",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE evidence SET media_type = 'image/png' WHERE id = ?`, s.evID)
			},
			want: []problemWant{{sha: true, msg: "media_type differs"}},
		},
		{
			name: "evidence collector",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE evidence SET collected_by = 'mallory' WHERE id = ?`, s.evID)
			},
			want: []problemWant{{sha: true, msg: "collected_by differs"}},
		},
		{
			name: "evidence collection time",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE evidence SET collected_at = ? WHERE id = ?`, clockStart.Add(-time.Hour).UTC().Format(time.RFC3339Nano), s.evID)
			},
			want: []problemWant{{sha: true, msg: "collected_at differs"}},
		},
		{
			name: "evidence record deleted",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `DELETE FROM evidence WHERE id = ?`, s.evID)
			},
			want: []problemWant{{sha: true, msg: "its record is gone"}},
		},
		{
			name: "blob size",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE blobs SET size = size + 1 WHERE sha256 = ?`, s.sha)
			},
			want: []problemWant{{sha: true, msg: "recorded as"}},
		},
		{
			name: "a custody row deleted",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `DELETE FROM custody WHERE sha256 = ? AND seq = 1`, s.sha)
			},
			want: []problemWant{{sha: true, msg: "custody removed or reordered"}, {sha: true, msg: "custody has 1 entries, its head records 2"}},
		},
		{
			name: "the last custody row deleted",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `DELETE FROM custody WHERE sha256 = ? AND seq = 2`, s.sha)
			},
			want: []problemWant{{sha: true, msg: "custody has 1 entries, its head records 2"}},
		},
		{
			name: "a custody actor",
			tamper: func(t *testing.T, e *env, db *sql.DB, s scene) {
				exec(t, db, `UPDATE custody SET actor = 'mallory' WHERE sha256 = ? AND seq = 2`, s.sha)
			},
			want: []problemWant{{sha: true, msg: "custody entry 2 does not match its hash"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := populate(t, e)
			e.verifyOK(t, s.id)

			tc.tamper(t, e, e.raw(t), s)

			r, err := e.svc.Verify(e.ctx, s.id)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			all, err := e.svc.VerifyAll(e.ctx)
			if err != nil {
				t.Fatalf("VerifyAll: %v", err)
			}
			for _, rep := range []struct {
				name string
				r    *incident.Report
			}{{"Verify", r}, {"VerifyAll", all}} {
				if rep.r.OK || len(rep.r.Problems) == 0 {
					t.Errorf("%s reports OK after tampering", rep.name)
					continue
				}
				for _, w := range tc.want {
					if !hasProblem(rep.r.Problems, s, w) {
						t.Errorf("%s: no problem naming incident %s%s and saying %q; got:\n%s",
							rep.name, s.id, where(s, w), w.msg, problemList(rep.r.Problems))
					}
				}
				for _, p := range rep.r.Problems {
					if p.Incident == s.other || (p.SHA256 != "" && p.SHA256 == s.otherSHA) {
						t.Errorf("%s blames the untouched incident: %s", rep.name, p)
					}
					if p.Incident != s.id && p.Incident != "" {
						t.Errorf("%s names an incident that was not touched: %s", rep.name, p)
					}
				}
			}
			if ro, err := e.svc.Verify(e.ctx, s.other); err != nil || !ro.OK {
				t.Errorf("untouched incident: %+v, %v", ro, err)
			}
		})
	}
}

func hasProblem(ps []incident.Problem, s scene, w problemWant) bool {
	for _, p := range ps {
		if p.Incident != s.id || !strings.Contains(p.Message, w.msg) {
			continue
		}
		if w.seq != 0 && p.Seq != w.seq {
			continue
		}
		if w.sha && p.SHA256 != s.sha {
			continue
		}
		if !w.sha && w.seq == 0 && (p.Seq != 0 || p.SHA256 != "") {
			continue
		}
		return true
	}
	return false
}

func where(s scene, w problemWant) string {
	var b bytes.Buffer
	if w.seq != 0 {
		fmt.Fprintf(&b, ", entry %d", w.seq)
	}
	if w.sha {
		fmt.Fprintf(&b, ", evidence %.12s", s.sha)
	}
	return b.String()
}
