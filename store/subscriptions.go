package store

import (
	"context"
	"time"
)

// Subscription is a subscription row: one per customer and credit
// currency, kept after a cancellation (status "canceled") so that a
// resubscribe finds the customer's history, such as the signup bonus
// already given.
type Subscription struct {
	ID       string
	Customer string
	Currency string
	Plan     string
	// Status is trialing, active, paused, past_due or canceled.
	Status string
	// Anchor is the instant the refill periods count from.
	Anchor time.Time
	// PeriodStart and PeriodEnd bound the current period; PeriodEnd is the
	// next refill (or the trial's end).
	PeriodStart time.Time
	PeriodEnd   time.Time
	TrialEnd    *time.Time
	CancelAt    *time.Time
	CanceledAt  *time.Time
	PausedAt    *time.Time
	// ScheduledPlan is a plan change that takes effect at PeriodEnd; empty
	// when none.
	ScheduledPlan string
	// BonusGiven records that the customer got a signup bonus in this
	// currency, ever.
	BonusGiven bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SubscriptionReader reads subscription rows. Every ReadTx implements it.
type SubscriptionReader interface {
	// Subscription returns the customer's subscription row in a currency,
	// or nil.
	Subscription(ctx context.Context, customer, currency string) (*Subscription, error)
	// CustomerSubscriptions returns the customer's subscription rows, by
	// currency.
	CustomerSubscriptions(ctx context.Context, customer string) ([]*Subscription, error)
	// DueSubscriptions returns up to limit subscriptions with status
	// active, trialing or past_due whose period ended at or before now, by
	// period end then customer then currency.
	DueSubscriptions(ctx context.Context, now time.Time, limit int) ([]*Subscription, error)
}
