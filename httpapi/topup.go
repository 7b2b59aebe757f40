package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Auto top-up: a wallet's settings for buying a pack off-session when a
// spend leaves it under a threshold (see docs/topup.md).

type autoTopUpBody struct {
	Threshold       *creditkit.Amount `json:"threshold,omitempty" minimum:"1" doc:"A spend that leaves the available balance under it buys credits, in the currency's smallest unit. Defaults to the config's auto_topup."`
	Pack            string            `json:"pack,omitempty" maxLength:"255" doc:"The config's pack to buy (and whose unit price prices target_balance). Defaults to the config's auto_topup."`
	TargetBalance   *creditkit.Amount `json:"target_balance,omitempty" minimum:"0" doc:"Buy the credits that bring the available balance back to this, at the pack's unit price, instead of the pack itself; 0 buys the pack."`
	MonthlyCapCents *int64            `json:"monthly_cap_cents,omitempty" minimum:"0" doc:"Most money auto top-up spends per calendar month (UTC), in minor units of the pack's price currency; 0 means no cap."`
	Cooldown        string            `json:"cooldown,omitempty" maxLength:"64" doc:"Least time between two attempts, succeeded or failed, such as 1h or 30m; at least 1m. Defaults to the config's, else 1h."`
	Enabled         *bool             `json:"enabled,omitempty" doc:"false saves the settings turned off. Defaults to true."`
	Currency        string            `json:"currency,omitempty" maxLength:"64" doc:"The wallet's credit currency; defaults to the default currency."`
}

type autoTopUpQuery struct {
	Currency string `query:"currency" maxLength:"64" doc:"The wallet's credit currency; defaults to the default currency."`
}

func (s *Server) topUpRoutes() {
	l := s.ledger
	const path = "/v1/customers/{customer}/auto-topup"

	register(s, route{id: "get-auto-topup", method: http.MethodGet, path: path, summary: "Get a wallet's auto top-up settings and state", tag: "Payments", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			autoTopUpQuery
		}) (*body[*creditkit.AutoTopUpStatus], error) {
			st, err := l.GetAutoTopUp(ctx, in.Customer, in.Currency)
			return &body[*creditkit.AutoTopUpStatus]{st}, err
		})

	register(s, route{id: "put-auto-topup", method: http.MethodPut, path: path, summary: "Set a wallet's auto top-up: buy a pack off-session when a spend leaves it under a threshold", tag: "Payments", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			CustomerParam
			Body autoTopUpBody
		}) (*body[*creditkit.AutoTopUpStatus], error) {
			b := in.Body
			a := l.Config().AutoTopUpDefault()
			a.Enabled = true
			if b.Threshold != nil {
				a.Threshold = *b.Threshold
			}
			if b.Pack != "" {
				a.Pack = b.Pack
			}
			if b.TargetBalance != nil {
				a.TargetBalance = *b.TargetBalance
			}
			if b.MonthlyCapCents != nil {
				a.MonthlyCapCents = *b.MonthlyCapCents
			}
			if b.Cooldown != "" {
				d, err := creditkit.ParseDuration(b.Cooldown)
				if err != nil {
					return nil, err
				}
				a.Cooldown = d
			}
			if b.Enabled != nil {
				a.Enabled = *b.Enabled
			}
			st, err := l.SetAutoTopUp(ctx, in.Customer, a, &creditkit.AutoTopUpOpts{Currency: b.Currency})
			return &body[*creditkit.AutoTopUpStatus]{st}, err
		})

	register(s, route{id: "delete-auto-topup", method: http.MethodDelete, path: path, summary: "Turn a wallet's auto top-up off (the config's default too)", tag: "Payments", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			CustomerParam
			autoTopUpQuery
		}) (*body[*creditkit.AutoTopUpStatus], error) {
			st, err := l.DisableAutoTopUp(ctx, in.Customer, in.Currency)
			return &body[*creditkit.AutoTopUpStatus]{st}, err
		})
}

// SetAutoTopUp saves a wallet's auto top-up settings, as
// Ledger.SetAutoTopUp: every field is sent, a zero Cooldown as the
// default's.
func (c *Client) SetAutoTopUp(ctx context.Context, customer string, a creditkit.AutoTopUp, opts *creditkit.AutoTopUpOpts) (*creditkit.AutoTopUpStatus, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.AutoTopUpOpts{}
	}
	cooldown := a.Cooldown
	if cooldown == 0 {
		cooldown = creditkit.DefaultTopUpCooldown
	}
	b := autoTopUpBody{Threshold: &a.Threshold, Pack: a.Pack, TargetBalance: &a.TargetBalance, MonthlyCapCents: &a.MonthlyCapCents,
		Cooldown: cooldown.String(), Enabled: &a.Enabled, Currency: opts.Currency}
	return fetch[creditkit.AutoTopUpStatus](ctx, c, call{method: http.MethodPut, path: "/v1/customers/" + cu + "/auto-topup", body: b, customer: customer})
}

// GetAutoTopUp returns a wallet's auto top-up settings and state, as
// Ledger.GetAutoTopUp.
func (c *Client) GetAutoTopUp(ctx context.Context, customer, currency string) (*creditkit.AutoTopUpStatus, error) {
	return c.autoTopUp(ctx, http.MethodGet, customer, currency)
}

// DisableAutoTopUp turns a wallet's auto top-up off, as
// Ledger.DisableAutoTopUp.
func (c *Client) DisableAutoTopUp(ctx context.Context, customer, currency string) (*creditkit.AutoTopUpStatus, error) {
	return c.autoTopUp(ctx, http.MethodDelete, customer, currency)
}

func (c *Client) autoTopUp(ctx context.Context, method, customer, currency string) (*creditkit.AutoTopUpStatus, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	setNonEmpty(q, "currency", currency)
	return fetch[creditkit.AutoTopUpStatus](ctx, c, call{method: method, path: "/v1/customers/" + cu + "/auto-topup", query: q, customer: customer})
}
