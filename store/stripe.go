package store

import (
	"context"
	"errors"
	"time"
)

// ErrLinkedElsewhere is returned (wrapped) by LinkProviderCustomer when the
// provider's customer is linked to another creditkit customer.
var ErrLinkedElsewhere = errors.New("store: provider customer is linked to another customer")

// ProviderEvent is a payment provider's event (a Stripe event) as the
// server received it: claimed when it arrived, finished with an outcome
// once its effects were applied.
type ProviderEvent struct {
	Provider string
	ID       string
	Type     string
	// ReceivedAt is when the first delivery claimed it.
	ReceivedAt time.Time
	// ProcessedAt is when its effects were applied; nil while a delivery
	// is (or was, before a crash) still working on it.
	ProcessedAt *time.Time
	// Outcome says what the event did, such as "purchase pur_1" or
	// "ignored: unknown price price_x".
	Outcome string
}

// ProviderStore keeps what a payment-provider adapter needs beside the
// ledger: the link between a creditkit customer and its customer at the
// provider, the provider events already received, and the cursor of the
// adapter's outbox worker. The SQLite and PostgreSQL stores implement it;
// an adapter finds it by type assertion on the ledger's store. Each method
// is its own transaction.
type ProviderStore interface {
	// ProviderCustomer returns the provider's id of a creditkit customer,
	// or "" when the customer has none yet.
	ProviderCustomer(ctx context.Context, provider, customer string) (string, error)
	// ProviderCustomerOf returns the creditkit customer linked to the
	// provider's customer externalID, or "".
	ProviderCustomerOf(ctx context.Context, provider, externalID string) (string, error)
	// LinkProviderCustomer links customer to externalID unless the customer
	// is linked already, and returns the provider's id that holds: the
	// first link wins, so that two processes that each created a provider
	// customer for one creditkit customer agree on one. Linking an
	// externalID that belongs to another customer wraps
	// ErrLinkedElsewhere.
	LinkProviderCustomer(ctx context.Context, provider, customer, externalID string, at time.Time) (string, error)
	// ClaimProviderEvent records an event when it first arrives. It
	// reports whether this call recorded it, and otherwise returns the row
	// that was there (finished or not).
	ClaimProviderEvent(ctx context.Context, e *ProviderEvent) (bool, *ProviderEvent, error)
	// FinishProviderEvent marks a claimed event processed at at, with its
	// outcome.
	FinishProviderEvent(ctx context.Context, provider, id string, at time.Time, outcome string) error
	// GetProviderEvent returns a received event, or nil.
	GetProviderEvent(ctx context.Context, provider, id string) (*ProviderEvent, error)
	// ProviderCursor returns the ledger event sequence a provider's worker
	// named name has handled up to (0 before it first ran).
	ProviderCursor(ctx context.Context, provider, name string) (int64, error)
	// SetProviderCursor moves the cursor forward to seq; it never moves
	// back (a slower process that saves an older seq changes nothing).
	SetProviderCursor(ctx context.Context, provider, name string, seq int64) error
}
