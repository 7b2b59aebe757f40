package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

// readTx reads rows in a transaction.
type readTx struct {
	tx pgx.Tx
}

var _ store.ReadTx = (*readTx)(nil)

// Column lists, in the order the scan functions read them.
const (
	walletColumns = "customer, currency, ledger_balance, low_notified, alerts, created_at, overage_limit, debt"
	grantColumns  = "id, customer, currency, amount, remaining, reason, source, priority, created_at, effective_at, " +
		"expires_at, voided_at, expired_at, cost_basis, metadata"
	entryColumns = "seq, id, customer, currency, type, category, description, amount, balance_after, available_after, " +
		"operation, details, metadata, allocations, actor, idempotency_key, at, occurred_at, recorded_at"
	holdColumns = "id, customer, currency, operation, params, amount, captured, status, created_at, expires_at, " +
		"resolved_at, allocations, metadata, entry_id"
	idempotencyColumns = "key, fingerprint, result, created_at"
	eventColumns       = "seq, id, type, customer, currency, data, at"
)

// keysIn restricts a query to wallets of the customers in the array $1 and
// the currencies in $2: a superset of the wanted (customer, currency) pairs
// when several currencies are asked for, which the caller filters. Unlike a
// semi-join on unnest, this form keeps an index probe per customer in the
// generic plan pgx's cached statements end up with.
const keysIn = "customer = ANY($1::text[]) AND currency = ANY($2::text[])"

// The queries that must use an index whatever the history's length. Their
// WHERE clauses repeat the predicates of the partial indexes of
// migrations/0001_init.sql; TestIndexes checks the plans.
const (
	// liveGrantsQuery reads grants_live.
	liveGrantsQuery = "SELECT " + grantColumns + " FROM grants WHERE " + keysIn +
		" AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL ORDER BY customer, currency, id"
	// activeHoldsQuery reads holds_active.
	activeHoldsQuery = "SELECT " + holdColumns + " FROM holds WHERE " + keysIn +
		" AND status = 'active' ORDER BY customer, currency, id"
	// oneWalletGrantsQuery and oneWalletHoldsQuery are the same reads for a
	// single wallet, in a form whose generic plan (pgx caches prepared
	// statements) always probes the partial index.
	oneWalletGrantsQuery = "SELECT " + grantColumns + " FROM grants WHERE customer = $1 AND currency = $2" +
		" AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL ORDER BY id"
	oneWalletHoldsQuery = "SELECT " + holdColumns + " FROM holds WHERE customer = $1 AND currency = $2" +
		" AND status = 'active' ORDER BY id"
	// dueGrantsQuery reads grants_due (expires_at <= $1 implies expires_at
	// IS NOT NULL).
	dueGrantsQuery = "SELECT " + grantColumns + " FROM grants WHERE expires_at <= $1" +
		" AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL ORDER BY expires_at, id LIMIT $2"
	// dueHoldsQuery reads holds_due.
	dueHoldsQuery = "SELECT " + holdColumns + " FROM holds WHERE status = 'active' AND expires_at <= $1" +
		" ORDER BY expires_at, id LIMIT $2"
	// sumEntriesQuery reads entries_wallet_at. SUM of bigint is numeric;
	// the cast fails loudly, rather than wrap, if the total leaves int64.
	sumEntriesQuery = "SELECT COALESCE(SUM(amount), 0)::bigint FROM entries" +
		" WHERE customer = $1 AND currency = $2 AND at <= $3"
)

func (r *readTx) Wallet(ctx context.Context, key store.WalletKey) (*store.Wallet, error) {
	return queryOne(ctx, r.tx, scanWallet, "read wallet",
		"SELECT "+walletColumns+" FROM wallets WHERE customer = $1 AND currency = $2", key.Customer, key.Currency)
}

func (r *readTx) Wallets(ctx context.Context, after store.WalletKey, limit int) ([]*store.Wallet, error) {
	if after == (store.WalletKey{}) {
		return queryAll(ctx, r.tx, scanWallet, "list wallets",
			"SELECT "+walletColumns+" FROM wallets ORDER BY customer, currency LIMIT $1", limitArg(limit))
	}
	return queryAll(ctx, r.tx, scanWallet, "list wallets",
		"SELECT "+walletColumns+" FROM wallets WHERE (customer, currency) > ($1, $2) ORDER BY customer, currency LIMIT $3",
		after.Customer, after.Currency, limitArg(limit))
}

// LiveGrants reads the partial index grants_live.
func (r *readTx) LiveGrants(ctx context.Context, keys []store.WalletKey) ([]*store.Grant, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	customers, currencies := keyArrays(keys)
	grants, err := queryAll(ctx, r.tx, scanGrant, "read live grants", liveGrantsQuery, customers, currencies)
	return onlyKeys(grants, keys, func(g *store.Grant) store.WalletKey {
		return store.WalletKey{Customer: g.Customer, Currency: g.Currency}
	}), err
}

// ActiveHolds reads the partial index holds_active.
func (r *readTx) ActiveHolds(ctx context.Context, keys []store.WalletKey) ([]*store.Hold, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	customers, currencies := keyArrays(keys)
	holds, err := queryAll(ctx, r.tx, scanHold, "read active holds", activeHoldsQuery, customers, currencies)
	return onlyKeys(holds, keys, func(h *store.Hold) store.WalletKey {
		return store.WalletKey{Customer: h.Customer, Currency: h.Currency}
	}), err
}

// onlyKeys drops rows of wallets that keysIn matched but were not asked for
// (another currency of an asked customer).
func onlyKeys[T any](rows []*T, keys []store.WalletKey, key func(*T) store.WalletKey) []*T {
	want := make(map[store.WalletKey]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	out := rows[:0]
	for _, r := range rows {
		if want[key(r)] {
			out = append(out, r)
		}
	}
	return out
}

func (r *readTx) Grant(ctx context.Context, id string) (*store.Grant, error) {
	return queryOne(ctx, r.tx, scanGrant, "read grant", "SELECT "+grantColumns+" FROM grants WHERE id = $1", id)
}

func (r *readTx) Grants(ctx context.Context, q store.GrantQuery) ([]*store.Grant, error) {
	w := where{args: []any{q.Customer}, conds: []string{"customer = $1"}}
	if q.Currency != "" {
		w.add("currency = ", q.Currency)
	}
	if q.After != "" {
		w.add("id > ", q.After)
	}
	return queryAll(ctx, r.tx, scanGrant, "list grants",
		"SELECT "+grantColumns+" FROM grants WHERE "+w.sql()+" ORDER BY id LIMIT "+w.arg(limitArg(q.Limit)), w.args...)
}

func (r *readTx) Hold(ctx context.Context, id string) (*store.Hold, error) {
	return queryOne(ctx, r.tx, scanHold, "read hold", "SELECT "+holdColumns+" FROM holds WHERE id = $1", id)
}

func (r *readTx) HoldsAt(ctx context.Context, key store.WalletKey, t time.Time) ([]*store.Hold, error) {
	return queryAll(ctx, r.tx, scanHold, "read holds at a time",
		"SELECT "+holdColumns+" FROM holds WHERE customer = $1 AND currency = $2 AND created_at <= $3 AND expires_at > $3"+
			" AND (resolved_at IS NULL OR resolved_at > $3) ORDER BY created_at, id",
		key.Customer, key.Currency, t.UnixMicro())
}

func (r *readTx) Entries(ctx context.Context, q store.EntryQuery) ([]*store.Entry, error) {
	w := where{args: []any{q.Customer}, conds: []string{"customer = $1"}}
	if q.Currency != "" {
		w.add("currency = ", q.Currency)
	}
	if q.Type != "" {
		w.add("type = ", q.Type)
	}
	if q.Category != "" {
		w.add("category = ", q.Category)
	}
	if q.Operation != "" {
		w.add("operation = ", q.Operation)
	}
	timeCol := "at"
	if q.ByOccurredAt {
		timeCol = "occurred_at"
	}
	if !q.Since.IsZero() {
		w.add(timeCol+" >= ", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		w.add(timeCol+" < ", q.Until.UnixMicro())
	}
	order := "seq"
	if q.Desc {
		order = "seq DESC"
		if q.AfterSeq > 0 {
			w.add("seq < ", q.AfterSeq)
		}
	} else if q.AfterSeq > 0 {
		w.add("seq > ", q.AfterSeq)
	}
	return queryAll(ctx, r.tx, scanEntry, "list entries",
		"SELECT "+entryColumns+" FROM entries WHERE "+w.sql()+" ORDER BY "+order+" LIMIT "+w.arg(limitArg(q.Limit)), w.args...)
}

func (r *readTx) Entry(ctx context.Context, id string) (*store.Entry, error) {
	return queryOne(ctx, r.tx, scanEntry, "read entry", "SELECT "+entryColumns+" FROM entries WHERE id = $1", id)
}

func (r *readTx) SumEntries(ctx context.Context, key store.WalletKey, t time.Time) (int64, error) {
	var sum int64
	err := r.tx.QueryRow(ctx, sumEntriesQuery, key.Customer, key.Currency, t.UnixMicro()).Scan(&sum)
	if err != nil {
		return 0, translate("sum entries", err)
	}
	return sum, nil
}

func (r *readTx) Idempotency(ctx context.Context, key string) (*store.Idempotency, error) {
	return queryOne(ctx, r.tx, scanIdempotency, "read idempotency record",
		"SELECT "+idempotencyColumns+" FROM idempotency WHERE key = $1", key)
}

// Idempotencies reads every key in one query.
func (r *readTx) Idempotencies(ctx context.Context, keys []string) ([]*store.Idempotency, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	return queryAll(ctx, r.tx, scanIdempotency, "read idempotency records",
		"SELECT "+idempotencyColumns+" FROM idempotency WHERE key = ANY($1::text[])", keys)
}

// DueGrants reads the partial index grants_due.
func (r *readTx) DueGrants(ctx context.Context, now time.Time, limit int) ([]*store.Grant, error) {
	return queryAll(ctx, r.tx, scanGrant, "read due grants", dueGrantsQuery, now.UnixMicro(), limitArg(limit))
}

// DueHolds reads the partial index holds_due.
func (r *readTx) DueHolds(ctx context.Context, now time.Time, limit int) ([]*store.Hold, error) {
	return queryAll(ctx, r.tx, scanHold, "read due holds", dueHoldsQuery, now.UnixMicro(), limitArg(limit))
}

func (r *readTx) Events(ctx context.Context, after int64, limit int) ([]*store.Event, error) {
	return queryAll(ctx, r.tx, scanEvent, "list events",
		"SELECT "+eventColumns+" FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", after, limitArg(limit))
}

// where builds the conditions of a query with optional filters.
type where struct {
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add adds the condition expr followed by an argument, as in
// w.add("currency = ", c).
func (w *where) add(expr string, v any) {
	w.conds = append(w.conds, expr+w.arg(v))
}

func (w *where) sql() string { return strings.Join(w.conds, " AND ") }

// limitArg turns a limit into a LIMIT argument: a limit of 0 or less means
// no limit (LIMIT NULL).
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return int64(limit)
}

// keyArrays splits wallet keys into parallel arrays, for unnest.
func keyArrays(keys []store.WalletKey) (customers, currencies []string) {
	customers = make([]string, len(keys))
	currencies = make([]string, len(keys))
	for i, k := range keys {
		customers[i], currencies[i] = k.Customer, k.Currency
	}
	return customers, currencies
}

// queryOne reads one row, or nil when there is none.
func queryOne[T any](ctx context.Context, tx pgx.Tx, scan func(pgx.Row) (*T, error), op, sql string, args ...any) (*T, error) {
	v, err := scan(tx.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(op, err)
	}
	return v, nil
}

// queryAll reads every row.
func queryAll[T any](ctx context.Context, tx pgx.Tx, scan func(pgx.Row) (*T, error), op, sql string, args ...any) ([]*T, error) {
	rows, err := tx.Query(ctx, sql, args...)
	return collect(rows, err, scan, op)
}

// collect scans every row of a query's result.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (*T, error), op string) ([]*T, error) {
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(op, err)
	}
	return out, nil
}

func scanWallet(row pgx.Row) (*store.Wallet, error) {
	var w store.Wallet
	var created int64
	var alerts *string
	if err := row.Scan(&w.Customer, &w.Currency, &w.LedgerBalance, &w.LowNotified, &alerts, &created, &w.OverageLimit, &w.Debt); err != nil {
		return nil, err
	}
	if alerts != nil {
		w.Alerts = []byte(*alerts)
	}
	w.CreatedAt = fromMicros(created)
	return &w, nil
}

func scanGrant(row pgx.Row) (*store.Grant, error) {
	var g store.Grant
	var created, effective int64
	var expires, voided, expired *int64
	if err := row.Scan(&g.ID, &g.Customer, &g.Currency, &g.Amount, &g.Remaining, &g.Reason, &g.Source, &g.Priority,
		&created, &effective, &expires, &voided, &expired, &g.CostBasis, &g.Metadata); err != nil {
		return nil, err
	}
	g.CreatedAt, g.EffectiveAt = fromMicros(created), fromMicros(effective)
	g.ExpiresAt, g.VoidedAt, g.ExpiredAt = fromMicrosPtr(expires), fromMicrosPtr(voided), fromMicrosPtr(expired)
	return &g, nil
}

func scanEntry(row pgx.Row) (*store.Entry, error) {
	var e store.Entry
	var at, occurred, recorded int64
	if err := row.Scan(&e.Seq, &e.ID, &e.Customer, &e.Currency, &e.Type, &e.Category, &e.Description, &e.Amount, &e.BalanceAfter,
		&e.AvailableAfter, &e.Operation, &e.Details, &e.Metadata, &e.Allocations, &e.Actor, &e.IdempotencyKey,
		&at, &occurred, &recorded); err != nil {
		return nil, err
	}
	e.At, e.OccurredAt, e.RecordedAt = fromMicros(at), fromMicros(occurred), fromMicros(recorded)
	return &e, nil
}

func scanHold(row pgx.Row) (*store.Hold, error) {
	var h store.Hold
	var created, expires int64
	var resolved *int64
	if err := row.Scan(&h.ID, &h.Customer, &h.Currency, &h.Operation, &h.Params, &h.Amount, &h.Captured, &h.Status,
		&created, &expires, &resolved, &h.Allocations, &h.Metadata, &h.EntryID); err != nil {
		return nil, err
	}
	h.CreatedAt, h.ExpiresAt, h.ResolvedAt = fromMicros(created), fromMicros(expires), fromMicrosPtr(resolved)
	return &h, nil
}

func scanIdempotency(row pgx.Row) (*store.Idempotency, error) {
	var i store.Idempotency
	var created int64
	if err := row.Scan(&i.Key, &i.Fingerprint, &i.Result, &created); err != nil {
		return nil, err
	}
	i.CreatedAt = fromMicros(created)
	return &i, nil
}

func scanEvent(row pgx.Row) (*store.Event, error) {
	var e store.Event
	var at int64
	if err := row.Scan(&e.Seq, &e.ID, &e.Type, &e.Customer, &e.Currency, &e.Data, &at); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	return &e, nil
}

// fromMicros turns a stored timestamp into a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromMicrosPtr(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}
