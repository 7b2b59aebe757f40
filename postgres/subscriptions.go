package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

const subscriptionColumns = `customer, currency, id, plan, status, anchor, period_start, period_end, trial_end, cancel_at,
canceled_at, paused_at, scheduled_plan, bonus_given, created_at, updated_at`

func scanSubscription(row pgx.Row) (*store.Subscription, error) {
	var s store.Subscription
	var anchor, start, end, created, updated int64
	var trial, cancelAt, canceled, paused *int64
	if err := row.Scan(&s.Customer, &s.Currency, &s.ID, &s.Plan, &s.Status, &anchor, &start, &end, &trial, &cancelAt, &canceled,
		&paused, &s.ScheduledPlan, &s.BonusGiven, &created, &updated); err != nil {
		return nil, err
	}
	s.Anchor, s.PeriodStart, s.PeriodEnd = fromMicros(anchor), fromMicros(start), fromMicros(end)
	s.TrialEnd, s.CancelAt, s.CanceledAt, s.PausedAt = fromMicrosPtr(trial), fromMicrosPtr(cancelAt), fromMicrosPtr(canceled), fromMicrosPtr(paused)
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &s, nil
}

func (r *readTx) Subscription(ctx context.Context, customer, currency string) (*store.Subscription, error) {
	return queryOne(ctx, r.tx, scanSubscription, "read subscription",
		"SELECT "+subscriptionColumns+" FROM subscriptions WHERE customer = $1 AND currency = $2", customer, currency)
}

func (r *readTx) CustomerSubscriptions(ctx context.Context, customer string) ([]*store.Subscription, error) {
	return queryAll(ctx, r.tx, scanSubscription, "list subscriptions",
		"SELECT "+subscriptionColumns+" FROM subscriptions WHERE customer = $1 ORDER BY currency", customer)
}

func (r *readTx) DueSubscriptions(ctx context.Context, now time.Time, limit int) ([]*store.Subscription, error) {
	return queryAll(ctx, r.tx, scanSubscription, "list due subscriptions",
		"SELECT "+subscriptionColumns+` FROM subscriptions WHERE status IN ('active', 'trialing', 'past_due') AND period_end <= $1
ORDER BY period_end, customer, currency LIMIT $2`, now.UnixMicro(), limitArg(limit))
}

// applySubscriptions saves whole subscription rows, inserted or replacing
// the row of the same customer and currency (the last of a list that names
// one twice).
func (w *writeTx) applySubscriptions(ctx context.Context, c *store.Changes) error {
	rows := lastByKey(c.Subscriptions, func(v *store.Subscription) store.WalletKey {
		return store.WalletKey{Customer: v.Customer, Currency: v.Currency}
	})
	for _, s := range rows {
		if _, err := w.tx.Exec(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (customer, currency) DO UPDATE SET id = excluded.id, plan = excluded.plan, status = excluded.status,
anchor = excluded.anchor, period_start = excluded.period_start, period_end = excluded.period_end, trial_end = excluded.trial_end,
cancel_at = excluded.cancel_at, canceled_at = excluded.canceled_at, paused_at = excluded.paused_at,
scheduled_plan = excluded.scheduled_plan, bonus_given = excluded.bonus_given, created_at = excluded.created_at,
updated_at = excluded.updated_at`,
			s.Customer, s.Currency, s.ID, s.Plan, s.Status, s.Anchor.UnixMicro(), s.PeriodStart.UnixMicro(), s.PeriodEnd.UnixMicro(),
			microsPtr(s.TrialEnd), microsPtr(s.CancelAt), microsPtr(s.CanceledAt), microsPtr(s.PausedAt), s.ScheduledPlan,
			s.BonusGiven, s.CreatedAt.UnixMicro(), s.UpdatedAt.UnixMicro()); err != nil {
			return translate("save subscription", err)
		}
	}
	return nil
}
