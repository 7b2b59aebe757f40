package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/store"
)

// Secret prefixes: API keys and customer tokens are told apart by them.
const (
	keyPrefix   = "ck_"
	tokenPrefix = "ckt_"
)

// tokenSecretName names the token signing secret in the store.
const tokenSecretName = "customer_token_signing_key"

// Customer token lifetimes.
const (
	DefaultTokenTTL = 15 * time.Minute
	MaxTokenTTL     = 24 * time.Hour
)

// CreateKey makes a new API key with a name and a scope, stores its hash,
// and returns the key row and the secret, which is shown only this once.
func CreateKey(ctx context.Context, st store.ServerStore, name, scope string, now time.Time) (*store.APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", fmt.Errorf("key name must be 1 to 100 characters, got %q", name)
	}
	switch scope {
	case store.ScopeRead, store.ScopeWrite, store.ScopeAdmin:
	default:
		return nil, "", fmt.Errorf("key scope %q is not one of read, write, admin", scope)
	}
	secret := keyPrefix + randomToken(20)
	k := &store.APIKey{ID: "key_" + randomToken(10), Name: name, Scope: scope, Hash: HashSecret(secret),
		Prefix: secret[:len(keyPrefix)+6], CreatedAt: now.UTC()}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return nil, "", fmt.Errorf("store key: %w", err)
	}
	return k, secret, nil
}

// HashSecret returns the stored form of an API key secret: hex SHA-256. The
// secrets are random enough that a slow hash would add nothing.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// randomToken returns n random bytes in lowercase base32, without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

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
	rank := map[string]int{store.ScopeRead: 1, store.ScopeWrite: 2, store.ScopeAdmin: 3}
	return p.customer == "" && rank[p.scope] >= rank[need]
}

type principalKey struct{}

// principalOf returns the caller of a request.
func principalOf(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// keyCache remembers recent key lookups for a short time, so that a busy
// client does not cost a database read per request. A revoked key stops
// working within the cache's TTL.
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
func (c *keyCache) lookup(ctx context.Context, st store.ServerStore, secret string, now time.Time) (*store.APIKey, error) {
	hash := HashSecret(secret)
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

// tokenClaims is what a customer token says.
type tokenClaims struct {
	Customer string `json:"c"`
	Expires  int64  `json:"e"` // Unix seconds
}

// signToken makes a customer token: the claims and their HMAC-SHA256.
func signToken(key []byte, c tokenClaims) string {
	payload, _ := json.Marshal(c) // plain struct: cannot fail
	p := base64.RawURLEncoding.EncodeToString(payload)
	return tokenPrefix + p + "." + base64.RawURLEncoding.EncodeToString(tokenMAC(key, p))
}

func tokenMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// errBadToken is any token that does not verify; the client is not told why.
var errBadToken = errors.New("invalid or expired customer token")

// verifyToken checks a customer token's signature and expiry.
func verifyToken(key []byte, token string, now time.Time) (tokenClaims, error) {
	var c tokenClaims
	p, sig, ok := strings.Cut(strings.TrimPrefix(token, tokenPrefix), ".")
	if !ok {
		return c, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || subtle.ConstantTimeCompare(got, tokenMAC(key, p)) != 1 {
		return c, errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Customer == "" {
		return c, errBadToken
	}
	if now.Unix() >= c.Expires {
		return c, errBadToken
	}
	return c, nil
}
