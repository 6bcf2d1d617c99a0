package api

import (
	"context"
	"encoding/json"
	"github.com/airlock-ir/airlock/internal/intel"
	"github.com/airlock-ir/airlock/internal/respond"
	"log/slog"
	"net/http"
	"time"

	"github.com/airlock-ir/airlock/internal/alerts"
	"github.com/airlock-ir/airlock/internal/containment"
	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// Options are the server's limits and optional services.
type Options struct {
	MaxBodyBytes     int64 // JSON request bodies
	MaxEvidenceBytes int64 // evidence uploads

	Policy  *containment.Service // the containment policy; its routes exist only when set
	Metrics http.Handler         // Prometheus exposition; /metrics exists only when set
	Alerts  *alerts.Service      // detector alerts; their routes exist only when set
	Events  func(event.Event)    // where POST /api/v1/events hands events; the route exists only when set
	// Playbooks runs incidents' playbooks; its routes exist only when set.
	Playbooks Playbooks
	// Intel keeps threat-intelligence feeds; its routes exist only when set.
	Intel *intel.Service
}

// Playbooks is what the API needs of the playbook runner.
type Playbooks interface {
	Decide(ctx context.Context, a incident.Actor, incidentID, step string, approve bool, note string) error
	View(ctx context.Context, incidentID string) (*respond.PlaybookView, error)
}

var _ Playbooks = (*respond.Runner)(nil)

// Server is the HTTP API.
type Server struct {
	st    store.Store
	inc   *incident.Service
	auth  *authenticator
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	ready func(context.Context) error
}

// New builds the API over a store and the incident service.
func New(st store.Store, inc *incident.Service, opts Options, log *slog.Logger) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxEvidenceBytes <= 0 {
		opts.MaxEvidenceBytes = 1 << 30
	}
	s := &Server{
		st: st, inc: inc, opts: opts, log: log, mux: http.NewServeMux(),
		auth: &authenticator{st: st, touched: map[string]time.Time{}},
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.handle("GET /healthz", permNone, s.healthz)
	s.handle("GET /readyz", permNone, s.readyz)

	s.handle("GET /api/v1/taxonomy", permRead, s.taxonomy)
	s.handle("GET /api/v1/incidents", permRead, s.listIncidents)
	s.handle("POST /api/v1/incidents", permWrite, s.createIncident)
	s.handle("GET /api/v1/incidents/{id}", permRead, s.getIncident)
	s.handle("PATCH /api/v1/incidents/{id}", permWrite, s.patchIncident)
	s.handle("POST /api/v1/incidents/{id}/transition", permWrite, s.transition)
	s.handle("GET /api/v1/incidents/{id}/timeline", permRead, s.listTimeline)
	s.handle("POST /api/v1/incidents/{id}/timeline", permWrite, s.appendTimeline)
	s.handle("GET /api/v1/incidents/{id}/evidence", permRead, s.listEvidence)
	s.handle("POST /api/v1/incidents/{id}/evidence", permWrite, s.uploadEvidence)
	s.handle("GET /api/v1/incidents/{id}/tasks", permRead, s.listTasks)
	s.handle("POST /api/v1/incidents/{id}/tasks", permWrite, s.createTask)
	s.handle("PATCH /api/v1/incidents/{id}/tasks/{task}", permWrite, s.patchTask)
	s.handle("GET /api/v1/incidents/{id}/verify", permRead, s.verifyIncident)
	s.handle("GET /api/v1/evidence/{sha256}", permEvidence, s.downloadEvidence)
	s.handle("GET /api/v1/evidence/{sha256}/custody", permRead, s.custody)
	s.handle("GET /api/v1/verify", permAdmin, s.verifyAll)
	s.handle("GET /api/v1/audit", permAdmin, s.listAudit)
	if s.opts.Metrics != nil {
		s.handle("GET /metrics", permPolicyRead, func(w http.ResponseWriter, r *http.Request) error {
			s.opts.Metrics.ServeHTTP(w, r)
			return nil
		})
	}
	if s.opts.Events != nil {
		s.handle("POST /api/v1/events", permIngest, s.postEvents)
	}
	if s.opts.Alerts != nil {
		s.handle("GET /api/v1/alerts", permRead, s.listAlerts)
		s.handle("GET /api/v1/alerts/stats", permRead, s.alertStats)
		s.handle("GET /api/v1/alerts/{id}", permRead, s.getAlert)
		s.handle("POST /api/v1/alerts/{id}/feedback", permWrite, s.alertFeedback)
	}
	if s.opts.Policy != nil {
		s.handle("GET /api/v1/policy", permPolicyRead, s.getPolicy)
		s.handle("POST /api/v1/policy/actions", permWrite, s.addPolicyAction)
		s.handle("DELETE /api/v1/policy/actions/{id}", permWrite, s.removePolicyAction)
	}
	if s.opts.Intel != nil {
		s.handle("GET /api/v1/intel", permRead, s.listIntel)
		s.handle("GET /api/v1/intel/indicators", permRead, s.listIndicators)
		s.handle("PUT /api/v1/intel/feeds/{name}", permWrite, s.importFeed)
		s.handle("DELETE /api/v1/intel/feeds/{name}", permWrite, s.deleteFeed)
	}
	if s.opts.Playbooks != nil {
		s.handle("GET /api/v1/incidents/{id}/playbook", permRead, s.getPlaybook)
		s.handle("POST /api/v1/incidents/{id}/steps/{step}/approve", permWrite, s.decideStep)
	}

}

// unmatched answers a request no route takes, in the API's error shape: 405
// with Allow for a known path and another method, 404 otherwise. The mux
// decides which; its own plain-text answer is discarded.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &headerOnly{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+probe.header.Get("Allow")))
		return
	}
	s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path))
}

// headerOnly records a status and headers and throws the body away.
type headerOnly struct {
	header http.Header
	status int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerOnly) WriteHeader(code int)        { h.status = code }

// handle registers h behind authentication and the permission it needs.
func (s *Server) handle(pattern string, need perm, h handlerFunc) {
	s.mux.Handle(pattern, s.serve(func(w http.ResponseWriter, r *http.Request) error {
		if need == permNone {
			return h(w, r)
		}
		p, err := s.auth.authenticate(r)
		if err != nil {
			return err
		}
		if !granted(p.token.Role, need) {
			if r.Method != http.MethodGet {
				s.auditDenied(r, p, pattern)
			}
			return errorf(http.StatusForbidden, "forbidden", "role "+p.token.Role+" may not "+need.String()+" ("+r.Method+" "+r.URL.Path+")")
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}))
}

// auditDenied records a refused write: attempts matter as much as writes.
func (s *Server) auditDenied(r *http.Request, p *principal, pattern string) {
	detail, _ := json.Marshal(map[string]string{"route": pattern})
	err := s.st.Update(r.Context(), func(tx store.Tx) error {
		return tx.AppendAudit(r.Context(), &store.AuditEntry{
			At: time.Now().UTC(), Actor: p.token.Name, Role: p.token.Role, Addr: p.addr,
			Action: "denied", Target: r.URL.Path, Detail: detail,
		})
	})
	if err != nil {
		s.log.Warn("audit denied request", "err", err)
	}
}

// ServeHTTP logs each request (never its body) and recovers from panics so
// one bad request cannot take the server down.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
			if !rec.wrote {
				s.writeError(rec, r, errorf(http.StatusInternalServerError, "internal", "internal error; see the server log"))
			}
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	}()
	w.Header().Set("Cache-Control", "no-store")
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(rec, r, h)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	err := s.st.View(r.Context(), func(tx store.Tx) error {
		_, _, err := tx.ListIncidents(r.Context(), store.IncidentFilter{Limit: 1})
		return err
	})
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "not_ready", "store unavailable: "+err.Error())
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
