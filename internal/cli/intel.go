package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

const intelUsage = `usage: airlock intel <subcommand> [flags]

  import FILE [--name NAME] [--format csv|stix]   import (or replace) a feed of indicators
  list                                            the feeds imported and how many indicators are in force
  remove NAME                                     delete a feed

A feed is a CSV file (columns type,value[,description,severity,confidence,labels,valid_from,
valid_until,source,id,atlas]) or a STIX 2.1 bundle; see docs/detectors.md#threat-intelligence.
A malformed feed is refused whole, with each problem as FILE:LINE: reason.
Every subcommand takes --server, --token and --json.`

func runIntel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("%s", intelUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("intel "+sub, stderr)
	conn := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "import: the feed's name (default: the file name without extension)")
	format := fs.String("format", "", "import: csv or stix (default: by content)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	c, err := conn()
	if err != nil {
		return err
	}
	switch sub {
	case "import":
		if len(pos) != 1 {
			return usageError("usage: airlock intel import FILE [--name NAME] [--format csv|stix]")
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		feed := *name
		if feed == "" {
			feed = strings.ToLower(strings.TrimSuffix(filepath.Base(pos[0]), filepath.Ext(pos[0])))
		}
		path := "/api/v1/intel/feeds/" + url.PathEscape(feed)
		if *format != "" {
			path += "?format=" + url.QueryEscape(*format)
		}
		var out struct {
			Name  string
			Count int
		}
		raw, err := c.send(ctx, "PUT", path, f, "application/octet-stream", &out)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, raw)
		}
		fmt.Fprintf(stdout, "imported feed %s: %d indicators\n", out.Name, out.Count)
		return nil
	case "list":
		var out struct {
			Feeds []struct {
				Name       string
				Count      int
				ImportedAt time.Time `json:"imported_at"`
				ImportedBy string    `json:"imported_by"`
				SHA256     string
			}
			Indicators int
		}
		raw, err := c.do(ctx, "GET", "/api/v1/intel", nil, &out)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, raw)
		}
		fmt.Fprintf(stdout, "%d indicators in force\n", out.Indicators)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FEED\tINDICATORS\tIMPORTED\tBY\tSHA256")
		for _, f := range out.Feeds {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.12s\n", f.Name, f.Count, f.ImportedAt.Format("2006-01-02 15:04:05Z"), f.ImportedBy, f.SHA256)
		}
		return tw.Flush()
	case "remove":
		if len(pos) != 1 {
			return usageError("usage: airlock intel remove NAME")
		}
		raw, err := c.do(ctx, "DELETE", "/api/v1/intel/feeds/"+url.PathEscape(pos[0]), nil, nil)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, raw)
		}
		fmt.Fprintf(stdout, "removed feed %s\n", pos[0])
		return nil
	}
	return usageError("unknown subcommand %q\n%s", sub, intelUsage)
}
