package store

import (
	"context"
	"time"
)

// KeyStore keeps API keys and the secrets every server process shares.
// Every method is its own transaction. A lookup that finds nothing returns
// (nil, nil).
type KeyStore interface {
	// CreateAPIKey stores a new key.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the key with this hash, revoked or not.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// APIKeys lists every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey marks a key revoked at t. It reports false when no
	// unrevoked key has this ID.
	RevokeAPIKey(ctx context.Context, id string, t time.Time) (bool, error)

	// Secret returns the secret stored under name, first storing generated
	// when there is none, so that every process sharing the database agrees
	// on one value.
	Secret(ctx context.Context, name string, generated []byte) ([]byte, error)
	// SetSecret stores value under name, replacing any secret stored there.
	SetSecret(ctx context.Context, name string, value []byte) error
}

// API key scopes, from least to most allowed.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
	ScopeAdmin = "admin"
)

// APIKey is an API key row. The secret is never stored, only its hash.
type APIKey struct {
	ID        string
	Name      string
	Scope     string // ScopeRead, ScopeWrite or ScopeAdmin
	Hash      string // hex SHA-256 of the secret
	Prefix    string // the secret's first characters, to recognize it
	CreatedAt time.Time
	RevokedAt *time.Time
}
