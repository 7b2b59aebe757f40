package creditkit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestKeepSubscription: a cancellation scheduled at the period end is
// taken back by KeepSubscription or by changing to the current plan: the
// subscription renews at its period end, its credits get back their own
// expiry, and credits.subscription.updated says "renewed".
func TestKeepSubscription(t *testing.T) {
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		var mu sync.Mutex
		renewed := map[string]int{}
		l.Subscribe(func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Type == EventSubscriptionUpdated && e.Data["change"] == "renewed" {
				renewed[e.Customer]++
			}
		})
		// rollpro: rollover with expire_after 5 days.
		if _, err := l.StartSubscription(ctx, "k", "rollpro", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := l.KeepSubscription(ctx, "k", nil); err != nil {
			t.Fatalf("keep without a scheduled cancel: %v", err)
		}
		clock.Set(start.AddDate(0, 0, 20))
		if sub, err := l.Cancel(ctx, "k", &CancelOpts{AtPeriodEnd: true}); err != nil || sub.CancelAt == nil {
			t.Fatalf("scheduled cancel: %+v %v", sub, err)
		}
		sub, err := l.KeepSubscription(ctx, "k", &SubscriptionOpts{IdempotencyKey: "keep-1"})
		if err != nil || sub.CancelAt != nil || sub.Status != SubscriptionActive {
			t.Fatalf("kept: %+v %v", sub, err)
		}
		if again, err := l.KeepSubscription(ctx, "k", &SubscriptionOpts{IdempotencyKey: "keep-1"}); err != nil || again.UpdatedAt != sub.UpdatedAt {
			t.Fatalf("replay: %+v %v", again, err)
		}
		gs, err := l.Grants(ctx, "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.ExpiresAt != nil {
				t.Fatalf("a rollover refill kept the cancellation's expiry: %+v", g)
			}
		}
		clock.Set(start.AddDate(0, 1, 0))
		runDue(t, l, 1, "renewed at the period end")
		wantBalance(t, l, "k", 200, "rolled over + refill")
		clock.Set(start.AddDate(0, 1, 6))
		wantBalance(t, l, "k", 200, "nothing expired after the old cancel's expire_after")

		// PUT of the current plan (ChangePlan) renews too; basic expires
		// its refill at the period end, with expire_after 10 days.
		clock.Set(start)
		if _, err := l.StartSubscription(ctx, "c", "basic", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Cancel(ctx, "c", &CancelOpts{AtPeriodEnd: true}); err != nil {
			t.Fatal(err)
		}
		if sub, err = l.ChangePlan(ctx, "c", "basic", nil); err != nil || sub.CancelAt != nil {
			t.Fatalf("renew by plan: %+v %v", sub, err)
		}
		gs, err = l.Grants(ctx, "c", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.Source == SourceSubscription && (g.ExpiresAt == nil || !g.ExpiresAt.Equal(start.AddDate(0, 1, 0))) {
				t.Fatalf("refill expiry not restored to the period end: %+v", g)
			}
		}
		// Canceled already: nothing to keep.
		if _, err := l.Cancel(ctx, "c", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := l.KeepSubscription(ctx, "c", nil); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("keep a canceled subscription: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if renewed["k"] != 1 || renewed["c"] != 1 {
			t.Fatalf("renewed events: %v", renewed)
		}
	})
}
