// Package stripe is creditkit's Stripe adapter: it turns checkout requests
// into Stripe Checkout sessions, and Stripe's events into ledger calls
// (purchases, refunds, subscription changes), and bills overage as Stripe
// invoice items. It decides nothing about credits: the rules live in the
// root package (Ledger.Purchase, Ledger.Refund, StartSubscription...).
//
// Everything that must happen once is keyed on creditkit's side: a pack is
// purchased once per checkout session (Ledger.Purchase on the session id),
// a refund claws back the charge's cumulative refunded amount (so a
// repeated refund event moves nothing), a subscription event is applied by
// reading the subscription's current state from Stripe and bringing the
// ledger's subscription to it (so an event seen twice, late or out of
// order changes nothing more), and an invoice item carries a Stripe
// idempotency key made from the settlement's entry id.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// ProviderName is how purchases, customer links and events name Stripe.
const ProviderName = "stripe"

// Defaults of Options.
const (
	// DefaultTolerance is how old a signed webhook may be.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxEventBytes bounds a webhook's body. Stripe's events are
	// far smaller.
	DefaultMaxEventBytes = 512 << 10
	// DefaultPastDueGrace is how long a subscription whose payment failed
	// keeps refilling.
	DefaultPastDueGrace = 3 * 24 * time.Hour
	// DefaultOverageSettle is how old a ledger event must be before the
	// overage worker reads past it (see BillOverage).
	DefaultOverageSettle = time.Minute
)

// Environment variables the server reads Stripe's secrets from; they are
// never in the config file.
const (
	EnvSecretKey     = "STRIPE_SECRET_KEY"
	EnvWebhookSecret = "STRIPE_WEBHOOK_SECRET"
	// EnvAPIURL points the adapter at another Stripe API, such as
	// stripe-mock in tests.
	EnvAPIURL = "STRIPE_API_URL"
)

// Options configure a Provider. Nil means defaults; SecretKey is required.
type Options struct {
	// SecretKey is the Stripe secret key (sk_test_... or sk_live_...).
	SecretKey string
	// WebhookSecret is the signing secret of the webhook endpoint
	// (whsec_...). Without it the webhook refuses every event.
	WebhookSecret string
	// APIURL replaces Stripe's API base URL, for stripe-mock in tests.
	// Defaults to https://api.stripe.com.
	APIURL string
	// HTTPClient makes the calls to Stripe. Defaults to stripe-go's.
	HTTPClient *http.Client
	// Logger receives what the adapter did and ignored. Defaults to a
	// logger that discards.
	Logger *slog.Logger
	// Store keeps customer links, received events and the overage
	// cursor. Defaults to the ledger's store, which must implement
	// store.ProviderStore (the SQLite and PostgreSQL stores do).
	Store store.ProviderStore
	// Tolerance is how old a signed webhook may be. Defaults to 5 minutes.
	Tolerance time.Duration
	// MaxEventBytes bounds a webhook body. Defaults to 512 KiB.
	MaxEventBytes int64
	// PastDueGrace is how long a subscription keeps refilling after
	// invoice.payment_failed. Defaults to 3 days.
	PastDueGrace time.Duration
	// OverageSettle is how old a ledger event must be before BillOverage
	// moves its cursor past it. Defaults to 1 minute.
	OverageSettle time.Duration
}

// Provider is the Stripe adapter on one ledger. It implements
// httpapi.CheckoutProvider; Mount serves its webhook.
type Provider struct {
	l      *creditkit.Ledger
	sc     *stripego.Client
	st     store.ProviderStore
	log    *slog.Logger
	secret string
	opts   Options
}

var _ httpapi.CheckoutProvider = (*Provider)(nil)

// ErrNoProviderStore says the ledger's store keeps no provider tables.
var ErrNoProviderStore = errors.New("stripe: the ledger's store does not implement store.ProviderStore: give Options.Store")

// New builds the adapter.
func New(l *creditkit.Ledger, opts *Options) (*Provider, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.SecretKey == "" {
		return nil, fmt.Errorf("stripe: no secret key: set %s to your Stripe secret key (sk_test_... in test mode)", EnvSecretKey)
	}
	if o.Store == nil {
		st, ok := l.Store().(store.ProviderStore)
		if !ok {
			return nil, ErrNoProviderStore
		}
		o.Store = st
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = DefaultMaxEventBytes
	}
	if o.PastDueGrace <= 0 {
		o.PastDueGrace = DefaultPastDueGrace
	}
	if o.OverageSettle <= 0 {
		o.OverageSettle = DefaultOverageSettle
	}
	cfg := &stripego.BackendConfig{HTTPClient: o.HTTPClient, LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull}}
	if o.APIURL != "" {
		cfg.URL = stripego.String(o.APIURL)
	}
	backends := stripego.NewBackendsWithConfig(cfg)
	return &Provider{l: l, sc: stripego.NewClient(o.SecretKey, stripego.WithBackends(backends)), st: o.Store, log: o.Logger,
		secret: o.WebhookSecret, opts: o}, nil
}

// Client returns the stripe-go client the adapter calls Stripe with (for
// off-session charges, say).
func (p *Provider) Client() *stripego.Client { return p.sc }

// StripeCustomerID returns the Stripe customer of a creditkit customer,
// creating it on first need: its metadata names the creditkit customer,
// and the creation carries an idempotency key, so that a retry creates no
// second one. Two processes that create one each at once agree on the
// first linked (the other Stripe customer stays unused).
func (p *Provider) StripeCustomerID(ctx context.Context, customer string) (string, error) {
	if id, err := p.st.ProviderCustomer(ctx, ProviderName, customer); err != nil || id != "" {
		return id, err
	}
	params := &stripego.CustomerCreateParams{Metadata: map[string]string{metaCustomer: customer}}
	params.SetIdempotencyKey("creditkit-customer-" + customer)
	c, err := p.sc.V1Customers.Create(ctx, params)
	if err != nil {
		return "", providerErr("create the Stripe customer of "+customer, err)
	}
	return p.st.LinkProviderCustomer(ctx, ProviderName, customer, c.ID, p.l.Now())
}

// customerOf returns the creditkit customer of a Stripe customer: its
// link, or the creditkit_customer metadata of the object that names it
// (then linked); "" when neither says.
func (p *Provider) customerOf(ctx context.Context, stripeCustomer string, meta map[string]string) (string, error) {
	if stripeCustomer != "" {
		c, err := p.st.ProviderCustomerOf(ctx, ProviderName, stripeCustomer)
		if err != nil || c != "" {
			return c, err
		}
	}
	c := meta[metaCustomer]
	if c == "" || stripeCustomer == "" {
		return c, nil
	}
	if _, err := p.st.LinkProviderCustomer(ctx, ProviderName, c, stripeCustomer, p.l.Now()); err != nil && !errors.Is(err, store.ErrLinkedElsewhere) {
		return "", err
	}
	return c, nil
}

// Metadata keys the adapter puts on Stripe objects.
const (
	metaCustomer = "creditkit_customer"
	metaPack     = "creditkit_pack"
	metaPlan     = "creditkit_plan"
)

// providerErr wraps a Stripe failure: a Stripe invalid request (such as
// an unknown price) is the caller's to fix (422); anything else is
// httpapi.ErrProviderFailed (502).
func providerErr(what string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) && se.Type == stripego.ErrorTypeIdempotency {
		return &creditkit.Error{Code: creditkit.CodeIdempotencyConflict,
			Message: fmt.Sprintf("%s: the Idempotency-Key was used with another request: use a new key for a new checkout", what), Err: err}
	}
	if errors.As(err, &se) && se.Type == stripego.ErrorTypeInvalidRequest && se.HTTPStatusCode != http.StatusUnauthorized {
		return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf("%s: Stripe refused it: %s", what, se.Msg), Err: err}
	}
	return fmt.Errorf("%s: %w: %w", what, httpapi.ErrProviderFailed, err)
}

// isMissing reports whether Stripe answered that the object does not exist.
func isMissing(err error) bool {
	var se *stripego.Error
	return errors.As(err, &se) && (se.Code == stripego.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound)
}
