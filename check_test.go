package creditkit

import (
	"context"
	"testing"
	"time"
)

// checkConfig has a metered plan with overage, a trial, and a second
// currency without plans.
const checkConfig = `
currencies:
  - { name: credits, decimals: 0 }
  - { name: tokens, decimals: 0 }
operations:
  work: 10 credits
plans:
  metered:
    gives: 1000 credits every month
    trial_includes: 50 credits
    overage: up to 5000 credits
`

// A check answers held credits, and the plan's allowance with what was
// used of it this period (from the subscription's period start, as Usage
// counts it), and the next refill; for a raw amount as for an operation.
func TestCheckShowsHeldAndPlan(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresWith(t, checkConfig, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		_, err := l.CheckAmount(ctx, "acme", 0, "")
		wantCode(t, "a check of 0 credits", err, CodeInvalidAmount)
		_, err = l.CheckAmount(ctx, "acme", -5, "")
		wantCode(t, "a check of a negative amount", err, CodeInvalidAmount)
		_, err = l.CheckAmount(ctx, "acme", 5, "doubloons")
		if err == nil {
			t.Fatal("a check in an unknown currency passed")
		}

		must[*Subscription](t)(l.StartSubscription(ctx, "acme", "metered", nil))
		must[*Entry](t)(l.Debit(ctx, "acme", 300, nil))
		amt := Amount(200)
		h := must[*Hold](t)(l.Hold(ctx, "acme", "", nil, &HoldOpts{Amount: &amt}))

		c := must[*Check](t)(l.Check(ctx, "acme", "work", nil))
		feb10 := time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC)
		if !c.Allowed || c.Operation != "work" || c.Cost != 10 || c.Available != 500 || c.Held != 200 || c.Debt != 0 || c.OverageLimit != 5000 {
			t.Fatalf("check: %+v", c)
		}
		p := c.Plan
		if p == nil || p.Name != "metered" || p.Status != SubscriptionActive || p.Allowance != 1000 || p.Every != "month" || p.Used != 300 ||
			!p.PeriodStart.Equal(start) || !p.PeriodEnd.Equal(feb10) || p.NextRefillAt == nil || !p.NextRefillAt.Equal(feb10) {
			t.Fatalf("check's plan: %+v", p)
		}

		// A raw amount: beyond what is available, within the overage.
		c = must[*Check](t)(l.CheckAmount(ctx, "acme", 600, ""))
		if !c.Allowed || c.Operation != "" || c.Currency != "credits" || c.Cost != 600 || c.Overage != 100 || c.Plan == nil || c.Plan.Used != 300 {
			t.Fatalf("check of 600: %+v", c)
		}
		c = must[*Check](t)(l.CheckAmount(ctx, "acme", 5501, "credits"))
		if c.Allowed || c.Overage != 5001 {
			t.Fatalf("check past the overage limit: %+v", c)
		}

		// The capture counts as used; the hold no longer as held.
		must[*Entry](t)(l.Capture(ctx, h.ID, nil, nil))
		c = must[*Check](t)(l.CheckAmount(ctx, "acme", 1, ""))
		if c.Held != 0 || c.Available != 500 || c.Plan.Used != 500 {
			t.Fatalf("after the capture: %+v %+v", c, c.Plan)
		}

		// A new period starts from zero; a charge that occurred before it
		// counts in the period it occurred in.
		clock.Set(time.Date(2027, 2, 11, 0, 0, 0, 0, time.UTC))
		runDue(t, l, 1, "the February refill")
		must[*Entry](t)(l.Debit(ctx, "acme", 40, nil))
		must[*Entry](t)(l.Debit(ctx, "acme", 7, &DebitOpts{OccurredAt: time.Date(2027, 2, 9, 0, 0, 0, 0, time.UTC)}))
		c = must[*Check](t)(l.Check(ctx, "acme", "work", nil))
		if c.Plan == nil || c.Plan.Used != 40 || !c.Plan.PeriodStart.Equal(feb10) {
			t.Fatalf("February's check: %+v", c.Plan)
		}
		usage := must[[]UsageRow](t)(l.Usage(ctx, "acme", &UsageQuery{Since: c.Plan.PeriodStart}))
		if len(usage) != 1 || usage[0].Amount != c.Plan.Used {
			t.Fatalf("usage since the period start %+v, check's used %d", usage, c.Plan.Used)
		}

		// Paused: no refill is coming. Canceled: no plan.
		must[*Subscription](t)(l.Pause(ctx, "acme", nil))
		c = must[*Check](t)(l.Check(ctx, "acme", "work", nil))
		if c.Plan == nil || c.Plan.Status != SubscriptionPaused || c.Plan.NextRefillAt != nil {
			t.Fatalf("paused: %+v", c.Plan)
		}
		must[*Subscription](t)(l.Resume(ctx, "acme", nil))
		must[*Subscription](t)(l.Cancel(ctx, "acme", &CancelOpts{AtPeriodEnd: true}))
		c = must[*Check](t)(l.Check(ctx, "acme", "work", nil))
		if c.Plan == nil || c.Plan.NextRefillAt != nil {
			t.Fatalf("canceled at the period's end: %+v", c.Plan)
		}
		must[*Subscription](t)(l.Cancel(ctx, "acme", nil))
		if c = must[*Check](t)(l.Check(ctx, "acme", "work", nil)); c.Plan != nil {
			t.Fatalf("canceled: %+v", c.Plan)
		}

		// No subscription in the currency: no plan.
		must[*Grant](t)(l.Grant(ctx, "acme", 70, &GrantOpts{Currency: "tokens"}))
		c = must[*Check](t)(l.CheckAmount(ctx, "acme", 100, "tokens"))
		if c.Allowed || c.Currency != "tokens" || c.Available != 70 || c.Overage != 30 || c.Plan != nil {
			t.Fatalf("tokens: %+v", c)
		}

		// A trial: its credits are the period's allowance.
		must[*Subscription](t)(l.StartSubscription(ctx, "tria", "metered", &SubscribeOpts{Trial: Span{Days: 7}}))
		c = must[*Check](t)(l.Check(ctx, "tria", "work", nil))
		if c.Plan == nil || c.Plan.Status != SubscriptionTrialing || c.Plan.Allowance != 50 || c.Plan.Used != 0 || c.Plan.NextRefillAt == nil {
			t.Fatalf("trial: %+v", c.Plan)
		}
	})
}

// A hold that lapsed before the sweep gives its credits back in a check,
// even to a grant it emptied (which the live-grant read does not return).
func TestCheckSeesALapsedHold(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresWith(t, checkConfig, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "bo", 100, nil))
		amt := Amount(100)
		must[*Hold](t)(l.Hold(ctx, "bo", "", nil, &HoldOpts{Amount: &amt, TTL: time.Minute}))
		c := must[*Check](t)(l.CheckAmount(ctx, "bo", 1, ""))
		if c.Allowed || c.Available != 0 || c.Held != 100 {
			t.Fatalf("while held: %+v", c)
		}
		clock.Advance(2 * time.Minute)
		c = must[*Check](t)(l.CheckAmount(ctx, "bo", 100, ""))
		if !c.Allowed || c.Available != 100 || c.Held != 0 {
			t.Fatalf("after the hold lapsed: %+v", c)
		}
	})
}
