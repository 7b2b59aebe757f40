package creditkit

import (
	"context"
	"testing"
	"time"
)

// A check's "used" reads hourly charge totals (charge_totals, migration
// 0012) plus the charges of the period's first, partial hour: charges
// backdated into that hour count from the period start to the microsecond,
// whole hours count as they occurred, a reversal does not lower it, a
// captured hold counts, and a charge backdated into the previous period
// does not count in the next.
func TestCheckUsedAcrossHourBoundaries(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 10, 10, 23, 45, 123456000, time.UTC)
	onBothStoresWith(t, checkConfig, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Subscription](t)(l.StartSubscription(ctx, "acme", "metered", nil))
		must[*Grant](t)(l.Grant(ctx, "acme", 1_000_000, nil))
		clock.Set(start.Add(2 * time.Hour))
		debitAt := func(amount Amount, at time.Time) *Entry {
			t.Helper()
			return must[*Entry](t)(l.Debit(ctx, "acme", amount, &DebitOpts{OccurredAt: at}))
		}
		hour := start.Truncate(time.Hour)
		debitAt(5, start.Add(-time.Microsecond))          // the period's hour, before it started
		debitAt(7, start)                                 // the period's first microsecond
		debitAt(13, hour.Add(time.Hour-time.Microsecond)) // the end of the first, partial hour
		debitAt(11, hour.Add(time.Hour))                  // the first whole hour
		e := debitAt(17, time.Time{})                     // now
		must[*Entry](t)(l.Reverse(ctx, e.ID, &ReverseOpts{Reason: "support"}))
		amt := Amount(19)
		h := must[*Hold](t)(l.Hold(ctx, "acme", "", nil, &HoldOpts{Amount: &amt}))
		must[*Entry](t)(l.Capture(ctx, h.ID, nil, nil))
		c := must[*Check](t)(l.CheckAmount(ctx, "acme", 1, ""))
		if c.Plan == nil || c.Plan.Used != 7+13+11+17+19 {
			t.Fatalf("January's check: %+v", c.Plan)
		}

		// February's period starts on the 10th at the same time of day.
		clock.Set(time.Date(2027, 2, 11, 0, 0, 0, 0, time.UTC))
		runDue(t, l, 1, "the February refill")
		feb := time.Date(2027, 2, 10, 10, 23, 45, 123456000, time.UTC)
		debitAt(3, feb.Add(-time.Microsecond))
		debitAt(4, feb)
		debitAt(2, time.Time{})
		c = must[*Check](t)(l.CheckAmount(ctx, "acme", 1, ""))
		if c.Plan == nil || !c.Plan.PeriodStart.Equal(feb) || c.Plan.Used != 4+2 {
			t.Fatalf("February's check: %+v", c.Plan)
		}
	})
}
