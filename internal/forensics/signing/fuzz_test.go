package signing

import (
	"bytes"
	"crypto/elliptic"
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"os"
	"path/filepath"
	"testing"
)

func FuzzReadBundle(f *testing.F) {
	key := newKey(f, elliptic.P256())
	f.Add(signBundle(f, key, []byte(`{"_type": "https://in-toto.io/Statement/v1"}`), nil))
	f.Add([]byte(`{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"publicKey": {}}, "dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AA=="}]}}`))
	f.Add([]byte(`{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"certificate": {"rawBytes": "MAA="}, "tlogEntries": [{"logIndex": "1", "integratedTime": 99, "inclusionProof": {"logIndex": "0", "treeSize": "1", "rootHash": "AA==", "hashes": ["AA=="]}}]}}`))
	f.Add([]byte(`{"a": 1, "a": 2}`))
	f.Add([]byte(`[{}]`))
	// The real vectors, when the corpus is there; the fuzzer runs without it.
	if d := testcorpus.Find(transparency); d != "" {
		for _, s := range []string{"v1.1.0-elliptic-key", "v1.1.0-certificate", "v1.1.0-sigstore"} {
			if data, err := os.ReadFile(filepath.Join(d, "models", "model-transparency", s, "model.sig")); err == nil {
				f.Add(data)
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBundle(bytes.NewReader(data))
		if err != nil {
			if b != nil {
				t.Fatal("a bundle and an error")
			}
			return
		}
		if len(b.Envelope.Payload) == 0 || len(b.Envelope.Signature) == 0 || b.Envelope.PayloadType == "" {
			t.Fatalf("accepted an envelope without payload or signature: %+v", b.Envelope)
		}
		switch b.Material {
		case MaterialPublicKey:
			if len(b.Certificates) != 0 {
				t.Fatal("certificates with publicKey material")
			}
		case MaterialCertificate, MaterialCertificateChain:
			if b.Leaf() == nil {
				t.Fatal("certificate material without a leaf")
			}
		default:
			t.Fatalf("material %q", b.Material)
		}
		// Verification of a hostile bundle fails cleanly, never panics.
		if _, err := VerifyKey(b, &key.PublicKey); err == nil {
			t.Fatal("a fuzzed bundle verified with a fresh key")
		}
		_, _ = parseStatement(b.Envelope.Payload)
		_, _ = VerifySigstoreOffline(b, SigstoreOptions{})
	})
}
