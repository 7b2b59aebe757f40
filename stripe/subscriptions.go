package stripe

import (
	"context"
	"fmt"
	"slices"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/creditkit/creditkit"
)

// syncSubscription brings the ledger's subscription of a Stripe
// subscription's customer to the Stripe subscription's current state,
// read from Stripe (not from the event that prompted it, which may be
// late, repeated or out of order). Every step it takes is one the ledger
// answers "unchanged" when it is done already, so running it twice, or on
// two nodes at once, moves nothing more. hint is the event's copy,
// used only when Stripe no longer has the subscription.
func (p *Provider) syncSubscription(ctx context.Context, id string, hint *stripego.Subscription, eventID string) (string, *creditkit.Subscription, error) {
	s, err := p.sc.V1Subscriptions.Retrieve(ctx, id, nil)
	switch {
	case err != nil && isMissing(err) && hint != nil:
		s = hint
	case err != nil:
		return "", nil, providerErr("read Stripe subscription "+id, err)
	}
	var stripeCustomer string
	if s.Customer != nil {
		stripeCustomer = s.Customer.ID
	}
	customer, err := p.customerOf(ctx, stripeCustomer, s.Metadata)
	if err != nil {
		return "", nil, err
	}
	if customer == "" {
		p.log.Warn("stripe subscription of no creditkit customer: ignored", "event", eventID, "subscription", s.ID, "stripe_customer", stripeCustomer)
		return "ignored: subscription " + s.ID + " names no creditkit customer", nil, nil
	}
	price := ""
	if s.Items != nil && len(s.Items.Data) > 0 && s.Items.Data[0].Price != nil {
		price = s.Items.Data[0].Price.ID
	}
	plan := p.planOf(price)
	if plan == "" {
		p.log.Warn("stripe subscription on a price no plan has: acknowledged, nothing moved", "event", eventID, "subscription", s.ID, "price", price, "customer", customer)
		return fmt.Sprintf("ignored: unknown price %q", price), nil, nil
	}
	cfg := p.l.Config()
	currency := cfg.Plans[plan].Currency
	if currency == "" {
		currency = cfg.DefaultCurrency().Name
	}
	sopts := func() *creditkit.SubscriptionOpts {
		return &creditkit.SubscriptionOpts{Currency: currency, Actor: "stripe"}
	}
	cur, err := p.l.GetSubscription(ctx, customer, sopts())
	if err != nil && creditkit.ErrorCodeOf(err) != creditkit.CodeNotFound {
		return "", nil, err
	}
	var steps []string
	step := func(name string, sub *creditkit.Subscription, err error) error {
		if err != nil {
			return fmt.Errorf("stripe subscription %s: %s %s: %w", s.ID, name, customer, err)
		}
		cur = sub
		steps = append(steps, name)
		return nil
	}
	done := func() (string, *creditkit.Subscription, error) {
		if len(steps) == 0 {
			return "unchanged", cur, nil
		}
		p.log.Info("stripe subscription synced", "event", eventID, "subscription", s.ID, "customer", customer, "plan", plan, "status", s.Status, "steps", steps)
		return fmt.Sprintf("subscription %s: %v", s.ID, steps), cur, nil
	}
	live := cur != nil && cur.Status != creditkit.SubscriptionCanceled
	switch s.Status {
	case stripego.SubscriptionStatusCanceled, stripego.SubscriptionStatusIncompleteExpired:
		if live {
			sub, err := p.l.Cancel(ctx, customer, &creditkit.CancelOpts{Currency: currency, Actor: "stripe"})
			if err != nil && creditkit.ErrorCodeOf(err) == creditkit.CodeInvalidRequest {
				// Canceled since we read it (another node, say).
				sub, err = p.l.GetSubscription(ctx, customer, sopts())
			}
			if err := step("cancel", sub, err); err != nil {
				return "", nil, err
			}
		}
		return done()
	case stripego.SubscriptionStatusIncomplete:
		return "waiting: subscription " + s.ID + " incomplete (first payment not made)", cur, nil
	}
	// A Stripe trial still running starts the ledger's trial too: on a
	// start, or on a move off a plan without a price (the default free
	// plan) that ChangePlan takes a trial for.
	var trial creditkit.Span
	if s.Status == stripego.SubscriptionStatusTrialing && s.TrialEnd > 0 {
		if d := time.Unix(s.TrialEnd, 0).Sub(p.l.Now()); d > 0 {
			trial = creditkit.Span{Duration: d}
		}
	}
	if !live {
		sub, err := p.l.StartSubscription(ctx, customer, plan, &creditkit.SubscribeOpts{Trial: trial, Actor: "stripe"})
		if err := step("start", sub, err); err != nil {
			return "", nil, err
		}
	}
	paused := s.PauseCollection != nil || s.Status == stripego.SubscriptionStatusPaused
	pastDue := s.Status == stripego.SubscriptionStatusPastDue || s.Status == stripego.SubscriptionStatusUnpaid
	if cur.Status == creditkit.SubscriptionPastDue && !pastDue {
		sub, err := p.l.RecoverPastDue(ctx, customer, sopts())
		if err := step("recover", sub, err); err != nil {
			return "", nil, err
		}
	}
	if cur.Status == creditkit.SubscriptionPaused && !paused {
		sub, err := p.l.Resume(ctx, customer, sopts())
		if err := step("resume", sub, err); err != nil {
			return "", nil, err
		}
	}
	// A plan change: an upgrade applies now, a downgrade at the period end
	// (the ledger's rule); a downgrade already scheduled to this plan is
	// left alone, and a price back to the current plan drops it.
	if (cur.Plan != plan && cur.ScheduledPlan != plan) || (cur.Plan == plan && cur.ScheduledPlan != "") {
		if cur.Status == creditkit.SubscriptionActive || cur.Status == creditkit.SubscriptionTrialing {
			o := sopts()
			if from := cfg.Plans[cur.Plan]; cur.Plan != plan && cur.Status == creditkit.SubscriptionActive && from != nil && from.Price == nil {
				o.Trial = trial
			}
			sub, err := p.l.ChangePlan(ctx, customer, plan, o)
			if err := step("change plan to "+plan, sub, err); err != nil {
				return "", nil, err
			}
		}
	}
	// Cancellation before pause: a cancellation at period end that Stripe
	// reports beside a pause stays scheduled through the pause (the
	// ledger moves it with the period a resume starts), rather than
	// cancelling a paused subscription at once.
	// cancel_at_period_end turned off at Stripe (and no cancel_at date
	// instead): the scheduled cancellation is taken back.
	if !s.CancelAtPeriodEnd && s.CancelAt == 0 && cur.CancelAt != nil && cur.Status != creditkit.SubscriptionCanceled {
		sub, err := p.l.KeepSubscription(ctx, customer, sopts())
		if err := step("keep (cancel at period end taken back)", sub, err); err != nil {
			return "", nil, err
		}
	}
	if s.CancelAtPeriodEnd && cur.CancelAt == nil && cur.Status != creditkit.SubscriptionCanceled {
		sub, err := p.l.Cancel(ctx, customer, &creditkit.CancelOpts{AtPeriodEnd: true, Currency: currency, Actor: "stripe"})
		if err := step("cancel at period end", sub, err); err != nil {
			return "", nil, err
		}
	}
	if paused && cur.Status == creditkit.SubscriptionActive {
		sub, err := p.l.Pause(ctx, customer, sopts())
		if err := step("pause", sub, err); err != nil {
			return "", nil, err
		}
	}
	if pastDue && cur.Status == creditkit.SubscriptionActive {
		sub, err := p.l.MarkPastDue(ctx, customer, &creditkit.PastDueOpts{Grace: p.opts.PastDueGrace, Currency: currency, Actor: "stripe"})
		if err := step("past_due", sub, err); err != nil {
			return "", nil, err
		}
	}
	return done()
}

// planOf returns the configured plan that has price among its
// stripe_price ids, or "".
func (p *Provider) planOf(price string) string {
	if price == "" {
		return ""
	}
	cfg := p.l.Config()
	for _, name := range slices.Sorted(mapKeys(cfg.Plans)) {
		if pl := cfg.Plans[name]; pl != nil {
			for _, id := range pl.StripePrice {
				if id == price {
					return name
				}
			}
		}
	}
	return ""
}
