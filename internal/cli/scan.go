package cli

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/airlock-ir/airlock/internal/forensics/scan"
)

const scanUsage = `usage: airlock scan PATH... [--json | --sarif] [--fail-on-suspicious]

Scans model files and folders (recursively) for code that loading them would
run, without loading anything. Formats are found by content: pickle, PyTorch,
NumPy, zip, 7z, tar, safetensors, GGUF, ONNX, Keras.

Exit status: 0 clean (suspicious files are warned about), 1 a dangerous file
(or, with --fail-on-suspicious, a suspicious one), 2 a file could not be fully
inspected or the command was misused.`

// progressMin is the size from which a scan on a terminal shows progress.
const progressMin = 64 << 20

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scan", stderr)
	fs.Usage = func() { io.WriteString(stderr, scanUsage+"\n\n"); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "print the report as JSON")
	asSARIF := fs.Bool("sarif", false, "print the report as SARIF 2.1.0")
	failSuspicious := fs.Bool("fail-on-suspicious", false, "exit 1 for suspicious files too")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError("%s", scanUsage)
	}
	if *asJSON && *asSARIF {
		return usageError("--json and --sarif are exclusive")
	}
	opts := scan.Options{FailOnSuspicious: *failSuspicious}
	var bar *progressBar
	if isTerminal(stderr) {
		if total := totalSize(paths); total > progressMin {
			bar = newProgressBar(stderr, "scanning", total)
			opts.Progress = bar.add
		}
	}

	var rep scan.Report
	for i, p := range paths {
		one, err := scan.Scan(ctx, p, opts)
		bar.fileDone()
		if err != nil {
			bar.clear()
			if ctx.Err() != nil {
				return &exitError{code: 2, err: ctx.Err()}
			}
			return &exitError{code: 2, err: err}
		}
		if i == 0 {
			rep = one // carries the options ExitCode needs
		} else {
			rep.Files = append(rep.Files, one.Files...)
		}
	}
	bar.clear()

	switch {
	case *asJSON:
		err = scan.WriteJSON(stdout, rep)
	case *asSARIF:
		err = scan.WriteSARIF(stdout, rep)
	default:
		err = scan.WriteTable(stdout, rep)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if code := scan.ExitCode(rep); code != 0 {
		return &exitError{code: code, err: errSilent}
	}
	return nil
}

// isTerminal reports whether w is a terminal (a character device), where
// progress may be drawn; never a pipe, a file or a test's buffer.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// totalSize adds up the sizes of the regular files under paths, the way the
// scanner will find them; unreadable entries count as nothing.
func totalSize(paths []string) int64 {
	var total int64
	for _, p := range paths {
		if li, err := os.Lstat(p); err == nil && li.Mode()&os.ModeSymlink != 0 {
			p += string(filepath.Separator) // walk the folder a link points to, as Scan does
		}
		filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrPermission) && d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
				total += info.Size()
			}
			return nil
		})
	}
	return total
}
