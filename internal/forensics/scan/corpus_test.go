package scan

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// labelLine matches a SOURCE.txt line that labels a file (or a glob of
// files): "malicious1.zip        MAL  ...", "password_protected.zip BENIGN ...".
var labelLine = regexp.MustCompile(`^(\S+\.[A-Za-z0-9]+)\s+(MAL/ERR|MAL|BEN|MALICIOUS|BENIGN)\s`)

// corpusLabels reads the labels of a corpus's SOURCE.txt: base name or glob
// to malicious (true) or benign (false).
func corpusLabels(t *testing.T, source string) map[string]bool {
	t.Helper()
	f, err := os.Open(source)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labels := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := labelLine.FindStringSubmatch(sc.Text()); m != nil {
			labels[m[1]] = strings.HasPrefix(m[2], "MAL")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return labels
}

func labelOf(labels map[string]bool, name string) (malicious, ok bool) {
	if m, ok := labels[name]; ok {
		return m, true
	}
	for pattern, m := range labels {
		if matched, _ := filepath.Match(pattern, name); matched {
			return m, true
		}
	}
	return false, false
}

// TestCorpusPickleAttacks scans the picklescan and modelscan corpora: every
// file labelled malicious must be dangerous, and no benign one may be
// (an encrypted zip is suspicious: it cannot be inspected; the rest of the
// benign files are clean).
func TestCorpusPickleAttacks(t *testing.T) {
	data := dataDir(t)
	var malicious, benign int
	for _, corpus := range []string{"picklescan", "modelscan"} {
		root := filepath.Join(data, "models", corpus)
		labels := corpusLabels(t, filepath.Join(root, "SOURCE.txt"))
		var files []FileReport
		for _, sub := range []string{"data", "data2"} {
			dir := filepath.Join(root, sub)
			if _, err := os.Stat(dir); err != nil {
				continue
			}
			rep, err := Scan(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, rep.Files...)
		}
		for _, f := range files {
			name := filepath.Base(f.Path)
			isMalicious, ok := labelOf(labels, name)
			if !ok {
				t.Errorf("%s/%s: no label in SOURCE.txt", corpus, name)
				continue
			}
			if isMalicious {
				malicious++
				if f.Verdict != VerdictDangerous {
					t.Errorf("%s/%s (malicious): %s %s:%s", corpus, name, f.Format, f.Verdict, dump(f.Findings))
				}
				continue
			}
			benign++
			want := VerdictClean
			if strings.Contains(name, "password") {
				want = VerdictSuspicious
			}
			if f.Verdict != want {
				t.Errorf("%s/%s (benign): %s %s, want %s:%s", corpus, name, f.Format, f.Verdict, want, dump(f.Findings))
			}
		}
	}
	// The corpora's README: picklescan holds 95 malicious and 14 benign
	// files, modelscan one of each.
	if malicious != 96 || benign != 15 {
		t.Errorf("scanned %d malicious and %d benign files, want 96 and 15", malicious, benign)
	}
	t.Logf("%d malicious files dangerous, %d benign files not dangerous", malicious, benign)
}

// TestCorpusBrokenStreamsAreErrors: the files picklescan expects a scan
// error for (a payload then junk, a truncated stream) report it.
func TestCorpusBrokenStreamsAreErrors(t *testing.T) {
	dir := filepath.Join(dataDir(t), "models", "picklescan", "data")
	for name, rule := range map[string]string{
		"malicious-invalid-bytes.pkl": "trailing-data",
		"broken_model.pkl":            "pickle-malformed",
	} {
		rep, err := Scan(context.Background(), filepath.Join(dir, name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range rep.Files[0].Findings {
			found = found || f.Rule == rule
		}
		if !found {
			t.Errorf("%s: no %s finding:%s", name, rule, dump(rep.Files[0].Findings))
		}
	}
}

func TestCorpusTensorFilesAreClean(t *testing.T) {
	data := dataDir(t)
	for _, tc := range []struct{ dir, format string }{
		{filepath.Join(data, "models", "safetensors", "samples"), fmtSafetensors},
		{filepath.Join(data, "models", "onnx"), fmtONNX},
	} {
		rep, err := Scan(context.Background(), tc.dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range rep.Files {
			if filepath.Base(f.Path) == "SOURCE.txt" {
				continue
			}
			n++
			if f.Format != tc.format || f.Verdict != VerdictClean {
				t.Errorf("%s: %s %s:%s", f.Path, f.Format, f.Verdict, dump(f.Findings))
			}
		}
		if n == 0 {
			t.Errorf("%s: no files", tc.dir)
		}
	}
}
