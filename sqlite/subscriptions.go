package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/creditkit/creditkit/store"
)

const subscriptionCols = `customer, currency, id, plan, status, anchor, period_start, period_end, trial_end, cancel_at, canceled_at,
paused_at, scheduled_plan, bonus_given, created_at, updated_at`

func scanSubscription(r scanner) (*store.Subscription, error) {
	var s store.Subscription
	var anchor, start, end, created, updated int64
	var trial, cancelAt, canceled, paused sql.NullInt64
	if err := r.Scan(&s.Customer, &s.Currency, &s.ID, &s.Plan, &s.Status, &anchor, &start, &end, &trial, &cancelAt, &canceled,
		&paused, &s.ScheduledPlan, &s.BonusGiven, &created, &updated); err != nil {
		return nil, err
	}
	s.Anchor, s.PeriodStart, s.PeriodEnd = fromMicros(anchor), fromMicros(start), fromMicros(end)
	s.TrialEnd, s.CancelAt, s.CanceledAt, s.PausedAt = fromNullMicros(trial), fromNullMicros(cancelAt), fromNullMicros(canceled), fromNullMicros(paused)
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

func (t *txn) Subscription(ctx context.Context, customer, currency string) (*store.Subscription, error) {
	return queryOne(ctx, t, "read subscription", scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE customer = ? AND currency = ?`, customer, currency)
}

func (t *txn) CustomerSubscriptions(ctx context.Context, customer string) ([]*store.Subscription, error) {
	return queryAll(ctx, t, "list subscriptions", scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE customer = ? ORDER BY currency`, customer)
}

func (t *txn) DueSubscriptions(ctx context.Context, now time.Time, limit int) ([]*store.Subscription, error) {
	return queryAll(ctx, t, "list due subscriptions", scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE status IN ('active', 'trialing', 'past_due') AND period_end <= ?
ORDER BY period_end, customer, currency LIMIT ?`, micros(now), limit)
}

// applySubscriptions saves whole subscription rows, inserted or replacing
// the row of the same customer and currency.
func (t *txn) applySubscriptions(ctx context.Context, c *store.Changes) error {
	for _, s := range c.Subscriptions {
		st, err := t.stmt(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (customer, currency) DO UPDATE SET id = excluded.id, plan = excluded.plan, status = excluded.status,
anchor = excluded.anchor, period_start = excluded.period_start, period_end = excluded.period_end, trial_end = excluded.trial_end,
cancel_at = excluded.cancel_at, canceled_at = excluded.canceled_at, paused_at = excluded.paused_at,
scheduled_plan = excluded.scheduled_plan, bonus_given = excluded.bonus_given, created_at = excluded.created_at,
updated_at = excluded.updated_at`)
		if err != nil {
			return t.s.translate("save subscription", err)
		}
		if _, err := st.ExecContext(ctx, s.Customer, s.Currency, s.ID, s.Plan, s.Status, micros(s.Anchor), micros(s.PeriodStart),
			micros(s.PeriodEnd), microsPtr(s.TrialEnd), microsPtr(s.CancelAt), microsPtr(s.CanceledAt), microsPtr(s.PausedAt),
			s.ScheduledPlan, s.BonusGiven, micros(s.CreatedAt), micros(s.UpdatedAt)); err != nil {
			return t.s.translate("save subscription", err)
		}
	}
	return nil
}
