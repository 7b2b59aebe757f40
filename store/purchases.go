package store

import (
	"context"
	"time"
)

// Purchase is a purchase row: one fulfilled payment for a pack (or for a
// number of credits at a pack's price), unique per (Provider, ExternalID).
// It is inserted in the same transaction as the grant it gave, and saved
// again by each refund that claws credits back.
type Purchase struct {
	ID              string
	Customer        string
	Currency        string // credit currency of the grant
	Pack            string
	Provider        string
	ExternalID      string
	ChargeID        string // "" when unknown
	PaymentIntentID string // "" when unknown
	Credits         int64
	AmountPaid      int64 // money, in minor units of MoneyCurrency
	MoneyCurrency   string
	GrantID         string
	PurchasedAt     time.Time
	// RefundedCents is the money refunded so far (cumulative), and
	// ClawedBack, RefundDebt and Shortfall how the credits of those refunds
	// were recovered: taken from grants, recorded as debt, or not recovered.
	RefundedCents int64
	ClawedBack    int64
	RefundDebt    int64
	Shortfall     int64
	Metadata      []byte // JSON object
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PurchaseQuery selects a customer's purchases by ID ascending (the order
// they were made in).
type PurchaseQuery struct {
	Customer string
	After    string // ID cursor, exclusive
	Limit    int
}

// PurchaseReader reads purchase rows. The read and write transactions of
// both stores implement it; the domain finds it by type assertion on the
// transaction. A lookup that finds nothing returns (nil, nil).
type PurchaseReader interface {
	// PurchaseByExternalID returns the purchase of a provider's payment.
	PurchaseByExternalID(ctx context.Context, provider, externalID string) (*Purchase, error)
	// PurchaseByCharge returns the latest purchase of the provider with
	// this charge ID.
	PurchaseByCharge(ctx context.Context, provider, chargeID string) (*Purchase, error)
	// PurchaseByPaymentIntent returns the latest purchase of the provider
	// with this payment intent ID.
	PurchaseByPaymentIntent(ctx context.Context, provider, paymentIntentID string) (*Purchase, error)
	// Purchases lists a customer's purchases by ID ascending.
	Purchases(ctx context.Context, q PurchaseQuery) ([]*Purchase, error)
}
