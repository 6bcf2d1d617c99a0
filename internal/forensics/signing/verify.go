package signing

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// VerifyOptions says when certificates must be valid.
type VerifyOptions struct {
	// At is the time at which the leaf and every CA above it must be within
	// their validity window. Zero means now, because a certificate bundle
	// carries no trusted signing time. model-signing itself checks at the
	// leaf's NotBefore, which makes expiry irrelevant; pass At =
	// b.Leaf().NotBefore to reproduce that on purpose.
	At time.Time
}

// VerifyKey checks the bundle's DSSE signature with pub (an ECDSA key) and
// returns the statement it signs. When the bundle carries a key hint, pub
// must match it. Trust in pub is the caller's: the bundle does not carry it.
func VerifyKey(b *Bundle, pub crypto.PublicKey) (*Statement, error) {
	if b == nil || pub == nil {
		return nil, errors.New("signing: VerifyKey needs a bundle and a public key")
	}
	if b.PublicKeyHint != "" {
		if got := KeyHint(pub); got != b.PublicKeyHint {
			return nil, fmt.Errorf("%w: the public key (hint %s) is not the one the bundle names (hint %s)", ErrSignature, shortHex(got), shortHex(b.PublicKeyHint))
		}
	}
	return verifyEnvelope(&b.Envelope, pub)
}

// VerifyCertificate checks that the bundle's leaf certificate chains, through
// the intermediates the bundle carries, to one of roots at opts.At; that the
// leaf may sign code (key usage digitalSignature and extended key usage code
// signing, each when present); and that the DSSE signature verifies with the
// leaf's key. Every certificate in roots is a trust anchor. It returns the
// statement the bundle signs.
//
// It knows nothing of transparency logs: for a short-lived Fulcio
// certificate, use VerifySigstoreOffline, which says what it cannot check.
func VerifyCertificate(b *Bundle, roots []*x509.Certificate, opts VerifyOptions) (*Statement, error) {
	st, _, err := verifyCertificate(b, roots, opts)
	return st, err
}

func verifyCertificate(b *Bundle, roots []*x509.Certificate, opts VerifyOptions) (*Statement, time.Time, error) {
	if b == nil {
		return nil, time.Time{}, errors.New("signing: VerifyCertificate needs a bundle")
	}
	leaf := b.Leaf()
	if leaf == nil {
		return nil, time.Time{}, fmt.Errorf("%w: the bundle carries no certificate (it is signed with a bare key: use VerifyKey)", ErrCertificate)
	}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	if err := verifyChain(leaf, b.Certificates[1:], roots, at); err != nil {
		return nil, at, err
	}
	if err := checkSigningUsage(leaf); err != nil {
		return nil, at, err
	}
	st, err := verifyEnvelope(&b.Envelope, leaf.PublicKey)
	return st, at, err
}

func verifyChain(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, at time.Time) error {
	if len(roots) == 0 {
		return fmt.Errorf("%w: no trusted root certificates given", ErrCertificate)
	}
	rootPool := x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	interPool := x509.NewCertPool()
	for _, c := range intermediates {
		interPool.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: interPool,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil {
		return fmt.Errorf("%w: leaf %q (issuer %q) at %s: %w", ErrCertificate, leaf.Subject.String(), leaf.Issuer.String(), at.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// checkSigningUsage refuses a leaf that may not sign code: a key usage
// without digitalSignature, or an extended key usage without code signing
// (or any). Either extension may be absent. x509's chain verification checks
// the extended key usage again, and its nesting through the CAs.
func checkSigningUsage(leaf *x509.Certificate) error {
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("%w: leaf %q: key usage does not allow digital signatures", ErrCertificate, leaf.Subject.String())
	}
	if len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	return fmt.Errorf("%w: leaf %q: extended key usage does not include code signing", ErrCertificate, leaf.Subject.String())
}
