package store

import (
	"context"
	"time"
)

// ChargeSummer is implemented by read transactions that can sum a wallet's
// charges in one query: a check reads what a subscriber used of the
// current period with it, instead of paging through the entries.
type ChargeSummer interface {
	// SumCharges returns the credits charged to the wallet (the negated sum
	// of its entries of type "charge" with a negative amount) whose
	// occurred_at is at or after since. It must not read every charge:
	// the stores read hourly totals (charge_totals) and the charges of
	// the first, partial hour through the entries_usage index.
	SumCharges(ctx context.Context, key WalletKey, since time.Time) (int64, error)
}

// CheckState is what a check reads of one wallet, in one snapshot.
type CheckState struct {
	// Wallet is the wallet row, or nil when none is stored.
	Wallet *Wallet
	// Grants and Holds are the wallet's live grants and active holds, as
	// ReadTx.LiveGrants and ReadTx.ActiveHolds return them.
	Grants []*Grant
	Holds  []*Hold
	// Subscription is the customer's subscription row in the wallet's
	// currency, or nil.
	Subscription *Subscription
	// Charged is what SumCharges answers since Subscription.PeriodStart; 0
	// without a subscription.
	Charged int64
}

// CheckReader is implemented by stores that read a CheckState more cheaply
// than a View running each read (PostgreSQL: one pipelined round trip).
// Checks use it when present.
type CheckReader interface {
	CheckState(ctx context.Context, key WalletKey) (*CheckState, error)
}
