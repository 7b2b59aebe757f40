package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

// writeTx reads and writes rows in a read-write transaction.
type writeTx struct {
	readTx
}

var _ store.WriteTx = (*writeTx)(nil)

// LockWallets creates the missing wallets and locks all of them with two
// statements, sent in one round trip, whatever the number of keys. Rows are
// created and locked in key order (the "C" collation sorts like
// store.WalletKey.Less), so that transactions never wait on each other in a
// cycle.
func (w *writeTx) LockWallets(ctx context.Context, keys []store.WalletKey, now time.Time) ([]*store.Wallet, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	customers, currencies := keyArrays(keys)
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO wallets (customer, currency, created_at)
SELECT customer, currency, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(customer, currency, ord)
ORDER BY ord
ON CONFLICT DO NOTHING
RETURNING customer, currency`, customers, currencies, now.UnixMicro())
	// In READ COMMITTED, this statement sees the rows the first one created,
	// and once it holds a lock it reads the latest committed version. keysIn
	// may also lock another currency's wallet of an asked customer: still
	// in the one global order, so still free of deadlocks.
	batch.Queue("SELECT "+walletColumns+" FROM wallets WHERE "+keysIn+" ORDER BY customer, currency FOR UPDATE",
		customers, currencies)

	br := w.tx.SendBatch(ctx, batch)
	defer br.Close()
	created, err := br.Query()
	if err != nil {
		return nil, translate("create wallets", err)
	}
	isNew, err := pgx.CollectRows(created, func(row pgx.CollectableRow) (store.WalletKey, error) {
		var k store.WalletKey
		err := row.Scan(&k.Customer, &k.Currency)
		return k, err
	})
	if err != nil {
		return nil, translate("create wallets", err)
	}
	fresh := make(map[store.WalletKey]bool, len(isNew))
	for _, k := range isNew {
		fresh[k] = true
	}
	rows, err := br.Query()
	if err != nil {
		return nil, translate("lock wallets", err)
	}
	locked, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Wallet, error) { return scanWallet(row) })
	if err != nil {
		return nil, translate("lock wallets", err)
	}
	if err := br.Close(); err != nil {
		return nil, translate("lock wallets", err)
	}

	byKey := make(map[store.WalletKey]*store.Wallet, len(locked))
	for _, wallet := range locked {
		byKey[store.WalletKey{Customer: wallet.Customer, Currency: wallet.Currency}] = wallet
	}
	out := make([]*store.Wallet, len(keys))
	for i, k := range keys {
		wallet, ok := byKey[k]
		if !ok {
			return nil, fmt.Errorf("postgres: lock wallets: wallet %s/%s is missing after its insert", k.Customer, k.Currency)
		}
		wallet.Created = fresh[k]
		out[i] = wallet
	}
	return out, nil
}

// Apply writes every list of c with one statement per non-empty list, all
// sent in one round trip. A list that names the same wallet, grant or hold
// twice (several requests batched in one transaction) saves the last
// version. Updates of rows that do not exist are an error.
func (w *writeTx) Apply(ctx context.Context, c *store.Changes) error {
	if c == nil || c.Empty() {
		return nil
	}
	if err := w.applyCustomers(ctx, c); err != nil {
		return err
	}
	if err := w.applySubscriptions(ctx, c); err != nil {
		return err
	}
	if err := w.applyPurchases(ctx, c); err != nil {
		return err
	}
	var stmts []statement
	queue := func(op string, rows int, sql string, args ...any) {
		if rows > 0 {
			stmts = append(stmts, statement{op: op, rows: int64(rows), sql: sql, args: args})
		}
	}

	wallets := lastByKey(c.Wallets, func(v *store.Wallet) store.WalletKey {
		return store.WalletKey{Customer: v.Customer, Currency: v.Currency}
	})
	queue("save wallets", len(wallets), `UPDATE wallets AS w SET ledger_balance = v.ledger_balance, low_notified = v.low_notified,
    alerts = v.alerts, overage_limit = v.overage_limit, debt = v.debt
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::bigint[], $7::bigint[])
  AS v(customer, currency, ledger_balance, low_notified, alerts, overage_limit, debt)
WHERE w.customer = v.customer AND w.currency = v.currency`,
		column(wallets, func(v *store.Wallet) string { return v.Customer }),
		column(wallets, func(v *store.Wallet) string { return v.Currency }),
		column(wallets, func(v *store.Wallet) int64 { return v.LedgerBalance }),
		column(wallets, func(v *store.Wallet) bool { return v.LowNotified }),
		column(wallets, func(v *store.Wallet) *string { return jsonText(v.Alerts) }),
		column(wallets, func(v *store.Wallet) int64 { return v.OverageLimit }),
		column(wallets, func(v *store.Wallet) int64 { return v.Debt }))

	g := c.NewGrants
	queue("insert grants", len(g), `INSERT INTO grants (`+grantColumns+`)
SELECT id, customer, currency, amount, remaining, reason, source, priority, created_at, effective_at,
       expires_at, voided_at, expired_at, cost_basis::jsonb, COALESCE(metadata::jsonb, '{}')
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::bigint[],
            $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[])
     AS t(id, customer, currency, amount, remaining, reason, source, priority, created_at, effective_at,
          expires_at, voided_at, expired_at, cost_basis, metadata)`,
		column(g, func(v *store.Grant) string { return v.ID }),
		column(g, func(v *store.Grant) string { return v.Customer }),
		column(g, func(v *store.Grant) string { return v.Currency }),
		column(g, func(v *store.Grant) int64 { return v.Amount }),
		column(g, func(v *store.Grant) int64 { return v.Remaining }),
		column(g, func(v *store.Grant) string { return v.Reason }),
		column(g, func(v *store.Grant) string { return v.Source }),
		column(g, func(v *store.Grant) int64 { return int64(v.Priority) }),
		column(g, func(v *store.Grant) int64 { return v.CreatedAt.UnixMicro() }),
		column(g, func(v *store.Grant) int64 { return v.EffectiveAt.UnixMicro() }),
		column(g, func(v *store.Grant) *int64 { return microsPtr(v.ExpiresAt) }),
		column(g, func(v *store.Grant) *int64 { return microsPtr(v.VoidedAt) }),
		column(g, func(v *store.Grant) *int64 { return microsPtr(v.ExpiredAt) }),
		column(g, func(v *store.Grant) *string { return jsonText(v.CostBasis) }),
		column(g, func(v *store.Grant) *string { return jsonText(v.Metadata) }))

	gu := lastByKey(c.GrantUpdates, func(v *store.GrantUpdate) string { return v.ID })
	queue("update grants", len(gu), `UPDATE grants AS g SET remaining = u.remaining, voided_at = u.voided_at, expired_at = u.expired_at,
    expires_at = u.expires_at
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(id, remaining, voided_at, expired_at, expires_at)
WHERE g.id = u.id`,
		column(gu, func(v *store.GrantUpdate) string { return v.ID }),
		column(gu, func(v *store.GrantUpdate) int64 { return v.Remaining }),
		column(gu, func(v *store.GrantUpdate) *int64 { return microsPtr(v.VoidedAt) }),
		column(gu, func(v *store.GrantUpdate) *int64 { return microsPtr(v.ExpiredAt) }),
		column(gu, func(v *store.GrantUpdate) *int64 { return microsPtr(v.ExpiresAt) }))

	// WITH ORDINALITY ... ORDER BY: seq follows the order of the list.
	e := c.Entries
	queue("insert entries", len(e), `INSERT INTO entries (id, customer, currency, type, category, description, amount,
    balance_after, available_after, operation, details, metadata, allocations, actor, idempotency_key, at, occurred_at, recorded_at)
SELECT id, customer, currency, type, category, description, amount, balance_after, available_after, operation,
       COALESCE(details::jsonb, '{}'), COALESCE(metadata::jsonb, '{}'), COALESCE(allocations::jsonb, '[]'), actor,
       idempotency_key, at, occurred_at, recorded_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[],
            $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[],
            $17::bigint[], $18::bigint[]) WITH ORDINALITY
     AS t(id, customer, currency, type, category, description, amount, balance_after, available_after, operation,
          details, metadata, allocations, actor, idempotency_key, at, occurred_at, recorded_at, ord)
ORDER BY ord`,
		column(e, func(v *store.Entry) string { return v.ID }),
		column(e, func(v *store.Entry) string { return v.Customer }),
		column(e, func(v *store.Entry) string { return v.Currency }),
		column(e, func(v *store.Entry) string { return v.Type }),
		column(e, func(v *store.Entry) string { return v.Category }),
		column(e, func(v *store.Entry) string { return v.Description }),
		column(e, func(v *store.Entry) int64 { return v.Amount }),
		column(e, func(v *store.Entry) int64 { return v.BalanceAfter }),
		column(e, func(v *store.Entry) *int64 { return v.AvailableAfter }),
		column(e, func(v *store.Entry) string { return v.Operation }),
		column(e, func(v *store.Entry) *string { return jsonText(v.Details) }),
		column(e, func(v *store.Entry) *string { return jsonText(v.Metadata) }),
		column(e, func(v *store.Entry) *string { return jsonText(v.Allocations) }),
		column(e, func(v *store.Entry) string { return v.Actor }),
		column(e, func(v *store.Entry) string { return v.IdempotencyKey }),
		column(e, func(v *store.Entry) int64 { return v.At.UnixMicro() }),
		column(e, func(v *store.Entry) int64 { return v.OccurredAt.UnixMicro() }),
		column(e, func(v *store.Entry) int64 { return v.RecordedAt.UnixMicro() }))

	h := c.NewHolds
	queue("insert holds", len(h), `INSERT INTO holds (`+holdColumns+`)
SELECT id, customer, currency, operation, params::jsonb, amount, captured, status, created_at, expires_at,
       resolved_at, COALESCE(allocations::jsonb, '[]'), metadata::jsonb, entry_id
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[],
            $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[])
     AS t(id, customer, currency, operation, params, amount, captured, status, created_at, expires_at,
          resolved_at, allocations, metadata, entry_id)`,
		column(h, func(v *store.Hold) string { return v.ID }),
		column(h, func(v *store.Hold) string { return v.Customer }),
		column(h, func(v *store.Hold) string { return v.Currency }),
		column(h, func(v *store.Hold) string { return v.Operation }),
		column(h, func(v *store.Hold) *string { return jsonText(v.Params) }),
		column(h, func(v *store.Hold) int64 { return v.Amount }),
		column(h, func(v *store.Hold) int64 { return v.Captured }),
		column(h, func(v *store.Hold) string { return v.Status }),
		column(h, func(v *store.Hold) int64 { return v.CreatedAt.UnixMicro() }),
		column(h, func(v *store.Hold) int64 { return v.ExpiresAt.UnixMicro() }),
		column(h, func(v *store.Hold) *int64 { return microsPtr(v.ResolvedAt) }),
		column(h, func(v *store.Hold) *string { return jsonText(v.Allocations) }),
		column(h, func(v *store.Hold) *string { return jsonText(v.Metadata) }),
		column(h, func(v *store.Hold) string { return v.EntryID }))

	hu := lastByKey(c.HoldUpdates, func(v *store.HoldUpdate) string { return v.ID })
	queue("update holds", len(hu), `UPDATE holds AS h SET status = u.status, captured = u.captured, resolved_at = u.resolved_at, entry_id = u.entry_id
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS u(id, status, captured, resolved_at, entry_id)
WHERE h.id = u.id`,
		column(hu, func(v *store.HoldUpdate) string { return v.ID }),
		column(hu, func(v *store.HoldUpdate) string { return v.Status }),
		column(hu, func(v *store.HoldUpdate) int64 { return v.Captured }),
		column(hu, func(v *store.HoldUpdate) *int64 { return microsPtr(v.ResolvedAt) }),
		column(hu, func(v *store.HoldUpdate) string { return v.EntryID }))

	// A key inserted concurrently violates idempotency_pkey: translate
	// makes that a retry, and the rerun finds the other request's record.
	i := c.Idempotencies
	queue("insert idempotency records", len(i), `INSERT INTO idempotency (`+idempotencyColumns+`)
SELECT key, fingerprint, result::jsonb, created_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(key, fingerprint, result, created_at)`,
		column(i, func(v *store.Idempotency) string { return v.Key }),
		column(i, func(v *store.Idempotency) string { return v.Fingerprint }),
		column(i, func(v *store.Idempotency) *string { return jsonText(v.Result) }),
		column(i, func(v *store.Idempotency) int64 { return v.CreatedAt.UnixMicro() }))

	ev := c.Events
	queue("insert events", len(ev), `INSERT INTO events (id, type, customer, currency, data, at)
SELECT id, type, customer, currency, data::jsonb, at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY
     AS t(id, type, customer, currency, data, at, ord)
ORDER BY ord`,
		column(ev, func(v *store.Event) string { return v.ID }),
		column(ev, func(v *store.Event) string { return v.Type }),
		column(ev, func(v *store.Event) string { return v.Customer }),
		column(ev, func(v *store.Event) string { return v.Currency }),
		column(ev, func(v *store.Event) *string { return jsonText(v.Data) }),
		column(ev, func(v *store.Event) int64 { return v.At.UnixMicro() }))

	return w.exec(ctx, stmts)
}

// statement is one write of Apply.
type statement struct {
	op   string
	rows int64 // rows it must affect
	sql  string
	args []any
}

// exec sends the statements in one batch and checks each one's row count.
func (w *writeTx) exec(ctx context.Context, stmts []statement) error {
	batch := &pgx.Batch{}
	for _, s := range stmts {
		batch.Queue(s.sql, s.args...)
	}
	br := w.tx.SendBatch(ctx, batch)
	defer br.Close()
	for _, s := range stmts {
		tag, err := br.Exec()
		if err != nil {
			return translate(s.op, err)
		}
		if tag.RowsAffected() != s.rows {
			return fmt.Errorf("postgres: %s: wrote %d rows of %d; the others do not exist", s.op, tag.RowsAffected(), s.rows)
		}
	}
	if err := br.Close(); err != nil {
		return translate("apply", err)
	}
	return nil
}

// column extracts one column of rows, as an array argument for unnest.
func column[R, V any](rows []R, f func(R) V) []V {
	out := make([]V, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

// lastByKey drops every item that a later item with the same key replaces,
// keeping the order of the rest.
func lastByKey[T any, K comparable](items []T, key func(T) K) []T {
	if len(items) < 2 {
		return items
	}
	last := make(map[K]int, len(items))
	for i, it := range items {
		last[key(it)] = i
	}
	if len(last) == len(items) {
		return items
	}
	out := make([]T, 0, len(last))
	for i, it := range items {
		if last[key(it)] == i {
			out = append(out, it)
		}
	}
	return out
}

// microsPtr turns an optional time into an optional stored timestamp.
func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

// jsonText passes JSON as text, cast to jsonb in SQL, so that pgx never
// sends it as bytea. Empty means NULL (the column's default, where it has
// one).
func jsonText(b []byte) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}
