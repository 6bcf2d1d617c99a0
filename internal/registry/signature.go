package registry

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/airlock-ir/airlock/internal/forensics/signing"
	"github.com/airlock-ir/airlock/internal/store"
)

// The signature statuses a version records.
const (
	SignatureNone        = "none"
	SignatureValid       = "valid"
	SignatureInvalid     = "invalid"
	SignatureNotVerified = "not_verified"
)

// SignatureCheck asks Register to verify an OpenSSF model-signing bundle
// (model.sig) over the model folder. Which check runs follows package
// signing: PublicKey for a "key" signature; Roots for a "certificate"
// signature; a Sigstore keyless bundle is checked offline (Identity,
// OIDCIssuer and Roots as Fulcio roots, all optional) and is never valid.
type SignatureCheck struct {
	Bundle     string
	PublicKey  crypto.PublicKey
	Roots      []*x509.Certificate
	Identity   string
	OIDCIssuer string
}

// LoadPublicKey reads a PEM public key (SubjectPublicKeyInfo, "PUBLIC
// KEY"), as model-signing's --public_key takes.
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PEM PUBLIC KEY block", path)
		}
		if blk.Type != "PUBLIC KEY" {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return pub, nil
	}
}

// LoadCertificates reads every PEM CERTIFICATE in a file: the trust
// anchors for a certificate signature.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", path)
	}
	return out, nil
}

// checkSignature verifies sc over the folder dir and says what it found;
// it never fails: a failure is the record's status and error.
func checkSignature(dir string, sc *SignatureCheck, ignores []string, now time.Time) store.ModelSignature {
	out := store.ModelSignature{Status: SignatureInvalid, Bundle: sc.Bundle, CheckedAt: now}
	if abs, err := filepath.Abs(sc.Bundle); err == nil {
		out.Bundle = abs
	}
	res, err := signing.Verify(dir, sc.Bundle, signing.Options{
		PublicKey: sc.PublicKey, Roots: sc.Roots, Identity: sc.Identity, OIDCIssuer: sc.OIDCIssuer,
		IgnorePaths: ignores, // At zero: see signing.Options (now, or a Sigstore entry's signing time)
	})
	switch {
	case err == nil:
		out.Status = SignatureValid
	case errors.Is(err, signing.ErrTrustIncomplete) && res != nil:
		out.Status = SignatureNotVerified
	default:
		out.Error = err.Error()
		return out
	}
	out.Kind = string(res.Signer.Kind)
	out.Subject = res.Signer.Subject
	out.Issuer = res.Signer.Issuer
	out.KeyHint = res.Signer.KeyHint
	out.Identities = res.Signer.Identities
	out.SubjectDigest = res.SubjectDigest
	out.NotVerified = res.NotVerified
	return out
}
