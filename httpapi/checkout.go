package httpapi

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Checkout: a customer buys a pack or subscribes to a plan on a payment
// provider's hosted page (Stripe Checkout), and the purchase is fulfilled
// once, by the provider's webhook or by the customer's return, whichever
// comes first (see docs/payments.md). The provider is an adapter outside
// this package (stripe/), which imports httpapi; it plugs in through
// Options.Checkout.

// CheckoutProvider is what the checkout endpoints need of a payment
// provider. The stripe package's Provider implements it.
type CheckoutProvider interface {
	// CreateCheckout starts a hosted checkout for a customer.
	CreateCheckout(ctx context.Context, customer string, req CheckoutRequest) (*CheckoutSession, error)
	// CompleteCheckout verifies a checkout session with the provider and
	// fulfils it when it is paid: the same answer however often it is
	// called, and whether or not the webhook fulfilled it first.
	CompleteCheckout(ctx context.Context, sessionID string) (*CheckoutResult, error)
}

// ErrProviderFailed is wrapped by a CheckoutProvider's errors when the
// payment provider failed or refused the call for a reason of its own
// (network, outage, invalid key): the endpoint answers 502.
var ErrProviderFailed = errors.New("payment provider failed")

// CheckoutRequest asks for a hosted checkout of a pack, or of a plan and
// its billing interval.
type CheckoutRequest struct {
	Pack       string `json:"pack,omitempty" maxLength:"255" doc:"A pack to buy, as named in the config. Give pack, or plan and interval."`
	Plan       string `json:"plan,omitempty" maxLength:"255" doc:"A plan to subscribe to, as named in the config; it needs a stripe_price for the interval."`
	Interval   string `json:"interval,omitempty" maxLength:"16" doc:"The plan's billing interval, a key of its stripe_price such as month or year; defaults to its only one."`
	SuccessURL string `json:"success_url" minLength:"1" maxLength:"2048" doc:"Where the provider sends the customer after paying. Put {CHECKOUT_SESSION_ID} in it and call GET /v1/checkout/complete with it."`
	CancelURL  string `json:"cancel_url,omitempty" maxLength:"2048" doc:"Where the provider sends a customer who gives up."`
	// IdempotencyKey is the request's Idempotency-Key header: a retry
	// with it answers the same session.
	IdempotencyKey string `json:"-"`
}

// CheckoutSession is a hosted checkout to send the customer to.
type CheckoutSession struct {
	ID       string `json:"id" doc:"The provider's session id (Stripe: cs_...)."`
	URL      string `json:"url" doc:"The hosted checkout page to redirect the customer to."`
	Provider string `json:"provider" doc:"The payment provider, such as stripe."`
	Mode     string `json:"mode" enum:"payment,subscription" doc:"payment for a pack, subscription for a plan."`
	Customer string `json:"customer"`
	Pack     string `json:"pack,omitempty"`
	Plan     string `json:"plan,omitempty"`
}

// CheckoutResult says what a checkout session came to.
type CheckoutResult struct {
	SessionID string `json:"session_id"`
	Customer  string `json:"customer,omitempty"`
	Mode      string `json:"mode" enum:"payment,subscription"`
	// Status is paid (fulfilled: see purchase or subscription), pending (not
	// paid yet, such as a bank debit on its way: the webhook fulfils it
	// when it is) or open (the customer has not finished).
	Status string `json:"status" enum:"paid,pending,open,expired" doc:"paid: fulfilled; pending: payment on its way (the webhook fulfils it); open: not finished; expired: abandoned."`
	// Purchase is the pack's purchase, the same whichever path fulfilled it.
	Purchase *creditkit.Purchase `json:"purchase,omitempty" doc:"The pack's purchase, when a paid pack: the same purchase whichever path fulfilled it (replayed when it was fulfilled before)."`
	// Subscription is the customer's subscription, for a paid plan.
	Subscription *creditkit.Subscription `json:"subscription,omitempty"`
}

// checkRedirectURL refuses a redirect the provider would send a customer
// to unless it is an absolute http or https URL (no javascript:, no
// relative path). Empty passes: the field is optional or checked by its
// schema.
func checkRedirectURL(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid("%s %q is not an absolute http(s) URL such as https://app.example.com/done?session_id={CHECKOUT_SESSION_ID}", name, v)
	}
	return nil
}

// checkoutOff answers the checkout endpoints when no provider is set.
func checkoutOff() error {
	return newProblem(http.StatusServiceUnavailable, "payments_not_configured",
		"no payment provider is configured: start the server with STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET for the webhook) set, see docs/payments.md")
}

func (s *Server) checkoutRoutes() {
	register(s, route{id: "create-checkout", method: http.MethodPost, path: "/v1/customers/{customer}/checkout",
		summary: "Start a hosted checkout: a pack (one payment) or a plan (a subscription)", tag: "Payments", scope: store.ScopeWrite,
		status: http.StatusCreated, errors: []int{http.StatusBadGateway, http.StatusServiceUnavailable}},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body CheckoutRequest
		}) (*body[*CheckoutSession], error) {
			// What the request asks for is checked first, so that a
			// mistake is named even before payments are configured.
			b := in.Body
			if (b.Pack == "") == (b.Plan == "") {
				return nil, invalid("give either pack (a one-time purchase) or plan (a subscription), not both or neither")
			}
			if b.Pack != "" && b.Interval != "" {
				return nil, invalid("interval is for a plan; a pack is paid once")
			}
			cfg := s.ledger.Config()
			if p, ok := cfg.Packs[b.Pack]; b.Pack != "" && (!ok || p == nil) {
				return nil, invalid("unknown pack %q: the config's packs are %s", b.Pack, strings.Join(slices.Sorted(maps.Keys(cfg.Packs)), ", "))
			}
			if p, ok := cfg.Plans[b.Plan]; b.Plan != "" && (!ok || p == nil) {
				return nil, invalid("unknown plan %q: the config's plans are %s", b.Plan, strings.Join(slices.Sorted(maps.Keys(cfg.Plans)), ", "))
			}
			for _, u := range []struct{ name, v string }{{"success_url", b.SuccessURL}, {"cancel_url", b.CancelURL}} {
				if err := checkRedirectURL(u.name, u.v); err != nil {
					return nil, err
				}
			}
			if s.checkout == nil {
				return nil, checkoutOff()
			}
			b.IdempotencyKey = in.IdempotencyKey
			out, err := s.checkout.CreateCheckout(ctx, in.Customer, b)
			return &body[*CheckoutSession]{out}, checkoutErr(err)
		})

	// The customer's browser comes back here from the provider's page
	// (success_url), so it takes no API key: it grants only what the
	// provider says was paid, once, and the session id is the provider's
	// unguessable id.
	const completePath = "/v1/checkout/complete"
	register(s, route{id: "complete-checkout", method: http.MethodGet, path: completePath,
		summary: "Verify a checkout session with the provider and fulfil it once paid (the customer's return)", tag: "Payments",
		errors: []int{http.StatusNotFound, http.StatusBadGateway, http.StatusServiceUnavailable}},
		func(ctx context.Context, in *struct {
			SessionID string `query:"session_id" required:"true" minLength:"1" maxLength:"255" doc:"The provider's checkout session id, from the success_url."`
		}) (*body[*CheckoutResult], error) {
			if s.checkout == nil {
				return nil, checkoutOff()
			}
			out, err := s.checkout.CompleteCheckout(ctx, in.SessionID)
			return &body[*CheckoutResult]{out}, checkoutErr(err)
		})
	if op := operationOf(s.api.OpenAPI().Paths[completePath], http.MethodGet); op != nil {
		op.Security = []map[string][]string{{}}
		op.Description = "Needs no API key: point the provider's success_url here (with session_id={CHECKOUT_SESSION_ID}); " +
			"it fulfils only a session the provider says is paid, once, whether or not the webhook came first."
		delete(op.Responses, "401")
		delete(op.Responses, "403")
	}
}

// checkoutErr turns a provider's failure into 502; other errors are the
// library's.
func checkoutErr(err error) error {
	var ce *creditkit.Error
	if err != nil && errors.Is(err, ErrProviderFailed) && !errors.As(err, &ce) {
		return newProblem(http.StatusBadGateway, "provider_error", err.Error())
	}
	return err
}
