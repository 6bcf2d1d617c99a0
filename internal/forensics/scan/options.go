package scan

// Options bound a scan. The zero value is ready to use: zero fields take the
// defaults below.
type Options struct {
	// MaxDepth is how many archives deep (zip in zip, npz in 7z...) the scan
	// opens; a deeper archive is an error finding. Default 4.
	MaxDepth int

	// MaxTotalBytes caps the bytes extracted from archives (decompressed or
	// copied out of members) for one file on disk, bombs included. Default
	// 4 GiB. Hashing the file itself does not count.
	MaxTotalBytes int64

	// MaxPickleOps caps the pickle opcodes interpreted for one file on disk.
	// Default 10 million.
	MaxPickleOps int64

	// FailOnSuspicious makes ExitCode return 1 for suspicious files too.
	FailOnSuspicious bool

	// Progress, when set, is called as files are read with the bytes done
	// and the total bytes of all files found. Calls never overlap; they come
	// from the goroutine that hashes the current file.
	Progress func(done, total int64)
}

const (
	defaultMaxDepth      = 4
	defaultMaxTotalBytes = 4 << 30
	defaultMaxPickleOps  = 10_000_000

	// maxRatio is the largest compression ratio a member larger than
	// ratioFloor may declare; deflate cannot exceed about 1032:1, so a
	// higher ratio is a lie or another codec's bomb.
	maxRatio   = 1000
	ratioFloor = 1 << 20

	// maxFindings per file; more are summarised in one last finding.
	maxFindings = 1000
)

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultMaxDepth
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = defaultMaxTotalBytes
	}
	if o.MaxPickleOps <= 0 {
		o.MaxPickleOps = defaultMaxPickleOps
	}
	return o
}
