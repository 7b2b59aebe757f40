//go:build !payments

package stripe

import (
	"context"
	"errors"

	stripego "github.com/stripe/stripe-go/v85"
)

// errNoPurchases stands in for the payments domain until it is merged.
var errNoPurchases = errors.New("stripe: purchases and refunds need the payments domain (Ledger.Purchase, Ledger.Refund)")

func (p *Provider) purchasePack(ctx context.Context, customer string, sess *stripego.CheckoutSession, eventID string) (any, string, error) {
	return nil, "", errNoPurchases
}

func (p *Provider) refundCharge(ctx context.Context, ch *stripego.Charge, eventID string) (string, error) {
	return "", errNoPurchases
}
