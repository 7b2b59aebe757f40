package creditkit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestSubscriptionPastDue: a failed payment makes the subscription
// past_due; the refills of its grace still come (from the scheduler), the
// later ones do not; the payment restarts the cadence with a full period.
// Paid within the grace, the cadence simply goes on.
func TestSubscriptionPastDue(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.StartSubscription(ctx, "p", "monthly", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := l.StartSubscription(ctx, "q", "monthly", nil); err != nil {
			t.Fatal(err)
		}
		clock.Set(start.AddDate(0, 0, 25))
		grace := 10 * 24 * time.Hour // ends Feb 14: the Feb 10 refill still comes
		for _, c := range []string{"p", "q"} {
			sub, err := l.MarkPastDue(ctx, c, &PastDueOpts{Grace: grace})
			if err != nil || sub.Status != SubscriptionPastDue || sub.PausedAt == nil || !sub.PausedAt.Equal(start.AddDate(0, 0, 25).Add(grace)) {
				t.Fatalf("mark past due %s: %+v %v", c, sub, err)
			}
		}
		// Marking again keeps the first grace.
		clock.Set(start.AddDate(0, 0, 26))
		if sub, err := l.MarkPastDue(ctx, "p", &PastDueOpts{Grace: grace}); err != nil || !sub.PausedAt.Equal(start.AddDate(0, 0, 25).Add(grace)) {
			t.Fatalf("second mark: %+v %v", sub, err)
		}
		clock.Set(start.AddDate(0, 1, 0))
		runDue(t, l, 2, "period end within the grace")
		wantBalance(t, l, "p", 100, "refilled in grace")
		// q pays within the grace: active, same cadence.
		clock.Set(start.AddDate(0, 1, 2))
		sub, err := l.RecoverPastDue(ctx, "q", nil)
		if err != nil || sub.Status != SubscriptionActive || sub.PausedAt != nil || !sub.PeriodEnd.Equal(start.AddDate(0, 2, 0)) {
			t.Fatalf("recover in grace: %+v %v", sub, err)
		}
		clock.Set(start.AddDate(0, 2, 0))
		runDue(t, l, 1, "period end after the grace: only q, which paid")
		wantBalance(t, l, "p", 0, "past the grace: the month's credits expired, no refill")
		wantBalance(t, l, "q", 100, "q refilled")
		clock.Set(start.AddDate(0, 3, 0))
		runDue(t, l, 1, "still only q")
		// p pays late: a new period starts now with the full allowance.
		paid := start.AddDate(0, 3, 5)
		clock.Set(paid)
		sub, err = l.RecoverPastDue(ctx, "p", nil)
		if err != nil || sub.Status != SubscriptionActive || !sub.Anchor.Equal(paid) || !sub.PeriodEnd.Equal(paid.AddDate(0, 1, 0)) {
			t.Fatalf("recover after grace: %+v %v", sub, err)
		}
		wantBalance(t, l, "p", 100, "recovered")
		// Recovering an active subscription changes nothing.
		if sub2, err := l.RecoverPastDue(ctx, "p", nil); err != nil || *sub2 != *sub {
			t.Fatalf("recover again: %+v %v", sub2, err)
		}
		// Only an active subscription becomes past_due.
		if _, err := l.Pause(ctx, "p", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := l.MarkPastDue(ctx, "p", nil); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("past due of a paused subscription: %v", err)
		}
	})
}

// TestRunDueWithManyPastDue: past_due subscriptions past their grace stay
// due (they wait for a payment); RunDue looks at each once per run and
// returns, even when there are more of them than it reads at a time.
func TestRunDueWithManyPastDue(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		n := dueBatch + 5
		for i := range n {
			c := fmt.Sprintf("pd%d", i)
			if _, err := l.StartSubscription(ctx, c, "monthly", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := l.MarkPastDue(ctx, c, nil); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(start.AddDate(0, 1, 0))
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		res, err := l.RunDue(rctx)
		if err != nil || res.Refills != 0 {
			t.Fatalf("RunDue with %d past_due subscriptions: %+v %v", n, res, err)
		}
	})
}
