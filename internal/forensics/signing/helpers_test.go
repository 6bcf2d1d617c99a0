package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// dataDir is the shared data folder holding the model-signing vectors.
func dataDir(t testing.TB) string { return testcorpus.Root(t, transparency) }

const transparency = "models/model-transparency"

// sample returns the model-transparency test vectors folder.
func sample(t testing.TB, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{dataDir(t), "models", "model-transparency"}, parts...)...)
}

// copyModel copies a sample model folder (flat) into a writable temp dir.
func copyModel(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadCerts(t testing.TB, name string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no certificate", name)
	}
	return out
}

func loadPublicKey(t testing.TB, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data) // skips the text before the block
	if blk == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func readBundle(t testing.TB, name string) *Bundle {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := ReadBundle(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// statementJSON builds the payload model-signing would sign for m.
func statementJSON(t testing.TB, m *ModelManifest) []byte {
	t.Helper()
	type res struct {
		Algorithm string `json:"algorithm"`
		Digest    string `json:"digest"`
		Name      string `json:"name"`
	}
	var rs []res
	for _, f := range m.Files {
		rs = append(rs, res{"sha256", f.SHA256, f.Name})
	}
	st := map[string]any{
		"_type":         statementType,
		"subject":       []any{map[string]any{"name": m.Name, "digest": map[string]string{"sha256": m.RootDigest()}}},
		"predicateType": predicateV1,
		"predicate": map[string]any{
			"serialization": map[string]any{
				"method": "files", "hash_type": "sha256",
				"allow_symlinks": m.AllowSymlinks, "ignore_paths": m.IgnorePaths,
			},
			"resources": rs,
		},
	}
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signBundle signs payload with key and wraps it in a v0.3 bundle with the
// given verification material (nil: a publicKey hint for key).
func signBundle(t testing.TB, key *ecdsa.PrivateKey, payload []byte, material map[string]any) []byte {
	t.Helper()
	msg := PAE(inTotoPayloadType, payload)
	var digest []byte
	switch key.Curve {
	case elliptic.P256():
		d := sha256.Sum256(msg)
		digest = d[:]
	case elliptic.P384():
		d := sha512.Sum384(msg)
		digest = d[:]
	default:
		d := sha512.Sum512(msg)
		digest = d[:]
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest)
	if err != nil {
		t.Fatal(err)
	}
	if material == nil {
		material = map[string]any{"publicKey": map[string]string{"hint": KeyHint(&key.PublicKey)}, "tlogEntries": []any{}}
	}
	b := map[string]any{
		"mediaType":            bundleMediaTypeV03,
		"verificationMaterial": material,
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(payload),
			"payloadType": inTotoPayloadType,
			"signatures":  []any{map[string]string{"sig": base64.StdEncoding.EncodeToString(sig), "keyid": ""}},
		},
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// chainMaterial is x509CertificateChain material for certs (leaf first).
func chainMaterial(certs ...*x509.Certificate) map[string]any {
	var list []any
	for _, c := range certs {
		list = append(list, map[string]string{"rawBytes": base64.StdEncoding.EncodeToString(c.Raw)})
	}
	return map[string]any{"x509CertificateChain": map[string]any{"certificates": list}, "tlogEntries": []any{}}
}

// editBundle decodes a bundle file into generic JSON, lets edit change it,
// and writes it back.
func editBundle(t testing.TB, name string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	edit(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, name, out)
}
