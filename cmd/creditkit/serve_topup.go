package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/stripe"
)

// startTopUps runs auto top-up in this serve process until ctx ends: a
// runner that hears this process's spends (so every serve process runs
// one, --no-scheduler or not; their claims in the database keep it to one
// purchase at a time per wallet) and resumes attempts left in flight.
// Without a charger (no payment provider configured) settings are still
// saved through the API and the CLI, and the log says that no top-up can
// run. It returns the runner, or nil.
func startTopUps(ctx context.Context, l *creditkit.Ledger, charger creditkit.TopUpCharger, logger *slog.Logger, wg *sync.WaitGroup) *creditkit.TopUpRunner {
	if charger == nil {
		msg := "auto top-up cannot run: no payment provider to charge saved cards (set STRIPE_SECRET_KEY); settings are kept and apply once it is set"
		if d := l.Config().AutoTopUp; d != nil && d.Enabled {
			logger.Warn(msg, "config_default", true)
		} else {
			logger.Info(msg)
		}
		return nil
	}
	r := creditkit.NewTopUpRunner(l, charger, &creditkit.TopUpRunnerOpts{Logger: logger})
	r.Start(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		r.Stop()
	}()
	logger.Info("auto top-up on")
	return r
}

// stripeTopUpCharger is the Stripe off-session charger of serve, or nil
// when no Stripe secret key is set. customers finds a customer's Stripe
// customer (the Stripe adapter's Provider).
func stripeTopUpCharger(key, apiURL string, customers stripe.StripeCustomers) (creditkit.TopUpCharger, error) {
	if key == "" || customers == nil {
		return nil, nil
	}
	return stripe.NewOffSessionCharger(stripe.OffSessionOptions{APIKey: key, BaseURL: apiURL, Customers: customers})
}
