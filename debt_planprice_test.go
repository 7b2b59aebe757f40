package creditkit

import (
	"context"
	"testing"
	"time"
)

// TestSettleDebtFallsBackToPlanPrice: SettleDebt without a price prices a
// plan customer's debt at the plan's overage_price (not forgiven for
// free); a customer without a plan is still settled without money, and an
// explicit price wins.
func TestSettleDebtFallsBackToPlanPrice(t *testing.T) {
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
		must[*Subscription](t)(l.StartSubscription(ctx, "acme", "metered", nil))
		must[*Entry](t)(l.Debit(ctx, "acme", 3500, nil))
		s := must[*Settlement](t)(l.SettleDebt(ctx, "acme", &SettleOpts{IdempotencyKey: "s-1"}))
		if s.Credits != 2500 || s.Money != "25.00" || s.MoneyCents != 2500 || s.MoneyCurrency != "USD" {
			t.Fatalf("settled at the plan's price: %+v", s)
		}
		if s.Entry == nil || s.Entry.Details["money"] != "25.00" {
			t.Fatalf("settlement entry: %+v", s.Entry)
		}
		if again := must[*Settlement](t)(l.SettleDebt(ctx, "acme", &SettleOpts{IdempotencyKey: "s-1"})); again.Entry.ID != s.Entry.ID || again.Money != "25.00" {
			t.Fatalf("replay: %+v", again)
		}
		// An explicit price wins.
		must[*Entry](t)(l.Debit(ctx, "acme", 1100, nil))
		s = must[*Settlement](t)(l.SettleDebt(ctx, "acme", &SettleOpts{OveragePrice: &OveragePrice{Cents: 2, Currency: "EUR", Per: 1}}))
		if s.Credits != 1100 || s.Money != "22.00" || s.MoneyCurrency != "EUR" {
			t.Fatalf("explicit price: %+v", s)
		}
		// A customer on no plan: settled without money, as before.
		must[*Grant](t)(l.Grant(ctx, "loose", 10, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "loose", 100, nil))
		must[*Entry](t)(l.Debit(ctx, "loose", 30, nil))
		s = must[*Settlement](t)(l.SettleDebt(ctx, "loose", nil))
		if s.Credits != 20 || s.Money != "" {
			t.Fatalf("no plan: %+v", s)
		}
	})
}
