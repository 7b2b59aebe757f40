package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/store"
)

// Sessions are stateless: the cookie holds the hash of the API key the
// user signed in with, the session's expiry and a random nonce, signed
// with HMAC-SHA256 under a key kept in the server store (so every process
// sharing the database accepts it). The key row is read again on every
// request, through a short cache, so that a revoked key ends its sessions
// and a key's scope is always the one stored now. The CSRF token is an
// HMAC of the nonce: one per session, never stored.

// CookieName names the session cookie.
const CookieName = "creditkit_dashboard"

// SessionKeyName names the session signing key in store.KeyStore.
const SessionKeyName = "dashboard_session_key"

// errNoSession is a request without a valid, unexpired session of a key
// that still works.
var errNoSession = errors.New("no dashboard session")

// sessions signs and checks session cookies.
type sessions struct {
	st  store.KeyStore
	key []byte
	now func() time.Time
	ttl time.Duration

	cacheTTL time.Duration
	mu       sync.Mutex
	cache    map[string]cachedKey
}

type cachedKey struct {
	key     *store.APIKey
	expires time.Time
}

func newSessions(ctx context.Context, st store.KeyStore, now func() time.Time, ttl, cacheTTL time.Duration) (*sessions, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh) // crypto/rand.Read never fails
	key, err := st.Secret(ctx, SessionKeyName, fresh)
	if err != nil {
		return nil, fmt.Errorf("dashboard: load the session signing key: %w", err)
	}
	return &sessions{st: st, key: key, now: now, ttl: ttl, cacheTTL: cacheTTL, cache: map[string]cachedKey{}}, nil
}

// claims is what a session cookie says.
type claims struct {
	KeyHash string `json:"k"`
	Expires int64  `json:"e"` // Unix seconds
	Nonce   string `json:"n"`
}

var b64 = base64.RawURLEncoding.Strict()

func (s *sessions) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return m.Sum(nil)
}

// sign makes a cookie value for c.
func (s *sessions) sign(c claims) string {
	payload, _ := json.Marshal(c) // plain struct: cannot fail
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(s.mac("session", p))
}

// verify checks a cookie value's signature and expiry.
func (s *sessions) verify(v string) (claims, bool) {
	var c claims
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return c, false
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", p)) {
		return c, false
	}
	payload, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil || c.KeyHash == "" || c.Nonce == "" {
		return c, false
	}
	return c, s.now().Unix() < c.Expires
}

// lookup finds the key with this hash, through the cache.
func (s *sessions) lookup(ctx context.Context, hash string) (*store.APIKey, error) {
	now := s.now()
	if s.cacheTTL > 0 {
		s.mu.Lock()
		ck, ok := s.cache[hash]
		s.mu.Unlock()
		if ok && now.Before(ck.expires) {
			return ck.key, nil
		}
	}
	k, err := s.st.APIKeyByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	if s.cacheTTL > 0 {
		s.mu.Lock()
		if len(s.cache) > 1000 {
			clear(s.cache)
		}
		s.cache[hash] = cachedKey{key: k, expires: now.Add(s.cacheTTL)}
		s.mu.Unlock()
	}
	return k, nil
}

// user is who is signed in: the key's row now, and the session's CSRF
// token.
type user struct {
	KeyID   string
	KeyName string
	Scope   string
	// CSRF is the token every form of this session carries.
	CSRF string
	// Expires is when the session ends.
	Expires time.Time
}

// can reports whether the user's key allows what needs scope need.
func (u *user) can(need string) bool { return auth.ScopeAllows(u.Scope, need) }

// CanWrite and CanAdmin say which actions to show.
func (u *user) CanWrite() bool { return u.can(store.ScopeWrite) }

// CanAdmin reports whether the user's key is an admin key.
func (u *user) CanAdmin() bool { return u.can(store.ScopeAdmin) }

// validCSRF checks a form's token against the session's.
func (u *user) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(u.CSRF)) == 1
}

// user returns the signed-in user of a request, errNoSession when there is
// none (no cookie, a bad or expired one, or a key revoked since), or the
// store's error.
func (s *sessions) user(r *http.Request) (*user, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil, errNoSession
	}
	c, ok := s.verify(ck.Value)
	if !ok {
		return nil, errNoSession
	}
	k, err := s.lookup(r.Context(), c.KeyHash)
	if err != nil {
		return nil, err
	}
	if k == nil || k.RevokedAt != nil {
		return nil, errNoSession
	}
	return &user{KeyID: k.ID, KeyName: k.Name, Scope: k.Scope, CSRF: b64.EncodeToString(s.mac("csrf", c.Nonce)),
		Expires: time.Unix(c.Expires, 0).UTC()}, nil
}

// start checks an API key secret and, when it is a working key, sets the
// session cookie. It returns the key, or nil for a wrong or revoked key.
func (s *sessions) start(w http.ResponseWriter, r *http.Request, secret string) (*store.APIKey, error) {
	hash := auth.HashSecret(strings.TrimSpace(secret))
	k, err := s.st.APIKeyByHash(r.Context(), hash)
	if err != nil {
		return nil, err
	}
	if k == nil || k.RevokedAt != nil {
		return nil, nil
	}
	exp := s.now().Add(s.ttl)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: s.sign(claims{KeyHash: hash, Expires: exp.Unix(), Nonce: auth.RandomToken(16)}),
		Path: Path + "/", Expires: exp, MaxAge: int(s.ttl / time.Second), HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteStrictMode})
	return k, nil
}

// end clears the session cookie.
func (s *sessions) end(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Path + "/", MaxAge: -1,
		HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteStrictMode})
}

// overTLS reports whether the browser reached the server over TLS: directly,
// or through a proxy that says so. A forged header only makes the cookie
// Secure, which no attacker gains from.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
