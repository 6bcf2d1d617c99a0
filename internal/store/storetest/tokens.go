package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

var tokenTests = []subtest{
	{"CreateAndFind", testTokenCreate},
	{"DuplicateHash", testTokenDuplicateHash},
	{"DuplicateID", testTokenDuplicateID},
	{"ByHashUnknown", testTokenUnknownHash},
	{"List", testTokenList},
	{"RevokeAndTouch", testTokenRevokeTouch},
	{"RevokeAndTouchUnknown", testTokenRevokeTouchUnknown},
}

func newToken(t *testing.T, name, role string) *store.Token {
	id := newID(t)
	return &store.Token{ID: id, Name: name, Role: role, Hash: sha("secret for " + id), CreatedAt: at(time.Microsecond), CreatedBy: "admin"}
}

func createTokens(t *testing.T, s store.Store, toks ...*store.Token) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, tok := range toks {
			if err := tx.CreateToken(t.Context(), tok); err != nil {
				return err
			}
		}
		return nil
	})
}

func tokenByHash(t *testing.T, s store.Store, hash string) *store.Token {
	t.Helper()
	var tok *store.Token
	view(t, s, func(tx store.Tx) (err error) {
		tok, err = tx.TokenByHash(t.Context(), hash)
		return err
	})
	return tok
}

func testTokenCreate(t *testing.T, s store.Store) {
	tok := newToken(t, "gateway-eu-1", "gateway")
	createTokens(t, s, tok)
	got := tokenByHash(t, s, tok.Hash)
	deepEqual(t, "TokenByHash", got, tok)
	sameTime(t, "CreatedAt", got.CreatedAt, tok.CreatedAt)
	if got.LastUsed != nil || got.Revoked != nil {
		t.Errorf("new token: LastUsed %v, Revoked %v; want neither", got.LastUsed, got.Revoked)
	}
}

func testTokenDuplicateHash(t *testing.T, s store.Store) {
	first := newToken(t, "first", "admin")
	createTokens(t, s, first)
	second := newToken(t, "second", "viewer")
	second.Hash = first.Hash
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.CreateToken(t.Context(), second) })
	wantErr(t, "CreateToken with a used hash", err, store.ErrConflict)
	deepEqual(t, "token with the shared hash", tokenByHash(t, s, first.Hash), first)
}

func testTokenDuplicateID(t *testing.T, s store.Store) {
	first := newToken(t, "first", "admin")
	createTokens(t, s, first)
	second := newToken(t, "second", "viewer")
	second.ID = first.ID
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.CreateToken(t.Context(), second) })
	wantErr(t, "CreateToken with a used id", err, store.ErrConflict)
	err = s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.TokenByHash(t.Context(), second.Hash)
		return err
	})
	wantErr(t, "TokenByHash of the refused token", err, store.ErrNotFound)
}

func testTokenUnknownHash(t *testing.T, s store.Store) {
	createTokens(t, s, newToken(t, "some", "viewer"))
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.TokenByHash(t.Context(), sha("unknown"))
		return err
	})
	wantErr(t, "TokenByHash of an unknown hash", err, store.ErrNotFound)
}

func listTokens(t *testing.T, s store.Store) []*store.Token {
	t.Helper()
	var out []*store.Token
	view(t, s, func(tx store.Tx) (err error) {
		out, err = tx.ListTokens(t.Context())
		return err
	})
	slices.SortFunc(out, func(a, b *store.Token) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func testTokenList(t *testing.T, s store.Store) {
	if got := listTokens(t, s); len(got) != 0 {
		t.Errorf("empty store: ListTokens returned %d tokens", len(got))
	}
	toks := []*store.Token{newToken(t, "a", "admin"), newToken(t, "b", "responder"), newToken(t, "c", "viewer")}
	createTokens(t, s, toks...)
	update(t, s, func(tx store.Tx) error { return tx.RevokeToken(t.Context(), toks[2].ID, at(time.Hour)) })
	toks[2].Revoked = ptr(at(time.Hour))
	slices.SortFunc(toks, func(a, b *store.Token) int { return cmp.Compare(a.ID, b.ID) })
	deepEqual(t, "ListTokens", listTokens(t, s), toks)
}

func testTokenRevokeTouch(t *testing.T, s store.Store) {
	tok, other := newToken(t, "cli", "responder"), newToken(t, "other", "viewer")
	createTokens(t, s, tok, other)

	used := at(time.Hour + 42*time.Microsecond)
	update(t, s, func(tx store.Tx) error { return tx.TouchToken(t.Context(), tok.ID, used) })
	got := tokenByHash(t, s, tok.Hash)
	sameOptTime(t, "LastUsed", got.LastUsed, &used)
	if got.Revoked != nil {
		t.Errorf("TouchToken revoked the token at %v", got.Revoked)
	}

	usedAgain := at(2*time.Hour + 7*time.Microsecond)
	update(t, s, func(tx store.Tx) error { return tx.TouchToken(t.Context(), tok.ID, usedAgain) })
	sameOptTime(t, "LastUsed after a second touch", tokenByHash(t, s, tok.Hash).LastUsed, &usedAgain)

	revoked := at(3*time.Hour + 999999*time.Microsecond)
	update(t, s, func(tx store.Tx) error { return tx.RevokeToken(t.Context(), tok.ID, revoked) })
	got = tokenByHash(t, s, tok.Hash)
	sameOptTime(t, "Revoked", got.Revoked, &revoked)
	sameOptTime(t, "LastUsed after revoking", got.LastUsed, &usedAgain)

	// The other token is untouched.
	deepEqual(t, "the other token", tokenByHash(t, s, other.Hash), other)
}

func testTokenRevokeTouchUnknown(t *testing.T, s store.Store) {
	createTokens(t, s, newToken(t, "some", "viewer"))
	id := newID(t)
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.RevokeToken(t.Context(), id, base) })
	wantErr(t, "RevokeToken of an unknown id", err, store.ErrNotFound)
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.TouchToken(t.Context(), id, base) })
	wantErr(t, "TouchToken of an unknown id", err, store.ErrNotFound)
}
