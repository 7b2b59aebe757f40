package storetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// testSubscriptions covers the subscriptions table: a row saved through
// Changes reads back field for field (absent times stay absent), a save
// replaces the row of the same customer and currency, DueSubscriptions
// returns only active and trialing rows whose period ended, in period
// order, up to the limit; and two ledgers on one store running RunDue at
// once while the clock jumps three periods refill each period exactly once.
func testSubscriptions(t *testing.T, b *Bundle) {
	c := ctx(t)
	s := b.Store
	t0 := Epoch.Add(time.Hour)
	trial := t0.Add(48 * time.Hour)
	rows := []*store.Subscription{
		{ID: "sub_a", Customer: "sa", Currency: "credits", Plan: "pro", Status: "active", Anchor: t0, PeriodStart: t0,
			PeriodEnd: t0.AddDate(0, 1, 0), CreatedAt: t0, UpdatedAt: t0},
		{ID: "sub_b", Customer: "sb", Currency: "credits", Plan: "pro", Status: "trialing", Anchor: t0, PeriodStart: t0,
			PeriodEnd: trial, TrialEnd: &trial, CancelAt: &trial, ScheduledPlan: "free", BonusGiven: true, CreatedAt: t0, UpdatedAt: t0},
		{ID: "sub_c", Customer: "sc", Currency: "credits", Plan: "pro", Status: "paused", Anchor: t0, PeriodStart: t0,
			PeriodEnd: t0.Add(time.Hour), PausedAt: &t0, CreatedAt: t0, UpdatedAt: t0},
		{ID: "sub_d", Customer: "sa", Currency: "usd_credits", Plan: "usd", Status: "canceled", Anchor: t0, PeriodStart: t0,
			PeriodEnd: t0.Add(time.Hour), CanceledAt: &t0, CancelAt: &t0, CreatedAt: t0, UpdatedAt: t0},
	}
	if err := s.Update(c, func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Subscriptions: rows})
	}); err != nil {
		t.Fatal(err)
	}
	read := func(customer, currency string) *store.Subscription {
		t.Helper()
		var got *store.Subscription
		if err := s.View(c, func(ctx context.Context, tx store.ReadTx) error {
			var err error
			got, err = tx.Subscription(ctx, customer, currency)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, want := range rows {
		if got := read(want.Customer, want.Currency); !reflect.DeepEqual(got, want) {
			t.Fatalf("subscription %s read back as\n%+v\nwant\n%+v", want.ID, got, want)
		}
	}
	if got := read("nobody", "credits"); got != nil {
		t.Fatalf("subscription of nobody: %+v", got)
	}
	var list, due []*store.Subscription
	if err := s.View(c, func(ctx context.Context, tx store.ReadTx) error {
		var err error
		if list, err = tx.CustomerSubscriptions(ctx, "sa"); err != nil {
			return err
		}
		due, err = tx.DueSubscriptions(ctx, trial, 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Currency != "credits" || list[1].Currency != "usd_credits" {
		t.Fatalf("subscriptions of sa: %+v", list)
	}
	if len(due) != 1 || due[0].ID != "sub_b" {
		t.Fatalf("due at the trial end: %+v, want only sub_b (active and trialing whose period ended)", due)
	}
	// A save replaces the row (the last of a list that names it twice).
	changed, last := *rows[1], *rows[1]
	changed.Status = "active"
	last.Status, last.TrialEnd, last.CancelAt, last.ScheduledPlan, last.PeriodEnd = "active", nil, nil, "", t0.Add(time.Minute)
	if err := s.Update(c, func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Subscriptions: []*store.Subscription{&changed, &last}})
	}); err != nil {
		t.Fatal(err)
	}
	if got := read("sb", "credits"); !reflect.DeepEqual(got, &last) {
		t.Fatalf("after replace: %+v, want %+v", got, &last)
	}
	if err := s.View(c, func(ctx context.Context, tx store.ReadTx) error {
		var err error
		due, err = tx.DueSubscriptions(ctx, t0.AddDate(0, 2, 0), 1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].ID != "sub_b" {
		t.Fatalf("first due with limit 1: %+v, want sub_b (earliest period end)", due)
	}

	// Exactly once: two ledgers (two nodes) on one store.
	plans := func(cfg *creditkit.Config) {
		cfg.Plans = map[string]*creditkit.Plan{"monthly": {Name: "monthly", Gives: 100, Currency: "credits",
			Every: creditkit.Period{Count: 1, Unit: "month"}}}
	}
	b1 := SetupWith(t, b.newStore, plans)
	cfg2 := *b1.Ledger.Config()
	cfg2.Clock = b1.Clock
	l2, err := creditkit.New(b1.Store, &cfg2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })
	for _, cu := range []string{"x1", "x2", "x3"} {
		must(b1.Ledger.StartSubscription(c, cu, "monthly", nil))
	}
	b1.Clock.Set(Epoch.AddDate(0, 3, 0).Add(time.Minute))
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := b1.Ledger
			if i%2 == 1 {
				l = l2
			}
			res, err := l.RunDue(c)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += res.Refills
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 9 {
		t.Fatalf("two nodes refilled %d times, want 9 (3 customers × 3 periods)", total)
	}
	for _, cu := range []string{"x1", "x2", "x3"} {
		bal := must(b1.Ledger.Balance(c, cu, nil))
		if bal.Available != 100 {
			t.Fatalf("%s has %d, want 100", cu, bal.Available)
		}
		grants := must(b1.Ledger.Grants(c, cu, nil))
		if len(grants) != 4 {
			t.Fatalf("%s has %d grants, want 4 (one per period)", cu, len(grants))
		}
	}
}

// Environment of a refilling child process of MultiProcessRefills.
const (
	refillChildEnv   = "CREDITKIT_STORETEST_REFILL_DB"
	refillChildAtEnv = "CREDITKIT_STORETEST_REFILL_AT"
)

// refillPlans gives the ledger one monthly plan.
func refillPlans(cfg *creditkit.Config) {
	cfg.Plans = map[string]*creditkit.Plan{"monthly": {Name: "monthly", Gives: 100, Currency: "credits",
		Every: creditkit.Period{Count: 1, Unit: "month"}}}
}

// RunRefillChildIfAsked turns the test binary into a refilling child
// process when MultiProcessRefills started it: it runs RunDue from 8
// goroutines at the instant it was given, prints how many refills it
// wrote, and exits. Call it from an init function of the test package.
func RunRefillChildIfAsked() {
	url := os.Getenv(refillChildEnv)
	if url == "" {
		return
	}
	n, err := childRefill(url, os.Getenv(refillChildAtEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	fmt.Printf("refills=%d\n", n)
	os.Exit(0)
}

func childRefill(url, at string) (int64, error) {
	now, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		return 0, err
	}
	refillPlans(cfg)
	cfg.Clock = creditkit.NewManualClock(now)
	l, err := creditkit.Open(ctx, url, cfg)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	var total atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.RunDue(ctx)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
			total.Add(int64(res.Refills))
		}()
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil {
		return 0, e
	}
	return total.Load(), nil
}

// MultiProcessRefills subscribes 20 customers to a monthly plan on the
// database at url, then runs three OS processes (this test binary,
// re-executed) that each call RunDue from 8 goroutines three periods
// later: together they must write exactly 60 refills (one per customer and
// period), each with one credits.granted event, and every wallet must hold
// one period's allowance. The calling package must call
// RunRefillChildIfAsked from an init function.
func MultiProcessRefills(t *testing.T, url string) {
	c := ctx(t)
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		t.Fatal(err)
	}
	refillPlans(cfg)
	cfg.Clock = creditkit.NewManualClock(Epoch)
	l, err := creditkit.Open(c, url, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	defer l.Close()
	const customers = 20
	for i := range customers {
		must(l.StartSubscription(c, fmt.Sprintf("mp%02d", i), "monthly", nil))
	}
	at := Epoch.AddDate(0, 3, 0).Add(time.Minute).Format(time.RFC3339Nano)
	outs := make([][]byte, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(c, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), refillChildEnv+"="+url, refillChildAtEnv+"="+at)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			outs[i], errs[i] = cmd.Output()
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%w: %s", errs[i], stderr.String())
			}
		}()
	}
	wg.Wait()
	var total int64
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("child %d: %v", i, errs[i])
		}
		var n int64
		if _, err := fmt.Sscanf(string(outs[i]), "refills=%d", &n); err != nil {
			t.Fatalf("child %d printed %q: %v", i, outs[i], err)
		}
		total += n
	}
	if total != customers*3 {
		t.Fatalf("three processes wrote %d refills, want %d (one per customer and period)", total, customers*3)
	}
	granted := 0
	var after int64
	for {
		evs := must(l.Events(c, after, 1000))
		for _, e := range evs {
			if e.Type == creditkit.EventCreditsGranted && e.Data["source"] == string(creditkit.SourceSubscription) {
				granted++
			}
			after = e.Seq
		}
		if len(evs) < 1000 {
			break
		}
	}
	if granted != customers*4 {
		t.Fatalf("%d credits.granted events of refills, want %d (the first refill and three periods, each once)", granted, customers*4)
	}
	for i := range customers {
		cu := fmt.Sprintf("mp%02d", i)
		if n := len(must(l.Grants(c, cu, nil))); n != 4 {
			t.Fatalf("%s has %d grants, want 4", cu, n)
		}
	}
}
