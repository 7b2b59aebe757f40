package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Purchases and refunds taken by any payment provider: the
// provider-neutral path for apps that take payments themselves (Paddle,
// Lemon Squeezy, app stores, invoices paid by hand). Stripe payments come
// in through the Stripe webhook instead.

type purchaseBody struct {
	Pack       string            `json:"pack" minLength:"1" maxLength:"64" doc:"The pack's name in the config."`
	ExternalID string            `json:"external_id" minLength:"1" maxLength:"255" doc:"The provider's ID of the payment: the purchase is fulfilled once per (provider, external_id)."`
	Provider   string            `json:"provider,omitempty" maxLength:"32" doc:"Who took the payment, [a-z0-9_]{1,32}, such as paddle; defaults to manual."`
	AmountPaid *int64            `json:"amount_paid,omitempty" minimum:"0" doc:"Money paid in minor units (cents); absent means the pack's price (scaled to credits when credits is given), 0 a free purchase (a 100% coupon): no cost basis, nothing to refund."`
	Currency   string            `json:"currency,omitempty" maxLength:"3" doc:"ISO 4217 code of amount_paid; defaults to the pack's price currency."`
	Credits    creditkit.Amount  `json:"credits,omitempty" minimum:"0" doc:"Credits bought, in the currency's smallest unit; defaults to the pack's."`
	ChargeID   string            `json:"charge_id,omitempty" maxLength:"255" doc:"The provider's charge ID, if any: a refund can name the purchase by it."`
	PaymentID  string            `json:"payment_intent_id,omitempty" maxLength:"255" doc:"The provider's payment ID, if any: a refund can name the purchase by it."`
	Metadata   map[string]string `json:"metadata,omitempty" doc:"Your own key/value pairs, recorded on the grant and its entry."`
}

type refundBody struct {
	RefundedTotal int64  `json:"refunded_total" minimum:"0" doc:"Money refunded on the payment so far, cumulative, in minor units (cents); at most amount_paid."`
	RefundID      string `json:"refund_id,omitempty" maxLength:"255" doc:"The provider's refund ID, recorded on the refund entry."`
	Reason        string `json:"reason,omitempty" maxLength:"500" doc:"Why, recorded on the refund entry."`
}

// purchaseOut is a purchase, answered 201 when this request fulfilled it
// and 200 when it was already fulfilled.
type purchaseOut struct {
	Status int `json:"-"`
	Body   *creditkit.Purchase
}

// PurchaseParams are the {provider} and {external_id} path parameters.
type PurchaseParams struct {
	Provider   string `path:"provider" maxLength:"32" doc:"Who took the payment, such as manual or paddle."`
	ExternalID string `path:"external_id" maxLength:"255" doc:"The provider's ID of the payment."`
}

func (s *Server) purchaseRoutes() {
	l := s.ledger
	actor := func(ctx context.Context) string { return principalOf(ctx).actor() }

	const createPath = "/v1/customers/{customer}/purchases"
	register(s, route{id: "create-purchase", method: http.MethodPost, path: createPath, summary: "Record a paid purchase of a pack (exactly once per external_id)", tag: "Purchases", scope: store.ScopeWrite, status: http.StatusCreated},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body purchaseBody
		}) (*purchaseOut, error) {
			b := in.Body
			provider := b.Provider
			if provider == "" {
				provider = creditkit.ProviderManual
			}
			var paid int64
			if b.AmountPaid != nil {
				paid = *b.AmountPaid
			}
			p, err := l.Purchase(ctx, in.Customer, creditkit.PurchaseOpts{Pack: b.Pack, Provider: provider, ExternalID: b.ExternalID,
				Credits: b.Credits, AmountPaid: paid, Free: b.AmountPaid != nil && paid == 0, MoneyCurrency: b.Currency, ChargeID: b.ChargeID, PaymentIntentID: b.PaymentID,
				Metadata: b.Metadata, Actor: actor(ctx), IdempotencyKey: in.IdempotencyKey})
			if err != nil {
				return nil, err
			}
			out := &purchaseOut{Status: http.StatusCreated, Body: p}
			if p.Replayed {
				out.Status = http.StatusOK
			}
			return out, nil
		})
	// A replay answers 200 with the same body: document it beside 201.
	if op := operationOf(s.api.OpenAPI().Paths[createPath], http.MethodPost); op != nil {
		if created, ok := op.Responses["201"]; ok {
			replay := *created
			replay.Description = "The payment was already fulfilled: the same purchase, nothing moved."
			op.Responses["200"] = &replay
		}
	}

	register(s, route{id: "list-purchases", method: http.MethodGet, path: "/v1/customers/{customer}/purchases", summary: "List a customer's purchases, oldest first", tag: "Purchases", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			PageParams
		}) (*body[page[*creditkit.Purchase]], error) {
			limit := min(in.Limit, maxPage)
			f := creditkit.PurchaseFilter{Limit: limit, After: in.Cursor}
			ps, err := l.Purchases(ctx, in.Customer, &f)
			if err != nil {
				return nil, err
			}
			return pageAfter(ps, limit, func(p *creditkit.Purchase) string { return p.ID }, func(after string) ([]*creditkit.Purchase, error) {
				f.After, f.Limit = after, 1
				return l.Purchases(ctx, in.Customer, &f)
			})
		})

	register(s, route{id: "get-purchase", method: http.MethodGet, path: "/v1/purchases/{provider}/{external_id}", summary: "Get the purchase of a provider's payment", tag: "Purchases", scope: store.ScopeRead},
		func(ctx context.Context, in *struct{ PurchaseParams }) (*body[*creditkit.Purchase], error) {
			p, err := l.GetPurchase(ctx, in.Provider, in.ExternalID)
			return &body[*creditkit.Purchase]{p}, err
		})

	register(s, route{id: "refund-purchase", method: http.MethodPost, path: "/v1/purchases/{provider}/{external_id}/refunds", summary: "Record money refunded on a purchase and claw back its credits", tag: "Purchases", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			PurchaseParams
			IdempotencyHeader
			Body refundBody
		}) (*body[*creditkit.Refund], error) {
			if in.Provider == "stripe" {
				return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "Stripe refunds arrive through the Stripe webhook (charge.refunded): " +
					"point a Stripe webhook endpoint at POST /v1/providers/stripe/webhook instead of recording them here"}
			}
			r, err := l.Refund(ctx, creditkit.RefundOpts{Provider: in.Provider, ExternalID: in.ExternalID, RefundID: in.Body.RefundID,
				RefundedTotal: in.Body.RefundedTotal, Reason: in.Body.Reason, Actor: actor(ctx), IdempotencyKey: in.IdempotencyKey})
			return &body[*creditkit.Refund]{r}, err
		})
}

// Purchase records a paid purchase of a pack, as Ledger.Purchase: the
// answer has Replayed set when the payment was already fulfilled.
// opts.Actor and opts.PurchasedAt are not sent (the server stamps them);
// an empty Provider is "manual".
func (c *Client) Purchase(ctx context.Context, customer string, opts creditkit.PurchaseOpts) (*creditkit.Purchase, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	b := purchaseBody{Pack: opts.Pack, ExternalID: opts.ExternalID, Provider: opts.Provider,
		Currency: opts.MoneyCurrency, Credits: opts.Credits, ChargeID: opts.ChargeID, PaymentID: opts.PaymentIntentID, Metadata: opts.Metadata}
	if opts.Free && opts.AmountPaid != 0 {
		return nil, &creditkit.Error{Code: creditkit.CodeInvalidAmount, Message: fmt.Sprintf("amount_paid %d with free: a free purchase paid nothing; give amount_paid 0 or leave free unset", opts.AmountPaid)}
	}
	if opts.AmountPaid != 0 || opts.Free {
		b.AmountPaid = &opts.AmountPaid
	}
	return fetch[creditkit.Purchase](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/purchases", body: b,
		idem: opts.IdempotencyKey, customer: customer, write: true})
}

// GetPurchase returns the purchase of a provider's payment, as
// Ledger.GetPurchase.
func (c *Client) GetPurchase(ctx context.Context, provider, externalID string) (*creditkit.Purchase, error) {
	path, err := purchasePath(provider, externalID)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Purchase](ctx, c, call{method: http.MethodGet, path: path})
}

// Purchases lists a customer's purchases, oldest first, as
// Ledger.Purchases.
func (c *Client) Purchases(ctx context.Context, customer string, f *creditkit.PurchaseFilter) ([]*creditkit.Purchase, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if f != nil {
		setNonEmpty(q, "cursor", f.After)
		if f.Limit != 0 {
			q.Set("limit", strconv.Itoa(f.Limit))
		}
	}
	var p clientPage[*creditkit.Purchase]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/purchases", query: q}, &p); err != nil {
		return nil, err
	}
	return p.Data, nil
}

// Refund records money refunded on a purchase, as Ledger.Refund. The API
// names the purchase by its external ID (ChargeID and PaymentIntentID are
// not sent), and refuses provider stripe, whose refunds come through the
// Stripe webhook. opts.Actor is ignored.
func (c *Client) Refund(ctx context.Context, opts creditkit.RefundOpts) (*creditkit.Refund, error) {
	path, err := purchasePath(opts.Provider, opts.ExternalID)
	if err != nil {
		return nil, err
	}
	b := refundBody{RefundedTotal: opts.RefundedTotal, RefundID: opts.RefundID, Reason: opts.Reason}
	return fetch[creditkit.Refund](ctx, c, call{method: http.MethodPost, path: path + "/refunds", body: b, idem: opts.IdempotencyKey, write: true})
}

// purchasePath is /v1/purchases/{provider}/{external_id}.
func purchasePath(provider, externalID string) (string, error) {
	p, err := seg("provider", provider)
	if err != nil {
		return "", err
	}
	e, err := seg("external_id", externalID)
	if err != nil {
		return "", err
	}
	return "/v1/purchases/" + p + "/" + e, nil
}
