package creditkit

import (
	"context"
	"testing"
	"time"
)

// A subscription change that changes nothing (resume an active
// subscription, change to the current plan) still catches up the periods that fell due, and
// saves them: the next RunDue must not refill them again.
func TestNoOpSubscriptionChangeKeepsItsCatchUp(t *testing.T) {
	t.Parallel()
	const config = `
plans:
  daily:
    gives: 100 credits every day
`
	onBothStoresWith(t, config, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		noops := []func() (*Subscription, error){
			func() (*Subscription, error) { return l.Resume(ctx, "a", nil) },
			func() (*Subscription, error) { return l.ChangePlan(ctx, "a", "daily", nil) },
		}
		must[*Subscription](t)(l.StartSubscription(ctx, "a", "daily", nil))
		for i, noop := range noops {
			clock.Advance(25 * time.Hour)
			answered := must[*Subscription](t)(noop())
			stored := must[*Subscription](t)(l.GetSubscription(ctx, "a", nil))
			if !stored.PeriodEnd.Equal(answered.PeriodEnd) {
				t.Fatalf("no-op %d answered period end %s but stored %s", i, answered.PeriodEnd, stored.PeriodEnd)
			}
			if _, err := l.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			seen := map[time.Time]int{}
			for _, g := range must[[]*Grant](t)(l.Grants(ctx, "a", nil)) {
				if seen[g.EffectiveAt]++; seen[g.EffectiveAt] > 1 {
					t.Fatalf("after no-op %d: two refills at %s", i, g.EffectiveAt)
				}
			}
			if len(seen) != i+2 {
				t.Fatalf("after no-op %d: %d refills, want %d", i, len(seen), i+2)
			}
		}
	})
}
