package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Tests that need no corpus: models, keys and certificates made here.

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t testing.TB, name string, notBefore, notAfter time.Time) *testCA {
	t.Helper()
	key := newKey(t, elliptic.P256())
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: c, key: key}
}

func (ca *testCA) certs() []*x509.Certificate { return []*x509.Certificate{ca.cert} }

func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(2)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// makeModel writes a small nested model and returns its folder.
func makeModel(t testing.TB) string {
	dir := filepath.Join(t.TempDir(), "tiny-model")
	writeFile(t, filepath.Join(dir, "config.json"), []byte(`{"layers": 2}`))
	writeFile(t, filepath.Join(dir, "a", "b"), []byte("nested"))
	writeFile(t, filepath.Join(dir, "a-c"), []byte("sorts after a/b"))
	writeFile(t, filepath.Join(dir, "weights", "model.safetensors"), make([]byte, 3<<20))
	writeFile(t, filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/main\n"))
	writeFile(t, filepath.Join(dir, ".gitattributes"), []byte("*.bin filter=lfs\n"))
	return dir
}

func TestPAE(t *testing.T) {
	// The DSSE specification's example.
	got := string(PAE("http://example.com/HelloWorld", []byte("hello world")))
	if want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"; got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
}

func TestRoundTripKey(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			dir := makeModel(t)
			m, err := Manifest(dir, ManifestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, len(m.Files))
			for i, f := range m.Files {
				names[i] = f.Name
			}
			if want := []string{"a/b", "a-c", "config.json", "weights/model.safetensors"}; !slices.Equal(names, want) {
				t.Fatalf("files %v, want %v", names, want)
			}
			if m.Files[3].Size != 3<<20 {
				t.Errorf("size %d", m.Files[3].Size)
			}
			key := newKey(t, curve)
			writeFile(t, filepath.Join(dir, "model.sig"), signBundle(t, key, statementJSON(t, m), nil))

			res, err := Verify(dir, filepath.Join(dir, "model.sig"), Options{PublicKey: &key.PublicKey})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Valid || res.SubjectDigest != m.RootDigest() || !slices.Equal(res.Files, m.Files) {
				t.Fatalf("%+v", res)
			}
		})
	}
}

func TestBundleOutsideModelAndCustomName(t *testing.T) {
	dir := makeModel(t)
	m, err := Manifest(dir, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, elliptic.P256())
	data := signBundle(t, key, statementJSON(t, m), nil)

	outside := filepath.Join(t.TempDir(), "tiny.sig")
	writeFile(t, outside, data)
	if _, err := Verify(dir, outside, Options{PublicKey: &key.PublicKey}); err != nil {
		t.Fatalf("bundle outside the model: %v", err)
	}
	// A bundle inside the model under another name is left out too.
	inside := filepath.Join(dir, "signatures", "tiny.sig.json")
	writeFile(t, inside, data)
	if _, err := Verify(dir, inside, Options{PublicKey: &key.PublicKey}); err != nil {
		t.Fatalf("bundle inside the model: %v", err)
	}
}

func TestRoundTripCertificate(t *testing.T) {
	now := time.Now()
	root := newCA(t, "root", now.Add(-3*time.Hour), now.Add(24*time.Hour))
	interKey := newKey(t, elliptic.P384())
	interCert := root.issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "intermediate"}, NotBefore: now.Add(-3 * time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, &interKey.PublicKey)
	inter := &testCA{cert: interCert, key: interKey}

	dir := makeModel(t)
	m, err := Manifest(dir, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	payload := statementJSON(t, m)

	leafFor := func(t *testing.T, mod func(*x509.Certificate)) (*ecdsa.PrivateKey, *x509.Certificate) {
		key := newKey(t, elliptic.P256())
		tmpl := &x509.Certificate{
			Subject: pkix.Name{CommonName: "model-release", Organization: []string{"Airlock"}}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			EmailAddresses: []string{"release@example.com"},
		}
		if mod != nil {
			mod(tmpl)
		}
		return key, inter.issue(t, tmpl, &key.PublicKey)
	}
	write := func(t *testing.T, key *ecdsa.PrivateKey, certs ...*x509.Certificate) string {
		sig := filepath.Join(t.TempDir(), "model.sig")
		writeFile(t, sig, signBundle(t, key, payload, chainMaterial(certs...)))
		return sig
	}

	t.Run("valid", func(t *testing.T) {
		key, leaf := leafFor(t, nil)
		res, err := Verify(dir, write(t, key, leaf, interCert), Options{Roots: root.certs()})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Valid || res.Signer.Subject != "CN=model-release,O=Airlock" || res.Signer.Issuer != "CN=intermediate" ||
			!slices.Equal(res.Signer.Identities, []string{"release@example.com"}) {
			t.Fatalf("%+v", res.Signer)
		}
	})
	t.Run("intermediate missing from the bundle", func(t *testing.T) {
		key, leaf := leafFor(t, nil)
		if _, err := Verify(dir, write(t, key, leaf), Options{Roots: root.certs()}); !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
		// ...but fine when the caller trusts the intermediate itself.
		if _, err := Verify(dir, write(t, key, leaf), Options{Roots: inter.certs()}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expired leaf", func(t *testing.T) {
		key, leaf := leafFor(t, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-2*time.Hour), now.Add(-time.Hour) })
		sig := write(t, key, leaf, interCert)
		_, err := Verify(dir, sig, Options{Roots: root.certs()})
		if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("err = %v", err)
		}
		res, err := Verify(dir, sig, Options{Roots: root.certs(), At: now.Add(-90 * time.Minute)})
		if err != nil || res.CheckedAtSource != "caller" {
			t.Fatalf("At inside validity: %v", err)
		}
	})
	t.Run("key usage without digitalSignature", func(t *testing.T) {
		key, leaf := leafFor(t, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
		if _, err := Verify(dir, write(t, key, leaf, interCert), Options{Roots: root.certs()}); !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("server-auth certificate", func(t *testing.T) {
		key, leaf := leafFor(t, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })
		if _, err := Verify(dir, write(t, key, leaf, interCert), Options{Roots: root.certs()}); !errors.Is(err, ErrCertificate) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("signed by another key than the leaf's", func(t *testing.T) {
		_, leaf := leafFor(t, nil)
		other := newKey(t, elliptic.P256())
		if _, err := Verify(dir, write(t, other, leaf, interCert), Options{Roots: root.certs()}); !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("RSA leaf", func(t *testing.T) {
		// model-signing signs with ECDSA only; an RSA leaf is refused, not
		// misread.
		key, leaf := leafFor(t, nil)
		b := readBundle(t, write(t, key, leaf, interCert))
		if _, err := VerifyKey(b, &struct{ crypto.PublicKey }{}); !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStatementChecks(t *testing.T) {
	dir := makeModel(t)
	m, err := Manifest(dir, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good := string(statementJSON(t, m))
	key := newKey(t, elliptic.P256())

	cases := []struct {
		name, old, new, want string
	}{
		{"wrong _type", statementType, "https://in-toto.io/Statement/v0.1", "_type"},
		{"pre-1.0 predicate", predicateV1, predicateV02, "pre-1.0"},
		{"other predicate", predicateV1, "https://slsa.dev/provenance/v1", "predicateType"},
		{"subject digest", m.RootDigest(), strings.Repeat("0", 64), "does not match the resources"},
		{"shards", `"method": "files"`, `"method": "shards"`, "only the \"files\""},
		{"blake2", `"hash_type": "sha256"`, `"hash_type": "blake2"`, "only sha256"},
		{"uppercase digest", m.Files[0].SHA256, strings.ToUpper(m.Files[0].SHA256), "hex"},
		{"climbing name", `"name": "a/b"`, `"name": "../b"`, "climbs out"},
		{"absolute name", `"name": "a/b"`, `"name": "/etc/passwd"`, "absolute"},
		{"unclean name", `"name": "a/b"`, `"name": "a//b"`, "not a clean"},
		{"duplicate name", `"name": "a-c"`, `"name": "a/b"`, "listed twice"},
		{"duplicate key", `"predicateType"`, `"predicateType": "x", "predicateType"`, "appears twice"},
		{"case-folded key", `"predicateType"`, `"PredicateType"`, "predicateType: missing"},
		{"allow_symlinks as string", `"allow_symlinks": false`, `"allow_symlinks": "false"`, "want true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.old) {
				t.Fatalf("statement lacks %q:\n%s", c.old, good)
			}
			payload := strings.Replace(good, c.old, c.new, 1)
			b, err := ReadBundle(strings.NewReader(string(signBundle(t, key, []byte(payload), nil))))
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyKey(b, &key.PublicKey)
			if !errors.Is(err, ErrStatement) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrStatement mentioning %q", err, c.want)
			}
		})
	}
}

func TestReadBundleErrors(t *testing.T) {
	key := newKey(t, elliptic.P256())
	good := string(signBundle(t, key, []byte(`{}`), nil))
	cases := []struct {
		name, data, want string
	}{
		{"empty", "", "empty"},
		{"not JSON", "PK\x03\x04", "invalid character"},
		{"array", "[]", "want a JSON object"},
		{"truncated", good[:len(good)-10], "unexpected end"},
		{"trailing data", good + "{}", "data after"},
		{"v0.1 media type", strings.Replace(good, "bundle.v0.3+json", "bundle+json;version=0.1", 1), "only application/vnd.dev.sigstore.bundle.v0.3+json"},
		{"no material", strings.Replace(good, `"verificationMaterial"`, `"other"`, 1), "verificationMaterial: missing"},
		{"no envelope", strings.Replace(good, `"dsseEnvelope"`, `"messageSignature"`, 1), "messageSignature"},
		{"two materials", strings.Replace(good, `"publicKey": {`, `"certificate": {"rawBytes": "AA=="}, "publicKey": {`, 1), "holds both"},
		{"bad payload base64", strings.Replace(good, `"payload": "`, `"payload": "!`, 1), "not valid base64"},
		{"bad certificate", strings.Replace(good, `"publicKey": {`, `"certificate": {"rawBytes": "MIIBAA=="}, "x": {`, 1), "certificate.rawBytes"},
		{"two signatures", strings.Replace(good, `"signatures": [`, `"signatures": [{"sig": "AA=="},`, 1), "exactly one"},
		{"no signature", strings.Replace(good, `"sig": "`, `"nosig": "`, 1), "sig: missing"},
		{"duplicate key", strings.Replace(good, `"mediaType"`, `"mediaType": "x", "mediaType"`, 1), "appears twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadBundle(strings.NewReader(c.data))
			if !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBundle mentioning %q", err, c.want)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		big := strings.Repeat(" ", MaxBundleSize) + good
		_, err := ReadBundle(strings.NewReader(big))
		if !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown fields tolerated", func(t *testing.T) {
		data := strings.Replace(good, `"mediaType"`, `"futureField": {"a": [1, 2]}, "mediaType"`, 1)
		if _, err := ReadBundle(strings.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestComparePaths(t *testing.T) {
	got := []string{"b", "a-c", "a/b", "a", "a/b/c", "A", "a.b", "ab"}
	slices.SortFunc(got, comparePaths)
	// Python: sorted(PurePosixPath(p) for p in ...)
	want := []string{"A", "a", "a/b", "a/b/c", "a-c", "a.b", "ab", "b"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestManifestIgnorePaths(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a/x", "ab", "keep", "docs/readme.md", "docs/img/logo.png", "model.sig", ".github/workflows/ci.yml"} {
		writeFile(t, filepath.Join(dir, n), []byte(n))
	}
	m, err := Manifest(dir, ManifestOptions{IgnorePaths: []string{"a", "./docs/img/", filepath.Join(dir, "keep")}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	if want := []string{"ab", "docs/readme.md"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	for _, bad := range []string{"..", "../x", filepath.Join(filepath.Dir(dir), "elsewhere"), ""} {
		if _, err := Manifest(dir, ManifestOptions{IgnorePaths: []string{bad}}); err == nil {
			t.Errorf("ignore path %q accepted", bad)
		}
	}
	if _, err := Manifest(dir, ManifestOptions{IgnorePaths: []string{"a", "ab", "keep", "docs"}}); err == nil || !strings.Contains(err.Error(), "no regular files") {
		t.Errorf("empty model: err = %v", err)
	}
	if _, err := Manifest(filepath.Join(dir, "keep"), ManifestOptions{}); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file as model: err = %v", err)
	}
}

func TestManifestSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "real.bin"), []byte("weights"))
	writeFile(t, filepath.Join(dir, "sub", "inner"), []byte("inner"))
	if err := os.Symlink("real.bin", filepath.Join(dir, "alias.bin")); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if err := os.Symlink("sub", filepath.Join(dir, "subdir-link")); err != nil {
		t.Fatal(err)
	}

	_, err := Manifest(dir, ManifestOptions{})
	if err == nil || !strings.Contains(err.Error(), "alias.bin: is a symlink") {
		t.Fatalf("err = %v, want the symlink named", err)
	}
	m, err := Manifest(dir, ManifestOptions{AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	// The file link is hashed as its target; the folder link is skipped.
	if want := []string{"alias.bin", "real.bin", "sub/inner"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	if m.Files[0].SHA256 != m.Files[1].SHA256 {
		t.Error("a symlink must hash as its target")
	}
	// An ignored symlink is not refused.
	if _, err := Manifest(dir, ManifestOptions{IgnorePaths: []string{"alias.bin", "subdir-link"}}); err != nil {
		t.Fatal(err)
	}

	// A symlinked model folder.
	link := filepath.Join(t.TempDir(), "model-link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Manifest(link, ManifestOptions{IgnorePaths: []string{"alias.bin", "subdir-link"}}); err == nil {
		t.Fatal("a symlinked model folder must be refused without AllowSymlinks")
	}
	m2, err := Manifest(link, ManifestOptions{AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if m2.RootDigest() != m.RootDigest() {
		t.Error("the symlinked folder hashes differently")
	}
}

func TestVerifyManifestReportsEverything(t *testing.T) {
	dir := makeModel(t)
	m, err := Manifest(dir, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, elliptic.P256())
	b, err := ReadBundle(strings.NewReader(string(signBundle(t, key, statementJSON(t, m), nil))))
	if err != nil {
		t.Fatal(err)
	}
	st, err := VerifyKey(b, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "config.json"), []byte(`{"layers": 3}`))
	writeFile(t, filepath.Join(dir, "extra.py"), []byte("import os"))
	if err := os.Remove(filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	err = VerifyManifest(st, dir, ManifestOptions{})
	var mm *ManifestMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(mm.Changed, []string{"config.json"}) || !slices.Equal(mm.Extra, []string{"extra.py"}) || !slices.Equal(mm.Missing, []string{"a/b"}) {
		t.Fatalf("%+v", mm)
	}
	want := "model does not match the signed manifest: changed: config.json; not in the signature: extra.py; missing: a/b"
	if err.Error() != want {
		t.Fatalf("message %q", err.Error())
	}
}

func TestInclusionProofSynthetic(t *testing.T) {
	// A tree of every size up to 9, each leaf proven against the root.
	leafHash := func(i int) []byte {
		h := sha256.Sum256([]byte{0, byte(i)})
		return h[:]
	}
	var mth func(lo, hi int) []byte
	mth = func(lo, hi int) []byte {
		if hi-lo == 1 {
			return leafHash(lo)
		}
		k := 1
		for k*2 < hi-lo {
			k *= 2
		}
		return hashChildren(mth(lo, lo+k), mth(lo+k, hi))
	}
	var path func(m, lo, hi int) [][]byte
	path = func(m, lo, hi int) [][]byte {
		if hi-lo == 1 {
			return nil
		}
		k := 1
		for k*2 < hi-lo {
			k *= 2
		}
		if m < lo+k {
			return append(path(m, lo, lo+k), mth(lo+k, hi))
		}
		return append(path(m, lo+k, hi), mth(lo, lo+k))
	}
	for n := 1; n <= 9; n++ {
		root := mth(0, n)
		for i := range n {
			got, err := rootFromInclusionProof(int64(i), int64(n), leafHash(i), path(i, 0, n))
			if err != nil || string(got) != string(root) {
				t.Fatalf("n=%d i=%d: err %v", n, i, err)
			}
			if n > 1 {
				if _, err := rootFromInclusionProof(int64(i), int64(n), leafHash(i), path(i, 0, n)[1:]); err == nil {
					if got, _ := rootFromInclusionProof(int64(i), int64(n), leafHash(i), path(i, 0, n)[1:]); string(got) == string(root) {
						t.Fatalf("n=%d i=%d: a short proof reached the root", n, i)
					}
				}
			}
		}
	}
	if _, err := rootFromInclusionProof(5, 5, leafHash(0), nil); err == nil {
		t.Fatal("index outside the tree accepted")
	}
}

func TestSignedFileUnderVerifierIgnore(t *testing.T) {
	// Signed with git paths included (--no-ignore-git-paths); the verifier's
	// defaults leave .github out, which must not read as "missing".
	dir := makeModel(t)
	writeFile(t, filepath.Join(dir, ".github", "workflows", "train.yml"), []byte("on: push"))
	m, err := buildManifest(dir, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m.Files = append(m.Files, FileDigest{Name: ".github/workflows/train.yml", SHA256: strings.Repeat("ab", 32)})
	key := newKey(t, elliptic.P256())
	b, err := ReadBundle(strings.NewReader(string(signBundle(t, key, statementJSON(t, m), nil))))
	if err != nil {
		t.Fatal(err)
	}
	st, err := VerifyKey(b, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	err = VerifyManifest(st, dir, ManifestOptions{})
	var mm *ManifestMismatchError
	if !errors.As(err, &mm) || !slices.Equal(mm.Ignored, []string{".github/workflows/train.yml"}) || len(mm.Missing) != 0 {
		t.Fatalf("err = %v", err)
	}
}
