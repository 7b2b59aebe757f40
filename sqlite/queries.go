package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

const grantCols = `id, customer, currency, amount, remaining, reason, source, priority, created_at, effective_at, expires_at, voided_at, expired_at, cost_basis, metadata`

const holdCols = `id, customer, currency, operation, params, amount, captured, status, created_at, expires_at, resolved_at, allocations, metadata, entry_id`

const entryCols = `seq, id, customer, currency, type, category, description, amount, balance_after, available_after, operation, details, metadata, allocations, actor, idempotency_key, at, occurred_at, recorded_at`

type scanner interface{ Scan(dest ...any) error }

func scanGrant(r scanner) (*store.Grant, error) {
	var g store.Grant
	var created, effective int64
	var expires, voided, expired sql.NullInt64
	var cost sql.NullString
	var meta string
	if err := r.Scan(&g.ID, &g.Customer, &g.Currency, &g.Amount, &g.Remaining, &g.Reason, &g.Source, &g.Priority,
		&created, &effective, &expires, &voided, &expired, &cost, &meta); err != nil {
		return nil, err
	}
	g.CreatedAt, g.EffectiveAt = fromMicros(created), fromMicros(effective)
	g.ExpiresAt, g.VoidedAt, g.ExpiredAt = fromNullMicros(expires), fromNullMicros(voided), fromNullMicros(expired)
	if cost.Valid {
		g.CostBasis = []byte(cost.String)
	}
	g.Metadata = []byte(meta)
	return &g, nil
}

func scanHold(r scanner) (*store.Hold, error) {
	var h store.Hold
	var created, expires int64
	var resolved sql.NullInt64
	var params, meta sql.NullString
	var allocs string
	if err := r.Scan(&h.ID, &h.Customer, &h.Currency, &h.Operation, &params, &h.Amount, &h.Captured, &h.Status,
		&created, &expires, &resolved, &allocs, &meta, &h.EntryID); err != nil {
		return nil, err
	}
	h.CreatedAt, h.ExpiresAt, h.ResolvedAt = fromMicros(created), fromMicros(expires), fromNullMicros(resolved)
	if params.Valid {
		h.Params = []byte(params.String)
	}
	if meta.Valid {
		h.Metadata = []byte(meta.String)
	}
	h.Allocations = []byte(allocs)
	return &h, nil
}

func scanEntry(r scanner) (*store.Entry, error) {
	var e store.Entry
	var at, occurred, rec int64
	var avail sql.NullInt64
	var details, meta, allocs string
	if err := r.Scan(&e.Seq, &e.ID, &e.Customer, &e.Currency, &e.Type, &e.Category, &e.Description, &e.Amount, &e.BalanceAfter,
		&avail, &e.Operation, &details, &meta, &allocs, &e.Actor, &e.IdempotencyKey, &at, &occurred, &rec); err != nil {
		return nil, err
	}
	if avail.Valid {
		e.AvailableAfter = &avail.Int64
	}
	e.Details, e.Metadata, e.Allocations = []byte(details), []byte(meta), []byte(allocs)
	e.At, e.OccurredAt, e.RecordedAt = fromMicros(at), fromMicros(occurred), fromMicros(rec)
	return &e, nil
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, t *txn, what string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, t.s.translate(what, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, t.s.translate(what, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.s.translate(what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.s.translate(what, err)
	}
	return out, nil
}

// queryOne runs a query expected to return at most one row; no row is (nil, nil).
func queryOne[T any](ctx context.Context, t *txn, what string, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, t.s.translate(what, err)
	}
	v, err := scan(st.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, t.s.translate(what, err)
	}
	return v, nil
}

func scanWallet(r scanner) (*store.Wallet, error) {
	var w store.Wallet
	var created int64
	var alerts sql.NullString
	if err := r.Scan(&w.Customer, &w.Currency, &w.LedgerBalance, &w.LowNotified, &alerts, &created, &w.OverageLimit, &w.Debt); err != nil {
		return nil, err
	}
	if alerts.Valid {
		w.Alerts = []byte(alerts.String)
	}
	w.CreatedAt = fromMicros(created)
	return &w, nil
}

func (t *txn) Wallet(ctx context.Context, key store.WalletKey) (*store.Wallet, error) {
	return queryOne(ctx, t, "read wallet", scanWallet,
		`SELECT customer, currency, ledger_balance, low_notified, alerts, created_at, overage_limit, debt FROM wallets WHERE customer = ? AND currency = ?`,
		key.Customer, key.Currency)
}

func (t *txn) Wallets(ctx context.Context, after store.WalletKey, limit int) ([]*store.Wallet, error) {
	return queryAll(ctx, t, "list wallets", scanWallet,
		`SELECT customer, currency, ledger_balance, low_notified, alerts, created_at, overage_limit, debt FROM wallets
		 WHERE customer > ? OR (customer = ? AND currency > ?) ORDER BY customer, currency LIMIT ?`,
		after.Customer, after.Customer, after.Currency, limit)
}

func (t *txn) LiveGrants(ctx context.Context, keys []store.WalletKey) ([]*store.Grant, error) {
	var out []*store.Grant
	for _, k := range keys {
		gs, err := queryAll(ctx, t, "read live grants", scanGrant,
			`SELECT `+grantCols+` FROM grants INDEXED BY grants_live
			 WHERE customer = ? AND currency = ? AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL`,
			k.Customer, k.Currency)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

func (t *txn) ActiveHolds(ctx context.Context, keys []store.WalletKey) ([]*store.Hold, error) {
	var out []*store.Hold
	for _, k := range keys {
		hs, err := queryAll(ctx, t, "read active holds", scanHold,
			`SELECT `+holdCols+` FROM holds INDEXED BY holds_active WHERE customer = ? AND currency = ? AND status = 'active'`,
			k.Customer, k.Currency)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

func (t *txn) Grant(ctx context.Context, id string) (*store.Grant, error) {
	return queryOne(ctx, t, "read grant", scanGrant, `SELECT `+grantCols+` FROM grants WHERE id = ?`, id)
}

func (t *txn) Grants(ctx context.Context, q store.GrantQuery) ([]*store.Grant, error) {
	where := []string{"customer = ?", "id > ?"}
	args := []any{q.Customer, q.After}
	if q.Currency != "" {
		where = append(where, "currency = ?")
		args = append(args, q.Currency)
	}
	args = append(args, q.Limit)
	return queryAll(ctx, t, "list grants", scanGrant,
		`SELECT `+grantCols+` FROM grants WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
}

func (t *txn) Hold(ctx context.Context, id string) (*store.Hold, error) {
	return queryOne(ctx, t, "read hold", scanHold, `SELECT `+holdCols+` FROM holds WHERE id = ?`, id)
}

func (t *txn) HoldsAt(ctx context.Context, key store.WalletKey, at time.Time) ([]*store.Hold, error) {
	us := micros(at)
	return queryAll(ctx, t, "read holds at", scanHold,
		`SELECT `+holdCols+` FROM holds WHERE customer = ? AND currency = ? AND created_at <= ? AND expires_at > ?
		 AND (resolved_at IS NULL OR resolved_at > ?)`, key.Customer, key.Currency, us, us, us)
}

func (t *txn) Entries(ctx context.Context, q store.EntryQuery) ([]*store.Entry, error) {
	where := []string{"customer = ?"}
	args := []any{q.Customer}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if q.Currency != "" {
		add("currency = ?", q.Currency)
	}
	if q.Type != "" {
		add("type = ?", q.Type)
	}
	if q.Category != "" {
		add("category = ?", q.Category)
	}
	if q.Operation != "" {
		add("operation = ?", q.Operation)
	}
	timeCol := "at"
	if q.ByOccurredAt {
		timeCol = "occurred_at"
	}
	if !q.Since.IsZero() {
		add(timeCol+" >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add(timeCol+" < ?", micros(q.Until))
	}
	order := "ASC"
	if q.Desc {
		order = "DESC"
		if q.AfterSeq > 0 {
			add("seq < ?", q.AfterSeq)
		}
	} else if q.AfterSeq > 0 {
		add("seq > ?", q.AfterSeq)
	}
	args = append(args, q.Limit)
	return queryAll(ctx, t, "list entries", scanEntry,
		`SELECT `+entryCols+` FROM entries WHERE `+strings.Join(where, " AND ")+` ORDER BY seq `+order+` LIMIT ?`, args...)
}

func (t *txn) Entry(ctx context.Context, id string) (*store.Entry, error) {
	return queryOne(ctx, t, "read entry", scanEntry, `SELECT `+entryCols+` FROM entries WHERE id = ?`, id)
}

func (t *txn) SumEntries(ctx context.Context, key store.WalletKey, at time.Time) (int64, error) {
	var sum int64
	err := t.q.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM entries WHERE customer = ? AND currency = ? AND at <= ?`,
		key.Customer, key.Currency, micros(at)).Scan(&sum)
	return sum, t.s.translate("sum entries", err)
}

func (t *txn) Idempotency(ctx context.Context, key string) (*store.Idempotency, error) {
	return queryOne(ctx, t, "read idempotency key", scanIdempotency,
		`SELECT key, fingerprint, result, created_at FROM idempotency WHERE key = ?`, key)
}

// Idempotencies reads every key in one statement: the keys travel as one
// JSON array, so the statement has one shape and is prepared once.
func (t *txn) Idempotencies(ctx context.Context, keys []string) ([]*store.Idempotency, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode idempotency keys: %w", err)
	}
	return queryAll(ctx, t, "read idempotency keys", scanIdempotency,
		`SELECT key, fingerprint, result, created_at FROM idempotency WHERE key IN (SELECT value FROM json_each(?))`, string(list))
}

func scanIdempotency(r scanner) (*store.Idempotency, error) {
	var rec store.Idempotency
	var created int64
	var result string
	if err := r.Scan(&rec.Key, &rec.Fingerprint, &result, &created); err != nil {
		return nil, err
	}
	rec.Result, rec.CreatedAt = []byte(result), fromMicros(created)
	return &rec, nil
}

func (t *txn) DueGrants(ctx context.Context, now time.Time, limit int) ([]*store.Grant, error) {
	return queryAll(ctx, t, "read due grants", scanGrant,
		`SELECT `+grantCols+` FROM grants INDEXED BY grants_due
		 WHERE expires_at <= ? AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL AND expires_at IS NOT NULL
		 ORDER BY expires_at LIMIT ?`, micros(now), limit)
}

func (t *txn) DueHolds(ctx context.Context, now time.Time, limit int) ([]*store.Hold, error) {
	return queryAll(ctx, t, "read due holds", scanHold,
		`SELECT `+holdCols+` FROM holds INDEXED BY holds_due WHERE status = 'active' AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
		micros(now), limit)
}

func (t *txn) Events(ctx context.Context, after int64, limit int) ([]*store.Event, error) {
	return queryAll(ctx, t, "read events", func(r scanner) (*store.Event, error) {
		var e store.Event
		var at int64
		var data string
		if err := r.Scan(&e.Seq, &e.ID, &e.Type, &e.Customer, &e.Currency, &data, &at); err != nil {
			return nil, err
		}
		e.Data, e.At = []byte(data), fromMicros(at)
		return &e, nil
	}, `SELECT seq, id, type, customer, currency, data, at FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// LockWallets creates missing wallet rows. SQLite has one writer, holding the
// database lock since BEGIN IMMEDIATE, so the rows are already locked.
func (t *txn) LockWallets(ctx context.Context, keys []store.WalletKey, now time.Time) ([]*store.Wallet, error) {
	out := make([]*store.Wallet, len(keys))
	for i, k := range keys {
		st, err := t.stmt(ctx, `INSERT INTO wallets (customer, currency, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return nil, t.s.translate("create wallet", err)
		}
		res, err := st.ExecContext(ctx, k.Customer, k.Currency, micros(now))
		if err != nil {
			return nil, t.s.translate("create wallet", err)
		}
		created, err := res.RowsAffected()
		if err != nil {
			return nil, t.s.translate("create wallet", err)
		}
		w, err := t.Wallet(ctx, k)
		if err != nil {
			return nil, err
		}
		w.Created = created > 0
		out[i] = w
	}
	return out, nil
}

// Apply writes the changes: inserts many rows per statement, updates one
// row per statement, all through prepared statements.
func (t *txn) Apply(ctx context.Context, c *store.Changes) error {
	// An insert (width > 0) writes up to insertChunk rows per statement;
	// an update runs once per row. Every statement shape is prepared once.
	type batch struct {
		what  string
		query string
		width int
		n     int
		args  func(i int) []any
	}
	if err := t.applyCustomers(ctx, c); err != nil {
		return err
	}
	if err := t.applySubscriptions(ctx, c); err != nil {
		return err
	}
	if err := t.applyPurchases(ctx, c); err != nil {
		return err
	}
	batches := []batch{
		{"save wallet", `UPDATE wallets SET ledger_balance = ?, low_notified = ?, alerts = ?, overage_limit = ?, debt = ? WHERE customer = ? AND currency = ?`, 0, len(c.Wallets),
			func(i int) []any {
				w := c.Wallets[i]
				return []any{w.LedgerBalance, w.LowNotified, nullBytes(w.Alerts), w.OverageLimit, w.Debt, w.Customer, w.Currency}
			}},
		{"insert grant", `INSERT INTO grants (` + grantCols + `) VALUES `, 15, len(c.NewGrants),
			func(i int) []any {
				g := c.NewGrants[i]
				return []any{g.ID, g.Customer, g.Currency, g.Amount, g.Remaining, g.Reason, g.Source, g.Priority,
					micros(g.CreatedAt), micros(g.EffectiveAt), microsPtr(g.ExpiresAt), microsPtr(g.VoidedAt), microsPtr(g.ExpiredAt),
					nullBytes(g.CostBasis), string(g.Metadata)}
			}},
		{"update grant", `UPDATE grants SET remaining = ?, voided_at = ?, expired_at = ?, expires_at = ? WHERE id = ?`, 0, len(c.GrantUpdates),
			func(i int) []any {
				u := c.GrantUpdates[i]
				return []any{u.Remaining, microsPtr(u.VoidedAt), microsPtr(u.ExpiredAt), microsPtr(u.ExpiresAt), u.ID}
			}},
		{"insert entry", `INSERT INTO entries (id, customer, currency, type, category, description, amount, balance_after, available_after, operation, details, metadata, allocations, actor, idempotency_key, at, occurred_at, recorded_at) VALUES `, 18, len(c.Entries),
			func(i int) []any {
				e := c.Entries[i]
				return []any{e.ID, e.Customer, e.Currency, e.Type, e.Category, e.Description, e.Amount, e.BalanceAfter, nullInt(e.AvailableAfter),
					e.Operation, string(orObject(e.Details)), string(e.Metadata), string(e.Allocations), e.Actor, e.IdempotencyKey,
					micros(e.At), micros(e.OccurredAt), micros(e.RecordedAt)}
			}},
		{"insert hold", `INSERT INTO holds (` + holdCols + `) VALUES `, 14, len(c.NewHolds),
			func(i int) []any {
				h := c.NewHolds[i]
				return []any{h.ID, h.Customer, h.Currency, h.Operation, nullBytes(h.Params), h.Amount, h.Captured, h.Status,
					micros(h.CreatedAt), micros(h.ExpiresAt), microsPtr(h.ResolvedAt), string(h.Allocations), nullBytes(h.Metadata), h.EntryID}
			}},
		{"update hold", `UPDATE holds SET status = ?, captured = ?, resolved_at = ?, entry_id = ? WHERE id = ?`, 0, len(c.HoldUpdates),
			func(i int) []any {
				u := c.HoldUpdates[i]
				return []any{u.Status, u.Captured, microsPtr(u.ResolvedAt), u.EntryID, u.ID}
			}},
		{"insert idempotency key", `INSERT INTO idempotency (key, fingerprint, result, created_at) VALUES `, 4, len(c.Idempotencies),
			func(i int) []any {
				r := c.Idempotencies[i]
				return []any{r.Key, r.Fingerprint, string(r.Result), micros(r.CreatedAt)}
			}},
		{"insert event", `INSERT INTO events (id, type, customer, currency, data, at) VALUES `, 6, len(c.Events),
			func(i int) []any {
				e := c.Events[i]
				return []any{e.ID, e.Type, e.Customer, e.Currency, string(e.Data), micros(e.At)}
			}},
	}
	for _, b := range batches {
		if b.width == 0 {
			for i := 0; i < b.n; i++ {
				if err := t.exec(ctx, b.what, b.query, b.args(i)); err != nil {
					return err
				}
			}
			continue
		}
		for start := 0; start < b.n; start += insertChunk {
			rows := min(insertChunk, b.n-start)
			args := make([]any, 0, rows*b.width)
			for i := start; i < start+rows; i++ {
				args = append(args, b.args(i)...)
			}
			if err := t.exec(ctx, b.what, b.query+placeholders(rows, b.width), args); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertChunk is how many rows one INSERT writes at most, well within
// SQLite's limit on bound parameters.
const insertChunk = 64

// exec runs one statement through the prepared-statement cache.
func (t *txn) exec(ctx context.Context, what, query string, args []any) error {
	stmt, err := t.stmt(ctx, query)
	if err != nil {
		return t.s.translate(what, err)
	}
	if _, err := stmt.ExecContext(ctx, args...); err != nil {
		return t.s.translate(what, err)
	}
	return nil
}

// nullInt turns an optional integer into a nullable column value.
func nullInt(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// orObject returns an empty JSON object for an empty column value.
func orObject(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
