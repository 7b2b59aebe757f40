package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/store"
)

// Customer token lifetimes.
const (
	DefaultTokenTTL = auth.DefaultTokenTTL
	MaxTokenTTL     = auth.MaxTokenTTL
)

// CreateKey makes a new API key; it is auth.CreateKey, kept here for the
// callers that already use it.
func CreateKey(ctx context.Context, st store.KeyStore, name, scope string, now time.Time) (*store.APIKey, string, error) {
	return auth.CreateKey(ctx, st, name, scope, now)
}

// randomToken returns n random bytes in lowercase base32.
func randomToken(n int) string { return auth.RandomToken(n) }

// principal is who is calling: an API key or a customer token.
type principal struct {
	keyID    string
	scope    string
	customer string // set for customer tokens only
}

// actor is recorded on the ledger entries the principal writes.
func (p *principal) actor() string {
	if p == nil {
		return ""
	}
	if p.customer != "" {
		return "token:" + p.customer
	}
	return "key:" + p.keyID
}

// allows reports whether the principal's scope covers need.
func (p *principal) allows(need string) bool {
	return p.customer == "" && auth.ScopeAllows(p.scope, need)
}

type principalKey struct{}

// principalOf returns the caller of a request.
func principalOf(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// keyCache remembers recent key lookups for a short time, so that a busy
// client does not cost a database read per request. A revoked key stops
// working within the cache's TTL, measured on the ledger's clock.
type keyCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedKey
}

type cachedKey struct {
	key     *store.APIKey // nil: no such key
	expires time.Time
}

// lookup finds the key with this secret, through the cache.
func (c *keyCache) lookup(ctx context.Context, st store.KeyStore, secret string, now time.Time) (*store.APIKey, error) {
	hash := auth.HashSecret(secret)
	if c.ttl > 0 {
		c.mu.Lock()
		ck, ok := c.m[hash]
		c.mu.Unlock()
		if ok && now.Before(ck.expires) {
			return ck.key, nil
		}
	}
	k, err := st.APIKeyByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.m) > 10000 {
			clear(c.m)
		}
		c.m[hash] = cachedKey{key: k, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return k, nil
}

// forget drops every cached lookup, after a key is revoked here.
func (c *keyCache) forget() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// tokenKeyring is the customer token signing key, reread from the store
// after the key cache's TTL (on the ledger's clock), so that a key rotated
// by `creditkit keys rotate-token-key` reaches every running server within
// that time. A failed reread keeps the key it had.
type tokenKeyring struct {
	st  store.KeyStore
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	key    []byte
	loaded time.Time
}

// newTokenKeyring loads the key, creating it on first use.
func newTokenKeyring(ctx context.Context, st store.KeyStore, ttl time.Duration, now func() time.Time) (*tokenKeyring, error) {
	key, err := auth.TokenKey(ctx, st)
	if err != nil {
		return nil, err
	}
	return &tokenKeyring{st: st, ttl: ttl, now: now, key: key, loaded: now()}, nil
}

// current returns the signing key, rereading it when it is older than the
// TTL.
func (k *tokenKeyring) current(ctx context.Context) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if k.ttl > 0 && now.Sub(k.loaded) < k.ttl {
		return k.key
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if key, err := auth.TokenKey(ctx, k.st); err == nil {
		k.key, k.loaded = key, now
	}
	return k.key
}

// tokenClaims is what a customer token says.
type tokenClaims = auth.Claims

// signToken makes a customer token with the current signing key.
func signToken(k *tokenKeyring, c tokenClaims) string {
	return auth.SignToken(k.current(context.Background()), c)
}

// authenticate is the huma middleware that checks the Authorization header
// against the operation's required scope (its "scope" metadata). Operations
// marked "customer" also accept a customer token for the {customer} in the
// path. On every operation with a {customer} in its path, the customer ID
// is then checked as the ledger checks it, so that no route (minting a
// token for an ID the ledger would refuse, say) lets a malformed ID
// through.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	need, _ := op.Metadata["scope"].(string)
	if need == "" {
		next(ctx)
		return
	}
	deny := func(status int, code, detail string) {
		p := newProblem(status, code, detail)
		p.RequestID = requestID(ctx.Context())
		if status == http.StatusUnauthorized {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="creditkit"`)
		}
		ctx.SetHeader("Content-Type", "application/problem+json")
		ctx.SetStatus(status)
		_ = jsonEncode(ctx.BodyWriter(), p)
	}
	header := strings.TrimSpace(ctx.Header("Authorization"))
	scheme, credential, _ := strings.Cut(header, " ")
	switch {
	case header == "":
		deny(http.StatusUnauthorized, CodeUnauthorized, "missing API key: send Authorization: Bearer <key>")
		return
	case !strings.EqualFold(scheme, "Bearer"): // the scheme is case-insensitive (RFC 7235)
		deny(http.StatusUnauthorized, CodeUnauthorized,
			fmt.Sprintf("the %s authorization scheme is not accepted: use a Bearer API key, Authorization: Bearer <key>", scheme))
		return
	}
	secret := strings.TrimSpace(credential)
	if secret == "" {
		deny(http.StatusUnauthorized, CodeUnauthorized, "missing API key: send Authorization: Bearer <key>")
		return
	}
	var p *principal
	now := s.ledger.Now()
	if strings.HasPrefix(secret, auth.TokenPrefix) {
		claims, err := auth.VerifyToken(s.tokenKey.current(ctx.Context()), secret, now)
		if err != nil {
			deny(http.StatusUnauthorized, CodeUnauthorized, err.Error())
			return
		}
		if !tokenCanRead(op) {
			deny(http.StatusForbidden, CodeForbidden, s.tokenReadMessage())
			return
		}
		if ctx.Param("customer") != claims.Customer {
			deny(http.StatusForbidden, CodeForbidden, "this customer token is for another customer")
			return
		}
		p = &principal{scope: store.ScopeRead, customer: claims.Customer}
	} else {
		k, err := s.keys.lookup(ctx.Context(), s.st, secret, now)
		if err != nil {
			s.log.Error("API key lookup failed", "request_id", requestID(ctx.Context()), "err", err)
			deny(http.StatusServiceUnavailable, string(creditkit.CodeOverloaded), "cannot check the API key now; retry shortly")
			return
		}
		if k == nil || k.RevokedAt != nil {
			deny(http.StatusUnauthorized, CodeUnauthorized, "invalid or revoked API key")
			return
		}
		p = &principal{keyID: k.ID, scope: k.Scope}
		if !p.allows(need) {
			deny(http.StatusForbidden, CodeForbidden, fmt.Sprintf("this %s key cannot call %s %s: it needs %s %s key", k.Scope, op.Method, op.Path, article(need), need))
			return
		}
	}
	if strings.Contains(op.Path, "{customer}") {
		if err := creditkit.CheckCustomerID(ctx.Param("customer")); err != nil {
			pr := problemFrom(ctx.Context(), err)
			deny(pr.Status, pr.Code, pr.Detail)
			return
		}
	}
	next(huma.WithValue(ctx, principalKey{}, p))
}

// article is "an" before a vowel sound, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
