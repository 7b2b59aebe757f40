package creditkit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPurchaseFree: a purchase that paid nothing (Free, a 100% coupon)
// records 0 paid, not the pack's price: its credits are granted with no
// cost basis, the revenue report sells nothing for them, a replay answers
// it, and a refund of any money is refused (nothing was paid) and moves
// nothing. A partial payment records what was paid.
func TestPurchaseFree(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig, purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		p, err := l.Purchase(ctx, "zoe", PurchaseOpts{Pack: "starter", Provider: "paddle", ExternalID: "coupon_1", Free: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Replayed || p.AmountPaid != 0 || p.MoneyCurrency != "USD" || p.Credits != 1000 || p.CostBasis != nil {
			t.Fatalf("free purchase = %+v (cost basis %+v), want 0 USD paid, 1000 credits, no cost basis", p, p.CostBasis)
		}
		g, err := l.GetGrant(ctx, p.GrantID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Amount != 1000 || g.CostBasis != nil || g.Metadata["amount_paid"] != "0" || g.Metadata["cost_basis"] != "" {
			t.Fatalf("free purchase's grant = %+v (cost basis %+v)", g, g.CostBasis)
		}
		if got, err := l.GetPurchase(ctx, "paddle", "coupon_1"); err != nil || got.AmountPaid != 0 || got.CostBasis != nil {
			t.Fatalf("get free purchase = %+v, %v", got, err)
		}
		// A replay without an amount answers the same purchase.
		again, err := l.Purchase(ctx, "zoe", PurchaseOpts{Pack: "starter", Provider: "paddle", ExternalID: "coupon_1"})
		if err != nil || !again.Replayed || again.ID != p.ID || again.AmountPaid != 0 {
			t.Fatalf("replay = %+v, %v", again, err)
		}
		// Free with money paid contradicts itself.
		_, err = l.Purchase(ctx, "zoe", PurchaseOpts{Pack: "starter", Provider: "paddle", ExternalID: "coupon_2", Free: true, AmountPaid: 100})
		if ErrorCodeOf(err) != CodeInvalidAmount || !strings.Contains(err.Error(), "free") {
			t.Fatalf("free with amount_paid: %v", err)
		}

		// A partial coupon: what was paid, not the pack's price.
		half, err := l.Purchase(ctx, "ann", PurchaseOpts{Pack: "starter", Provider: "paddle", ExternalID: "half_1", AmountPaid: 500})
		if err != nil || half.AmountPaid != 500 || half.CostBasis == nil || half.CostBasis.PerCredit != "0.005" {
			t.Fatalf("half-price purchase = %+v, %v", half, err)
		}

		// Revenue: the free pack sells nothing; the half-price one 5 USD.
		clock.Advance(time.Hour)
		rep, err := l.Revenue(ctx, &RevenueOpts{From: purchaseStart.Add(-time.Hour), To: purchaseStart.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rep.Money {
			if m.Currency != "USD" || m.Sold.Value != "5.00" {
				t.Fatalf("revenue sold %s %s, want 5.00 USD (the free pack sells nothing): %+v", m.Sold.Value, m.Currency, rep)
			}
		}
		zr, err := l.Revenue(ctx, &RevenueOpts{From: purchaseStart.Add(-time.Hour), To: purchaseStart.Add(time.Hour), Customer: "zoe"})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range zr.Money {
			if m.Sold.Value != "0.00" {
				t.Fatalf("zoe's revenue sold %s %s, want nothing", m.Sold.Value, m.Currency)
			}
		}

		// No money can be refunded on a free purchase.
		_, err = l.Refund(ctx, RefundOpts{Provider: "paddle", ExternalID: "coupon_1", RefundedTotal: 4900})
		if ErrorCodeOf(err) != CodeInvalidAmount || !strings.Contains(err.Error(), "paid nothing") || !strings.Contains(err.Error(), p.GrantID) {
			t.Fatalf("refund of a free purchase: %v", err)
		}
		_, err = l.Refund(ctx, RefundOpts{Provider: "paddle", ExternalID: "coupon_1", RefundedTotal: 1})
		if ErrorCodeOf(err) != CodeInvalidAmount {
			t.Fatalf("refund of 1 cent of a free purchase: %v", err)
		}
		r, err := l.Refund(ctx, RefundOpts{Provider: "paddle", ExternalID: "coupon_1", RefundedTotal: 0})
		if err != nil || r.ClawedBack != 0 || len(r.Entries) != 0 || r.Purchase.RefundedCents != 0 {
			t.Fatalf("refund of 0 on a free purchase = %+v, %v", r, err)
		}
		b, err := l.Balance(ctx, "zoe", nil)
		if err != nil || b.Available != 1000 || b.Debt != 0 {
			t.Fatalf("zoe's balance = %+v, %v, want the 1000 free credits", b, err)
		}
	})
}

// TestPurchaseReplayConflicts: a replay of a purchase that gives an
// amount paid, money currency or credits other than those recorded is a
// purchase_conflict naming what differs and what was recorded, and moves
// nothing; one that leaves them out, or repeats them, replays.
func TestPurchaseReplayConflicts(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig, purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		first := buy(t, l, "zed", "starter", "ext1") // 10 USD for 1000 credits
		free, err := l.Purchase(ctx, "zed", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "ext_free", Free: true})
		if err != nil {
			t.Fatal(err)
		}
		base := PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "ext1"}
		conflicts := []struct {
			name  string
			tweak func(o *PurchaseOpts)
			want  []string
		}{
			{"another amount", func(o *PurchaseOpts) { o.AmountPaid = 100 }, []string{"amount_paid 1000 (10.00 USD) recorded", "100 given"}},
			{"nothing paid", func(o *PurchaseOpts) { o.Free = true }, []string{"amount_paid 1000", "0 given"}},
			{"another currency", func(o *PurchaseOpts) { o.AmountPaid, o.MoneyCurrency = 1000, "EUR" }, []string{"currency USD recorded, not the EUR given"}},
			{"another credits", func(o *PurchaseOpts) { o.Credits = 500 }, []string{"credits 1000 recorded, not the 500 given"}},
			{"paid for a free one", func(o *PurchaseOpts) { o.ExternalID, o.AmountPaid = "ext_free", 1000 }, []string{"amount_paid 0", "1000 given"}},
		}
		for _, c := range conflicts {
			o := base
			c.tweak(&o)
			_, err := l.Purchase(ctx, "zed", o)
			if ErrorCodeOf(err) != CodePurchaseConflict {
				t.Fatalf("%s: %v, want purchase_conflict", c.name, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("%s: %q does not say %q", c.name, err, w)
				}
			}
		}
		replays := []struct {
			name  string
			tweak func(o *PurchaseOpts)
		}{
			{"nothing given", func(o *PurchaseOpts) {}},
			{"the same amount", func(o *PurchaseOpts) { o.AmountPaid = 1000 }},
			{"the same amount and currency", func(o *PurchaseOpts) { o.AmountPaid, o.MoneyCurrency = 1000, "usd" }},
			{"the same credits", func(o *PurchaseOpts) { o.Credits = 1000 }},
		}
		for _, c := range replays {
			o := base
			c.tweak(&o)
			p, err := l.Purchase(ctx, "zed", o)
			if err != nil || !p.Replayed || p.ID != first.ID || p.AmountPaid != 1000 {
				t.Fatalf("%s: %+v, %v, want a replay of %s", c.name, p, err, first.ID)
			}
		}
		if p, err := l.Purchase(ctx, "zed", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "ext_free", Free: true}); err != nil || !p.Replayed || p.ID != free.ID {
			t.Fatalf("free replay: %+v, %v", p, err)
		}
		// Recorded in EUR: a replay of the amount without a currency names
		// the pack's (USD), so it conflicts; with EUR it replays.
		eur, err := l.Purchase(ctx, "zed", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "ext_eur", AmountPaid: 900, MoneyCurrency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Purchase(ctx, "zed", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "ext_eur", AmountPaid: 900}); ErrorCodeOf(err) != CodePurchaseConflict ||
			!strings.Contains(err.Error(), "currency EUR recorded, not the USD given") {
			t.Fatalf("replay of a EUR purchase's amount without its currency: %v, want purchase_conflict naming the currencies", err)
		}
		if p, err := l.Purchase(ctx, "zed", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "ext_eur", AmountPaid: 900, MoneyCurrency: "eur"}); err != nil || p.ID != eur.ID {
			t.Fatalf("replay with EUR: %+v, %v", p, err)
		}
		b, err := l.Balance(ctx, "zed", nil)
		if err != nil || b.Available != 3000 {
			t.Fatalf("zed's balance = %+v, %v, want 3000 (three purchases, nothing more)", b, err)
		}
	})
}
