package main

import (
	"context"
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// SubscriptionCmd groups the subscription subcommands.
type SubscriptionCmd struct {
	Show   SubscriptionShowCmd   `cmd:"" help:"Show a customer's subscription."`
	Start  SubscriptionStartCmd  `cmd:"" help:"Subscribe a customer to a plan (signup bonus once ever, first refill now)."`
	Change SubscriptionChangeCmd `cmd:"" help:"Change a customer's plan: an upgrade applies now, a downgrade at the period end."`
	Cancel SubscriptionCancelCmd `cmd:"" help:"Cancel a customer's subscription, now or at the period end."`
	Pause  SubscriptionPauseCmd  `cmd:"" help:"Pause a subscription: no refills until it resumes."`
	Resume SubscriptionResumeCmd `cmd:"" help:"Resume a paused subscription: a new period starts now."`
}

// subscriptionBackend is what the subscription verbs call, on --db or
// --server.
type subscriptionBackend interface {
	GetSubscription(ctx context.Context, customer string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error)
	StartSubscription(ctx context.Context, customer, plan string, opts *creditkit.SubscribeOpts) (*creditkit.Subscription, error)
	ChangePlan(ctx context.Context, customer, plan string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error)
	Cancel(ctx context.Context, customer string, opts *creditkit.CancelOpts) (*creditkit.Subscription, error)
	Pause(ctx context.Context, customer string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error)
	Resume(ctx context.Context, customer string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error)
}

var (
	_ subscriptionBackend = (*creditkit.Ledger)(nil)
	_ subscriptionBackend = (*httpapi.Client)(nil)
)

// withSubscriptions runs fn on the backend's subscription verbs and
// prints the subscription it returns.
func (s *session) withSubscriptions(fn func(b subscriptionBackend) (*creditkit.Subscription, error)) error {
	return s.withBackend(func(b backend) error {
		sb, ok := b.(subscriptionBackend)
		if !ok {
			return fmt.Errorf("the %T backend has no subscription verbs", b)
		}
		sub, err := fn(sb)
		if err != nil {
			return err
		}
		return s.output(sub, func(w io.Writer) { printSubscription(w, sub) })
	})
}

// subscriptionArgs are the customer and currency every verb takes.
type subscriptionArgs struct {
	Customer string `arg:"" name:"customer" help:"Customer ID."`
	Currency string `name:"currency" placeholder:"C" help:"The credit currency of the subscription, for a customer with several."`
}

// SubscriptionShowCmd shows a subscription.
type SubscriptionShowCmd struct{ subscriptionArgs }

// Run shows the subscription.
func (c *SubscriptionShowCmd) Run(s *session) error {
	return s.withSubscriptions(func(b subscriptionBackend) (*creditkit.Subscription, error) {
		return b.GetSubscription(s.ctx, c.Customer, &creditkit.SubscriptionOpts{Currency: c.Currency})
	})
}

// SubscriptionStartCmd subscribes a customer.
type SubscriptionStartCmd struct {
	Customer string `arg:"" name:"customer" help:"Customer ID."`
	Plan     string `arg:"" name:"plan" help:"Plan, as named in the config."`
	Trial    string `name:"trial" placeholder:"SPAN" help:"Start with a trial this long, such as 14d or 1mo."`
	writeFlags
}

// Run subscribes the customer.
func (c *SubscriptionStartCmd) Run(s *session) error {
	trial, err := parseTrial(c.Trial)
	if err != nil {
		return err
	}
	return s.withSubscriptions(func(b subscriptionBackend) (*creditkit.Subscription, error) {
		return b.StartSubscription(s.ctx, c.Customer, c.Plan, &creditkit.SubscribeOpts{Trial: trial, IdempotencyKey: c.IdempotencyKey, Actor: actor})
	})
}

// SubscriptionChangeCmd changes a customer's plan.
type SubscriptionChangeCmd struct {
	Customer string `arg:"" name:"customer" help:"Customer ID."`
	Plan     string `arg:"" name:"plan" help:"The new plan."`
	Trial    string `name:"trial" placeholder:"SPAN" help:"Move with a trial this long, such as 14d (only off a plan without a price, such as the default free plan)."`
	writeFlags
}

// Run changes the plan.
func (c *SubscriptionChangeCmd) Run(s *session) error {
	trial, err := parseTrial(c.Trial)
	if err != nil {
		return err
	}
	return s.withSubscriptions(func(b subscriptionBackend) (*creditkit.Subscription, error) {
		return b.ChangePlan(s.ctx, c.Customer, c.Plan, &creditkit.SubscriptionOpts{Trial: trial, IdempotencyKey: c.IdempotencyKey, Actor: actor})
	})
}

// SubscriptionCancelCmd cancels a subscription.
type SubscriptionCancelCmd struct {
	subscriptionArgs
	AtPeriodEnd bool `name:"at-period-end" help:"Cancel when the current period ends instead of now."`
	writeFlags
}

// Run cancels the subscription.
func (c *SubscriptionCancelCmd) Run(s *session) error {
	return s.withSubscriptions(func(b subscriptionBackend) (*creditkit.Subscription, error) {
		return b.Cancel(s.ctx, c.Customer, &creditkit.CancelOpts{AtPeriodEnd: c.AtPeriodEnd, Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor})
	})
}

// SubscriptionPauseCmd pauses a subscription.
type SubscriptionPauseCmd struct {
	subscriptionArgs
	writeFlags
}

// Run pauses the subscription.
func (c *SubscriptionPauseCmd) Run(s *session) error {
	return s.withSubscriptions(func(b subscriptionBackend) (*creditkit.Subscription, error) {
		return b.Pause(s.ctx, c.Customer, &creditkit.SubscriptionOpts{Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor})
	})
}

// SubscriptionResumeCmd resumes a subscription.
type SubscriptionResumeCmd struct {
	subscriptionArgs
	writeFlags
}

// Run resumes the subscription.
func (c *SubscriptionResumeCmd) Run(s *session) error {
	return s.withSubscriptions(func(b subscriptionBackend) (*creditkit.Subscription, error) {
		return b.Resume(s.ctx, c.Customer, &creditkit.SubscriptionOpts{Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor})
	})
}

// printSubscription writes a subscription for a person.
func printSubscription(w io.Writer, sub *creditkit.Subscription) {
	t := newTable(w)
	t.row("subscription", sub.ID)
	t.row("customer", sub.Customer)
	t.row("plan", sub.Plan)
	t.row("status", string(sub.Status))
	t.row("period", fmtTime(sub.PeriodStart)+" .. "+fmtTime(sub.PeriodEnd))
	if next := sub.NextRefill(); next != nil {
		t.row("next refill", fmtTime(*next))
	} else {
		t.row("next refill", "none ("+noRefillWhy(sub)+")")
	}
	if sub.TrialEnd != nil {
		t.row("trial ends", fmtTime(*sub.TrialEnd))
	}
	if sub.ScheduledPlan != "" {
		t.row("scheduled plan", sub.ScheduledPlan+" at "+fmtTime(sub.PeriodEnd))
	}
	if sub.CancelAt != nil {
		t.row("cancel at", fmtTime(*sub.CancelAt))
	}
	if sub.PausedAt != nil {
		t.row("paused at", fmtTime(*sub.PausedAt))
	}
	t.flush()
}

// noRefillWhy says why a subscription has no refill coming.
func noRefillWhy(sub *creditkit.Subscription) string {
	switch {
	case sub.Status == creditkit.SubscriptionPaused:
		return "paused"
	case sub.Status == creditkit.SubscriptionPastDue:
		return "past due"
	case sub.Status == creditkit.SubscriptionCanceled:
		return "canceled"
	default:
		return "canceled at the period's end"
	}
}

// parseTrial reads --trial: empty means no trial; otherwise more than 0
// and at most a year (creditkit.ParseTrial).
func parseTrial(v string) (creditkit.Span, error) {
	return creditkit.ParseTrial(v)
}
