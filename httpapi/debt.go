package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Overage and debt: a wallet's overage limit, and settling its debt.

type overageBody struct {
	Limit    creditkit.Amount `json:"limit" minimum:"0" doc:"How far into debt the wallet may go, in the currency's smallest unit; 0 turns overage off."`
	Currency string           `json:"currency,omitempty" maxLength:"64" doc:"Defaults to the default currency."`
}

type overagePriceBody struct {
	Cents    int64            `json:"cents" minimum:"0" doc:"Money in minor units of currency (cents for USD)."`
	Currency string           `json:"currency" minLength:"3" maxLength:"3" doc:"ISO 4217 code, such as USD."`
	Per      creditkit.Amount `json:"per" minimum:"1" doc:"How many credits (smallest units) cents buys."`
}

type settleBody struct {
	Currency     string            `json:"currency,omitempty" maxLength:"64" doc:"Defaults to the default currency."`
	At           *time.Time        `json:"at,omitempty" doc:"The settlement's time (a billing period end), at or before now; defaults to now."`
	OveragePrice *overagePriceBody `json:"overage_price,omitempty" doc:"Prices the settled credits, such as 1 USD per 100 credits: {cents: 100, currency: USD, per: 100}. Without it the customer's plan's overage_price applies; a customer with no plan, or a plan without overage_price, is settled without money."`
}

func (s *Server) debtRoutes() {
	l := s.ledger
	actor := func(ctx context.Context) string { return principalOf(ctx).actor() }

	register(s, route{id: "get-overage", method: http.MethodGet, path: "/v1/customers/{customer}/overage", summary: "Get a wallet's overage limit and debt", tag: "Balances", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			Currency string `query:"currency" maxLength:"64"`
		}) (*body[*creditkit.Overage], error) {
			o, err := l.GetOverage(ctx, in.Customer, in.Currency)
			return &body[*creditkit.Overage]{o}, err
		})

	register(s, route{id: "set-overage", method: http.MethodPut, path: "/v1/customers/{customer}/overage", summary: "Set how far into debt a wallet may go", tag: "Balances", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body overageBody
		}) (*body[*creditkit.Overage], error) {
			o, err := l.SetOverageLimit(ctx, in.Customer, in.Body.Limit, &creditkit.OverageOpts{Currency: in.Body.Currency,
				IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Overage]{o}, err
		})

	register(s, route{id: "settle-debt", method: http.MethodPost, path: "/v1/customers/{customer}/settle", summary: "Settle a wallet's overage debt", tag: "Balances", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body *settleBody `required:"false"`
		}) (*body[*creditkit.Settlement], error) {
			opts := &creditkit.SettleOpts{IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)}
			if b := in.Body; b != nil {
				opts.Currency = b.Currency
				if b.At != nil {
					opts.At = *b.At
				}
				if p := b.OveragePrice; p != nil {
					opts.OveragePrice = &creditkit.OveragePrice{Cents: p.Cents, Currency: p.Currency, Per: p.Per}
				}
			}
			st, err := l.SettleDebt(ctx, in.Customer, opts)
			return &body[*creditkit.Settlement]{st}, err
		})
}

// SetOverageLimit sets a wallet's overage limit, as
// Ledger.SetOverageLimit. opts.Actor is ignored.
func (c *Client) SetOverageLimit(ctx context.Context, customer string, limit creditkit.Amount, opts *creditkit.OverageOpts) (*creditkit.Overage, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.OverageOpts{}
	}
	b := overageBody{Limit: limit, Currency: opts.Currency}
	return fetch[creditkit.Overage](ctx, c, call{method: http.MethodPut, path: "/v1/customers/" + cu + "/overage", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}

// GetOverage returns a wallet's overage limit and debt, as
// Ledger.GetOverage.
func (c *Client) GetOverage(ctx context.Context, customer, currency string) (*creditkit.Overage, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	setNonEmpty(q, "currency", currency)
	return fetch[creditkit.Overage](ctx, c, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/overage", query: q})
}

// SettleDebt settles a wallet's overage debt, as Ledger.SettleDebt.
// opts.Actor is ignored.
func (c *Client) SettleDebt(ctx context.Context, customer string, opts *creditkit.SettleOpts) (*creditkit.Settlement, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.SettleOpts{}
	}
	b := settleBody{Currency: opts.Currency}
	if !opts.At.IsZero() {
		at := opts.At
		b.At = &at
	}
	if p := opts.OveragePrice; p != nil {
		b.OveragePrice = &overagePriceBody{Cents: p.Cents, Currency: p.Currency, Per: p.Per}
	}
	return fetch[creditkit.Settlement](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/settle", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}
