package creditkit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// huge is a grant that fits one wallet (with a plan's 500 credits beside
// it) but not a sum with many other wallets.
const huge Amount = 9223372036854775000

// The reviewer's repro: a free plan's 500 credits for a and b, a grant of
// 100 for a and one of 9223372036854775000 for b. The report over every
// customer would have to say 9223372036854776100 credits granted, which an
// Amount cannot hold: it answers invalid_request saying how to narrow the
// report, instead of an overflow error about one entry. Each customer's
// report works.
func TestRevenueHugeGrantOverEveryCustomer(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, revenueRefundConfig, revenueRefundStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "a", 100, &GrantOpts{Reason: "r"}))
		must[*Grant](t)(l.Grant(ctx, "b", huge, &GrantOpts{Reason: "r"}))
		clock.Advance(time.Minute)
		from, to := revenueRefundStart.Add(-time.Hour), clock.Now()

		_, err := l.Revenue(ctx, &RevenueOpts{From: from, To: to})
		if ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("report over every customer: %v, want invalid_request", err)
		}
		for _, want := range []string{"granted", "9223372036854776100", "--customer", "shorter range"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "overflows") || strings.Contains(err.Error(), "ent_") {
			t.Fatalf("error %q still blames one entry", err)
		}

		for customer, granted := range map[string]Amount{"a": 600, "b": huge + 500} {
			rep, err := l.Revenue(ctx, &RevenueOpts{From: from, To: to, Customer: customer})
			if err != nil {
				t.Fatalf("report of %s: %v", customer, err)
			}
			checkReconciles(t, customer, rep)
			if u := uncostedOf(rep, "credits"); u.Granted != granted || u.Closing != granted {
				t.Fatalf("report of %s: uncosted %+v, want %d granted and closing", customer, u, granted)
			}
		}
		// Narrowed to one customer, a total past 64 bits says to narrow
		// the range.
		must[*Entry](t)(l.Debit(ctx, "b", huge, nil))
		must[*Grant](t)(l.Grant(ctx, "b", huge, &GrantOpts{Reason: "again"}))
		clock.Advance(time.Minute)
		_, err = l.Revenue(ctx, &RevenueOpts{From: from, To: clock.Now(), Customer: "b"})
		if ErrorCodeOf(err) != CodeInvalidRequest || !strings.Contains(err.Error(), "shorter range") || strings.Contains(err.Error(), "--customer") {
			t.Fatalf("report of b over two huge grants: %v, want invalid_request naming a shorter range", err)
		}
	})
}

// A huge grant whose credits left before the range: every total of the
// report fits, though a running sum over the customers passes 64 bits (a's
// 1000 credits, then b's huge grant before its spend). The report works,
// in money (with cost bases) and in uncosted credits; before, it failed
// with an overflow. Money values past what an int64 holds are exact too.
func TestRevenueHugeGrantRunningSums(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, revenueRefundConfig, revenueRefundStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		usd := func(per string) *GrantOpts {
			return &GrantOpts{Reason: "r", CostBasis: &CostBasis{PerCredit: per, Currency: "USD"}}
		}
		// b: a huge costed grant spent at once, a huge free one voided.
		must[*Grant](t)(l.Grant(ctx, "b", huge, usd("2")))
		must[*Entry](t)(l.Debit(ctx, "b", huge, nil))
		free := must[*Grant](t)(l.Grant(ctx, "b", huge-500, &GrantOpts{Reason: "free"}))
		must[*Entry](t)(l.Void(ctx, free.ID, nil))
		clock.Advance(time.Hour)
		from := clock.Now()
		// a, in the range: 1000 costed credits and 100 free ones.
		must[*Grant](t)(l.Grant(ctx, "a", 1000, usd("0.049")))
		must[*Grant](t)(l.Grant(ctx, "a", 100, &GrantOpts{Reason: "free"}))
		clock.Advance(time.Minute)
		to := clock.Now()

		rep := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: from, To: to}))
		checkReconciles(t, "range", rep)
		m := moneyOf(rep, "USD")
		wantLine(t, "opening", m.OpeningDeferred, "0.00", "0", nil)
		wantLine(t, "sold", m.Sold, "49.00", "49", credits(1000))
		wantLine(t, "closing", m.ClosingDeferred, "49.00", "49", credits(1000))
		// a and b each have the free plan's 500 as well.
		if u := uncostedOf(rep, "credits"); u.Opening != 500 || u.Granted != 600 || u.Closing != 1100 {
			t.Fatalf("uncosted = %+v, want opening 500 (b's plan), granted 600 (a's), closing 1100", u)
		}

		// b's whole history: a sale of 2 × 9223372036854775000 USD,
		// recognized at once, past what an int64 of cents holds.
		rep = must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: revenueRefundStart.Add(-time.Hour), To: to, Customer: "b"}))
		checkReconciles(t, "b", rep)
		m = moneyOf(rep, "USD")
		wantLine(t, "b's sold", m.Sold, "18446744073709550000.00", "18446744073709550000", credits(huge))
		wantLine(t, "b's recognized", m.Recognized, "18446744073709550000.00", "18446744073709550000", credits(huge))
		if u := uncostedOf(rep, "credits"); u.Granted != huge || u.Voided != huge-500 || u.Closing != 500 {
			t.Fatalf("b's uncosted = %+v", u)
		}
	})
}
