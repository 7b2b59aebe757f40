package creditkit

import (
	"context"
	"math/big"
	"testing"
	"time"
)

// This file checks that a refund's debt or shortfall reverses revenue on
// the line the purchase grant's credits left by (voided, transferred out,
// consumed), not always on recognized.

// refundPolicies runs fn under refund_debt: allow and forbid, on both
// stores.
func refundPolicies(t *testing.T, fn func(t *testing.T, l *Ledger, clock *ManualClock)) {
	t.Helper()
	for _, policy := range []string{"allow", "forbid"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			onBothStoresWith(t, revenueRefundConfig+"refund_debt: "+policy+"\n", revenueRefundStart, fn)
		})
	}
}

// customerReport reports [from, to) for one customer and checks it
// reconciles.
func customerReport(t *testing.T, l *Ledger, customer string, from, to time.Time) *MoneyRevenue {
	t.Helper()
	rep := must[*RevenueReport](t)(l.Revenue(context.Background(), &RevenueOpts{From: from, To: to, Customer: customer}))
	checkReconciles(t, customer, rep)
	return moneyOf(rep, "USD")
}

// buyStarter has customer c spend the free plan's 500 credits and buy a
// starter pack (external ID ext); it returns the pack's grant ID.
func buyStarter(t *testing.T, l *Ledger, clock *ManualClock, c, ext string) string {
	t.Helper()
	ctx := context.Background()
	must[*Customer](t)(l.CreateCustomer(ctx, c, nil))
	clock.Advance(time.Minute)
	debit(t, l, c, 500)
	clock.Advance(time.Minute)
	p := must[*Purchase](t)(l.Purchase(ctx, c, PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: ext}))
	clock.Advance(time.Minute)
	return p.GrantID
}

// The reviewer's void repro: the pack's 1000 credits were voided, not
// spent, then refunded in full. The refund reverses the void's 49.00, not
// recognized revenue (which was -49.00 before the fix).
func TestRevenueRefundOfVoidedPackReversesVoided(t *testing.T) {
	t.Parallel()
	refundPolicies(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		from := revenueRefundStart.Add(-time.Hour)
		g := buyStarter(t, l, clock, "v1", "v1-v1")
		must[*Entry](t)(l.Void(ctx, g, nil))
		clock.Advance(time.Minute)
		voided := clock.Now()
		r := must[*Refund](t)(l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: "v1-v1", RefundedTotal: 4900}))
		if r.ClawedBack != 0 || r.Debt+r.Shortfall != 1000 {
			t.Fatalf("refund = clawed %d debt %d shortfall %d, want 1000 unrecovered", r.ClawedBack, r.Debt, r.Shortfall)
		}
		clock.Advance(time.Minute)
		end := clock.Now()

		m := customerReport(t, l, "v1", from, end)
		wantLine(t, "sold", m.Sold, "0.00", "0", nil)
		wantLine(t, "refunds", m.Refunds, "49.00", "49", credits(1000))
		wantLine(t, "recognized", m.Recognized, "0.00", "0", nil)
		wantLine(t, "voided", m.Voided, "0.00", "0", nil)
		wantLine(t, "closing", m.ClosingDeferred, "0.00", "0", nil)
		// The refund alone takes the void back.
		b := customerReport(t, l, "v1", voided, end)
		wantLine(t, "refund's sold", b.Sold, "-49.00", "-49", credits(-1000))
		wantLine(t, "refund's voided", b.Voided, "-49.00", "-49", credits(-1000))
		wantLine(t, "refund's recognized", b.Recognized, "0.00", "0", nil)
		// Before it, the void.
		a := customerReport(t, l, "v1", from, voided)
		wantLine(t, "void's voided", a.Voided, "49.00", "49", credits(1000))
	})
}

// Credits that left the pack by two lines: 300 spent, the other 700
// voided. A half refund (500 credits, none left to take back) reverses the
// 300 consumed first, then 200 of the void; the rest of the refund the
// other 500 voided. In all, neither line keeps any of the pack.
func TestRevenueRefundSplitsConsumedAndVoided(t *testing.T) {
	t.Parallel()
	refundPolicies(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		from := revenueRefundStart.Add(-time.Hour)
		g := buyStarter(t, l, clock, "m1", "m1-1")
		debit(t, l, "m1", 300)
		must[*Entry](t)(l.Void(ctx, g, nil))
		clock.Advance(time.Minute)
		before := clock.Now()
		must[*Refund](t)(l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: "m1-1", RefundedTotal: 2450}))
		clock.Advance(time.Minute)
		half := clock.Now()
		must[*Refund](t)(l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: "m1-1", RefundedTotal: 4900}))
		clock.Advance(time.Minute)
		end := clock.Now()

		h := customerReport(t, l, "m1", before, half)
		wantLine(t, "half's sold", h.Sold, "-24.50", "-24.5", credits(-500))
		wantLine(t, "half's recognized", h.Recognized, "-14.70", "-14.7", credits(-300))
		wantLine(t, "half's voided", h.Voided, "-9.80", "-9.8", credits(-200))
		r := customerReport(t, l, "m1", half, end)
		wantLine(t, "rest's recognized", r.Recognized, "0.00", "0", nil)
		wantLine(t, "rest's voided", r.Voided, "-24.50", "-24.5", credits(-500))
		m := customerReport(t, l, "m1", from, end)
		wantLine(t, "sold", m.Sold, "0.00", "0", nil)
		wantLine(t, "refunds", m.Refunds, "49.00", "49", credits(1000))
		wantLine(t, "recognized", m.Recognized, "0.00", "0", nil)
		wantLine(t, "voided", m.Voided, "0.00", "0", nil)
	})
}

// The reviewer's transfer repro: t3 transfers the whole pack to t4, then
// the pack is refunded in full. The refund reverses t3's transfer out, not
// recognized revenue; t4 keeps 1000 credits deferred at the cost basis
// they came with. Over both customers the 49.00 t4 holds is transferred in
// with no transfer out left against it: the deferred credits whose money
// went back.
func TestRevenueRefundOfTransferredPackReversesOut(t *testing.T) {
	t.Parallel()
	refundPolicies(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		from := revenueRefundStart.Add(-time.Hour)
		buyStarter(t, l, clock, "t3", "t3-1")
		must[*Customer](t)(l.CreateCustomer(ctx, "t4", nil))
		must[*TransferResult](t)(l.Transfer(ctx, "t3", "t4", 1000, nil))
		clock.Advance(time.Minute)
		must[*Refund](t)(l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: "t3-1", RefundedTotal: 4900}))
		clock.Advance(time.Minute)
		end := clock.Now()

		s := customerReport(t, l, "t3", from, end)
		wantLine(t, "t3 sold", s.Sold, "0.00", "0", nil)
		wantLine(t, "t3 refunds", s.Refunds, "49.00", "49", credits(1000))
		wantLine(t, "t3 recognized", s.Recognized, "0.00", "0", nil)
		wantLine(t, "t3 out", s.TransferredOut, "0.00", "0", nil)
		wantLine(t, "t3 closing", s.ClosingDeferred, "0.00", "0", nil)
		r := customerReport(t, l, "t4", from, end)
		wantLine(t, "t4 in", r.TransferredIn, "49.00", "49", credits(1000))
		wantLine(t, "t4 closing", r.ClosingDeferred, "49.00", "49", credits(1000))

		all := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: from, To: end}))
		// checkReconciles asks transfers to cancel out over every
		// customer; here they do not, by the refunded pack's 49.00, so
		// check the identity as for one customer.
		one := *all
		one.Customer = "every customer, in and out apart"
		checkReconciles(t, "every customer", &one)
		m := moneyOf(all, "USD")
		wantLine(t, "sold", m.Sold, "0.00", "0", nil)
		wantLine(t, "recognized", m.Recognized, "0.00", "0", nil)
		wantLine(t, "in", m.TransferredIn, "49.00", "49", credits(1000))
		wantLine(t, "out", m.TransferredOut, "0.00", "0", nil)
		wantLine(t, "closing", m.ClosingDeferred, "49.00", "49", credits(1000))
		unfunded := new(big.Rat).Sub(rat(t, "in", m.TransferredIn), rat(t, "out", m.TransferredOut))
		if unfunded.Cmp(rat(t, "closing", m.ClosingDeferred)) != 0 {
			t.Fatalf("in - out = %s, want the closing deferred %s", unfunded.RatString(), m.ClosingDeferred.Exact)
		}
	})
}
