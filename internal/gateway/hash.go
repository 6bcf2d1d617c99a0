package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// hashWriter is a running SHA-256 of streamed text.
type hashWriter struct{ h hash.Hash }

func newHashWriter() hashWriter { return hashWriter{h: sha256.New()} }

func (w hashWriter) WriteString(s string) { w.h.Write([]byte(s)) }

func (w hashWriter) Sum() string { return hex.EncodeToString(w.h.Sum(nil)) }
