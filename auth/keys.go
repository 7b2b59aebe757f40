// Package auth holds the rules of creditkit's credentials: API keys (made,
// hashed and scoped here, stored through store.KeyStore) and customer
// tokens (signed with a key every server process shares, and rotated). The
// HTTP server and the CLI both use it.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// KeyPrefix starts every API key secret; customer tokens start with
// TokenPrefix instead.
const KeyPrefix = "ck_"

// CreateKey makes a new API key with a name and a scope, stores its hash,
// and returns the key row and the secret, which is shown only this once.
// A bad name or scope is an invalid_request creditkit.Error.
func CreateKey(ctx context.Context, st store.KeyStore, name, scope string, now time.Time) (*store.APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf("key name must be 1 to 100 characters, got %q", name)}
	}
	if !ValidScope(scope) {
		return nil, "", &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf("key scope %q is not one of read, write, admin", scope)}
	}
	secret := KeyPrefix + RandomToken(20)
	k := &store.APIKey{ID: "key_" + RandomToken(10), Name: name, Scope: scope, Hash: HashSecret(secret),
		Prefix: secret[:len(KeyPrefix)+6], CreatedAt: now.UTC()}
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

// ValidScope reports whether scope is read, write or admin.
func ValidScope(scope string) bool {
	return scopeRank(scope) > 0
}

// ScopeAllows reports whether a key of scope have may call an operation
// that needs scope need: admin covers write, which covers read.
func ScopeAllows(have, need string) bool {
	return scopeRank(have) > 0 && scopeRank(have) >= scopeRank(need)
}

func scopeRank(scope string) int {
	switch scope {
	case store.ScopeRead:
		return 1
	case store.ScopeWrite:
		return 2
	case store.ScopeAdmin:
		return 3
	}
	return 0
}

// RandomToken returns n random bytes in lowercase base32, without padding.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
