package creditkit

import (
	"context"
	"math/big"
	"testing"
	"time"
)

// revenueRefundConfig is the example config's part the refund scenarios
// need: a free default plan of 500 credits and the 49 USD starter pack of
// 1000 credits (0.049 USD a credit). refund_debt is appended per test.
const revenueRefundConfig = `
currencies:
  - { name: credits, decimals: 0 }
plans:
  free:
    default: true
    gives: 500 credits every month
    unused_credits: expire
packs:
  starter: { gives: 1000 credits, costs: 49 USD }
`

var revenueRefundStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// refundReport reports [from, to) for customer rr, checks it reconciles,
// and checks the identity with gross sales (sold + refunds, since sold is
// net of refunds): opening + gross sold − refunds + overage + in =
// recognized + breakage + voided + out + closing.
func refundReport(t *testing.T, l *Ledger, from, to time.Time) *MoneyRevenue {
	t.Helper()
	rep, err := l.Revenue(context.Background(), &RevenueOpts{From: from, To: to, Customer: "rr"})
	if err != nil {
		t.Fatal(err)
	}
	checkReconciles(t, "rr", rep)
	m := moneyOf(rep, "USD")
	gross := new(big.Rat).Add(rat(t, "sold", m.Sold), rat(t, "refunds", m.Refunds))
	left := new(big.Rat).Add(rat(t, "opening", m.OpeningDeferred), gross)
	left.Sub(left, rat(t, "refunds", m.Refunds))
	left.Add(left, rat(t, "overage", m.OverageBilled))
	left.Add(left, rat(t, "in", m.TransferredIn))
	right := new(big.Rat)
	for _, x := range []RevenueLine{m.Recognized, m.Breakage, m.Voided, m.TransferredOut, m.ClosingDeferred} {
		right.Add(right, rat(t, "right", x))
	}
	if left.Cmp(right) != 0 {
		t.Fatalf("opening + gross sold - refunds = %s, recognized + breakage + voided + out + closing = %s: %+v",
			left.FloatString(4), right.FloatString(4), m)
	}
	return m
}

// wantGross checks sold + refunds: the packs sold before refunds.
func wantGross(t *testing.T, m *MoneyRevenue, want string) {
	t.Helper()
	gross := new(big.Rat).Add(rat(t, "sold", m.Sold), rat(t, "refunds", m.Refunds))
	if got := gross.FloatString(2); got != want {
		t.Fatalf("gross sold (sold %s + refunds %s) = %s, want %s", m.Sold.Exact, m.Refunds.Exact, got, want)
	}
}

// refundThenRebuy plays the reviewer's scenario on customer rr: a starter
// pack, a spend of 1200 (the free plan's 500, then 700 of the pack), the
// refunds given (cumulative totals, in cents), then a second starter
// pack. It returns the instants between the steps: after the spend, after
// the refunds, and after the second pack.
func refundThenRebuy(t *testing.T, l *Ledger, clock *ManualClock, refunds ...int64) (spent, refunded, rebought time.Time) {
	t.Helper()
	ctx := context.Background()
	must[*Customer](t)(l.CreateCustomer(ctx, "rr", nil))
	clock.Advance(time.Minute)
	must[*Purchase](t)(l.Purchase(ctx, "rr", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "rr1"}))
	clock.Advance(time.Minute)
	debit(t, l, "rr", 1200)
	clock.Advance(time.Minute)
	spent = clock.Now()
	for _, total := range refunds {
		must[*Refund](t)(l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: "rr1", RefundedTotal: total}))
		clock.Advance(time.Minute)
	}
	refunded = clock.Now()
	must[*Purchase](t)(l.Purchase(ctx, "rr", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "rr2"}))
	clock.Advance(time.Minute)
	return spent, refunded, clock.Now()
}

func credits(n Amount) map[string]Amount {
	if n == 0 {
		return map[string]Amount{}
	}
	return map[string]Amount{"credits": n}
}

// The reviewer's scenario under refund_debt: allow: the full refund takes
// back 300 credits and records 700 as debt, the second pack repays it.
// Cash is 49 paid, 49 refunded, 49 paid; 700 paid credits were consumed,
// once. Before the fix the report said sold 83.30, recognized 68.60 and
// refunds 14.70: the 700 credits were recognized twice.
func TestRevenueRefundDebtThenRebuyRecognizesOnce(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, revenueRefundConfig+"refund_debt: allow\n", revenueRefundStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		from := revenueRefundStart.Add(-time.Hour)
		spent, refunded, end := refundThenRebuy(t, l, clock, 4900)

		m := refundReport(t, l, from, end)
		wantGross(t, m, "98.00")
		wantLine(t, "sold", m.Sold, "49.00", "49", credits(1000))
		wantLine(t, "refunds", m.Refunds, "49.00", "49", credits(1000))
		wantLine(t, "recognized", m.Recognized, "34.30", "34.3", credits(700))
		wantLine(t, "closing", m.ClosingDeferred, "14.70", "14.7", credits(300))
		wantLine(t, "opening", m.OpeningDeferred, "0.00", "0", nil)

		// Up to the spend: one pack sold, 700 of it recognized.
		a := refundReport(t, l, from, spent)
		wantLine(t, "sold up to the spend", a.Sold, "49.00", "49", credits(1000))
		wantLine(t, "recognized up to the spend", a.Recognized, "34.30", "34.3", credits(700))
		wantLine(t, "closing up to the spend", a.ClosingDeferred, "14.70", "14.7", credits(300))
		// The refund: the whole pack's money is a negative sale, and the
		// 700 credits of debt reverse their recognized revenue.
		b := refundReport(t, l, spent, refunded)
		wantGross(t, b, "0.00")
		wantLine(t, "refund's sold", b.Sold, "-49.00", "-49", credits(-1000))
		wantLine(t, "refund's refunds", b.Refunds, "49.00", "49", credits(1000))
		wantLine(t, "refund's recognized", b.Recognized, "-34.30", "-34.3", credits(-700))
		wantLine(t, "refund's closing", b.ClosingDeferred, "0.00", "0", nil)
		// The second pack repays the debt: its 700 credits are recognized.
		c := refundReport(t, l, refunded, end)
		wantLine(t, "rebuy's opening", c.OpeningDeferred, "0.00", "0", nil)
		wantLine(t, "rebuy's sold", c.Sold, "49.00", "49", credits(1000))
		wantLine(t, "rebuy's refunds", c.Refunds, "0.00", "0", nil)
		wantLine(t, "rebuy's recognized", c.Recognized, "34.30", "34.3", credits(700))
		wantLine(t, "rebuy's closing", c.ClosingDeferred, "14.70", "14.7", credits(300))

		// The free plan's 500 credits are counted apart, consumed once.
		rep := must[*RevenueReport](t)(l.Revenue(context.Background(), &RevenueOpts{From: from, To: end}))
		checkReconciles(t, "every customer", rep)
		if u := uncostedOf(rep, "credits"); u.Granted != 500 || u.Consumed != 500 || u.Closing != 0 {
			t.Fatalf("uncosted = %+v, want 500 granted and consumed", u)
		}
	})
}

// A half refund, then the rest, comes to the same as one full refund; in
// between, half the pack's money is refunded: 300 credits taken back and
// 200 recorded as debt, whose recognized revenue is reversed.
func TestRevenueRefundDebtPartialThenFull(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, revenueRefundConfig+"refund_debt: allow\n", revenueRefundStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		from := revenueRefundStart.Add(-time.Hour)
		spent, refunded, end := refundThenRebuy(t, l, clock, 2450, 4900)
		m := refundReport(t, l, from, end)
		wantGross(t, m, "98.00")
		wantLine(t, "sold", m.Sold, "49.00", "49", credits(1000))
		wantLine(t, "refunds", m.Refunds, "49.00", "49", credits(1000))
		wantLine(t, "recognized", m.Recognized, "34.30", "34.3", credits(700))
		wantLine(t, "closing", m.ClosingDeferred, "14.70", "14.7", credits(300))

		// Just the half refund (the first minute after the spend).
		half := refundReport(t, l, spent, spent.Add(time.Minute))
		wantLine(t, "half's sold", half.Sold, "-24.50", "-24.5", credits(-500))
		wantLine(t, "half's refunds", half.Refunds, "24.50", "24.5", credits(500))
		wantLine(t, "half's recognized", half.Recognized, "-9.80", "-9.8", credits(-200))
		wantLine(t, "half's closing", half.ClosingDeferred, "0.00", "0", nil)
		// The rest: 500 more credits of debt.
		rest := refundReport(t, l, spent.Add(time.Minute), refunded)
		wantLine(t, "rest's sold", rest.Sold, "-24.50", "-24.5", credits(-500))
		wantLine(t, "rest's recognized", rest.Recognized, "-24.50", "-24.5", credits(-500))
	})
}

// Under refund_debt: forbid the 700 spent credits are a shortfall: the
// money refunded for them still goes back, so their recognized revenue is
// reversed the same way, and nothing repays it: the pack made no revenue.
// The second pack is all deferred.
func TestRevenueRefundShortfall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		refunds []int64
	}{{"full", []int64{4900}}, {"half then full", []int64{2450, 4900}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			onBothStoresWith(t, revenueRefundConfig+"refund_debt: forbid\n", revenueRefundStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
				from := revenueRefundStart.Add(-time.Hour)
				spent, refunded, end := refundThenRebuy(t, l, clock, tc.refunds...)
				m := refundReport(t, l, from, end)
				wantGross(t, m, "98.00")
				wantLine(t, "sold", m.Sold, "49.00", "49", credits(1000))
				wantLine(t, "refunds", m.Refunds, "49.00", "49", credits(1000))
				wantLine(t, "recognized", m.Recognized, "0.00", "0", nil)
				wantLine(t, "closing", m.ClosingDeferred, "49.00", "49", credits(1000))

				r := refundReport(t, l, spent, refunded)
				wantLine(t, "refunds' sold", r.Sold, "-49.00", "-49", credits(-1000))
				wantLine(t, "refunds' recognized", r.Recognized, "-34.30", "-34.3", credits(-700))
			})
		})
	}
}
