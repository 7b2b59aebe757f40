package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/creditkit/creditkit/store"
)

// Auto top-up settings and state (migration 0010). The rules are the root
// package's; these are its named queries.

var _ store.TopUpStore = (*Store)(nil)

const topUpSettingsCols = `customer, currency, enabled, threshold, pack, target_balance, monthly_cap_cents, cooldown_us, created_at, updated_at`

const topUpStateCols = `customer, currency, version, attempt_id, attempt_started_at, attempt_pack, attempt_credits, attempt_cents,
attempt_money_currency, last_attempt_at, last_purchase_at, month_key, month_spent_cents, last_failure, last_failure_at, failures, updated_at`

func scanTopUpSettings(r scanner) (*store.TopUpSettings, error) {
	var s store.TopUpSettings
	var cooldown, created, updated int64
	if err := r.Scan(&s.Customer, &s.Currency, &s.Enabled, &s.Threshold, &s.Pack, &s.TargetBalance, &s.MonthlyCapCents,
		&cooldown, &created, &updated); err != nil {
		return nil, err
	}
	s.Cooldown = time.Duration(cooldown) * time.Microsecond
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

func scanTopUpState(r scanner) (*store.TopUpState, error) {
	var s store.TopUpState
	var started, lastAttempt, lastPurchase, lastFailure sql.NullInt64
	var updated int64
	if err := r.Scan(&s.Customer, &s.Currency, &s.Version, &s.AttemptID, &started, &s.AttemptPack, &s.AttemptCredits,
		&s.AttemptCents, &s.AttemptMoneyCurrency, &lastAttempt, &lastPurchase, &s.MonthKey, &s.MonthSpentCents,
		&s.LastFailure, &lastFailure, &s.Failures, &updated); err != nil {
		return nil, err
	}
	s.AttemptStartedAt, s.LastAttemptAt = fromNullMicros(started), fromNullMicros(lastAttempt)
	s.LastPurchaseAt, s.LastFailureAt = fromNullMicros(lastPurchase), fromNullMicros(lastFailure)
	s.UpdatedAt = fromMicros(updated)
	return &s, nil
}

// TopUpSettings returns a wallet's own auto top-up settings, or nil.
func (s *Store) TopUpSettings(ctx context.Context, customer, currency string) (*store.TopUpSettings, error) {
	var out *store.TopUpSettings
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		out, err = queryOne(ctx, rtx.(*txn), "read auto top-up settings", scanTopUpSettings,
			`SELECT `+topUpSettingsCols+` FROM topup_settings WHERE customer = ? AND currency = ?`, customer, currency)
		return err
	})
	return out, err
}

// SaveTopUpSettings inserts or replaces a wallet's settings row.
func (s *Store) SaveTopUpSettings(ctx context.Context, st *store.TopUpSettings) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "save auto top-up settings", `INSERT INTO topup_settings (`+topUpSettingsCols+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (customer, currency) DO UPDATE SET enabled = excluded.enabled, threshold = excluded.threshold, pack = excluded.pack,
target_balance = excluded.target_balance, monthly_cap_cents = excluded.monthly_cap_cents, cooldown_us = excluded.cooldown_us,
updated_at = excluded.updated_at`,
			[]any{st.Customer, st.Currency, st.Enabled, st.Threshold, st.Pack, st.TargetBalance, st.MonthlyCapCents,
				st.Cooldown.Microseconds(), micros(st.CreatedAt), micros(st.UpdatedAt)})
	})
}

// TopUpState returns a wallet's auto top-up state, or nil.
func (s *Store) TopUpState(ctx context.Context, customer, currency string) (*store.TopUpState, error) {
	var out *store.TopUpState
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		out, err = queryOne(ctx, rtx.(*txn), "read auto top-up state", scanTopUpState,
			`SELECT `+topUpStateCols+` FROM topup_state WHERE customer = ? AND currency = ?`, customer, currency)
		return err
	})
	return out, err
}

// SaveTopUpState saves st if the row is still at version prev (0: no row),
// and inserts events in the same transaction. The write transaction holds
// the database (BEGIN IMMEDIATE), so the check and the write are one step
// for every connection and process.
func (s *Store) SaveTopUpState(ctx context.Context, st *store.TopUpState, prev int64, events []*store.Event) (bool, error) {
	saved := false
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		args := []any{st.Version, st.AttemptID, microsPtr(st.AttemptStartedAt), st.AttemptPack, st.AttemptCredits, st.AttemptCents,
			st.AttemptMoneyCurrency, microsPtr(st.LastAttemptAt), microsPtr(st.LastPurchaseAt), st.MonthKey, st.MonthSpentCents,
			st.LastFailure, microsPtr(st.LastFailureAt), st.Failures, micros(st.UpdatedAt)}
		var res sql.Result
		var err error
		if prev == 0 {
			res, err = tx.q.ExecContext(ctx, `INSERT INTO topup_state (`+topUpStateCols+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer, currency) DO NOTHING`,
				append([]any{st.Customer, st.Currency}, args...)...)
		} else {
			res, err = tx.q.ExecContext(ctx, `UPDATE topup_state SET version = ?, attempt_id = ?, attempt_started_at = ?, attempt_pack = ?,
attempt_credits = ?, attempt_cents = ?, attempt_money_currency = ?, last_attempt_at = ?, last_purchase_at = ?, month_key = ?,
month_spent_cents = ?, last_failure = ?, last_failure_at = ?, failures = ?, updated_at = ?
WHERE customer = ? AND currency = ? AND version = ?`, append(args, st.Customer, st.Currency, prev)...)
		}
		if err != nil {
			return s.translate("save auto top-up state", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.translate("save auto top-up state", err)
		}
		if n == 0 {
			return nil
		}
		saved = true
		if len(events) == 0 {
			return nil
		}
		return tx.Apply(ctx, &store.Changes{Events: events})
	})
	if err != nil {
		return false, err
	}
	return saved, nil
}

// StaleTopUps returns up to limit state rows with an attempt in flight
// last saved at or before before, oldest first.
func (s *Store) StaleTopUps(ctx context.Context, before time.Time, limit int) ([]*store.TopUpState, error) {
	var out []*store.TopUpState
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		out, err = queryAll(ctx, rtx.(*txn), "list stale auto top-ups", scanTopUpState,
			`SELECT `+topUpStateCols+` FROM topup_state WHERE attempt_id <> '' AND updated_at <= ?
ORDER BY updated_at, customer, currency LIMIT ?`, micros(before), sqlLimit(limit))
		return err
	})
	return out, err
}
