package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Corrections support needs: give back a charge, move an expiry, and a
// wallet's own low-balance thresholds.

type (
	reverseBody struct {
		Amount *creditkit.Amount `json:"amount,omitempty" doc:"Credits to give back; all that is left to reverse by default."`
		Reason string            `json:"reason" minLength:"1" maxLength:"500" doc:"Why the charge is given back (required)."`
	}
	grantPatchBody struct {
		ExpiresAt    *time.Time `json:"expires_at,omitempty" doc:"The new expiry, after now and after the grant takes effect."`
		NeverExpires bool       `json:"never_expires,omitempty" doc:"Remove the expiry instead: the grant never expires."`
		Reason       string     `json:"reason,omitempty" maxLength:"500" doc:"Why, recorded on the expiration_change entry."`
	}
	alertsBody struct {
		Currency   string                `json:"currency,omitempty" doc:"Defaults to the first configured currency."`
		Thresholds []creditkit.Threshold `json:"thresholds" maxItems:"10" doc:"Each an absolute amount, or a percent (1-100) of the wallet's last refill. Empty removes them."`
	}
)

func (s *Server) correctionRoutes() {
	l := s.ledger
	actor := func(ctx context.Context) string { return principalOf(ctx).actor() }

	register(s, route{id: "reverse-entry", method: http.MethodPost, path: "/v1/entries/{entry}/reverse", summary: "Give back all or part of a charge", tag: "Ledger", scope: store.ScopeWrite, status: http.StatusCreated},
		func(ctx context.Context, in *struct {
			Entry string `path:"entry" maxLength:"255"`
			IdempotencyHeader
			Body reverseBody
		}) (*body[*creditkit.Entry], error) {
			e, err := l.Reverse(ctx, in.Entry, &creditkit.ReverseOpts{Amount: in.Body.Amount, Reason: in.Body.Reason,
				IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Entry]{e}, err
		})

	register(s, route{id: "update-grant", method: http.MethodPatch, path: "/v1/grants/{grant}", summary: "Move a grant's expiry", tag: "Grants", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			Grant string `path:"grant" maxLength:"255"`
			IdempotencyHeader
			Body grantPatchBody
		}) (*body[*creditkit.Grant], error) {
			b := in.Body
			var at time.Time
			switch {
			case b.ExpiresAt != nil && b.NeverExpires:
				return nil, invalid("give expires_at or never_expires, not both")
			case b.ExpiresAt != nil:
				at = *b.ExpiresAt
			case !b.NeverExpires:
				return nil, invalid("give expires_at (the new expiry) or never_expires: true")
			}
			g, err := l.ChangeExpiry(ctx, in.Grant, at, &creditkit.ChangeExpiryOpts{Reason: b.Reason,
				IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Grant]{g}, err
		})

	register(s, route{id: "get-balance-alerts", method: http.MethodGet, path: "/v1/customers/{customer}/balance-alerts", summary: "Get a wallet's low-balance thresholds", tag: "Balances", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			Currency string `query:"currency" maxLength:"64"`
		}) (*body[*creditkit.BalanceAlerts], error) {
			a, err := l.GetBalanceAlerts(ctx, in.Customer, in.Currency)
			return &body[*creditkit.BalanceAlerts]{a}, err
		})

	register(s, route{id: "set-balance-alerts", method: http.MethodPut, path: "/v1/customers/{customer}/balance-alerts", summary: "Set a wallet's own low-balance thresholds", tag: "Balances", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body alertsBody
		}) (*body[*creditkit.BalanceAlerts], error) {
			a, err := l.SetBalanceAlerts(ctx, in.Customer, in.Body.Thresholds, &creditkit.SetAlertsOpts{Currency: in.Body.Currency,
				IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.BalanceAlerts]{a}, err
		})
}
