package creditkit

// TEMPORARY: a stand-in for the payments engineer's Ledger.Purchase
// (branch s8-payments), with the same names, so that auto top-up compiles
// and is tested before that branch lands. It is deleted when s8-payments is
// merged; it is exactly once per (Provider, ExternalID) through the grant's
// idempotency key.

import (
	"context"
	"time"
)

// PurchaseOpts describes a fulfilled payment for a pack.
type PurchaseOpts struct {
	Pack            string
	Provider        string
	ExternalID      string
	Credits         Amount
	AmountPaid      int64
	MoneyCurrency   string
	ChargeID        string
	PaymentIntentID string
	PurchasedAt     time.Time
	Metadata        map[string]string
	Actor           string
}

// Purchase is a fulfilled payment and the grant it gave.
type Purchase struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Pack     string `json:"pack"`
	Credits  Amount `json:"credits"`
	GrantID  string `json:"grant_id"`
}

// Purchase grants a pack's credits once per (Provider, ExternalID).
func (l *Ledger) Purchase(ctx context.Context, customer string, opts PurchaseOpts) (*Purchase, error) {
	pack, ok := l.cfg.Packs[opts.Pack]
	if !ok {
		return nil, errorf(CodeInvalidRequest, "unknown pack %q", opts.Pack)
	}
	credits := opts.Credits
	if credits == 0 {
		credits = pack.Gives
	}
	g, err := l.Grant(ctx, customer, credits, &GrantOpts{Reason: "pack_purchase", Source: SourcePack, Currency: pack.Currency,
		Metadata: opts.Metadata, IdempotencyKey: "purchase:" + opts.Provider + ":" + opts.ExternalID, Actor: opts.Actor})
	if err != nil {
		return nil, err
	}
	return &Purchase{ID: g.ID, Customer: customer, Pack: opts.Pack, Credits: credits, GrantID: g.ID}, nil
}
