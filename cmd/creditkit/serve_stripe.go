package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/stripe"
)

// StripeFlags turn on the Stripe adapter of serve. The secrets come from
// the environment (or flags), never from the config file.
type StripeFlags struct {
	StripeKey           string        `name:"stripe-key" envvar:"STRIPE_SECRET_KEY" help:"Stripe secret key (sk_test_... or sk_live_...); payments are on only when it is set (env STRIPE_SECRET_KEY)."`
	StripeWebhookSecret string        `name:"stripe-webhook-secret" envvar:"STRIPE_WEBHOOK_SECRET" help:"Signing secret of the Stripe webhook endpoint (whsec_...) (env STRIPE_WEBHOOK_SECRET)."`
	StripeAPIURL        string        `name:"stripe-api-url" envvar:"STRIPE_API_URL" hidden:"" help:"Stripe API base URL, for stripe-mock in tests."`
	StripePastDueGrace  time.Duration `name:"stripe-past-due-grace" default:"72h" help:"How long a subscription keeps refilling after a failed payment (invoice.payment_failed)."`
	StripeOverageEvery  time.Duration `name:"stripe-overage-every" default:"1m" help:"How often settled overage is sent to Stripe as invoice items."`
}

// payments is the Stripe adapter of a running server, or nothing.
type payments struct {
	p   *stripe.Provider
	l   *creditkit.Ledger
	log *slog.Logger
}

// stripeSetup builds the Stripe adapter when a secret key is set, and
// says clearly what is missing otherwise. In the demo it lists the packs
// and how to check one out.
func (f *StripeFlags) stripeSetup(l *creditkit.Ledger, logger *slog.Logger) (*payments, error) {
	pay := &payments{l: l, log: logger}
	if f.StripeKey == "" {
		logger.Warn("payments are off: set " + stripe.EnvSecretKey + " (sk_test_... for Stripe test mode) and " + stripe.EnvWebhookSecret +
			" to sell packs and plans; POST /v1/customers/{customer}/checkout answers 503 until then")
		return pay, nil
	}
	p, err := stripe.New(l, &stripe.Options{SecretKey: f.StripeKey, WebhookSecret: f.StripeWebhookSecret, APIURL: f.StripeAPIURL,
		Logger: logger, PastDueGrace: f.StripePastDueGrace})
	if err != nil {
		return nil, err
	}
	pay.p = p
	if f.StripeWebhookSecret == "" {
		logger.Warn("stripe: no webhook signing secret: " + stripe.WebhookPath + " refuses every event until " + stripe.EnvWebhookSecret +
			" is set; purchases are fulfilled only when customers return (GET /v1/checkout/complete)")
	}
	logger.Info("stripe payments on", "webhook", stripe.WebhookPath, "webhook_secret", f.StripeWebhookSecret != "", "custom_api_url", f.StripeAPIURL != "")
	return pay, nil
}

// describe prints, in the demo, the packs and how to check one out, or
// what is missing for that.
func (pay *payments) describe(out io.Writer, base string) {
	if pay.p == nil {
		fmt.Fprintf(out, "  payments: off: set %s (sk_test_...) and %s to check out packs with Stripe test keys (docs/payments.md)\n", stripe.EnvSecretKey, stripe.EnvWebhookSecret)
		return
	}
	cfg := pay.l.Config()
	fmt.Fprintf(out, "  payments: Stripe; webhook %s%s\n", base, stripe.WebhookPath)
	{
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range cfg.Packs {
				if !yield(k) {
					return
				}
			}
		}) {
			pk := cfg.Packs[name]
			fmt.Fprintf(out, "    pack %s: %d credits for %s: POST %s/v1/customers/alice/checkout {\"pack\": %q, \"success_url\": \"%s/v1/checkout/complete?session_id={CHECKOUT_SESSION_ID}\"}\n",
				name, pk.Gives, pk.FormatPrice(), base, name, base)
		}
	}
}

// checkout is the provider behind the checkout endpoints, or nil.
func (pay *payments) checkout() httpapi.CheckoutProvider {
	if pay == nil || pay.p == nil {
		return nil
	}
	return pay.p
}

// start mounts the webhook and, with the scheduler, runs the overage
// worker until ctx is done.
func (pay *payments) start(ctx context.Context, srv *httpapi.Server, scheduler bool, every time.Duration, wg *sync.WaitGroup) {
	if pay == nil || pay.p == nil {
		return
	}
	pay.p.Mount(srv)
	if !scheduler {
		return
	}
	if every <= 0 {
		every = time.Minute
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		pay.p.RunOverage(ctx, every)
	}()
}
