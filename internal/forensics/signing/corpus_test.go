package signing

import (
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The model-transparency v1.1.0 test vectors (see SOURCE.txt beside them).

const ellipticSubject = "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"

func TestEllipticKeySample(t *testing.T) {
	dir := sample(t, "v1.1.0-elliptic-key")
	pub := loadPublicKey(t, sample(t, "keys", "signing-key-pub.pem"))

	res, err := Verify(dir, filepath.Join(dir, "model.sig"), Options{PublicKey: pub, IgnorePaths: []string{"ignore-me"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid || res.Signer.Kind != SignerKey {
		t.Fatalf("Valid=%v Kind=%s", res.Valid, res.Signer.Kind)
	}
	if res.Model != "v1.1.0-elliptic-key" || res.SubjectDigest != ellipticSubject {
		t.Errorf("subject %s %s", res.Model, res.SubjectDigest)
	}
	if res.Signer.KeyHint != "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e" {
		t.Errorf("key hint %s", res.Signer.KeyHint)
	}
	want := []FileDigest{
		{"signme-1", "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc", 9},
		{"signme-2", "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028", 8},
	}
	if !slices.Equal(res.Files, want) {
		t.Errorf("files %+v", res.Files)
	}
	if res.Serialization.Method != "files" || res.Serialization.AllowSymlinks || !slices.Contains(res.Serialization.IgnorePaths, "ignore-me") {
		t.Errorf("serialization %+v", res.Serialization)
	}
}

func TestManifestMatchesSubjectDigest(t *testing.T) {
	m, err := Manifest(sample(t, "v1.1.0-elliptic-key"), ManifestOptions{IgnorePaths: []string{"ignore-me"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.RootDigest(); got != ellipticSubject {
		t.Fatalf("RootDigest = %s, want %s", got, ellipticSubject)
	}
	if m.Name != "v1.1.0-elliptic-key" || len(m.Files) != 2 {
		t.Fatalf("%+v", m)
	}
	wantIgnores := []string{".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"}
	if !slices.Equal(m.IgnorePaths, wantIgnores) {
		t.Errorf("IgnorePaths %v", m.IgnorePaths)
	}
}

func TestCertificateSample(t *testing.T) {
	dir := sample(t, "v1.1.0-certificate")
	b := readBundle(t, filepath.Join(dir, "model.sig"))
	if b.Material != MaterialCertificateChain || len(b.Certificates) != 2 {
		t.Fatalf("material %s with %d certificates", b.Material, len(b.Certificates))
	}

	for _, root := range []string{"ca-cert.pem", "int-ca-cert.pem"} {
		t.Run(root, func(t *testing.T) {
			res, err := Verify(dir, filepath.Join(dir, "model.sig"), Options{
				Roots: loadCerts(t, sample(t, "keys", root)), IgnorePaths: []string{"ignore-me"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Valid || res.Signer.Kind != SignerCertificate || !res.Signer.ChainVerified {
				t.Fatalf("%+v", res.Signer)
			}
			if res.Signer.Subject != "CN=intermediate-ca" || res.Signer.Issuer != "CN=intermediate-ca" {
				t.Errorf("subject %q issuer %q", res.Signer.Subject, res.Signer.Issuer)
			}
			if res.CheckedAtSource != "now: the bundle has no trusted signing time" {
				t.Errorf("CheckedAtSource %q", res.CheckedAtSource)
			}
			if res.SubjectDigest != "61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226" {
				t.Errorf("subject digest %s", res.SubjectDigest)
			}
		})
	}

	t.Run("outside validity", func(t *testing.T) {
		roots := loadCerts(t, sample(t, "keys", "ca-cert.pem"))
		_, err := VerifyCertificate(b, roots, VerifyOptions{At: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)})
		if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("err = %v, want an expired-certificate error", err)
		}
	})
	t.Run("unrelated root", func(t *testing.T) {
		ca := newCA(t, "other-root", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if _, err := VerifyCertificate(b, ca.certs(), VerifyOptions{}); !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no roots", func(t *testing.T) {
		_, err := Verify(dir, filepath.Join(dir, "model.sig"), Options{IgnorePaths: []string{"ignore-me"}})
		if !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("leaf key", func(t *testing.T) {
		// The bundled leaf is keys/signing-key-cert.pem.
		leaf := loadCerts(t, sample(t, "keys", "signing-key-cert.pem"))[0]
		if !leaf.Equal(b.Leaf()) {
			t.Fatal("bundle leaf differs from keys/signing-key-cert.pem")
		}
	})
}

func TestSigstoreSample(t *testing.T) {
	dir := sample(t, "v1.1.0-sigstore")
	sig := filepath.Join(dir, "model.sig")
	b := readBundle(t, sig)
	if b.Material != MaterialCertificate || len(b.TlogEntries) != 1 || b.RFC3161Timestamps != 1 {
		t.Fatalf("material %s, %d tlog entries, %d timestamps", b.Material, len(b.TlogEntries), b.RFC3161Timestamps)
	}
	const (
		identity = "stefanb@us.ibm.com"
		issuer   = "https://sigstore.verify.ibm.com/oauth2"
	)

	t.Run("offline, no trust root", func(t *testing.T) {
		res, err := Verify(dir, sig, Options{IgnorePaths: []string{"ignore-me"}, Identity: identity, OIDCIssuer: issuer})
		if !errors.Is(err, ErrTrustIncomplete) {
			t.Fatalf("err = %v, want ErrTrustIncomplete", err)
		}
		if res == nil || res.Valid || res.Signer.Kind != SignerSigstoreUnverified || res.Signer.ChainVerified {
			t.Fatalf("result %+v", res)
		}
		if !slices.Equal(res.Signer.Identities, []string{identity}) || res.Signer.OIDCIssuer != issuer {
			t.Errorf("identity %v issuer %q", res.Signer.Identities, res.Signer.OIDCIssuer)
		}
		notes := strings.Join(res.NotVerified, "\n")
		for _, want := range []string{"transparency log inclusion not verified", "no Fulcio trust root", "RFC 3161", "SCT"} {
			if !strings.Contains(notes, want) {
				t.Errorf("NotVerified lacks %q:\n%s", want, notes)
			}
		}
		if want := time.Unix(1760062340, 0).UTC(); !res.CheckedAt.Equal(want) {
			t.Errorf("CheckedAt %s, want the tlog integratedTime %s", res.CheckedAt, want)
		}
		if len(res.Files) != 2 {
			t.Errorf("files %+v", res.Files)
		}
	})

	t.Run("with Fulcio roots", func(t *testing.T) {
		roots := loadCerts(t, filepath.Join("testdata", "fulcio-public-good.pem"))
		rep, err := VerifySigstoreOffline(b, SigstoreOptions{Identity: identity, OIDCIssuer: issuer, FulcioRoots: roots})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.ChainVerified || !rep.TlogEntryMatches || !rep.InclusionProofConsistent {
			t.Fatalf("chain %v tlog body %v proof %v", rep.ChainVerified, rep.TlogEntryMatches, rep.InclusionProofConsistent)
		}
		if len(rep.NotVerified) == 0 {
			t.Fatal("a sigstore report must always say what was not verified")
		}
		res, err := Verify(dir, sig, Options{Roots: roots, IgnorePaths: []string{"ignore-me"}, Identity: identity, OIDCIssuer: issuer})
		if !errors.Is(err, ErrTrustIncomplete) || res == nil || res.Valid || !res.Signer.ChainVerified {
			t.Fatalf("err = %v, result %+v", err, res)
		}
	})

	t.Run("wrong identity", func(t *testing.T) {
		_, err := VerifySigstoreOffline(b, SigstoreOptions{Identity: "mallory@example.com"})
		if !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
		_, err = VerifySigstoreOffline(b, SigstoreOptions{OIDCIssuer: "https://accounts.google.com"})
		if !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("leaf key verifies the payload", func(t *testing.T) {
		st, err := VerifyKey(b, b.Leaf().PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if st.Subject.Name != "v1.1.0-sigstore" || len(st.Resources) != 2 {
			t.Fatalf("%+v", st.Subject)
		}
	})

	t.Run("expired leaf is not ignored", func(t *testing.T) {
		roots := loadCerts(t, filepath.Join("testdata", "fulcio-public-good.pem"))
		if _, err := VerifyCertificate(b, roots, VerifyOptions{}); !errors.Is(err, ErrCertificate) {
			t.Fatalf("now: err = %v, want the 10-minute Fulcio leaf to be expired", err)
		}
		if _, err := VerifyCertificate(b, roots, VerifyOptions{At: b.TlogEntries[0].IntegratedTime}); err != nil {
			t.Fatalf("at integratedTime: %v", err)
		}
		if _, err := VerifySigstoreOffline(b, SigstoreOptions{At: time.Now()}); !errors.Is(err, ErrCertificate) {
			t.Fatalf("offline at now: err = %v", err)
		}
	})

	t.Run("tampered inclusion proof", func(t *testing.T) {
		bad := *b
		e := b.TlogEntries[0]
		p := *e.InclusionProof
		p.Hashes = slices.Clone(p.Hashes)
		p.Hashes[3] = make([]byte, 32)
		e.InclusionProof = &p
		bad.TlogEntries = []TlogEntry{e}
		if _, err := VerifySigstoreOffline(&bad, SigstoreOptions{}); !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	})
}

// Negative tests on copies of the elliptic-key sample.
func TestEllipticKeyTampering(t *testing.T) {
	src := sample(t, "v1.1.0-elliptic-key")
	pub := loadPublicKey(t, sample(t, "keys", "signing-key-pub.pem"))
	opts := Options{PublicKey: pub, IgnorePaths: []string{"ignore-me"}}

	mismatch := func(t *testing.T, err error) *ManifestMismatchError {
		t.Helper()
		var mm *ManifestMismatchError
		if !errors.As(err, &mm) || !errors.Is(err, ErrManifestMismatch) {
			t.Fatalf("err = %v, want a *ManifestMismatchError", err)
		}
		return mm
	}

	t.Run("one byte of signme-1", func(t *testing.T) {
		dir := copyModel(t, src)
		data, _ := os.ReadFile(filepath.Join(dir, "signme-1"))
		data[0] ^= 1
		writeFile(t, filepath.Join(dir, "signme-1"), data)
		_, err := Verify(dir, filepath.Join(dir, "model.sig"), opts)
		mm := mismatch(t, err)
		if !slices.Equal(mm.Changed, []string{"signme-1"}) || len(mm.Extra)+len(mm.Missing) != 0 {
			t.Fatalf("%+v", mm)
		}
		if !strings.Contains(err.Error(), "signme-1") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})

	t.Run("file not in the manifest", func(t *testing.T) {
		dir := copyModel(t, src)
		writeFile(t, filepath.Join(dir, "sub", "backdoor.bin"), []byte("x"))
		_, err := Verify(dir, filepath.Join(dir, "model.sig"), opts)
		mm := mismatch(t, err)
		if !slices.Equal(mm.Extra, []string{"sub/backdoor.bin"}) || !strings.Contains(err.Error(), "sub/backdoor.bin") {
			t.Fatalf("%v", err)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		dir := copyModel(t, src)
		if err := os.Remove(filepath.Join(dir, "signme-2")); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(dir, filepath.Join(dir, "model.sig"), opts)
		if mm := mismatch(t, err); !slices.Equal(mm.Missing, []string{"signme-2"}) {
			t.Fatalf("%v", err)
		}
	})

	t.Run("ignore-me not ignored", func(t *testing.T) {
		dir := copyModel(t, src)
		_, err := Verify(dir, filepath.Join(dir, "model.sig"), Options{PublicKey: pub})
		mm := mismatch(t, err)
		if !slices.Equal(mm.Extra, []string{"ignore-me"}) || !slices.Equal(mm.SignerIgnored, []string{"ignore-me"}) {
			t.Fatalf("%+v", mm)
		}
		if !strings.Contains(err.Error(), "ignore-me") {
			t.Fatalf("error does not name the file: %v", err)
		}
		// As model-signing does, on request: the signer's list applies.
		res, err := Verify(dir, filepath.Join(dir, "model.sig"), Options{PublicKey: pub, UseSignerIgnorePaths: true})
		if err != nil || !res.Valid {
			t.Fatalf("UseSignerIgnorePaths: %v", err)
		}
	})

	t.Run("tampered payload", func(t *testing.T) {
		dir := copyModel(t, src)
		sig := filepath.Join(dir, "model.sig")
		editBundle(t, sig, func(b map[string]any) {
			env := b["dsseEnvelope"].(map[string]any)
			payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
			payload = []byte(strings.Replace(string(payload), "bc9a717d", "bc9a717e", 1))
			env["payload"] = base64.StdEncoding.EncodeToString(payload)
		})
		_, err := Verify(dir, sig, opts)
		if !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v, want ErrSignature", err)
		}
	})

	t.Run("tampered signature", func(t *testing.T) {
		dir := copyModel(t, src)
		sig := filepath.Join(dir, "model.sig")
		editBundle(t, sig, func(b map[string]any) {
			s := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
			raw, _ := base64.StdEncoding.DecodeString(s["sig"].(string))
			raw[len(raw)-1] ^= 1
			s["sig"] = base64.StdEncoding.EncodeToString(raw)
		})
		if _, err := Verify(dir, sig, opts); !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("wrong public key", func(t *testing.T) {
		other := newKey(t, elliptic.P384())
		_, err := Verify(src, filepath.Join(src, "model.sig"), Options{PublicKey: &other.PublicKey, IgnorePaths: []string{"ignore-me"}})
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "hint") {
			t.Fatalf("err = %v", err)
		}
		// Without the hint, the signature itself must fail.
		b := readBundle(t, filepath.Join(src, "model.sig"))
		b.PublicKeyHint = ""
		if _, err := VerifyKey(b, &other.PublicKey); !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("no key given", func(t *testing.T) {
		_, err := Verify(src, filepath.Join(src, "model.sig"), Options{IgnorePaths: []string{"ignore-me"}})
		if !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("truncated and garbage bundles", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(src, "model.sig"))
		if err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string][]byte{
			"truncated": data[:len(data)/2],
			"garbage":   []byte("\x00\x01PK\x03\x04 not json"),
			"empty":     nil,
		} {
			dir := copyModel(t, src)
			sig := filepath.Join(dir, "model.sig")
			writeFile(t, sig, content)
			_, err := Verify(dir, sig, opts)
			if !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), "model.sig") {
				t.Errorf("%s: err = %v, want ErrBundle naming the file", name, err)
			}
		}
	})
}

func TestSigstoreLeafInAChainIsStillSigstore(t *testing.T) {
	// A Fulcio leaf presented as x509CertificateChain must not pass as a
	// plain certificate signature checked at a caller-chosen time.
	src := sample(t, "v1.1.0-sigstore")
	dir := copyModel(t, src)
	sig := filepath.Join(dir, "model.sig")
	editBundle(t, sig, func(b map[string]any) {
		vm := b["verificationMaterial"].(map[string]any)
		vm["x509CertificateChain"] = map[string]any{"certificates": []any{vm["certificate"]}}
		delete(vm, "certificate")
	})
	roots := loadCerts(t, filepath.Join("testdata", "fulcio-public-good.pem"))
	res, err := Verify(dir, sig, Options{Roots: roots, IgnorePaths: []string{"ignore-me"}, At: time.Unix(1760062340, 0)})
	if !errors.Is(err, ErrTrustIncomplete) || res.Valid || res.Signer.Kind != SignerSigstoreUnverified {
		t.Fatalf("err = %v", err)
	}
}
