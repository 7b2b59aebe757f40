package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/creditkit/creditkit/store"
)

// The server's rows (keys.go, webhooks.go, notices.go) live beside the
// ledger's and are written through the same write connection: every method
// is one Update or one View, so that claims and notices are exclusive across
// processes sharing the file (BEGIN IMMEDIATE makes each write transaction
// the only one).

var _ store.ServerStore = (*Store)(nil)

// execCount runs one statement through the prepared-statement cache and
// returns how many rows it changed.
func (t *txn) execCount(ctx context.Context, what, query string, args ...any) (int64, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return 0, t.s.translate(what, err)
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, t.s.translate(what, err)
	}
	n, err := res.RowsAffected()
	return n, t.s.translate(what, err)
}

// sqlLimit turns a limit where zero or less means none into SQLite's, where
// -1 means none.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

const apiKeyCols = `id, name, scope, hash, prefix, created_at, revoked_at`

func scanAPIKey(r scanner) (*store.APIKey, error) {
	var k store.APIKey
	var created int64
	var revoked sql.NullInt64
	if err := r.Scan(&k.ID, &k.Name, &k.Scope, &k.Hash, &k.Prefix, &created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = fromMicros(created), fromNullMicros(revoked)
	return &k, nil
}

// CreateAPIKey stores a new key.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "create api key", `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			[]any{k.ID, k.Name, k.Scope, k.Hash, k.Prefix, micros(k.CreatedAt), microsPtr(k.RevokedAt)})
	})
}

// APIKeyByHash returns the key with this hash, revoked or not, or nil.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	var k *store.APIKey
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		k, err = queryOne(ctx, rtx.(*txn), "read api key", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash)
		return err
	})
	return k, err
}

// APIKeys lists every key, revoked ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]*store.APIKey, error) {
	var ks []*store.APIKey
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		ks, err = queryAll(ctx, rtx.(*txn), "list api keys", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created_at, id`)
		return err
	})
	return ks, err
}

// RevokeAPIKey marks a key revoked at t; it reports false when no unrevoked
// key has this ID.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, t time.Time) (bool, error) {
	var n int64
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		var err error
		n, err = wtx.(*txn).execCount(ctx, "revoke api key",
			`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(t), id)
		return err
	})
	return n > 0, err
}

// Secret returns the secret stored under name, first storing generated when
// there is none.
func (s *Store) Secret(ctx context.Context, name string, generated []byte) ([]byte, error) {
	var value []byte
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		t := wtx.(*txn)
		st, err := t.stmt(ctx, `SELECT value FROM secrets WHERE name = ?`)
		if err != nil {
			return s.translate("read secret", err)
		}
		switch err := st.QueryRowContext(ctx, name).Scan(&value); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return s.translate("read secret", err)
		}
		value = generated
		return t.exec(ctx, "store secret", `INSERT INTO secrets (name, value) VALUES (?, ?)`, []any{name, generated})
	})
	if err != nil {
		return nil, err
	}
	return value, nil
}

// SetSecret stores value under name, replacing any secret stored there.
func (s *Store) SetSecret(ctx context.Context, name string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "store secret",
			`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
			[]any{name, value})
	})
}
