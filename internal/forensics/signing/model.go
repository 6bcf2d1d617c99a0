package signing

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options configure Verify.
type Options struct {
	// PublicKey verifies a bundle signed with a bare key (model-signing
	// "key"). When set, it is used whatever the bundle carries.
	PublicKey crypto.PublicKey
	// Roots are the trust anchors: the CA certificates for a certificate
	// bundle (model-signing "certificate"), or the Fulcio root and
	// intermediate for a Sigstore keyless bundle. There is no default: the
	// system roots are never used.
	Roots []*x509.Certificate
	// Identity and OIDCIssuer are the expected signer of a Sigstore bundle.
	Identity   string
	OIDCIssuer string
	// IgnorePaths are left out of the model, in addition to
	// DefaultIgnorePaths and the bundle file itself when it lies inside the
	// model folder.
	IgnorePaths []string
	// UseSignerIgnorePaths also leaves out the paths the statement's
	// serialization.ignore_paths lists, as model-signing's verifier does.
	// Off by default: what the signer chose not to sign is then reported.
	UseSignerIgnorePaths bool
	AllowSymlinks        bool
	// At is when certificates must be valid; see VerifyOptions and
	// SigstoreOptions for what zero means.
	At time.Time
}

// SignerKind says how the signer was established.
type SignerKind string

const (
	// SignerKey: the signature verifies with the caller's public key.
	SignerKey SignerKind = "key"
	// SignerCertificate: the leaf chains to the caller's roots and its key
	// verifies the signature.
	SignerCertificate SignerKind = "certificate"
	// SignerSigstoreUnverified: a Sigstore keyless bundle whose signature
	// verifies with its leaf certificate, but whose transparency log entry
	// (and, without Roots, certificate chain) could not be verified offline.
	SignerSigstoreUnverified SignerKind = "sigstore-unverified"
)

// Signer describes who signed, as far as the bundle and the checks say.
type Signer struct {
	Kind SignerKind
	// KeyHint is the hex SHA-256 of the PEM public key that verified the
	// signature (model-signing's publicKey.hint).
	KeyHint string
	// Certificate fields, when the bundle carries one.
	Subject    string
	Issuer     string
	NotBefore  time.Time
	NotAfter   time.Time
	Identities []string // e-mail and URI subject alternative names
	OIDCIssuer string   // Fulcio's record of the identity provider
	// ChainVerified: the leaf chained to Options.Roots at CheckedAt.
	ChainVerified bool
}

// Result is the outcome of Verify.
type Result struct {
	// Valid is true only when the signature, the signer's trust and the
	// model all check out. It is false for Sigstore bundles, whose
	// transparency log this package cannot verify offline.
	Valid         bool
	Signer        Signer
	Model         string // the statement subject's name
	SubjectDigest string // hex SHA-256 over the resource digests; checked
	Serialization Serialization
	Files         []FileDigest // the files on disk, all matching the statement
	// CheckedAt is when certificate validity was evaluated, and
	// CheckedAtSource why that time ("caller", "now: the bundle has no
	// trusted signing time", "claimed signing time (tlog integratedTime)").
	CheckedAt       time.Time
	CheckedAtSource string
	// NotVerified lists what could not be checked, with the reason.
	NotVerified []string
}

// Verify checks that the model in dir is the one the bundle at bundlePath
// signs: the DSSE signature (with opts.PublicKey, a certificate chaining to
// opts.Roots, or, offline and incompletely, a Sigstore leaf), the statement's
// subject digest over its resources, and every file's SHA-256 against the
// folder. The kind of check follows opts.PublicKey, then the bundle's
// verification material.
//
// A nil error means Result.Valid. A Sigstore bundle that passes every offline
// check returns the Result with ErrTrustIncomplete; any other failure returns
// a nil Result and an error wrapping ErrBundle, ErrSignature, ErrCertificate,
// ErrStatement or ErrManifestMismatch.
func Verify(dir, bundlePath string, opts Options) (*Result, error) {
	b, err := readBundleFile(bundlePath)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var st *Statement
	switch {
	case opts.PublicKey != nil:
		if st, err = VerifyKey(b, opts.PublicKey); err != nil {
			return nil, err
		}
		res.Signer.Kind = SignerKey
		res.Signer.KeyHint = KeyHint(opts.PublicKey)
		if leaf := b.Leaf(); leaf != nil {
			res.NotVerified = append(res.NotVerified, "the bundle's certificate was not used: the caller's public key verified the signature")
		}
	case b.Material == MaterialPublicKey:
		return nil, fmt.Errorf("%w: the bundle is signed with a bare key (hint %s): a public key is needed", ErrSignature, shortHex(b.PublicKeyHint))
	case b.Material == MaterialCertificateChain && !isFulcioLeaf(b.Leaf()):
		var at time.Time
		if st, at, err = verifyCertificate(b, opts.Roots, VerifyOptions{At: opts.At}); err != nil {
			return nil, err
		}
		res.Signer = certSigner(SignerCertificate, b.Leaf())
		res.Signer.ChainVerified = true
		res.CheckedAt, res.CheckedAtSource = at, "caller"
		if opts.At.IsZero() {
			res.CheckedAtSource = "now: the bundle has no trusted signing time"
		}
		if len(b.TlogEntries) > 0 || b.RFC3161Timestamps > 0 {
			res.NotVerified = append(res.NotVerified, "the bundle's transparency log entries and timestamps were not verified")
		}
	default: // Sigstore keyless: a lone leaf, or any leaf Fulcio issued
		rep, err := VerifySigstoreOffline(b, SigstoreOptions{
			Identity: opts.Identity, OIDCIssuer: opts.OIDCIssuer, FulcioRoots: opts.Roots, At: opts.At,
		})
		if err != nil {
			return nil, err
		}
		st = rep.Statement
		res.Signer = certSigner(SignerSigstoreUnverified, rep.Leaf)
		res.Signer.OIDCIssuer = rep.OIDCIssuer
		res.Signer.ChainVerified = rep.ChainVerified
		res.CheckedAt = rep.CheckedAt
		switch {
		case !opts.At.IsZero():
			res.CheckedAtSource = "caller"
		case !rep.CheckedAt.IsZero():
			res.CheckedAtSource = "claimed signing time (tlog integratedTime, not authenticated)"
		}
		res.NotVerified = append(res.NotVerified, rep.NotVerified...)
	}
	res.Model = st.Subject.Name
	res.SubjectDigest = st.Subject.SHA256
	res.Serialization = st.Serialization

	mopts := ManifestOptions{IgnorePaths: slices.Clone(opts.IgnorePaths), AllowSymlinks: opts.AllowSymlinks}
	if rel, ok := insideDir(dir, bundlePath); ok {
		mopts.IgnorePaths = append(mopts.IgnorePaths, rel)
	}
	if opts.UseSignerIgnorePaths {
		mopts.IgnorePaths = append(mopts.IgnorePaths, cleanSignerIgnores(st.Serialization.IgnorePaths)...)
	}
	m, err := verifyManifest(st, dir, mopts)
	if err != nil {
		return nil, err
	}
	res.Files = m.Files
	if res.Signer.Kind == SignerSigstoreUnverified {
		return res, fmt.Errorf("%w: %s", ErrTrustIncomplete, strings.Join(res.NotVerified, "; "))
	}
	res.Valid = true
	return res, nil
}

func readBundleFile(name string) (*Bundle, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	defer f.Close()
	b, err := ReadBundle(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

func certSigner(kind SignerKind, leaf *x509.Certificate) Signer {
	return Signer{
		Kind:       kind,
		KeyHint:    KeyHint(leaf.PublicKey),
		Subject:    leaf.Subject.String(),
		Issuer:     leaf.Issuer.String(),
		NotBefore:  leaf.NotBefore,
		NotAfter:   leaf.NotAfter,
		Identities: certIdentities(leaf),
	}
}

// insideDir returns file's path relative to dir when it lies inside it.
func insideDir(dir, file string) (string, bool) {
	d, err1 := filepath.Abs(dir)
	f, err2 := filepath.Abs(file)
	if err := errors.Join(err1, err2); err != nil {
		return "", false
	}
	rel, err := filepath.Rel(d, f)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}
