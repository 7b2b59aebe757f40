package creditkit

import (
	"context"
	"testing"
	"time"
)

// refillGrants counts a customer's refill grants (source subscription,
// reason subscription).
func refillGrants(t *testing.T, l *Ledger, customer string) int {
	t.Helper()
	n := 0
	for _, g := range must[[]*Grant](t)(l.Grants(context.Background(), customer, &GrantFilter{Limit: 1000})) {
		if g.Source == SourceSubscription && g.Reason == CategorySubscription {
			n++
		}
	}
	return n
}

// pauseResume pauses and resumes a customer's subscription at the clock's
// now.
func pauseResume(t *testing.T, l *Ledger, customer string) *Subscription {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Pause(ctx, customer, nil); err != nil {
		t.Fatalf("pause %s: %v", customer, err)
	}
	return must[*Subscription](t)(l.Resume(ctx, customer, nil))
}

// TestPauseResumeGivesNoFreeAllowance: any number of pauses and resumes,
// at one instant or spread within a period, never give a second
// allowance, on an expire, a rollover and a capped rollover plan: the
// period restarts at the last resume with what was left of its allowance
// (credits that were to expire at the old period end expire at the new
// one), and the next refill comes one period after the resume.
func TestPauseResumeGivesNoFreeAllowance(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		// e spends its month's allowance; x (expire), r (rollover) and c
		// (rollover up to 150) keep theirs.
		plans := map[string]string{"e": "monthly", "x": "monthly", "r": "roll", "c": "capped"}
		custs := []string{"e", "x", "r", "c"}
		for _, c := range custs {
			must[*Subscription](t)(l.StartSubscription(ctx, c, plans[c], nil))
		}
		debit(t, l, "e", 100)
		want := map[string]Amount{"e": 0, "x": 100, "r": 100, "c": 100}
		check := func(when string) {
			t.Helper()
			for _, c := range custs {
				wantBalance(t, l, c, want[c], when+": "+c)
			}
		}
		// At the start instant, three times.
		for range 3 {
			for _, c := range custs {
				sub := pauseResume(t, l, c)
				if !sub.PeriodEnd.Equal(start.AddDate(0, 1, 0)) || !sub.PeriodStart.Equal(start) {
					t.Fatalf("pause and resume at the start: %+v", sub)
				}
			}
		}
		check("three pauses and resumes at the start")
		// Spread within the period: the last resume on day 25.
		for _, day := range []int{5, 9, 9, 20} {
			clock.Set(start.AddDate(0, 0, day))
			for _, c := range custs {
				pauseResume(t, l, c)
			}
		}
		clock.Set(start.AddDate(0, 0, 22))
		for _, c := range custs {
			must[*Subscription](t)(l.Pause(ctx, c, nil))
		}
		resumed := start.AddDate(0, 0, 25)
		clock.Set(resumed)
		for _, c := range custs {
			sub := must[*Subscription](t)(l.Resume(ctx, c, nil))
			if sub.Status != SubscriptionActive || !sub.Anchor.Equal(resumed) || !sub.PeriodStart.Equal(start) ||
				!sub.PeriodEnd.Equal(resumed.AddDate(0, 1, 0)) {
				t.Fatalf("%s resumed within its period: %+v", c, sub)
			}
		}
		check("pauses and resumes within the period")
		// The old period end refills nothing, and x's credits did not
		// expire there: they follow the period to its new end.
		clock.Set(start.AddDate(0, 1, 0))
		runDue(t, l, 0, "the period end before the resumes")
		check("the old period end")
		for _, c := range custs {
			if n := refillGrants(t, l, c); n != 1 {
				t.Fatalf("%s has %d refills, want 1", c, n)
			}
		}
		// One period after the last resume: one refill each.
		clock.Set(resumed.AddDate(0, 1, 0))
		runDue(t, l, 4, "one period after the resume")
		want = map[string]Amount{"e": 100, "x": 100, "r": 200, "c": 200}
		check("refilled one period after the resume")
		// A pause longer than the period: the resume is a period end and
		// brings one allowance (not one per period paused).
		clock.Set(resumed.AddDate(0, 1, 3))
		for _, c := range custs {
			must[*Subscription](t)(l.Pause(ctx, c, nil))
		}
		clock.Set(resumed.AddDate(0, 4, 0))
		runDue(t, l, 0, "paused")
		for _, c := range custs {
			must[*Subscription](t)(l.Resume(ctx, c, nil))
			pauseResume(t, l, c)
		}
		// capped: 200 left, capped to 150 at the resume, + 100.
		want = map[string]Amount{"e": 100, "x": 100, "r": 300, "c": 250}
		check("resumed after a long pause, then paused and resumed again")
	})
}

// TestPastDueRecoverGivesNoFreeAllowance: marking a subscription past due
// and recovering it, within its period or at one instant, gives nothing;
// a recovery after the grace, with a period end missed, gives one
// allowance.
func TestPastDueRecoverGivesNoFreeAllowance(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Subscription](t)(l.StartSubscription(ctx, "p", "roll", nil))
		for _, day := range []int{0, 0, 3, 29} {
			clock.Set(start.AddDate(0, 0, day))
			must[*Subscription](t)(l.MarkPastDue(ctx, "p", nil))
			sub := must[*Subscription](t)(l.RecoverPastDue(ctx, "p", nil))
			if !sub.PeriodEnd.Equal(start.AddDate(0, 1, 0)) {
				t.Fatalf("recovered within the period: %+v", sub)
			}
		}
		wantBalance(t, l, "p", 100, "recovered within the period")
		clock.Set(start.AddDate(0, 0, 30))
		must[*Subscription](t)(l.MarkPastDue(ctx, "p", nil))
		clock.Set(start.AddDate(0, 2, 15))
		runDue(t, l, 0, "past due, past its grace")
		paid := start.AddDate(0, 2, 20)
		clock.Set(paid)
		for range 3 {
			sub := must[*Subscription](t)(l.RecoverPastDue(ctx, "p", nil))
			if !sub.PeriodEnd.Equal(paid.AddDate(0, 1, 0)) {
				t.Fatalf("recovered after the grace: %+v", sub)
			}
			must[*Subscription](t)(l.MarkPastDue(ctx, "p", nil))
		}
		wantBalance(t, l, "p", 200, "one allowance for the recovery")
	})
}

// TestCancelAtPeriodEndThroughPause: a cancellation at the period end
// made before a pause stays scheduled: a resume within the period moves
// it, with the period, to one period after the resume, where it takes
// effect stamped at that instant; a resume after the period ended is
// that period end: the subscription ends at the resume, with no new
// allowance. An upgrade moves it with the new period; a past_due
// subscription is canceled at its date.
func TestCancelAtPeriodEndThroughPause(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		end := start.AddDate(0, 1, 0)
		plans := map[string]string{"a": "monthly", "b": "rollpro", "c": "monthly", "d": "monthly", "e": "monthly", "f": "monthly", "g": "rollpro"}
		for _, c := range []string{"a", "b", "c", "d", "e", "f", "g"} {
			must[*Subscription](t)(l.StartSubscription(ctx, c, plans[c], nil))
		}
		for _, c := range []string{"a", "b", "c", "d", "e", "g"} {
			sub := must[*Subscription](t)(l.Cancel(ctx, c, &CancelOpts{AtPeriodEnd: true}))
			if sub.CancelAt == nil || !sub.CancelAt.Equal(end) {
				t.Fatalf("cancel %s at period end: %+v", c, sub)
			}
		}
		clock.Set(start.AddDate(0, 0, 5))
		// d upgrades: its cancellation moves to the new period's end.
		sub := must[*Subscription](t)(l.ChangePlan(ctx, "d", "pro", nil))
		if dEnd := start.AddDate(0, 1, 5); sub.CancelAt == nil || !sub.CancelAt.Equal(dEnd) || !sub.PeriodEnd.Equal(dEnd) {
			t.Fatalf("upgrade with a cancellation scheduled: %+v", sub)
		}
		// g upgrades from a plan whose expire_after gave its credits an
		// expiry from the cancellation: the rolled-over credits lose it
		// (pro has no expire_after), and keep their credits after the
		// cancellation takes effect.
		must[*Subscription](t)(l.ChangePlan(ctx, "g", "pro", nil))
		// e's payment fails, with no grace: it is canceled at its date all
		// the same. f's payment fails and its period ends unpaid: a
		// cancellation at the period end then ends it at once.
		must[*Subscription](t)(l.MarkPastDue(ctx, "e", nil))
		must[*Subscription](t)(l.MarkPastDue(ctx, "f", nil))
		clock.Set(start.AddDate(0, 0, 10))
		for _, c := range []string{"a", "b", "c"} {
			must[*Subscription](t)(l.Pause(ctx, c, nil))
		}
		resumed := start.AddDate(0, 0, 15)
		clock.Set(resumed)
		newEnd := resumed.AddDate(0, 1, 0)
		for _, c := range []string{"a", "b"} {
			sub := must[*Subscription](t)(l.Resume(ctx, c, nil))
			if sub.Status != SubscriptionActive || sub.CancelAt == nil || !sub.CancelAt.Equal(newEnd) || !sub.PeriodEnd.Equal(newEnd) {
				t.Fatalf("%s resumed with a cancellation scheduled: %+v", c, sub)
			}
		}
		// b's credits expire 5 days after the cancellation: from its new
		// date.
		for _, g := range must[[]*Grant](t)(l.Grants(ctx, "b", nil)) {
			if g.ExpiresAt == nil || !g.ExpiresAt.Equal(newEnd.AddDate(0, 0, 5)) {
				t.Fatalf("b's grant after the resume: %+v", g)
			}
		}
		clock.Set(end)
		runDue(t, l, 0, "the old period end")
		for c, want := range map[string]SubscriptionStatus{"a": SubscriptionActive, "b": SubscriptionActive, "c": SubscriptionPaused,
			"d": SubscriptionActive, "e": SubscriptionCanceled, "f": SubscriptionPastDue} {
			sub := must[*Subscription](t)(l.GetSubscription(ctx, c, nil))
			if sub.Status != want {
				t.Fatalf("%s at the old period end: %+v, want %s", c, sub, want)
			}
		}
		if sub := must[*Subscription](t)(l.GetSubscription(ctx, "e", nil)); !sub.CanceledAt.Equal(end) {
			t.Fatalf("e canceled: %+v", sub)
		}
		wantBalance(t, l, "a", 100, "a's credits follow its period")
		later := end.AddDate(0, 0, 2)
		clock.Set(later)
		sub = must[*Subscription](t)(l.Cancel(ctx, "f", &CancelOpts{AtPeriodEnd: true}))
		if sub.Status != SubscriptionCanceled || !sub.CanceledAt.Equal(later) {
			t.Fatalf("cancel at period end of a past due subscription past its period end: %+v", sub)
		}
		// c resumes after its period ended: the resume is that period's
		// end, and the cancellation takes effect there.
		sub = must[*Subscription](t)(l.Resume(ctx, "c", nil))
		if sub.Status != SubscriptionCanceled || !sub.CanceledAt.Equal(later) {
			t.Fatalf("c resumed after its period end: %+v", sub)
		}
		wantBalance(t, l, "c", 0, "no allowance for a subscription that ends")
		if n := refillGrants(t, l, "c"); n != 1 {
			t.Fatalf("c has %d refills, want 1", n)
		}
		// a, b and d end at their moved dates, stamped there, with no
		// refill.
		clock.Set(start.AddDate(0, 1, 5))
		runDue(t, l, 0, "d's end")
		clock.Set(newEnd)
		runDue(t, l, 0, "a and b's end")
		// g keeps its 100 rolled-over credits and pro's signup bonus (500,
		// its first: a plan change gives it once ever); pro's allowance
		// ended with the subscription.
		wantBalance(t, l, "g", 100+500, "g's rolled-over credits and bonus outlive the cancellation")
		for c, at := range map[string]time.Time{"a": newEnd, "b": newEnd, "d": start.AddDate(0, 1, 5), "g": start.AddDate(0, 1, 5)} {
			sub := must[*Subscription](t)(l.GetSubscription(ctx, c, nil))
			if sub.Status != SubscriptionCanceled || !sub.CanceledAt.Equal(at) {
				t.Fatalf("%s: %+v, want canceled at %s", c, sub, at)
			}
		}
		wantBalance(t, l, "a", 0, "a's credits expired with its period")
		wantBalance(t, l, "b", 100, "b's credits last 5 days more")
	})
}

// TestResumeAppliesScheduledDowngrade: a downgrade scheduled before a
// pause moves with the period on a resume within it, and takes effect at
// a resume after the period ended (and at a recovery past the grace).
func TestResumeAppliesScheduledDowngrade(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		for _, c := range []string{"w", "l", "q"} {
			must[*Subscription](t)(l.StartSubscription(ctx, c, "pro", nil))
			must[*Subscription](t)(l.ChangePlan(ctx, c, "monthly", nil))
		}
		clock.Set(start.AddDate(0, 0, 5))
		must[*Subscription](t)(l.Pause(ctx, "w", nil))
		must[*Subscription](t)(l.Pause(ctx, "l", nil))
		must[*Subscription](t)(l.MarkPastDue(ctx, "q", nil))
		clock.Set(start.AddDate(0, 0, 7))
		sub := must[*Subscription](t)(l.Resume(ctx, "w", nil))
		if sub.Plan != "pro" || sub.ScheduledPlan != "monthly" || !sub.PeriodEnd.Equal(start.AddDate(0, 1, 7)) {
			t.Fatalf("resumed within the period: %+v", sub)
		}
		wantBalance(t, l, "w", 1500, "pro's allowance and bonus carried")
		late := start.AddDate(0, 2, 0)
		clock.Set(late)
		for _, c := range []string{"l", "q"} {
			var sub *Subscription
			if c == "l" {
				sub = must[*Subscription](t)(l.Resume(ctx, c, nil))
			} else {
				sub = must[*Subscription](t)(l.RecoverPastDue(ctx, c, nil))
			}
			if sub.Plan != "monthly" || sub.ScheduledPlan != "" || sub.Status != SubscriptionActive || !sub.Anchor.Equal(late) {
				t.Fatalf("%s back after the period end: %+v", c, sub)
			}
			wantBalance(t, l, c, 600, c+": the bonus and the downgraded plan's allowance")
		}
	})
}
