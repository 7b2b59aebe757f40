package store

import (
	"context"
	"time"
)

// TopUpSettings is a wallet's own auto top-up settings row (migration
// 0010). A row with Enabled false says the customer turned auto top-up off,
// so that the config's default no longer applies to it.
type TopUpSettings struct {
	Customer        string
	Currency        string
	Enabled         bool
	Threshold       int64
	Pack            string
	TargetBalance   int64 // 0: buy the pack itself
	MonthlyCapCents int64 // 0: no cap
	Cooldown        time.Duration
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TopUpState is a wallet's auto top-up state row: the attempt in flight,
// if any, and what the cooldown, the monthly cap and the last failure are
// computed from. Version grows by one with every save, so that a save can
// be conditional on the row not having changed since it was read.
type TopUpState struct {
	Customer string
	Currency string
	Version  int64
	// The attempt in flight: AttemptID is "" when none is. The other
	// Attempt fields repeat the charge exactly when the attempt is resumed.
	AttemptID            string
	AttemptStartedAt     *time.Time
	AttemptPack          string
	AttemptCredits       int64
	AttemptCents         int64
	AttemptMoneyCurrency string
	// LastAttemptAt is when the last attempt (succeeded or failed) ended;
	// the cooldown counts from it.
	LastAttemptAt  *time.Time
	LastPurchaseAt *time.Time
	// MonthKey ("2006-01", UTC) is the month MonthSpentCents counts.
	MonthKey        string
	MonthSpentCents int64
	LastFailure     string
	LastFailureAt   *time.Time
	Failures        int64 // consecutive failures
	UpdatedAt       time.Time
}

// TopUpStore keeps auto top-up settings and state. Its methods are named
// queries; whether a top-up may start, and what its state becomes, is
// decided by the root package. Each method is its own transaction. A
// lookup that finds nothing returns (nil, nil).
type TopUpStore interface {
	// TopUpSettings returns a wallet's own settings row.
	TopUpSettings(ctx context.Context, customer, currency string) (*TopUpSettings, error)
	// SaveTopUpSettings inserts a settings row or replaces the row of the
	// same customer and currency.
	SaveTopUpSettings(ctx context.Context, s *TopUpSettings) error
	// TopUpState returns a wallet's state row.
	TopUpState(ctx context.Context, customer, currency string) (*TopUpState, error)
	// SaveTopUpState saves st only if the row is still at version prev (0:
	// there is no row yet), and then inserts events into the outbox in the
	// same transaction. st.Version must be prev+1. It reports whether it
	// saved; false means another caller changed the row first, and nothing
	// was written.
	SaveTopUpState(ctx context.Context, st *TopUpState, prev int64, events []*Event) (bool, error)
	// StaleTopUps returns up to limit state rows with an attempt in flight
	// whose row was last saved (UpdatedAt) at or before before, oldest
	// first.
	StaleTopUps(ctx context.Context, before time.Time, limit int) ([]*TopUpState, error)
}
