package scan

// Verdict is the outcome for one file: the worst severity among its
// findings, ordered clean < suspicious < error < dangerous. An error (part of
// the file could not be inspected) ranks above suspicious because the part
// that was not inspected may hold anything.
type Verdict string

const (
	VerdictClean      Verdict = "clean"
	VerdictSuspicious Verdict = "suspicious"
	VerdictError      Verdict = "error"
	VerdictDangerous  Verdict = "dangerous"
)

// Severity grades one finding. Info findings say what was not looked at and
// do not change the verdict.
type Severity string

const (
	SeverityInfo       Severity = "info"
	SeveritySuspicious Severity = "suspicious"
	SeverityError      Severity = "error"
	SeverityDangerous  Severity = "dangerous"
)

func (s Severity) rank() int {
	switch s {
	case SeveritySuspicious:
		return 1
	case SeverityError:
		return 2
	case SeverityDangerous:
		return 3
	}
	return 0
}

func (v Verdict) rank() int {
	switch v {
	case VerdictSuspicious:
		return 1
	case VerdictError:
		return 2
	case VerdictDangerous:
		return 3
	}
	return 0
}

func verdictOf(s Severity) Verdict {
	switch s {
	case SeveritySuspicious:
		return VerdictSuspicious
	case SeverityError:
		return VerdictError
	case SeverityDangerous:
		return VerdictDangerous
	}
	return VerdictClean
}

// Report is the result of one Scan: one entry per regular file found.
type Report struct {
	Files []FileReport `json:"files"`

	// failOnSuspicious carries Options.FailOnSuspicious to ExitCode.
	failOnSuspicious bool
}

// FileReport is what was found in one file. Findings inside archive members
// name the member at the start of their reason.
type FileReport struct {
	Path     string    `json:"path"`
	Format   string    `json:"format"`
	Verdict  Verdict   `json:"verdict"`
	Findings []Finding `json:"findings"`
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
}

// Finding is one reason for a verdict. Module and Name are set for pickle
// globals (and Keras module references); Offset is the byte offset in the
// file, or -1 when it has none (inside a compressed member the reason gives
// the offset within the member).
type Finding struct {
	Module   string   `json:"module"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	Reason   string   `json:"reason"`
	Offset   int64    `json:"offset"`

	// Rule is the kind of finding (a SARIF rule id such as
	// "pickle-denied-global"); it is not part of the JSON report.
	Rule string `json:"-"`
}

// Verdict is the worst verdict over all files.
func (r Report) Verdict() Verdict {
	worst := VerdictClean
	for _, f := range r.Files {
		if f.Verdict.rank() > worst.rank() {
			worst = f.Verdict
		}
	}
	return worst
}

// ExitCode is the process exit status a command line tool should use:
// 1 when any file is dangerous (this wins over errors: it is a definite
// answer), else 2 when any file could not be fully inspected, else 1 when a
// file is suspicious and the scan ran with Options.FailOnSuspicious, else 0.
// By default a suspicious file exits 0; the table output warns about it.
func ExitCode(r Report) int {
	var dangerous, failed, suspicious bool
	for _, f := range r.Files {
		switch f.Verdict {
		case VerdictDangerous:
			dangerous = true
		case VerdictError:
			failed = true
		case VerdictSuspicious:
			suspicious = true
		}
	}
	switch {
	case dangerous:
		return 1
	case failed:
		return 2
	case suspicious && r.failOnSuspicious:
		return 1
	}
	return 0
}
