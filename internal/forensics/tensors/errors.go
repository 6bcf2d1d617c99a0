package tensors

import "fmt"

// FormatError reports a file that breaks its format's rules: a bad magic, a
// length that runs past the end, overlapping tensors, a size that does not
// match a shape. I/O errors from the underlying reader are returned as they
// are (wrapped), never as a FormatError.
type FormatError struct {
	Format Format // which format was being read
	Offset int64  // byte offset in the file where the problem was found
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: at byte %d: %s", e.Format, e.Offset, e.Reason)
}

func formatErrorf(f Format, off int64, format string, args ...any) *FormatError {
	return &FormatError{Format: f, Offset: off, Reason: fmt.Sprintf(format, args...)}
}
