package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/creditkit/creditkit"
)

// Reverse gives back all or part of a charge, as Ledger.Reverse.
// opts.Actor is ignored.
func (c *Client) Reverse(ctx context.Context, entryID string, opts *creditkit.ReverseOpts) (*creditkit.Entry, error) {
	id, err := seg("entry id", entryID)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.ReverseOpts{}
	}
	b := reverseBody{Amount: opts.Amount, Reason: opts.Reason}
	return fetch[creditkit.Entry](ctx, c, call{method: http.MethodPost, path: "/v1/entries/" + id + "/reverse", body: b, idem: opts.IdempotencyKey, write: true})
}

// ChangeExpiry moves a grant's expiry (zero: never expires), as
// Ledger.ChangeExpiry. opts.Actor is ignored.
func (c *Client) ChangeExpiry(ctx context.Context, grantID string, expiresAt time.Time, opts *creditkit.ChangeExpiryOpts) (*creditkit.Grant, error) {
	id, err := seg("grant id", grantID)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.ChangeExpiryOpts{}
	}
	b := grantPatchBody{ExpiresAt: timePtr(expiresAt), NeverExpires: expiresAt.IsZero(), Reason: opts.Reason}
	return fetch[creditkit.Grant](ctx, c, call{method: http.MethodPatch, path: "/v1/grants/" + id, body: b, idem: opts.IdempotencyKey, write: true})
}

// SetBalanceAlerts replaces a wallet's own low-balance thresholds, as
// Ledger.SetBalanceAlerts. opts.Actor is ignored.
func (c *Client) SetBalanceAlerts(ctx context.Context, customer string, thresholds []creditkit.Threshold, opts *creditkit.SetAlertsOpts) (*creditkit.BalanceAlerts, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.SetAlertsOpts{}
	}
	if thresholds == nil {
		thresholds = []creditkit.Threshold{}
	}
	b := alertsBody{Currency: opts.Currency, Thresholds: thresholds}
	return fetch[creditkit.BalanceAlerts](ctx, c, call{method: http.MethodPut, path: "/v1/customers/" + cu + "/balance-alerts", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}

// GetBalanceAlerts returns a wallet's thresholds and their state, as
// Ledger.GetBalanceAlerts.
func (c *Client) GetBalanceAlerts(ctx context.Context, customer, currency string) (*creditkit.BalanceAlerts, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	setNonEmpty(q, "currency", currency)
	return fetch[creditkit.BalanceAlerts](ctx, c, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/balance-alerts", query: q, customer: customer})
}
