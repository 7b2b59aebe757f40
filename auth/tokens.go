package auth

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
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

// TokenPrefix starts every customer token.
const TokenPrefix = "ckt_"

// TokenKeyName names the customer token signing key in store.KeyStore.
const TokenKeyName = "customer_token_signing_key"

// Customer token lifetimes.
const (
	DefaultTokenTTL = 15 * time.Minute
	MaxTokenTTL     = 24 * time.Hour
)

// ErrBadToken is any token that does not verify; the caller is not told
// why.
var ErrBadToken = errors.New("invalid or expired customer token")

// Claims is what a customer token says.
type Claims struct {
	Customer string `json:"c"`
	Expires  int64  `json:"e"` // Unix seconds
}

// encoding is the tokens' base64: URL alphabet, no padding, and strict, so
// that each token has one spelling (a last character with stray low bits
// is refused rather than read as its canonical twin).
var encoding = base64.RawURLEncoding.Strict()

// SignToken makes a customer token: the claims and their HMAC-SHA256 under
// key.
func SignToken(key []byte, c Claims) string {
	payload, _ := json.Marshal(c) // plain struct: cannot fail
	p := encoding.EncodeToString(payload)
	return TokenPrefix + p + "." + encoding.EncodeToString(tokenMAC(key, p))
}

func tokenMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// VerifyToken checks a customer token's signature under key and its expiry
// at now. Any failure is ErrBadToken.
func VerifyToken(key []byte, token string, now time.Time) (Claims, error) {
	var c Claims
	p, sig, ok := strings.Cut(strings.TrimPrefix(token, TokenPrefix), ".")
	if !ok {
		return c, ErrBadToken
	}
	got, err := encoding.DecodeString(sig)
	if err != nil || subtle.ConstantTimeCompare(got, tokenMAC(key, p)) != 1 {
		return c, ErrBadToken
	}
	payload, err := encoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Customer == "" {
		return c, ErrBadToken
	}
	if now.Unix() >= c.Expires {
		return c, ErrBadToken
	}
	return c, nil
}

// TokenKey returns the customer token signing key, creating it on first
// use; every process sharing the database gets the same key.
func TokenKey(ctx context.Context, st store.KeyStore) ([]byte, error) {
	k, err := st.Secret(ctx, TokenKeyName, newTokenKey())
	if err != nil {
		return nil, fmt.Errorf("load the customer token signing key: %w", err)
	}
	return k, nil
}

// RotateTokenKey replaces the customer token signing key with a new random
// one: every token signed before stops verifying once a server sees the new
// key (servers reread it within their key cache TTL).
func RotateTokenKey(ctx context.Context, st store.KeyStore) error {
	if err := st.SetSecret(ctx, TokenKeyName, newTokenKey()); err != nil {
		return fmt.Errorf("store a new customer token signing key: %w", err)
	}
	return nil
}

func newTokenKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}
