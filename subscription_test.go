package creditkit

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
)

// subsConfig has one plan per behaviour the tests check.
const subsConfig = `
currencies:
  - { name: credits, decimals: 0 }
operations:
  work: 1 credit
plans:
  monthly:
    gives: 100 credits every month
  roll:
    gives: 100 credits every month
    unused_credits: rollover
  capped:
    gives: 100 credits every month
    unused_credits: rollover up to 150 credits
  yearly:
    gives: 100 credits every month
    price: 120 USD every year
  fortnight:
    gives: 10 credits every 15 days
  basic:
    gives: 100 credits every month
    signup_bonus: 50 credits
    trial_includes: 20 credits
    expire_after: 10 days
  pro:
    gives: 1000 credits every month
    signup_bonus: 500 credits
  prorate:
    gives: 1000 credits every month
    on_upgrade: prorate
  rollpro:
    gives: 100 credits every month
    unused_credits: rollover
    expire_after: 5 days
  latest:
    gives: 100 credits every month
    catch_up: latest
`

// onBothStoresSubs runs fn on a fresh ledger with subsConfig over SQLite
// and over PostgreSQL, with a manual clock at start.
func onBothStoresSubs(t *testing.T, start time.Time, fn func(t *testing.T, l *Ledger, clock *ManualClock)) {
	t.Helper()
	onBothStoresWith(t, subsConfig, start, fn)
}

// onBothStoresWith runs fn on a fresh ledger with config over SQLite and
// over PostgreSQL, with a manual clock at start.
func onBothStoresWith(t *testing.T, config string, start time.Time, fn func(t *testing.T, l *Ledger, clock *ManualClock)) {
	t.Helper()
	open := map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			s, err := postgres.Open(context.Background(), pgtest.NewDatabaseURL(t, cluster), nil)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open[name](t)
			t.Cleanup(func() { s.Close() })
			cfg, err := ParseConfig("creditkit.yaml", []byte(config))
			if err != nil {
				t.Fatal(err)
			}
			clock := NewManualClock(start)
			cfg.Clock = clock
			l, err := New(s, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			fn(t, l, clock)
		})
	}
}

func wantBalance(t *testing.T, l *Ledger, customer string, want Amount, when string) {
	t.Helper()
	b, err := l.Balance(context.Background(), customer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Available != want {
		t.Fatalf("%s: %s has %d available, want %d", when, customer, b.Available, want)
	}
}

// runDue runs RunDue and checks how many refills it wrote.
func runDue(t *testing.T, l *Ledger, refills int, when string) {
	t.Helper()
	res, err := l.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Refills != refills {
		t.Fatalf("%s: RunDue wrote %d refills, want %d", when, res.Refills, refills)
	}
}

func debit(t *testing.T, l *Ledger, customer string, amount Amount) {
	t.Helper()
	if _, err := l.Debit(context.Background(), customer, amount, nil); err != nil {
		t.Fatal(err)
	}
}

func countEntries(t *testing.T, l *Ledger, customer string, typ EntryType) int {
	t.Helper()
	es, err := l.History(context.Background(), customer, &HistoryFilter{Type: typ, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestSubscriptionYear runs a year of simulated time, period by period,
// for each unused_credits policy, and checks the balance against hand
// computed values: every month the customer spends 30.
func TestSubscriptionYear(t *testing.T) {
	start := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		for _, c := range []string{"monthly", "roll", "capped", "yearly"} {
			if _, err := l.StartSubscription(ctx, c, c, nil); err != nil {
				t.Fatal(err)
			}
		}
		// Period 0: 100 each, spend 30.
		want := map[string]Amount{"monthly": 70, "roll": 70, "capped": 70, "yearly": 70}
		for _, c := range []string{"monthly", "roll", "capped", "yearly"} {
			debit(t, l, c, 30)
			wantBalance(t, l, c, want[c], "period 0")
		}
		for month := 1; month <= 11; month++ {
			clock.Set(start.AddDate(0, month, 0))
			runDue(t, l, 4, "month start")
			// expire: the 70 left expire, 100 come: 100.
			want["monthly"], want["yearly"] = 100, 100
			// rollover: everything carries.
			want["roll"] += 100
			// capped: at most 150 carry.
			want["capped"] = min(want["capped"], 150) + 100
			for c, w := range want {
				wantBalance(t, l, c, w, "after refill "+c)
				debit(t, l, c, 30)
				want[c] = w - 30
			}
			runDue(t, l, 0, "again the same instant")
		}
		// Hand-computed: rollover 100 + 70×11; capped settles at 250 - 30.
		if want["roll"] != 100+70*11-30 || want["capped"] != 220 || want["monthly"] != 70 {
			t.Fatalf("hand computation off: %v", want)
		}
		if n := countEntries(t, l, "monthly", EntryGrant); n != 12 {
			t.Fatalf("monthly has %d grants, want 12", n)
		}
		if n := countEntries(t, l, "monthly", EntryExpiration); n != 11 {
			t.Fatalf("monthly has %d expirations, want 11", n)
		}
		if n := countEntries(t, l, "roll", EntryExpiration); n != 0 {
			t.Fatalf("roll has %d expirations, want 0", n)
		}
		// capped expired 60 at month 3 and 70 at every month after.
		es, err := l.History(ctx, "capped", &HistoryFilter{Type: EntryExpiration, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 9 || es[0].Amount != -60 || es[1].Amount != -70 || es[0].Details["reason"] != "rollover_cap" {
			t.Fatalf("capped expirations: %d, first %+v", len(es), es[0])
		}
		if !es[0].At.Equal(start.AddDate(0, 3, 0)) {
			t.Fatalf("the cap applied at %s, want the boundary %s", es[0].At, start.AddDate(0, 3, 0))
		}
		// A yearly price spread over monthly refills: 120 USD / 1200 credits.
		gs, err := l.Grants(ctx, "yearly", nil)
		if err != nil {
			t.Fatal(err)
		}
		if gs[0].CostBasis == nil || gs[0].CostBasis.PerCredit != "0.1" || gs[0].CostBasis.Currency != "USD" || gs[0].Source != SourceSubscription {
			t.Fatalf("yearly refill: %+v cost basis %+v", gs[0], gs[0].CostBasis)
		}
	})
}

// TestSubscriptionEvery15Days refills every 15 days for a year: 25 refills
// in 365 days (day 0, 15, ..., 360), each expiring at the next.
func TestSubscriptionEvery15Days(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.StartSubscription(ctx, "f", "fortnight", nil); err != nil {
			t.Fatal(err)
		}
		refills := 1
		for day := 1; day <= 365; day++ {
			clock.Set(start.AddDate(0, 0, day))
			want := 0
			if day%15 == 0 {
				want = 1
			}
			runDue(t, l, want, "day")
			refills += want
			wantBalance(t, l, "f", 10, "every day")
		}
		if refills != 25 {
			t.Fatalf("%d refills in a year, want 25", refills)
		}
		sub, err := l.GetSubscription(ctx, "f", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !sub.PeriodStart.Equal(start.AddDate(0, 0, 360)) || !sub.PeriodEnd.Equal(start.AddDate(0, 0, 375)) {
			t.Fatalf("period %s..%s", sub.PeriodStart, sub.PeriodEnd)
		}
	})
}

// TestSubscriptionJan31 anchors on January 31: the periods end on the last
// day of short months and come back to the 31st.
func TestSubscriptionJan31(t *testing.T) {
	start := time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		sub, err := l.StartSubscription(ctx, "j", "monthly", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantEnds := []string{"2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31", "2027-08-31",
			"2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31"}
		for i, want := range wantEnds {
			if got := sub.PeriodEnd.Format("2006-01-02"); got != want || sub.PeriodEnd.Hour() != 12 {
				t.Fatalf("period %d ends %s, want %s at 12:00", i, sub.PeriodEnd, want)
			}
			clock.Set(sub.PeriodEnd)
			runDue(t, l, 1, want)
			wantBalance(t, l, "j", 100, want)
			if sub, err = l.GetSubscription(ctx, "j", nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestSubscriptionCatchUp: the scheduler was down for three periods. With
// catch_up: all each missed period is refilled once, in order, stamped
// with its own boundary, with expiry applied per period; with latest only
// the latest period is. Several goroutines run RunDue at once: still one
// refill per period.
func TestSubscriptionCatchUp(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		for _, c := range []string{"monthly", "roll", "latest"} {
			if _, err := l.StartSubscription(ctx, c, c, nil); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(start.AddDate(0, 3, 5))
		var wg sync.WaitGroup
		results := make([]DueResult, 6)
		errs := make([]error, 6)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = l.RunDue(ctx)
			}()
		}
		wg.Wait()
		total := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			total += results[i].Refills
		}
		if total != 3+3+1 {
			t.Fatalf("concurrent RunDue wrote %d refills, want 7 (3 + 3 + 1)", total)
		}
		wantBalance(t, l, "monthly", 100, "catch up expire")
		wantBalance(t, l, "roll", 400, "catch up rollover")
		wantBalance(t, l, "latest", 100, "catch up latest")
		es, err := l.History(ctx, "monthly", &HistoryFilter{Type: EntryGrant})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 4 {
			t.Fatalf("monthly has %d grant entries, want 4", len(es))
		}
		for i, e := range es {
			if !e.At.Equal(start.AddDate(0, i, 0)) {
				t.Fatalf("refill %d stamped %s, want %s", i, e.At, start.AddDate(0, i, 0))
			}
		}
		if n := countEntries(t, l, "monthly", EntryExpiration); n != 3 {
			t.Fatalf("monthly has %d expirations, want 3", n)
		}
		es, err = l.History(ctx, "latest", &HistoryFilter{Type: EntryGrant})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || !es[1].At.Equal(start.AddDate(0, 3, 0)) {
			t.Fatalf("latest: %d grants, last at %s", len(es), es[len(es)-1].At)
		}
	})
}

// TestSubscriptionUpgradeDowngrade: an upgrade applies at once with the
// full allowance (the old plan's credits expire now), a downgrade at the
// period end, and prorate grants the difference for the rest of the
// period.
func TestSubscriptionUpgradeDowngrade(t *testing.T) {
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.StartSubscription(ctx, "u", "monthly", nil); err != nil {
			t.Fatal(err)
		}
		debit(t, l, "u", 40)
		clock.Set(start.AddDate(0, 0, 10))
		sub, err := l.ChangePlan(ctx, "u", "pro", &SubscriptionOpts{IdempotencyKey: "up-1"})
		if err != nil {
			t.Fatal(err)
		}
		// The 60 left expire now; pro's 1000 come now, with its signup
		// bonus (500): the customer never had one.
		wantBalance(t, l, "u", 1500, "after upgrade")
		if sub.Plan != "pro" || !sub.Anchor.Equal(clock.Now()) || !sub.PeriodEnd.Equal(clock.Now().AddDate(0, 1, 0)) {
			t.Fatalf("after upgrade: %+v", sub)
		}
		again, err := l.ChangePlan(ctx, "u", "pro", &SubscriptionOpts{IdempotencyKey: "up-1"})
		if err != nil || again.UpdatedAt != sub.UpdatedAt {
			t.Fatalf("replay: %+v %v", again, err)
		}
		// Downgrade: scheduled at the period end.
		sub, err = l.ChangePlan(ctx, "u", "monthly", nil)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Plan != "pro" || sub.ScheduledPlan != "monthly" {
			t.Fatalf("downgrade applied early: %+v", sub)
		}
		wantBalance(t, l, "u", 1500, "after downgrade request")
		clock.Set(sub.PeriodEnd)
		runDue(t, l, 1, "downgrade boundary")
		wantBalance(t, l, "u", 600, "after downgrade: the bonus stays")
		if sub, err = l.GetSubscription(ctx, "u", nil); err != nil || sub.Plan != "monthly" || sub.ScheduledPlan != "" {
			t.Fatalf("after downgrade: %+v %v", sub, err)
		}

		// Prorate: halfway through a 30-day month, 900 × 15/30 = 450 more.
		base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		clock.Set(base)
		if _, err := l.StartSubscription(ctx, "p", "monthly", nil); err != nil {
			t.Fatal(err)
		}
		clock.Set(base.AddDate(0, 0, 15))
		sub, err = l.ChangePlan(ctx, "p", "prorate", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, "p", 550, "prorated upgrade")
		if !sub.PeriodEnd.Equal(base.AddDate(0, 1, 0)) {
			t.Fatalf("prorate moved the period: %+v", sub)
		}
		clock.Set(sub.PeriodEnd)
		// u's refill of June 11 falls due too.
		runDue(t, l, 2, "prorate boundary")
		wantBalance(t, l, "p", 1000, "after prorate boundary")
	})
}

// TestSubscriptionCancel: cancel now and at period end, with expire_after
// (10 days for basic; 5 days for a rollover plan).
func TestSubscriptionCancel(t *testing.T) {
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		// Cancel now: the 100 refill expires 10 days later; the 50 signup
		// bonus is not the subscription's and stays.
		if _, err := l.StartSubscription(ctx, "now", "basic", nil); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, "now", 150, "subscribed")
		clock.Set(start.AddDate(0, 0, 3))
		sub, err := l.Cancel(ctx, "now", nil)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != SubscriptionCanceled || sub.CanceledAt == nil || !sub.CanceledAt.Equal(clock.Now()) {
			t.Fatalf("after cancel: %+v", sub)
		}
		clock.Set(start.AddDate(0, 0, 13).Add(-time.Second))
		wantBalance(t, l, "now", 150, "before expire_after")
		clock.Set(start.AddDate(0, 0, 13))
		runDue(t, l, 0, "after cancel")
		wantBalance(t, l, "now", 50, "after expire_after")

		// Cancel at period end on a rollover plan: credits carry until the
		// end, then expire 5 days after it; no refill at the boundary.
		clock.Set(start)
		if _, err := l.StartSubscription(ctx, "end", "rollpro", nil); err != nil {
			t.Fatal(err)
		}
		clock.Set(start.AddDate(0, 0, 20))
		sub, err = l.Cancel(ctx, "end", &CancelOpts{AtPeriodEnd: true})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != SubscriptionActive || sub.CancelAt == nil || !sub.CancelAt.Equal(start.AddDate(0, 1, 0)) {
			t.Fatalf("scheduled cancel: %+v", sub)
		}
		clock.Set(start.AddDate(0, 1, 0))
		runDue(t, l, 0, "cancel boundary")
		if sub, err = l.GetSubscription(ctx, "end", nil); err != nil || sub.Status != SubscriptionCanceled {
			t.Fatalf("after boundary: %+v %v", sub, err)
		}
		wantBalance(t, l, "end", 100, "grace")
		clock.Set(start.AddDate(0, 1, 5))
		runDue(t, l, 0, "end of grace")
		wantBalance(t, l, "end", 0, "after grace")
		if _, err := l.Cancel(ctx, "end", nil); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("cancel twice: %v", err)
		}
	})
}

// TestSubscriptionPauseResume: no refills while paused; resume restarts
// the cadence at the resume instant with a full allowance.
func TestSubscriptionPauseResume(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.StartSubscription(ctx, "p", "monthly", nil); err != nil {
			t.Fatal(err)
		}
		clock.Set(start.AddDate(0, 0, 5))
		sub, err := l.Pause(ctx, "p", nil)
		if err != nil || sub.Status != SubscriptionPaused {
			t.Fatalf("pause: %+v %v", sub, err)
		}
		clock.Set(start.AddDate(0, 3, 0))
		runDue(t, l, 0, "paused")
		wantBalance(t, l, "p", 0, "paused past its period")
		resumeAt := start.AddDate(0, 3, 7)
		clock.Set(resumeAt)
		sub, err = l.Resume(ctx, "p", nil)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Status != SubscriptionActive || !sub.Anchor.Equal(resumeAt) || !sub.PeriodEnd.Equal(resumeAt.AddDate(0, 1, 0)) {
			t.Fatalf("resume: %+v", sub)
		}
		wantBalance(t, l, "p", 100, "resumed")
		clock.Set(resumeAt.AddDate(0, 1, 0))
		runDue(t, l, 1, "first period after resume")
		wantBalance(t, l, "p", 100, "refilled")
	})
}

// TestSubscriptionResubscribeAndTrial: a resubscribe gets no second signup
// bonus; a trial gives trial_includes until its end, then converts with
// the first refill, or, canceled at its end, does not.
func TestSubscriptionResubscribeAndTrial(t *testing.T) {
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		sub, err := l.StartSubscription(ctx, "r", "basic", &SubscribeOpts{IdempotencyKey: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, "r", 150, "first subscribe")
		if _, err := l.Cancel(ctx, "r", nil); err != nil {
			t.Fatal(err)
		}
		clock.Set(start.AddDate(0, 0, 10))
		sub2, err := l.StartSubscription(ctx, "r", "basic", nil)
		if err != nil {
			t.Fatal(err)
		}
		if sub2.ID == sub.ID || sub2.Status != SubscriptionActive {
			t.Fatalf("resubscribe: %+v", sub2)
		}
		// 50 bonus + the new refill; the old refill expired 10 days after
		// the cancel.
		wantBalance(t, l, "r", 150, "resubscribed, no second bonus")
		if _, err := l.StartSubscription(ctx, "r", "pro", nil); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("subscribing to another plan: %v", err)
		}

		// A trial that converts.
		clock.Set(start)
		sub, err = l.StartSubscription(ctx, "t", "basic", &SubscribeOpts{Trial: Span{Days: 14}})
		if err != nil {
			t.Fatal(err)
		}
		trialEnd := start.AddDate(0, 0, 14)
		if sub.Status != SubscriptionTrialing || sub.TrialEnd == nil || !sub.TrialEnd.Equal(trialEnd) || !sub.PeriodEnd.Equal(trialEnd) {
			t.Fatalf("trial: %+v", sub)
		}
		wantBalance(t, l, "t", 70, "trial: 50 bonus + 20 trial")
		clock.Set(trialEnd)
		runDue(t, l, 1, "trial converts")
		wantBalance(t, l, "t", 150, "converted: trial credits expired, first refill")
		if sub, err = l.GetSubscription(ctx, "t", nil); err != nil || sub.Status != SubscriptionActive || !sub.PeriodEnd.Equal(trialEnd.AddDate(0, 1, 0)) {
			t.Fatalf("converted: %+v %v", sub, err)
		}

		// A trial that does not: canceled at its end.
		clock.Set(start)
		if _, err := l.StartSubscription(ctx, "n", "basic", &SubscribeOpts{Trial: Span{Days: 14}}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Cancel(ctx, "n", &CancelOpts{AtPeriodEnd: true}); err != nil {
			t.Fatal(err)
		}
		clock.Set(trialEnd)
		runDue(t, l, 0, "trial ends")
		wantBalance(t, l, "n", 50, "trial ended: only the bonus")
		if sub, err = l.GetSubscription(ctx, "n", nil); err != nil || sub.Status != SubscriptionCanceled {
			t.Fatalf("not converted: %+v %v", sub, err)
		}
	})
}

// TestSubscriptionEvents checks the subscription events and that bad
// input is refused with a clear error.
func TestSubscriptionEvents(t *testing.T) {
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresSubs(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		var mu sync.Mutex
		var types []string
		l.Subscribe(func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Customer == "e" {
				types = append(types, e.Type)
			}
		})
		if _, err := l.StartSubscription(ctx, "e", "nope", nil); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("unknown plan: %v", err)
		}
		if _, err := l.GetSubscription(ctx, "e", nil); ErrorCodeOf(err) != CodeNotFound {
			t.Fatalf("no subscription: %v", err)
		}
		steps := []func() error{
			func() error { _, err := l.StartSubscription(ctx, "e", "monthly", nil); return err },
			func() error { _, err := l.Pause(ctx, "e", nil); return err },
			func() error { _, err := l.Resume(ctx, "e", nil); return err },
			func() error { _, err := l.ChangePlan(ctx, "e", "pro", nil); return err },
			func() error { _, err := l.Cancel(ctx, "e", nil); return err },
		}
		for _, s := range steps {
			if err := s(); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		var subs []string
		for _, typ := range types {
			if strings.HasPrefix(typ, "credits.subscription.") {
				subs = append(subs, typ)
			}
		}
		want := []string{EventSubscriptionCreated, EventSubscriptionPaused, EventSubscriptionResumed, EventSubscriptionUpdated, EventSubscriptionCanceled}
		if len(subs) != len(want) {
			t.Fatalf("events %v, want %v", subs, want)
		}
		for i := range want {
			if subs[i] != want[i] {
				t.Fatalf("events %v, want %v", subs, want)
			}
		}
	})
}

// TestSubscriptionDefaultPlan: the first write that names a customer in
// the default plan's currency puts it on the plan, in the same
// transaction: signup bonus and first refill; a later write does not.
func TestSubscriptionDefaultPlan(t *testing.T) {
	config := `
currencies:
  - { name: credits, decimals: 0 }
  - { name: gems, decimals: 0 }
plans:
  free:
    default: true
    gives: 500 credits every month
    signup_bonus: 25 credits
`
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresWith(t, config, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.Grant(ctx, "new", 10, nil); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, "new", 535, "first write")
		sub, err := l.GetSubscription(ctx, "new", nil)
		if err != nil || sub.Plan != "free" || sub.Status != SubscriptionActive || !sub.PeriodEnd.Equal(start.AddDate(0, 1, 0)) {
			t.Fatalf("default subscription: %+v %v", sub, err)
		}
		if _, err := l.Grant(ctx, "new", 10, nil); err != nil {
			t.Fatal(err)
		}
		wantBalance(t, l, "new", 545, "second write")
		// A write in another currency subscribes nothing.
		if _, err := l.Grant(ctx, "gemmy", 10, &GrantOpts{Currency: "gems"}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.GetSubscription(ctx, "gemmy", nil); ErrorCodeOf(err) != CodeNotFound {
			t.Fatalf("gems customer subscribed: %v", err)
		}
		clock.Set(start.AddDate(0, 1, 0))
		runDue(t, l, 1, "free refill")
		wantBalance(t, l, "new", 545, "refilled: 25 + 20 + 500")
	})
}
