package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// FuzzCreateIncidentHTTP posts arbitrary bodies to a real server. Every
// answer is 201 or a 4xx, never a 5xx; a 4xx creates nothing and writes no
// audit entry; a 201 creates exactly one incident.
func FuzzCreateIncidentHTTP(f *testing.F) {
	seeds := []string{
		`{"title":"Jailbreak","type":"jailbreak","severity":"high"}`,
		`{"title":"t","type":"model_extraction","severity":"critical","priority":1,"summary":"s","owner":"rita",
		  "entities":[{"kind":"ip","value":"203.0.113.9"}],"atlas":["AML.T0024.002"],"participants":["sam"],
		  "started":"2025-03-14T10:00:00Z","detected":"2025-03-14T10:30:00+01:00",
		  "impact":{"affected_users":3,"cost":12.5,"currency":"EUR"}}`,
		`{"title":"t","type":"jailbreak","severity":"low","started":"0000-01-01T00:00:00+01:00"}`,
		`{"title":"t","type":"jailbreak","severity":"low","detected":"0000-01-01T00:00:00+00:30"}`,
		`{"title":"t","type":"jailbreak","severity":"low","started":"0001-01-01T00:00:00Z","detected":"0001-01-01T00:00:00Z"}`,
		`{"title":"t","type":"jailbreak","severity":"low","impact":{"cost":1e308,"affected_users":9223372036854775807}}`,
		`{"title":"t","type":"jailbreak","severity":"low","entities":[{"kind":"user","value":"\u0000"}]}`,
		`{"title":"t","type":"nope","severity":"low"}`,
		`{"title":"\u0000","type":"jailbreak","severity":"low"}`,
		`{"title":"t","type":"jailbreak","severity":"low","priority":-1}`,
		`{}`, ``, `null`, `[]`, `{"title":`, `{"titel":1}`, "{\"title\":\"\xff\"}",
		strings.Repeat("[", 5000),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	// count returns how many incidents there are and the newest audit
	// entry's id, which moves with every write.
	count := func(t *testing.T) (incidents int, lastAudit int64) {
		err := e.st.View(e.ctx, func(tx store.Tx) error {
			ids, err := tx.ListIncidentIDs(e.ctx)
			if err != nil {
				return err
			}
			incidents = len(ids)
			newest, _, err := tx.ListAudit(e.ctx, store.AuditFilter{Limit: 1})
			if len(newest) == 1 {
				lastAudit = newest[0].ID
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return incidents, lastAudit
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		incBefore, auditBefore := count(t)
		res := e.do(t, "POST", "/api/v1/incidents", e.responder(), body)
		incAfter, auditAfter := count(t)
		switch {
		case res.status == http.StatusCreated:
			var inc incident.Incident
			res.decode(t, &inc)
			if inc.ID == "" || incAfter != incBefore+1 {
				t.Fatalf("%s: created %d incidents", res, incAfter-incBefore)
			}
			e.do(t, "GET", "/api/v1/incidents/"+inc.ID, e.viewer(), nil).want(t, http.StatusOK)
			if auditAfter == auditBefore {
				t.Fatalf("%s: the creation is not audited", res)
			}
		case res.status >= 400 && res.status <= 499:
			if res.err.Code == "" || res.err.Message == "" {
				t.Fatalf("%s: error without code or message", res)
			}
			if incAfter != incBefore || auditAfter != auditBefore {
				t.Fatalf("%s: a refused request changed incidents %d → %d, audit %d → %d", res, incBefore, incAfter, auditBefore, auditAfter)
			}
		default:
			t.Fatalf("want 201 or 4xx, got %s\nbody %q", res, body)
		}
	})
}
