//go:build unix

package signing

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestManifestRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "weights.bin"), []byte("w"))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	// Hashing a pipe would block forever; it must be refused by type.
	_, err := Manifest(dir, ManifestOptions{})
	if err == nil || !strings.Contains(err.Error(), "pipe: is a named pipe") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Manifest(dir, ManifestOptions{IgnorePaths: []string{"pipe"}}); err != nil {
		t.Fatal(err)
	}
}
