package creditkit

import (
	"context"
	"testing"
	"time"
)

// The overage scenario through a plan: 1,000 credits a month with
// overage up to 5,000 credits. Spending 3,500 leaves the wallet at −2,500;
// a spend of 3,000 more is refused; the period's end settles the 2,500 at
// the overage price, and then the refill gives 1,000.
func TestPlanOverageSettledAtPeriodEnd(t *testing.T) {
	t.Parallel()
	const config = `
operations:
  work: 1 credit
plans:
  metered:
    gives: 1000 credits every month
    overage: up to 5000 credits
    overage_price: 1 USD per 100 credits
`
	start := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresWith(t, config, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		var billed []Event
		l.Subscribe(func(e Event) {
			if e.Type == EventOverageBilled {
				billed = append(billed, e)
			}
		})
		must[*Subscription](t)(l.StartSubscription(ctx, "acme", "metered", nil))
		if ov := must[*Overage](t)(l.GetOverage(ctx, "acme", "")); ov.Limit != 5000 {
			t.Fatalf("the plan's overage did not reach the wallet: %+v", ov)
		}
		must[*Entry](t)(l.Debit(ctx, "acme", 3500, nil))
		if b := must[*Balance](t)(l.Balance(ctx, "acme", nil)); b.Available != -2500 || b.Debt != 2500 {
			t.Fatalf("after spending 3,500: %+v", b)
		}
		_, err := l.Debit(ctx, "acme", 3000, nil)
		wantCode(t, "a spend past the overage limit", err, CodeInsufficientCredits)

		clock.Advance(31 * 24 * time.Hour) // past Feb 10
		if _, err := l.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		b := must[*Balance](t)(l.Balance(ctx, "acme", nil))
		if b.Available != 1000 || b.Debt != 0 {
			t.Fatalf("after the period's end: %+v, want the debt settled and 1,000 refilled", b)
		}
		if len(billed) != 1 || billed[0].Data["credits"] != Amount(2500) || billed[0].Data["money"] != "25.00" {
			t.Fatalf("credits.overage.billed = %+v", billed)
		}
		settle := must[[]*Entry](t)(l.History(ctx, "acme", &HistoryFilter{Type: EntryOverageSettlement}))
		if len(settle) != 1 || !settle[0].At.Equal(time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("settlement entries: %+v", settle)
		}
		// Canceling ends the overage.
		must[*Subscription](t)(l.Cancel(ctx, "acme", nil))
		if ov := must[*Overage](t)(l.GetOverage(ctx, "acme", "")); ov.Limit != 0 {
			t.Fatalf("overage after cancel: %+v", ov)
		}
	})
}

// The first check of a customer never seen already answers with the
// default plan's credits: the check meets the customer on that plan.
func TestFirstCheckMeetsTheDefaultPlan(t *testing.T) {
	t.Parallel()
	const config = `
operations:
  work: 1 credit
plans:
  free:
    default: true
    gives: 500 credits every month
`
	onBothStoresWith(t, config, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		c := must[*Check](t)(l.Check(ctx, "newbie", "work", nil))
		if !c.Allowed || c.Available != 500 {
			t.Fatalf("first check of a new customer: %+v, want the free plan's 500", c)
		}
		sub := must[*Subscription](t)(l.GetSubscription(ctx, "newbie", nil))
		if sub.Plan != "free" {
			t.Fatalf("subscription = %+v", sub)
		}
		// A second check meets nobody again: still one refill.
		must[*Check](t)(l.Check(ctx, "newbie", "work", nil))
		grants := must[[]*Grant](t)(l.Grants(ctx, "newbie", nil))
		if len(grants) != 1 {
			t.Fatalf("%d grants after two checks, want the one refill", len(grants))
		}
	})
}

// CreateCustomer with a plan subscribes the customer in the same write,
// instead of the default plan; GetCustomer shows the subscription.
func TestCreateCustomerOnAPlan(t *testing.T) {
	t.Parallel()
	const config = `
operations:
  work: 1 credit
plans:
  free:
    default: true
    gives: 500 credits every month
  pro:
    gives: 10000 credits every month
    signup_bonus: 1000 credits
`
	onBothStoresWith(t, config, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		_, err := l.CreateCustomer(ctx, "ivy", &CustomerOpts{Plan: "platinum"})
		wantCode(t, "an unknown plan", err, CodeInvalidRequest)
		c := must[*Customer](t)(l.CreateCustomer(ctx, "ivy", &CustomerOpts{Name: "Ivy", Plan: "pro", IdempotencyKey: "ivy-1"}))
		if c.Subscription == nil || c.Subscription.Plan != "pro" {
			t.Fatalf("created customer: %+v", c)
		}
		again := must[*Customer](t)(l.CreateCustomer(ctx, "ivy", &CustomerOpts{Name: "Ivy", Plan: "pro", IdempotencyKey: "ivy-1"}))
		if again.Subscription == nil || again.Subscription.ID != c.Subscription.ID {
			t.Fatalf("replay: %+v", again)
		}
		got := must[*Customer](t)(l.GetCustomer(ctx, "ivy"))
		if got.Subscription == nil || got.Subscription.Plan != "pro" || len(got.Balances) != 1 || got.Balances[0].Available != 11000 {
			t.Fatalf("GetCustomer: %+v (balances %+v)", got, got.Balances)
		}
	})
}

// A brand-new customer's first spend already sees the default plan's
// credits: the plan is joined before the spend applies, in the same write.
func TestFirstSpendSeesTheDefaultPlan(t *testing.T) {
	t.Parallel()
	const config = `
operations:
  work: 1 credit
plans:
  free:
    default: true
    gives: 500 credits every month
  pro:
    gives: 10000 credits every month
`
	onBothStoresWith(t, config, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		e := must[*Entry](t)(l.Debit(ctx, "fresh", 30, nil))
		if e.BalanceAfter != 470 {
			t.Fatalf("first debit of a new customer: %+v", e)
		}
		// A new customer subscribed to a plan of its own joins only that one.
		must[*Subscription](t)(l.StartSubscription(ctx, "chooser", "pro", nil))
		if b := must[*Balance](t)(l.Balance(ctx, "chooser", nil)); b.Available != 10000 {
			t.Fatalf("a new customer on pro: %+v", b)
		}
	})
}
