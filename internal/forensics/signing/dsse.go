package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strconv"
)

// PAE is DSSE's pre-authentication encoding, the bytes that are really
// signed: "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in
// ASCII decimal.
func PAE(payloadType string, payload []byte) []byte {
	out := make([]byte, 0, 32+len(payloadType)+len(payload))
	out = append(out, "DSSEv1 "...)
	out = strconv.AppendInt(out, int64(len(payloadType)), 10)
	out = append(out, ' ')
	out = append(out, payloadType...)
	out = append(out, ' ')
	out = strconv.AppendInt(out, int64(len(payload)), 10)
	out = append(out, ' ')
	return append(out, payload...)
}

// verifyEnvelope checks the envelope's signature with pub, then decodes the
// statement it signs.
func verifyEnvelope(env *Envelope, pub crypto.PublicKey) (*Statement, error) {
	if err := verifyECDSA(pub, PAE(env.PayloadType, env.Payload), env.Signature); err != nil {
		return nil, err
	}
	if env.PayloadType != inTotoPayloadType {
		return nil, fmt.Errorf("%w: payload type %q, want %s", ErrStatement, env.PayloadType, inTotoPayloadType)
	}
	return parseStatement(env.Payload)
}

// verifyECDSA checks an ASN.1 DER ECDSA signature, with the hash the curve
// dictates (model-signing's get_ec_key_hash): P-256 SHA-256, P-384 SHA-384,
// P-521 SHA-512.
func verifyECDSA(pub crypto.PublicKey, msg, sig []byte) error {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: key type %T: model-signing v1 signs with ECDSA keys only", ErrSignature, pub)
	}
	var digest []byte
	switch k.Curve {
	case elliptic.P256():
		d := sha256.Sum256(msg)
		digest = d[:]
	case elliptic.P384():
		h := crypto.SHA384.New()
		h.Write(msg)
		digest = h.Sum(nil)
	case elliptic.P521():
		h := crypto.SHA512.New()
		h.Write(msg)
		digest = h.Sum(nil)
	default:
		return fmt.Errorf("%w: unsupported curve %s", ErrSignature, k.Curve.Params().Name)
	}
	if !ecdsa.VerifyASN1(k, digest, sig) {
		return fmt.Errorf("%w: the DSSE signature does not verify with the %s key %s", ErrSignature, k.Curve.Params().Name, shortHex(KeyHint(k)))
	}
	return nil
}

// KeyHint is the identifier model-signing writes into publicKey.hint: the hex
// SHA-256 of the key's PEM SubjectPublicKeyInfo, with PEM's 64-column lines
// and trailing newline. It returns "" for a key that cannot be marshalled.
func KeyHint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return hex.EncodeToString(sum[:])
}

func shortHex(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
