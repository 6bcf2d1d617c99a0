package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/airlock-ir/airlock/internal/incident"
	"github.com/airlock-ir/airlock/internal/store"
)

// Roles. A role grants a set of permissions; see roleGrants.
const (
	RoleAdmin     = "admin"
	RoleResponder = "responder"
	RoleViewer    = "viewer"
	RoleGateway   = "gateway" // a service: gateways and other systems sending events
	RoleClient    = "client"  // an application calling models through the gateway; no API access
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleResponder, RoleViewer, RoleGateway, RoleClient}

// perm is what a route needs.
type perm int

const (
	permNone       perm = iota // health: no token at all
	permRead                   // read incidents and their timelines
	permEvidence               // read evidence contents
	permWrite                  // change incidents
	permAdmin                  // audit log, everything
	permPolicyRead             // read the containment policy: people and gateways
	permIngest                 // send events from other systems
)

var roleGrants = map[string][]perm{
	RoleAdmin:     {permRead, permEvidence, permWrite, permAdmin, permPolicyRead, permIngest},
	RoleResponder: {permRead, permEvidence, permWrite, permPolicyRead},
	RoleViewer:    {permRead, permPolicyRead},
	RoleGateway:   {permPolicyRead, permIngest},
	RoleClient:    {},
}

func (p perm) String() string {
	return [...]string{"none", "read", "read evidence", "write", "admin", "read the policy", "send events"}[p]
}

func granted(role string, p perm) bool {
	for _, g := range roleGrants[role] {
		if g == p {
			return true
		}
	}
	return false
}

// tokenPrefix marks Airlock tokens so secret scanners can find leaked ones.
const tokenPrefix = "alk_"

// HashToken is how a token is stored: tokens are 256 random bits, so a plain
// SHA-256 is enough (there is nothing to brute-force).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new token with role, stores its hash and returns the
// token itself, which is shown once and never stored.
func CreateToken(ctx context.Context, st store.Store, name, role, createdBy string) (string, *store.Token, error) {
	if !validRole(role) {
		return "", nil, fmt.Errorf("unknown role %q (want one of %s)", role, strings.Join(Roles, ", "))
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", nil, errors.New("token name: want 1 to 100 printable characters")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	tok := &store.Token{
		ID: uuid.Must(uuid.NewV7()).String(), Name: name, Role: role, Hash: HashToken(secret),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond), CreatedBy: createdBy,
	}
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{
			At: tok.CreatedAt, Actor: createdBy, Role: RoleAdmin, Addr: "local",
			Action: "token.create", Target: tok.ID,
			Detail: []byte(fmt.Sprintf(`{"name":%q,"role":%q}`, name, role)),
		})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, tok, nil
}

func validRole(role string) bool {
	_, ok := roleGrants[role]
	return ok
}

// principal is the authenticated caller of a request.
type principal struct {
	token *store.Token
	addr  string
}

func (p *principal) actor() incident.Actor {
	return incident.Actor{Name: p.token.Name, Role: p.token.Role, Addr: p.addr}
}

type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// authenticator checks bearer tokens against the store.
type authenticator struct {
	st store.Store

	mu      sync.Mutex
	touched map[string]time.Time // last_used is written at most once a minute per token
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (a *authenticator) authenticate(r *http.Request) (*principal, error) {
	raw, ok := bearer(r)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, "unauthenticated", "missing bearer token: send Authorization: Bearer <token>")
	}
	var tok *store.Token
	err := a.st.View(r.Context(), func(tx store.Tx) (err error) {
		tok, err = tx.TokenByHash(r.Context(), HashToken(raw))
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && tok.Revoked != nil) {
		return nil, errorf(http.StatusUnauthorized, "unauthenticated", "invalid or revoked token")
	}
	if err != nil {
		return nil, err
	}
	a.touch(r.Context(), tok.ID)
	return &principal{token: tok, addr: remoteIP(r)}, nil
}

func (a *authenticator) touch(ctx context.Context, id string) {
	now := time.Now().UTC()
	a.mu.Lock()
	last, seen := a.touched[id]
	if seen && now.Sub(last) < time.Minute {
		a.mu.Unlock()
		return
	}
	a.touched[id] = now
	a.mu.Unlock()
	_ = a.st.Update(ctx, func(tx store.Tx) error { return tx.TouchToken(ctx, id, now) })
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientKeys checks the keys applications send to the gateway against the
// client tokens in the store. Answers are cached briefly, so a revoked key
// stops working within cacheFor and the store is not asked on every request.
type ClientKeys struct {
	st       store.Store
	cacheFor time.Duration

	mu    sync.Mutex
	cache map[string]clientKeyAnswer // by token hash
}

type clientKeyAnswer struct {
	ok   bool
	name string
	at   time.Time
}

// NewClientKeys returns a checker over st.
func NewClientKeys(st store.Store, cacheFor time.Duration) *ClientKeys {
	return &ClientKeys{st: st, cacheFor: cacheFor, cache: map[string]clientKeyAnswer{}}
}

// Check reports whether key is a live client token, and its name.
func (c *ClientKeys) Check(ctx context.Context, key string) (string, bool) {
	h := HashToken(key)
	now := time.Now()
	c.mu.Lock()
	if a, ok := c.cache[h]; ok && now.Sub(a.at) < c.cacheFor {
		c.mu.Unlock()
		return a.name, a.ok
	}
	c.mu.Unlock()
	var tok *store.Token
	err := c.st.View(ctx, func(tx store.Tx) (err error) { tok, err = tx.TokenByHash(ctx, h); return err })
	a := clientKeyAnswer{at: now}
	if err == nil && tok.Revoked == nil && tok.Role == RoleClient {
		a.ok, a.name = true, tok.Name
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", false // the store is unavailable: refuse, and ask again next time
	}
	c.mu.Lock()
	if len(c.cache) > 100000 {
		clear(c.cache)
	}
	c.cache[h] = a
	c.mu.Unlock()
	return a.name, a.ok
}
