package creditkit

import (
	"context"
	"testing"
	"time"
)

// fromDefaultConfig has a free default plan without a price and paid
// plans with a signup bonus and trial credits.
const fromDefaultConfig = `
currencies:
  - { name: credits, decimals: 0 }
operations:
  work: 1 credit
plans:
  free:
    default: true
    gives: 100 credits every month
  pro:
    gives: 1000 credits every month
    price: 20 USD every month
    signup_bonus: 500 credits
    trial_includes: 50 credits
  team:
    gives: 5000 credits every month
    price: 90 USD every month
    signup_bonus: 700 credits
  small:
    gives: 10 credits every month
    signup_bonus: 30 credits
`

// TestChangePlanFromDefaultGivesTrialAndBonus: a customer the first check
// put on the default plan moves to a paid plan with a trial: the trial
// starts with trial_includes, the signup bonus comes once, and a later
// plan change gives no second bonus.
func TestChangePlanFromDefaultGivesTrialAndBonus(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresWith(t, fromDefaultConfig, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.Check(ctx, "trio", "work", nil); err != nil {
			t.Fatal(err)
		}
		if sub, err := l.GetSubscription(ctx, "trio", nil); err != nil || sub.Plan != "free" {
			t.Fatalf("joined default: %+v %v", sub, err)
		}
		wantBalance(t, l, "trio", 100, "on free")
		if _, err := l.ChangePlan(ctx, "trio", "pro", &SubscriptionOpts{Trial: Span{Days: -1}}); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("negative trial: %v", err)
		}
		sub, err := l.ChangePlan(ctx, "trio", "pro", &SubscriptionOpts{Trial: Span{Days: 14}, IdempotencyKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		trialEnd := start.AddDate(0, 0, 14)
		if sub.Plan != "pro" || sub.Status != SubscriptionTrialing || sub.TrialEnd == nil || !sub.TrialEnd.Equal(trialEnd) || !sub.PeriodEnd.Equal(trialEnd) {
			t.Fatalf("trial from default: %+v", sub)
		}
		// free's 100 expired (unused_credits: expire); 500 bonus + 50 trial.
		wantBalance(t, l, "trio", 550, "trial started")
		if again, err := l.ChangePlan(ctx, "trio", "pro", &SubscriptionOpts{Trial: Span{Days: 14}, IdempotencyKey: "k1"}); err != nil || again.ID != sub.ID {
			t.Fatalf("replay: %+v %v", again, err)
		}
		wantBalance(t, l, "trio", 550, "replayed")
		if n := countBonus(t, l, "trio"); n != 1 {
			t.Fatalf("%d signup bonuses, want 1", n)
		}
		// A trial of a trialing (or paying) subscription is refused, not dropped.
		if _, err := l.ChangePlan(ctx, "trio", "team", &SubscriptionOpts{Trial: Span{Days: 7}}); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("trial of a trial: %v", err)
		}
		clock.Set(trialEnd)
		runDue(t, l, 1, "trial converts")
		wantBalance(t, l, "trio", 1500, "converted: bonus + first refill")
		if _, err := l.ChangePlan(ctx, "trio", "team", &SubscriptionOpts{Trial: Span{Days: 7}}); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("trial off a paid plan: %v", err)
		}
		// The upgrade to team: no second bonus.
		if sub, err = l.ChangePlan(ctx, "trio", "team", nil); err != nil || sub.Plan != "team" {
			t.Fatalf("upgrade: %+v %v", sub, err)
		}
		wantBalance(t, l, "trio", 5500, "upgraded: bonus + team refill")
		if n := countBonus(t, l, "trio"); n != 1 {
			t.Fatalf("%d signup bonuses after the upgrade, want 1", n)
		}

		// Without a trial, the upgrade off the default plan gives the bonus.
		if _, err := l.Check(ctx, "duo", "work", nil); err != nil {
			t.Fatal(err)
		}
		if sub, err = l.ChangePlan(ctx, "duo", "pro", nil); err != nil || sub.Status != SubscriptionActive {
			t.Fatalf("upgrade from default: %+v %v", sub, err)
		}
		wantBalance(t, l, "duo", 1500, "bonus + pro refill")

		// A downgrade off the default plan gives the bonus when it takes effect.
		clock.Set(start)
		if _, err := l.Check(ctx, "uno", "work", nil); err != nil {
			t.Fatal(err)
		}
		if sub, err = l.ChangePlan(ctx, "uno", "small", nil); err != nil || sub.ScheduledPlan != "small" {
			t.Fatalf("downgrade: %+v %v", sub, err)
		}
		wantBalance(t, l, "uno", 100, "downgrade scheduled")
		clock.Set(start.AddDate(0, 1, 0))
		runDue(t, l, 1, "downgrade applies")
		wantBalance(t, l, "uno", 40, "small: bonus + refill")
		if n := countBonus(t, l, "uno"); n != 1 {
			t.Fatalf("%d signup bonuses after the downgrade, want 1", n)
		}
	})
}

func countBonus(t *testing.T, l *Ledger, customer string) int {
	t.Helper()
	gs, err := l.Grants(context.Background(), customer, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range gs {
		if g.Source == SourceBonus {
			n++
		}
	}
	return n
}
