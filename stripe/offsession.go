package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/creditkit/creditkit"
)

// offSessionProvider names Stripe on the purchases an off-session charge
// makes.
const offSessionProvider = "stripe"

// StripeCustomers gives the Stripe customer a creditkit customer is linked
// to. The Stripe adapter's Provider is one; "" (and no error) means the
// customer has none yet.
type StripeCustomers interface {
	StripeCustomerID(ctx context.Context, customer string) (string, error)
}

// OffSessionOptions configure an OffSessionCharger.
type OffSessionOptions struct {
	// APIKey is the Stripe secret key (sk_test_… or sk_live_…). Required.
	APIKey string
	// Customers finds a customer's Stripe customer. Required.
	Customers StripeCustomers
	// BaseURL replaces Stripe's API URL (for stripe-mock); "" is Stripe's.
	BaseURL string
	// HTTPClient defaults to one with an 80-second timeout, as stripe-go's.
	HTTPClient *http.Client
}

// OffSessionCharger charges a customer's saved payment method off-session
// for auto top-up (creditkit.TopUpCharger): it finds the Stripe customer's
// default payment method (invoice_settings.default_payment_method, else its
// first card), and creates a PaymentIntent with confirm=true and
// off_session=true under the attempt's idempotency key, so that a retry of
// one attempt gets the first PaymentIntent back instead of charging again.
type OffSessionCharger struct {
	client    *stripego.Client
	customers StripeCustomers
}

var _ creditkit.TopUpCharger = (*OffSessionCharger)(nil)

// NewOffSessionCharger returns a charger on the Stripe API.
func NewOffSessionCharger(opts OffSessionOptions) (*OffSessionCharger, error) {
	if opts.APIKey == "" {
		return nil, errors.New("stripe: an off-session charger needs the Stripe secret key (sk_test_… or sk_live_…)")
	}
	if opts.Customers == nil {
		return nil, errors.New("stripe: an off-session charger needs a way to find a customer's Stripe customer")
	}
	// stripe-go's own logger would print every refusal to stderr; the
	// runner logs what it makes of them.
	cfg := &stripego.BackendConfig{HTTPClient: opts.HTTPClient, LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull}}
	if opts.BaseURL != "" {
		u := strings.TrimRight(opts.BaseURL, "/")
		cfg.URL = &u
	}
	client := stripego.NewClient(opts.APIKey, stripego.WithBackends(stripego.NewBackendsWithConfig(cfg)))
	return &OffSessionCharger{client: client, customers: opts.Customers}, nil
}

// ChargeOffSession charges req.AmountCents to the customer's saved payment
// method. A card declined, no Stripe customer, no saved card or a request
// Stripe refuses is an error; a network failure, a Stripe server error, a
// rate limit or the same idempotency key still in progress wraps
// creditkit.ErrChargeOutcomeUnknown (the attempt is retried with the same
// key later).
func (c *OffSessionCharger) ChargeOffSession(ctx context.Context, req creditkit.ChargeRequest) (*creditkit.ChargeResult, error) {
	cus, err := c.customers.StripeCustomerID(ctx, req.Customer)
	if err != nil {
		return nil, fmt.Errorf("stripe: find the Stripe customer of %s: %w: %w", req.Customer, creditkit.ErrChargeOutcomeUnknown, err)
	}
	if cus == "" {
		return nil, fmt.Errorf("stripe: customer %s has no Stripe customer, so no saved payment method: it must pay once through checkout (saving its card) before auto top-up can charge it", req.Customer)
	}
	pm, err := c.paymentMethod(ctx, cus)
	if err != nil {
		return nil, err
	}
	params := &stripego.PaymentIntentCreateParams{
		Amount:             stripego.Int64(req.AmountCents),
		Currency:           stripego.String(strings.ToLower(req.MoneyCurrency)),
		Customer:           stripego.String(cus),
		PaymentMethod:      stripego.String(pm),
		PaymentMethodTypes: []*string{stripego.String("card")},
		Confirm:            stripego.Bool(true),
		OffSession:         stripego.Bool(true),
		Metadata:           req.Metadata,
	}
	if req.Description != "" {
		params.Description = stripego.String(req.Description)
	}
	params.SetIdempotencyKey(req.IdempotencyKey)
	pi, err := c.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return nil, classify("create the PaymentIntent", err)
	}
	res := &creditkit.ChargeResult{Provider: offSessionProvider, PaymentIntentID: pi.ID, Status: string(pi.Status)}
	if pi.LatestCharge != nil {
		res.ChargeID = pi.LatestCharge.ID
	}
	return res, nil
}

// paymentMethod finds the Stripe customer's saved payment method.
func (c *OffSessionCharger) paymentMethod(ctx context.Context, cus string) (string, error) {
	sc, err := c.client.V1Customers.Retrieve(ctx, cus, nil)
	if err != nil {
		return "", classify("read Stripe customer "+cus, err)
	}
	if s := sc.InvoiceSettings; s != nil && s.DefaultPaymentMethod != nil && s.DefaultPaymentMethod.ID != "" {
		return s.DefaultPaymentMethod.ID, nil
	}
	params := &stripego.CustomerListPaymentMethodsParams{Customer: stripego.String(cus), Type: stripego.String("card")}
	params.Limit = stripego.Int64(1)
	for pm, err := range c.client.V1Customers.ListPaymentMethods(ctx, params).All(ctx) {
		if err != nil {
			return "", classify("list the payment methods of Stripe customer "+cus, err)
		}
		return pm.ID, nil
	}
	return "", fmt.Errorf("stripe: Stripe customer %s has no saved card: it must pay once through checkout (saving its card) before auto top-up can charge it", cus)
}

// classify wraps a Stripe error: definite refusals (a card error, an
// invalid request) as they are, everything whose outcome may be a charge
// with creditkit.ErrChargeOutcomeUnknown.
func classify(what string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) {
		switch {
		case se.HTTPStatusCode >= 500, se.HTTPStatusCode == http.StatusTooManyRequests, se.HTTPStatusCode == http.StatusConflict,
			se.Type == stripego.ErrorTypeAPI, se.Type == stripego.ErrorTypeIdempotency:
			// An idempotency error says this key was used with other
			// parameters (the saved card changed between two tries of one
			// attempt): the first try may have charged, so it is never
			// taken as a refusal.
			return fmt.Errorf("stripe: %s: %w: %w", what, creditkit.ErrChargeOutcomeUnknown, err)
		}
		return fmt.Errorf("stripe: %s: %w", what, err)
	}
	// No answer from Stripe (a timeout, a broken connection): the request
	// may have been applied.
	return fmt.Errorf("stripe: %s: %w: %w", what, creditkit.ErrChargeOutcomeUnknown, err)
}
