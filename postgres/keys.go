package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

var _ store.ServerStore = (*Store)(nil)

// Every ServerStore method (keys.go, webhooks.go, notices.go) is one
// statement (its own transaction), one pipelined batch (an implicit
// transaction, in which each statement still takes a fresh READ COMMITTED
// snapshot), or, for DispatchEvents, one explicit transaction.

// apiKeyColumns lists the api_keys columns in the order scanAPIKey reads
// them.
const apiKeyColumns = "id, name, scope, hash, prefix, created_at, revoked_at"

// CreateAPIKey stores a new key.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO api_keys ("+apiKeyColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		k.ID, k.Name, k.Scope, k.Hash, k.Prefix, k.CreatedAt.UnixMicro(), microsPtr(k.RevokedAt))
	return translate("create API key", err)
}

// APIKeyByHash returns the key with this hash, revoked or not.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	return poolQueryOne(ctx, s, scanAPIKey, "read API key",
		"SELECT "+apiKeyColumns+" FROM api_keys WHERE hash = $1", hash)
}

// APIKeys lists every key, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]*store.APIKey, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+apiKeyColumns+" FROM api_keys ORDER BY created_at, id")
	return collect(rows, err, scanAPIKey, "list API keys")
}

// RevokeAPIKey marks an unrevoked key revoked at t.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, t time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, t.UnixMicro())
	if err != nil {
		return false, translate("revoke API key", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Secret returns the secret stored under name, storing generated first when
// there is none. Two statements in one round trip: the insert waits for a
// concurrent insert of the same name to commit or roll back, and the
// select, with a snapshot taken after that, reads whichever value won.
func (s *Store) Secret(ctx context.Context, name string, generated []byte) ([]byte, error) {
	if generated == nil {
		// A nil slice would be sent as NULL.
		generated = []byte{}
	}
	b := &pgx.Batch{}
	b.Queue("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, generated)
	b.Queue("SELECT value FROM secrets WHERE name = $1", name)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, translate("store secret", err)
	}
	var value []byte
	if err := br.QueryRow().Scan(&value); err != nil {
		return nil, translate("read secret", err)
	}
	if err := br.Close(); err != nil {
		return nil, translate("read secret", err)
	}
	return value, nil
}

// SetSecret stores value under name, replacing any secret stored there.
func (s *Store) SetSecret(ctx context.Context, name string, value []byte) error {
	if value == nil {
		// A nil slice would be sent as NULL.
		value = []byte{}
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return translate("store secret", err)
}

// poolQueryOne reads one row outside a transaction, or nil when there is
// none.
func poolQueryOne[T any](ctx context.Context, s *Store, scan func(pgx.Row) (*T, error), op, sql string, args ...any) (*T, error) {
	v, err := scan(s.pool.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(op, err)
	}
	return v, nil
}

func scanAPIKey(row pgx.Row) (*store.APIKey, error) {
	var k store.APIKey
	var created int64
	var revoked *int64
	if err := row.Scan(&k.ID, &k.Name, &k.Scope, &k.Hash, &k.Prefix, &created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = fromMicros(created), fromMicrosPtr(revoked)
	return &k, nil
}
