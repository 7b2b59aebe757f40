package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

// Auto top-up settings and state (migration 0010). The rules are the root
// package's; these are its named queries.

var _ store.TopUpStore = (*Store)(nil)

const (
	topUpSettingsColumns = "customer, currency, enabled, threshold, pack, target_balance, monthly_cap_cents, cooldown_us, created_at, updated_at"
	topUpStateColumns    = "customer, currency, version, attempt_id, attempt_started_at, attempt_pack, attempt_credits, attempt_cents, " +
		"attempt_money_currency, last_attempt_at, last_purchase_at, month_key, month_spent_cents, last_failure, last_failure_at, failures, updated_at"
)

func scanTopUpSettings(row pgx.Row) (*store.TopUpSettings, error) {
	var s store.TopUpSettings
	var cooldown, created, updated int64
	if err := row.Scan(&s.Customer, &s.Currency, &s.Enabled, &s.Threshold, &s.Pack, &s.TargetBalance, &s.MonthlyCapCents,
		&cooldown, &created, &updated); err != nil {
		return nil, err
	}
	s.Cooldown = time.Duration(cooldown) * time.Microsecond
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

func scanTopUpState(row pgx.Row) (*store.TopUpState, error) {
	var s store.TopUpState
	var started, lastAttempt, lastPurchase, lastFailure *int64
	var updated int64
	if err := row.Scan(&s.Customer, &s.Currency, &s.Version, &s.AttemptID, &started, &s.AttemptPack, &s.AttemptCredits,
		&s.AttemptCents, &s.AttemptMoneyCurrency, &lastAttempt, &lastPurchase, &s.MonthKey, &s.MonthSpentCents,
		&s.LastFailure, &lastFailure, &s.Failures, &updated); err != nil {
		return nil, err
	}
	s.AttemptStartedAt, s.LastAttemptAt = fromMicrosPtr(started), fromMicrosPtr(lastAttempt)
	s.LastPurchaseAt, s.LastFailureAt = fromMicrosPtr(lastPurchase), fromMicrosPtr(lastFailure)
	s.UpdatedAt = fromMicros(updated)
	return &s, nil
}

// TopUpSettings returns a wallet's own auto top-up settings, or nil.
func (s *Store) TopUpSettings(ctx context.Context, customer, currency string) (*store.TopUpSettings, error) {
	// One row by primary key: one statement, without a transaction's
	// extra round trips.
	out, err := scanTopUpSettings(s.pool.QueryRow(ctx, "SELECT "+topUpSettingsColumns+" FROM topup_settings WHERE customer = $1 AND currency = $2", customer, currency))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate("read auto top-up settings", err)
	}
	return out, nil
}

// SaveTopUpSettings inserts or replaces a wallet's settings row.
func (s *Store) SaveTopUpSettings(ctx context.Context, st *store.TopUpSettings) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO topup_settings (`+topUpSettingsColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (customer, currency) DO UPDATE SET enabled = excluded.enabled, threshold = excluded.threshold, pack = excluded.pack,
target_balance = excluded.target_balance, monthly_cap_cents = excluded.monthly_cap_cents, cooldown_us = excluded.cooldown_us,
updated_at = excluded.updated_at`,
		st.Customer, st.Currency, st.Enabled, st.Threshold, st.Pack, st.TargetBalance, st.MonthlyCapCents,
		st.Cooldown.Microseconds(), st.CreatedAt.UnixMicro(), st.UpdatedAt.UnixMicro())
	return translate("save auto top-up settings", err)
}

// TopUpState returns a wallet's auto top-up state, or nil.
func (s *Store) TopUpState(ctx context.Context, customer, currency string) (*store.TopUpState, error) {
	out, err := scanTopUpState(s.pool.QueryRow(ctx, "SELECT "+topUpStateColumns+" FROM topup_state WHERE customer = $1 AND currency = $2", customer, currency))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate("read auto top-up state", err)
	}
	return out, nil
}

// SaveTopUpState saves st if the row is still at version prev (0: no row),
// and inserts events in the same transaction. In READ COMMITTED a
// concurrent UPDATE waits for the first one to commit and then re-checks
// the version on the new row, finding it changed; a concurrent INSERT waits
// and then does nothing. So exactly one of several callers saves.
func (s *Store) SaveTopUpState(ctx context.Context, st *store.TopUpState, prev int64, events []*store.Event) (bool, error) {
	saved := false
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*writeTx).tx
		args := []any{st.Customer, st.Currency, st.Version, st.AttemptID, microsPtr(st.AttemptStartedAt), st.AttemptPack,
			st.AttemptCredits, st.AttemptCents, st.AttemptMoneyCurrency, microsPtr(st.LastAttemptAt), microsPtr(st.LastPurchaseAt),
			st.MonthKey, st.MonthSpentCents, st.LastFailure, microsPtr(st.LastFailureAt), st.Failures, st.UpdatedAt.UnixMicro()}
		var sql string
		if prev == 0 {
			sql = `INSERT INTO topup_state (` + topUpStateColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (customer, currency) DO NOTHING`
		} else {
			sql = `UPDATE topup_state SET version = $3, attempt_id = $4, attempt_started_at = $5, attempt_pack = $6,
attempt_credits = $7, attempt_cents = $8, attempt_money_currency = $9, last_attempt_at = $10, last_purchase_at = $11,
month_key = $12, month_spent_cents = $13, last_failure = $14, last_failure_at = $15, failures = $16, updated_at = $17
WHERE customer = $1 AND currency = $2 AND version = $18`
			args = append(args, prev)
		}
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return translate("save auto top-up state", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		saved = true
		if len(events) == 0 {
			return nil
		}
		return wtx.Apply(ctx, &store.Changes{Events: events})
	})
	if err != nil {
		return false, err
	}
	return saved, nil
}

// StaleTopUps returns up to limit state rows with an attempt in flight
// last saved at or before before, oldest first.
func (s *Store) StaleTopUps(ctx context.Context, before time.Time, limit int) ([]*store.TopUpState, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+topUpStateColumns+" FROM topup_state WHERE attempt_id <> '' AND updated_at <= $1"+
		" ORDER BY updated_at, customer, currency LIMIT $2", before.UnixMicro(), limitArg(limit))
	return collect(rows, err, scanTopUpState, "list stale auto top-ups")
}
