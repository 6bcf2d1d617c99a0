package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

const incidentUsage = `usage: airlock incident <subcommand> [flags]

  list                         incidents, newest first (--phase, --type, --severity, --limit; --risk: open ones, riskiest first)
  show ID                      one incident with its timeline, tasks and evidence
  create --title T --type TYPE --severity SEV [--summary S] [--owner O] [--entity kind:value]... [-q]
  set ID [--owner O] [--summary S] [--severity SEV] [--root-cause R] [--containment-waiver W]
         [--integrity-verified] [--validation-passed] [--review-summary S --review-done]
  transition ID PHASE [--note N]
  note ID TEXT [--kind note|action|communication|containment|containment_lifted] [--ref REF]
  task ID --title T [--kind task|action_item] [--owner O] [--due 2026-12-01T00:00:00Z]
  evidence ID FILE [--name N] [--source S] [--type MEDIA/TYPE]

Every subcommand takes --server, --token and --json.`

func runIncident(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("%s", incidentUsage)
	}
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"list": incidentList, "show": incidentShow, "create": incidentCreate, "set": incidentSet,
		"transition": incidentTransition, "note": incidentNote, "task": incidentTask, "evidence": incidentEvidence,
	}[args[0]]
	if sub == nil {
		return usageError("unknown subcommand %q\n%s", args[0], incidentUsage)
	}
	return sub(ctx, args[1:], stdout, stderr)
}

func incidentList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident list", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	phase := fs.String("phase", "", "only incidents in this phase")
	typ := fs.String("type", "", "only incidents of this type")
	sev := fs.String("severity", "", "only incidents of this severity")
	limit := fs.Int("limit", 50, "at most this many (1 to 500)")
	byRisk := fs.Bool("risk", false, "open incidents only, riskiest first")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := conn()
	if err != nil {
		return err
	}
	q := url.Values{}
	if *byRisk {
		q.Set("sort", "risk")
		q.Set("open", "true")
	}
	for k, v := range map[string]string{"phase": *phase, "type": *typ, "severity": *sev} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", fmt.Sprint(*limit))
	var page struct {
		Items      []*store.Incident `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	raw, err := c.do(ctx, "GET", "/api/v1/incidents?"+q.Encode(), nil, &page)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	if len(page.Items) == 0 {
		fmt.Fprintln(stdout, "no incidents")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tRISK\tPHASE\tTYPE\tOWNER\tTITLE")
	for _, inc := range page.Items {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\n", inc.ID, inc.Severity, inc.Risk, inc.Phase, inc.Type, dash(inc.Owner), truncate(inc.Title, 60))
	}
	tw.Flush()
	if page.NextCursor != "" {
		fmt.Fprintln(stdout, "(more: use --json and the API's cursor, or narrow with --phase/--type/--severity)")
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func oneID(fs interface{ Name() string }, pos []string, what string) (string, error) {
	if len(pos) != 1 {
		return "", usageError("%s: want exactly one %s", fs.Name(), what)
	}
	return pos[0], nil
}

func incidentShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident show", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON (the incident only)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, pos, "incident id")
	if err != nil {
		return err
	}
	c, err := conn()
	if err != nil {
		return err
	}
	var inc store.Incident
	raw, err := c.do(ctx, "GET", "/api/v1/incidents/"+url.PathEscape(id), nil, &inc)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	var timeline struct{ Items []*store.TimelineEntry }
	var tasks struct{ Items []*store.Task }
	var evidence struct{ Items []*store.Evidence }
	for path, out := range map[string]any{"/timeline?limit=500": &timeline, "/tasks": &tasks, "/evidence": &evidence} {
		if _, err := c.do(ctx, "GET", "/api/v1/incidents/"+url.PathEscape(id)+path, nil, out); err != nil {
			return err
		}
	}
	printIncident(stdout, &inc, timeline.Items, tasks.Items, evidence.Items)
	return nil
}

func fmtMilestone(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func printIncident(w io.Writer, inc *store.Incident, timeline []*store.TimelineEntry, tasks []*store.Task, evidence []*store.Evidence) {
	fmt.Fprintf(w, "%s  %s\n", inc.ID, inc.Title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	row("type", fmt.Sprintf("%s (%s)", inc.Type, inc.Category))
	row("severity", fmt.Sprintf("%s, priority P%d", inc.Severity, inc.Priority))
	row("phase", string(inc.Phase))
	row("owner", dash(inc.Owner))
	row("atlas", dash(strings.Join(inc.ATLAS, ", ")))
	ents := make([]string, len(inc.Entities))
	for i, e := range inc.Entities {
		ents[i] = e.String()
	}
	row("entities", dash(strings.Join(ents, ", ")))
	if inc.Summary != "" {
		row("summary", truncate(strings.ReplaceAll(inc.Summary, "\n", " "), 100))
	}
	if inc.RootCause != "" {
		row("root cause", truncate(strings.ReplaceAll(inc.RootCause, "\n", " "), 100))
	}
	m := inc.Milestones
	row("milestones", fmt.Sprintf("started %s · detected %s · acknowledged %s", fmtMilestone(m.Started), fmtMilestone(m.Detected), fmtMilestone(m.Acknowledged)))
	row("", fmt.Sprintf("contained %s · eradicated %s · recovered %s · closed %s", fmtMilestone(m.Contained), fmtMilestone(m.Eradicated), fmtMilestone(m.Recovered), fmtMilestone(m.Closed)))
	tw.Flush()
	if len(tasks) > 0 {
		fmt.Fprintln(w, "\ntasks:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, t := range tasks {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Status, dash(t.Owner), t.Title)
		}
		tw.Flush()
	}
	if len(evidence) > 0 {
		fmt.Fprintln(w, "\nevidence:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, e := range evidence {
			fmt.Fprintf(tw, "  %s\t%d bytes\t%s\t%s\n", e.SHA256, e.Size, e.MediaType, e.Name)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\ntimeline:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range timeline {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", e.Seq, e.At.UTC().Format("2006-01-02 15:04:05Z"), e.Actor, e.Kind, truncate(describeEntry(e), 90))
	}
	tw.Flush()
}

func incidentCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident create", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	quiet := fs.Bool("q", false, "print only the new incident's id")
	var in incident.NewIncident
	fs.StringVar(&in.Title, "title", "", "title (required)")
	fs.StringVar(&in.Type, "type", "", "incident type, e.g. jailbreak (GET /api/v1/taxonomy lists them)")
	sev := fs.String("severity", "", "low, medium, high or critical")
	fs.StringVar(&in.Summary, "summary", "", "what is known so far")
	fs.StringVar(&in.Owner, "owner", "", "who owns the response")
	var entities stringList
	fs.Var(&entities, "entity", "kind:value, e.g. ip:203.0.113.7 (repeatable)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if in.Title == "" || in.Type == "" || *sev == "" {
		return usageError("--title, --type and --severity are required")
	}
	var err error
	if in.Severity, err = event.ParseSeverity(*sev); err != nil {
		return usageError("--severity: %v", err)
	}
	for _, e := range entities {
		kind, value, ok := strings.Cut(e, ":")
		if !ok {
			return usageError("--entity %q: want kind:value", e)
		}
		in.Entities = append(in.Entities, event.Entity{Kind: event.EntityKind(kind), Value: value})
	}
	c, err := conn()
	if err != nil {
		return err
	}
	var inc store.Incident
	raw, err := c.do(ctx, "POST", "/api/v1/incidents", in, &inc)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	if *quiet {
		fmt.Fprintln(stdout, inc.ID)
		return nil
	}
	fmt.Fprintf(stdout, "created incident %s (%s, %s, phase %s)\n", inc.ID, inc.Type, inc.Severity, inc.Phase)
	return nil
}

func incidentSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident set", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	owner := fs.String("owner", "", "owner")
	summary := fs.String("summary", "", "analysis summary")
	sev := fs.String("severity", "", "low, medium, high or critical")
	rootCause := fs.String("root-cause", "", "root cause")
	waiver := fs.String("containment-waiver", "", "why no containment measure is needed")
	integrity := fs.Bool("integrity-verified", false, "record that model and system integrity are verified")
	validation := fs.Bool("validation-passed", false, "record that recovery validation passed")
	reviewSummary := fs.String("review-summary", "", "post-incident review summary")
	reviewDone := fs.Bool("review-done", false, "record that the post-incident review is done")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, pos, "incident id")
	if err != nil {
		return err
	}
	var p incident.Patch
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	str := func(name string, v *string) *string {
		if set[name] {
			return v
		}
		return nil
	}
	p.Owner, p.Summary, p.RootCause, p.ContainmentWaiver = str("owner", owner), str("summary", summary), str("root-cause", rootCause), str("containment-waiver", waiver)
	if set["severity"] {
		s, err := event.ParseSeverity(*sev)
		if err != nil {
			return usageError("--severity: %v", err)
		}
		p.Severity = &s
	}
	if set["integrity-verified"] || set["validation-passed"] {
		p.Recovery = &store.Recovery{IntegrityVerified: *integrity, ValidationPassed: *validation}
	}
	if set["review-done"] || set["review-summary"] {
		p.Review = &store.Review{Done: *reviewDone, Summary: *reviewSummary}
	}
	if len(set) == 0 {
		return usageError("nothing to set; see 'airlock incident set -h'")
	}
	c, err := conn()
	if err != nil {
		return err
	}
	var inc store.Incident
	if p.Recovery != nil || p.Review != nil {
		// These are whole-object fields: keep what is already recorded.
		if _, err := c.do(ctx, "GET", "/api/v1/incidents/"+url.PathEscape(id), nil, &inc); err != nil {
			return err
		}
		if p.Recovery != nil {
			p.Recovery.IntegrityVerified = p.Recovery.IntegrityVerified || (!set["integrity-verified"] && inc.Recovery.IntegrityVerified)
			p.Recovery.ValidationPassed = p.Recovery.ValidationPassed || (!set["validation-passed"] && inc.Recovery.ValidationPassed)
		}
		if p.Review != nil && !set["review-summary"] {
			p.Review.Summary = inc.Review.Summary
		}
		if p.Review != nil && !set["review-done"] {
			p.Review.Done = inc.Review.Done
		}
	}
	raw, err := c.do(ctx, "PATCH", "/api/v1/incidents/"+url.PathEscape(id), p, &inc)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	fmt.Fprintf(stdout, "updated incident %s\n", inc.ID)
	return nil
}

func incidentTransition(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident transition", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	note := fs.String("note", "", "why (required when moving back)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: airlock incident transition ID PHASE [--note N]")
	}
	c, err := conn()
	if err != nil {
		return err
	}
	var inc store.Incident
	raw, err := c.do(ctx, "POST", "/api/v1/incidents/"+url.PathEscape(pos[0])+"/transition",
		map[string]string{"phase": pos[1], "note": *note}, &inc)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	fmt.Fprintf(stdout, "incident %s is now in %s\n", inc.ID, inc.Phase)
	return nil
}

func incidentNote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident note", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	kind := fs.String("kind", incident.KindNote, "one of "+strings.Join(incident.PostableKinds, ", "))
	ref := fs.String("ref", "", "containment reference (for containment and containment_lifted)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: airlock incident note ID TEXT [--kind K] [--ref REF]")
	}
	c, err := conn()
	if err != nil {
		return err
	}
	var e store.TimelineEntry
	raw, err := c.do(ctx, "POST", "/api/v1/incidents/"+url.PathEscape(pos[0])+"/timeline",
		incident.Entry{Kind: *kind, Text: pos[1], Ref: *ref}, &e)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	fmt.Fprintf(stdout, "added %s as timeline entry %d of %s\n", e.Kind, e.Seq, e.IncidentID)
	return nil
}

func incidentTask(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident task", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	title := fs.String("title", "", "what is to be done (required)")
	kind := fs.String("kind", incident.TaskKindTask, "task or action_item")
	owner := fs.String("owner", "", "who does it")
	due := fs.String("due", "", "when it is due (RFC 3339)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, pos, "incident id")
	if err != nil {
		return err
	}
	if *title == "" {
		return usageError("--title is required")
	}
	in := incident.TaskInput{Title: title, Kind: kind, Owner: owner}
	if *due != "" {
		t, err := time.Parse(time.RFC3339, *due)
		if err != nil {
			return usageError("--due: want RFC 3339, e.g. 2026-12-01T09:00:00Z")
		}
		in.Due = &t
	}
	c, err := conn()
	if err != nil {
		return err
	}
	var t store.Task
	raw, err := c.do(ctx, "POST", "/api/v1/incidents/"+url.PathEscape(id)+"/tasks", in, &t)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	fmt.Fprintf(stdout, "created %s %s\n", t.Kind, t.ID)
	return nil
}

func incidentEvidence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("incident evidence", stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "evidence name (default: the file's base name)")
	source := fs.String("source", "", "where it came from")
	mediaType := fs.String("type", "application/octet-stream", "media type")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: airlock incident evidence ID FILE [--name N] [--source S] [--type T]")
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	if *name == "" {
		*name = filepath.Base(pos[1])
	}
	c, err := conn()
	if err != nil {
		return err
	}
	q := url.Values{"name": {*name}}
	if *source != "" {
		q.Set("source", *source)
	}
	var ev store.Evidence
	raw, err := c.send(ctx, "POST", "/api/v1/incidents/"+url.PathEscape(pos[0])+"/evidence?"+q.Encode(), f, *mediaType, &ev)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, raw)
	}
	fmt.Fprintf(stdout, "attached %s (%d bytes, sha256 %s)\n", ev.Name, ev.Size, ev.SHA256)
	return nil
}

// describeEntry says in words what a timeline entry records.
func describeEntry(e *store.TimelineEntry) string {
	var b struct {
		Title    string   `json:"title"`
		Type     string   `json:"type"`
		Severity string   `json:"severity"`
		Changed  []string `json:"changed"`
		From     string   `json:"from"`
		To       string   `json:"to"`
		Note     string   `json:"note"`
		Text     string   `json:"text"`
		Ref      string   `json:"ref"`
		Name     string   `json:"name"`
		SHA256   string   `json:"sha256"`
		Size     int64    `json:"size"`
		Kind     string   `json:"kind"`
		Status   string   `json:"status"`
		Owner    string   `json:"owner"`
	}
	if json.Unmarshal(e.Body, &b) != nil {
		return string(e.Body)
	}
	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	switch e.Kind {
	case incident.KindCreated:
		return fmt.Sprintf("opened %q (%s, %s)", b.Title, b.Type, b.Severity)
	case incident.KindUpdated:
		return "changed " + strings.Join(b.Changed, ", ")
	case incident.KindPhaseChanged:
		s := b.From + " → " + b.To
		if b.Note != "" {
			s += ": " + oneLine(b.Note)
		}
		return s
	case incident.KindEvidenceAttached:
		return fmt.Sprintf("%s (%d bytes, sha256 %.12s…)", b.Name, b.Size, b.SHA256)
	case incident.KindTaskCreated:
		return fmt.Sprintf("%s %q owner %s", b.Kind, b.Title, dash(b.Owner))
	case incident.KindTaskUpdated:
		return fmt.Sprintf("changed %s: now %s, owner %s", strings.Join(b.Changed, ", "), b.Status, dash(b.Owner))
	}
	s := oneLine(b.Text)
	if b.Ref != "" {
		s = "[" + b.Ref + "] " + s
	}
	return s
}
