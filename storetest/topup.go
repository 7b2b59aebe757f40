package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// TopUpConfig is the config of the auto top-up cases: a pack of 1,000
// credits for 49 USD, whose unit price is 4.9 cents a credit.
const TopUpConfig = `
currency: { name: credits, decimals: 0 }
operations:
  send_email: 1 credit
packs:
  starter: { gives: 1000 credits, costs: 49 USD }
`

// NewDatabase returns the URL of a fresh, empty database for one test
// ("sqlite:/tmp/…/x.db" or "postgres://…"), which several ledgers (as
// several server processes would) open at once.
type NewDatabase func(t *testing.T) string

// RunTopUp runs the auto top-up cases against databases made by newDB.
func RunTopUp(t *testing.T, newDB NewDatabase) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newDB NewDatabase)
	}{
		{"StateSaveIsConditional", testTopUpStateSave},
		{"BurstBuysOnce", testTopUpBurst},
		{"ConcurrentChecksClaimOnce", testTopUpConcurrentChecks},
		{"Cooldown", testTopUpCooldown},
		{"MonthlyCap", testTopUpMonthlyCap},
		{"FailureIsOneEventAndNoStorm", testTopUpFailure},
		{"TargetBalance", testTopUpTarget},
		{"CrashBetweenChargeAndPurchase", testTopUpCrash},
		{"ConfigDefaultAndDisable", testTopUpConfigDefault},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			defer guard(t)
			c.fn(t, newDB)
		})
	}
}

// TestCharger is a TopUpCharger for tests that behaves like a payment
// provider with idempotency keys: the first call with a key charges (a new
// payment intent), a later call with the same key answers the same payment
// without charging again. Fail makes it refuse every charge; After runs
// after each charge, before it answers.
type TestCharger struct {
	mu       sync.Mutex
	payments map[string]*creditkit.ChargeResult // by idempotency key
	requests []creditkit.ChargeRequest
	n        int
	// Fail, when set, is returned for every call (nothing is charged).
	Fail error
	// After, when set, runs after a charge and may replace its error.
	After func(ctx context.Context, req creditkit.ChargeRequest) error
}

// ChargeOffSession implements creditkit.TopUpCharger.
func (c *TestCharger) ChargeOffSession(ctx context.Context, req creditkit.ChargeRequest) (*creditkit.ChargeResult, error) {
	c.mu.Lock()
	c.requests = append(c.requests, req)
	if c.Fail != nil {
		err := c.Fail
		c.mu.Unlock()
		return nil, err
	}
	if c.payments == nil {
		c.payments = map[string]*creditkit.ChargeResult{}
	}
	res, ok := c.payments[req.IdempotencyKey]
	if !ok {
		c.n++
		res = &creditkit.ChargeResult{Provider: "test", PaymentIntentID: fmt.Sprintf("pi_test_%d", c.n), ChargeID: fmt.Sprintf("ch_test_%d", c.n), Status: "succeeded"}
		c.payments[req.IdempotencyKey] = res
	}
	after := c.After
	c.mu.Unlock()
	if after != nil {
		if err := after(ctx, req); err != nil {
			return nil, err
		}
	}
	out := *res
	return &out, nil
}

// Charged returns the payments made (one per idempotency key) and every
// request received.
func (c *TestCharger) Charged() (payments int, requests []creditkit.ChargeRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.payments), append([]creditkit.ChargeRequest(nil), c.requests...)
}

// topUpNode is one "process": a ledger on the shared database and its
// runner.
type topUpNode struct {
	l *creditkit.Ledger
	r *creditkit.TopUpRunner
}

// topUpSetup opens n ledgers on one fresh database, sharing a manual clock
// and a charger, each with a started runner.
func topUpSetup(t *testing.T, newDB NewDatabase, n int, charger creditkit.TopUpCharger, adjust func(*creditkit.Config)) ([]*topUpNode, *creditkit.ManualClock) {
	t.Helper()
	url := newDB(t)
	clock := creditkit.NewManualClock(Epoch)
	var nodes []*topUpNode
	for range n {
		cfg, err := creditkit.ParseConfig("topup.yaml", []byte(TopUpConfig))
		if err != nil {
			t.Fatal(err)
		}
		if adjust != nil {
			adjust(cfg)
		}
		cfg.Clock = clock
		l, err := creditkit.Open(ctx(t), url, cfg)
		if err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		r := creditkit.NewTopUpRunner(l, charger, &creditkit.TopUpRunnerOpts{SweepEvery: time.Hour})
		c, cancel := context.WithCancel(context.Background())
		r.Start(c)
		t.Cleanup(func() { cancel(); r.Stop(); l.Close() })
		nodes = append(nodes, &topUpNode{l: l, r: r})
	}
	return nodes, clock
}

// flush waits until every node's runner checked what it was given.
func flush(t *testing.T, nodes []*topUpNode) {
	t.Helper()
	for _, n := range nodes {
		if err := n.r.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// packPurchases counts a customer's purchases: the purchase rows, which
// must agree with the pack purchase entries of the ledger.
func packPurchases(t *testing.T, l *creditkit.Ledger, customer string) int {
	t.Helper()
	entries := 0
	// The whole history: a burst of spends writes more than a page.
	for _, e := range allEntries(t, l, customer, "") {
		if e.Category == creditkit.CategoryPackPurchase {
			entries++
		}
	}
	rows := len(must(l.Purchases(ctx(t), customer, nil)))
	if rows != entries {
		t.Fatalf("%s has %d purchase rows but %d pack purchase entries", customer, rows, entries)
	}
	return rows
}

// outboxEvents returns the outbox's events of a type.
func outboxEvents(t *testing.T, l *creditkit.Ledger, typ string) []*creditkit.Event {
	t.Helper()
	var out []*creditkit.Event
	// Page through the whole outbox: a burst writes more events than one
	// page holds, and the one looked for may come after them.
	for after := int64(0); ; {
		page := must(l.Events(ctx(t), after, 1000))
		for _, e := range page {
			if e.Type == typ {
				out = append(out, e)
			}
			after = e.Seq
		}
		if len(page) < 1000 {
			return out
		}
	}
}

func setTopUp(t *testing.T, l *creditkit.Ledger, customer string, a creditkit.AutoTopUp) {
	t.Helper()
	a.Enabled = true
	must(l.SetAutoTopUp(ctx(t), customer, a, nil))
}

// testTopUpStateSave: of concurrent saves from one version, exactly one
// saves, and only its events reach the outbox.
func testTopUpStateSave(t *testing.T, newDB NewDatabase) {
	nodes, clock := topUpSetup(t, newDB, 2, &TestCharger{}, nil)
	var stores []store.TopUpStore
	for _, n := range nodes {
		ts, ok := n.l.Store().(store.TopUpStore)
		if !ok {
			t.Fatal("the store is not a store.TopUpStore")
		}
		stores = append(stores, ts)
	}
	now := clock.Now()
	for _, prev := range []int64{0, 1} {
		var won atomic.Int64
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := &store.TopUpState{Customer: "alice", Currency: "credits", Version: prev + 1, AttemptID: fmt.Sprintf("topup_%d_%d", prev, i),
					AttemptStartedAt: &now, UpdatedAt: now}
				ev := &store.Event{ID: fmt.Sprintf("evt_%d_%d", prev, i), Type: "credits.topup.succeeded", Customer: "alice", Currency: "credits", Data: []byte("{}"), At: now}
				ok, err := stores[i%2].SaveTopUpState(ctx(t), st, prev, []*store.Event{ev})
				if err != nil {
					t.Errorf("save: %v", err)
				}
				if ok {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("from version %d, %d saves won, want exactly 1", prev, won.Load())
		}
	}
	st := must(stores[0].TopUpState(ctx(t), "alice", "credits"))
	if st == nil || st.Version != 2 || st.AttemptID == "" || !st.AttemptStartedAt.Equal(now) {
		t.Fatalf("state = %+v, want version 2 with the winner's attempt", st)
	}
	if n := len(outboxEvents(t, nodes[0].l, "credits.topup.succeeded")); n != 2 {
		t.Fatalf("%d events in the outbox, want the 2 winners'", n)
	}
	stale := must(stores[1].StaleTopUps(ctx(t), now, 10))
	if len(stale) != 1 || stale[0].AttemptID != st.AttemptID {
		t.Fatalf("stale = %v, want the one attempt", stale)
	}
	if got := must(stores[1].StaleTopUps(ctx(t), now.Add(-time.Second), 10)); len(got) != 0 {
		t.Fatalf("an attempt saved at now is stale before now: %v", got)
	}
	set := &store.TopUpSettings{Customer: "alice", Currency: "credits", Enabled: true, Threshold: 10, Pack: "starter", MonthlyCapCents: 100,
		Cooldown: 90 * time.Second, CreatedAt: now, UpdatedAt: now}
	if err := stores[0].SaveTopUpSettings(ctx(t), set); err != nil {
		t.Fatal(err)
	}
	set.Enabled, set.UpdatedAt = false, now.Add(time.Second)
	if err := stores[1].SaveTopUpSettings(ctx(t), set); err != nil {
		t.Fatal(err)
	}
	got := must(stores[0].TopUpSettings(ctx(t), "alice", "credits"))
	if got == nil || got.Enabled || got.Cooldown != 90*time.Second || got.Threshold != 10 || !got.CreatedAt.Equal(now) {
		t.Fatalf("settings = %+v", got)
	}
}

// testTopUpBurst: 1,000 concurrent spends, spread over three ledgers (as
// three server processes on one database, each with its runner), take a
// wallet from 1,050 credits across its threshold of 1,000 and far below:
// exactly one charge and one purchase.
func testTopUpBurst(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, _ := topUpSetup(t, newDB, 3, charger, nil)
	l := nodes[0].l
	must(l.Grant(ctx(t), "alice", 1050, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 1000, Pack: "starter"})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := nodes[i%3].l.Spend(ctx(t), "alice", "send_email", nil, nil); err != nil {
				failed.Add(1)
				t.Errorf("spend: %v", err)
			}
		}()
	}
	wg.Wait()
	flush(t, nodes)
	payments, reqs := charger.Charged()
	if payments != 1 || len(reqs) != 1 {
		t.Fatalf("%d payments from %d charge requests, want exactly 1", payments, len(reqs))
	}
	if reqs[0].AmountCents != 4900 || reqs[0].MoneyCurrency != "USD" || reqs[0].IdempotencyKey == "" {
		t.Fatalf("charge request = %+v", reqs[0])
	}
	if n := packPurchases(t, l, "alice"); n != 1 {
		t.Fatalf("%d purchases granted, want 1", n)
	}
	wantAvailable(t, l, "alice", 1050-1000+1000)
	if n := len(outboxEvents(t, l, creditkit.EventTopUpSucceeded)); n != 1 {
		t.Fatalf("%d credits.topup.succeeded events, want 1", n)
	}
	st := must(l.GetAutoTopUp(ctx(t), "alice", ""))
	if st.InFlight != nil || st.MonthSpentCents != 4900 || st.LastPurchaseAt == nil || st.NextAttemptAfter == nil {
		t.Fatalf("status after the burst = %+v", st)
	}
	CheckInvariants(t, l)
}

// testTopUpConcurrentChecks: 24 checks of one wallet under its threshold,
// released at once from three ledgers on one database: exactly one claims
// the attempt and charges.
func testTopUpConcurrentChecks(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, _ := topUpSetup(t, newDB, 3, charger, nil)
	l := nodes[0].l
	must(l.Grant(ctx(t), "alice", 50, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 100, Pack: "starter"})
	start := make(chan struct{})
	var purchased atomic.Int64
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := nodes[i%3].r.Check(ctx(t), "alice", "")
			if err != nil {
				t.Errorf("check: %v", err)
			}
			if out == creditkit.TopUpPurchased {
				purchased.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if p, reqs := charger.Charged(); purchased.Load() != 1 || p != 1 || len(reqs) != 1 {
		t.Fatalf("%d checks purchased, %d payments from %d requests; want exactly 1", purchased.Load(), p, len(reqs))
	}
	if n := packPurchases(t, l, "alice"); n != 1 {
		t.Fatalf("%d purchases, want 1", n)
	}
	wantAvailable(t, l, "alice", 1050)
}

// testTopUpCooldown: after a purchase, a spend under the threshold buys
// nothing until the cooldown has passed.
func testTopUpCooldown(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, clock := topUpSetup(t, newDB, 1, charger, nil)
	l, r := nodes[0].l, nodes[0].r
	must(l.Grant(ctx(t), "alice", 150, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 100, Pack: "starter", Cooldown: 30 * time.Minute})
	must(l.Debit(ctx(t), "alice", 60, nil))
	flush(t, nodes)
	wantAvailable(t, l, "alice", 1090)
	must(l.Debit(ctx(t), "alice", 1000, nil))
	flush(t, nodes)
	if out := must(r.Check(ctx(t), "alice", "")); out != creditkit.TopUpCoolingDown {
		t.Fatalf("check within the cooldown = %s", out)
	}
	if p, _ := charger.Charged(); p != 1 {
		t.Fatalf("%d payments within the cooldown, want 1", p)
	}
	wantAvailable(t, l, "alice", 90)
	clock.Advance(30 * time.Minute)
	must(l.Debit(ctx(t), "alice", 1, nil))
	flush(t, nodes)
	if p, _ := charger.Charged(); p != 2 {
		t.Fatalf("%d payments after the cooldown, want 2", p)
	}
	wantAvailable(t, l, "alice", 1089)
	CheckInvariants(t, l)
}

// testTopUpMonthlyCap: a purchase that would take the month's spend past
// the cap is refused; the next month it goes through.
func testTopUpMonthlyCap(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, clock := topUpSetup(t, newDB, 1, charger, nil)
	l, r := nodes[0].l, nodes[0].r
	must(l.Grant(ctx(t), "alice", 50, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 100, Pack: "starter", MonthlyCapCents: 6000, Cooldown: time.Minute})
	if out := must(r.Check(ctx(t), "alice", "")); out != creditkit.TopUpPurchased {
		t.Fatalf("first check = %s", out)
	}
	must(l.Debit(ctx(t), "alice", 1000, nil))
	flush(t, nodes) // the runner's own check of the debit (cooldown) is done
	clock.Advance(time.Hour)
	if out := must(r.Check(ctx(t), "alice", "")); out != creditkit.TopUpMonthlyCap {
		t.Fatalf("check past the cap = %s, want monthly_cap", out)
	}
	if p, _ := charger.Charged(); p != 1 {
		t.Fatalf("%d payments, want 1 (the cap allows 60 USD, two packs cost 98)", p)
	}
	clock.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if out := must(r.Check(ctx(t), "alice", "")); out != creditkit.TopUpPurchased {
		t.Fatalf("check the next month = %s", out)
	}
	if st := must(l.GetAutoTopUp(ctx(t), "alice", "")); st.MonthSpentCents != 4900 {
		t.Fatalf("month spend = %d, want 4900 (a new month)", st.MonthSpentCents)
	}
	wantAvailable(t, l, "alice", 50+1000-1000+1000)
}

// testTopUpFailure: a refused charge writes one credits.topup.failed
// event, grants nothing, and the spends that follow retry nothing until
// the cooldown has passed.
func testTopUpFailure(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{Fail: errors.New("your card was declined (card_declined)")}
	nodes, clock := topUpSetup(t, newDB, 2, charger, nil)
	l := nodes[0].l
	must(l.Grant(ctx(t), "alice", 120, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 100, Pack: "starter", Cooldown: time.Hour})
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			must(nodes[i%2].l.Spend(ctx(t), "alice", "send_email", nil, nil))
		}()
	}
	wg.Wait()
	flush(t, nodes)
	_, reqs := charger.Charged()
	failed := outboxEvents(t, l, creditkit.EventTopUpFailed)
	if len(reqs) != 1 || len(failed) != 1 {
		t.Fatalf("%d charge requests and %d credits.topup.failed events, want 1 and 1", len(reqs), len(failed))
	}
	if msg, _ := failed[0].Data["error"].(string); msg != "your card was declined (card_declined)" {
		t.Fatalf("failed event data = %v", failed[0].Data)
	}
	wantAvailable(t, l, "alice", 20)
	st := must(l.GetAutoTopUp(ctx(t), "alice", ""))
	if st.InFlight != nil || st.LastFailure == "" || st.NextAttemptAfter == nil || !st.NextAttemptAfter.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("status after the failure = %+v", st)
	}
	for range 10 {
		must(l.Spend(ctx(t), "alice", "send_email", nil, nil))
	}
	flush(t, nodes)
	if _, reqs := charger.Charged(); len(reqs) != 1 {
		t.Fatalf("%d charge requests within the cooldown, want 1", len(reqs))
	}
	clock.Advance(time.Hour)
	must(l.Spend(ctx(t), "alice", "send_email", nil, nil))
	flush(t, nodes)
	if _, reqs := charger.Charged(); len(reqs) != 2 {
		t.Fatalf("%d charge requests after the cooldown, want 2", len(reqs))
	}
	if n := len(outboxEvents(t, l, creditkit.EventTopUpFailed)); n != 2 {
		t.Fatalf("%d failed events, want 2", n)
	}
	if n := packPurchases(t, l, "alice"); n != 0 {
		t.Fatalf("%d purchases after failed charges", n)
	}
	CheckInvariants(t, l)
}

// testTopUpTarget: target_balance buys the credits up to the target at
// the pack's unit price, rounded half up to the cent (Pack.PriceFor).
func testTopUpTarget(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, _ := topUpSetup(t, newDB, 1, charger, nil)
	l := nodes[0].l
	must(l.Grant(ctx(t), "alice", 137, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 100, Pack: "starter", TargetBalance: 500})
	must(l.Debit(ctx(t), "alice", 100, nil))
	flush(t, nodes)
	_, reqs := charger.Charged()
	// 463 credits × 4900 cents ÷ 1000 credits = 2268.7 cents, half up 2269.
	if len(reqs) != 1 || reqs[0].AmountCents != 2269 || reqs[0].Metadata["creditkit_credits"] != "463" {
		t.Fatalf("charge requests = %+v, want one of 2269 cents for 463 credits", reqs)
	}
	wantAvailable(t, l, "alice", 500)
	CheckInvariants(t, l)
}

// testTopUpCrash: the runner's process "dies" after the charge went
// through and before the purchase was granted (its context ends there, so
// the grant never reaches the database). The attempt stays in flight;
// after StaleAfter, two runners sweep at once: one takes it over, charges
// again with the same idempotency key (the provider answers the same
// payment, charging nothing more) and grants it once.
func testTopUpCrash(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, clock := topUpSetup(t, newDB, 2, charger, nil)
	l := nodes[0].l
	must(l.Grant(ctx(t), "alice", 50, nil))
	setTopUp(t, l, "alice", creditkit.AutoTopUp{Threshold: 100, Pack: "starter"})
	dying, die := context.WithCancel(ctx(t))
	charger.mu.Lock()
	charger.After = func(ctx context.Context, req creditkit.ChargeRequest) error { die(); return nil }
	charger.mu.Unlock()
	out, err := nodes[0].r.Check(dying, "alice", "")
	if out != creditkit.TopUpInFlight || err == nil {
		t.Fatalf("check that dies after the charge = %s, %v; want in_flight and the grant's error", out, err)
	}
	charger.mu.Lock()
	charger.After = nil
	charger.mu.Unlock()
	wantAvailable(t, l, "alice", 50)
	if out := must(nodes[1].r.Check(ctx(t), "alice", "")); out != creditkit.TopUpInFlight {
		t.Fatalf("check while in flight = %s", out)
	}
	if n := must(nodes[1].r.ResumeStale(ctx(t))); n != 0 {
		t.Fatalf("resumed %d attempts before they were stale", n)
	}
	clock.Advance(creditkit.DefaultTopUpStaleAfter)
	var resumed atomic.Int64
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resumed.Add(int64(must(n.r.ResumeStale(ctx(t)))))
		}()
	}
	wg.Wait()
	if resumed.Load() != 1 {
		t.Fatalf("%d runners resumed the attempt, want 1", resumed.Load())
	}
	payments, reqs := charger.Charged()
	if payments != 1 || len(reqs) != 2 || reqs[0].IdempotencyKey != reqs[1].IdempotencyKey {
		t.Fatalf("%d payments from %d requests (%+v), want 1 payment asked twice with one key", payments, len(reqs), reqs)
	}
	if n := packPurchases(t, l, "alice"); n != 1 {
		t.Fatalf("%d purchases, want 1", n)
	}
	wantAvailable(t, l, "alice", 1050)
	if st := must(l.GetAutoTopUp(ctx(t), "alice", "")); st.InFlight != nil || st.MonthSpentCents != 4900 {
		t.Fatalf("status after the resume = %+v", st)
	}
	CheckInvariants(t, l)
}

// testTopUpConfigDefault: the config's auto_topup applies to a customer
// without settings; a customer's own settings replace it, and disabling
// turns it off for that customer only.
func testTopUpConfigDefault(t *testing.T, newDB NewDatabase) {
	charger := &TestCharger{}
	nodes, _ := topUpSetup(t, newDB, 1, charger, func(cfg *creditkit.Config) {
		cfg.AutoTopUp = &creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "starter", MonthlyCapCents: 10000}
	})
	l, r := nodes[0].l, nodes[0].r
	st := must(l.GetAutoTopUp(ctx(t), "alice", ""))
	if st.Source != creditkit.TopUpSourceConfig || !st.Enabled || st.Threshold != 100 || st.Cooldown != "1h0m0s" || st.MoneyCurrency != "USD" {
		t.Fatalf("default status = %+v", st)
	}
	must(l.Grant(ctx(t), "alice", 10, nil))
	must(l.Grant(ctx(t), "bob", 10, nil))
	must(l.DisableAutoTopUp(ctx(t), "bob", ""))
	if st := must(l.GetAutoTopUp(ctx(t), "bob", "")); st.Source != creditkit.TopUpSourceCustomer || st.Enabled {
		t.Fatalf("disabled status = %+v", st)
	}
	if out := must(r.Check(ctx(t), "bob", "")); out != creditkit.TopUpDisabled {
		t.Fatalf("check of a disabled customer = %s", out)
	}
	if out := must(r.Check(ctx(t), "alice", "")); out != creditkit.TopUpPurchased {
		t.Fatalf("check of a customer on the default = %s", out)
	}
	_, err := l.SetAutoTopUp(ctx(t), "carol", creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "nope"}, nil)
	wantCode(t, err, creditkit.CodeInvalidRequest)
	_, err = l.SetAutoTopUp(ctx(t), "carol", creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "starter", TargetBalance: 50}, nil)
	wantCode(t, err, creditkit.CodeInvalidRequest)
	_, err = l.SetAutoTopUp(ctx(t), "carol", creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "starter", Cooldown: time.Second}, nil)
	wantCode(t, err, creditkit.CodeInvalidRequest)
	_, err = l.SetAutoTopUp(ctx(t), "carol", creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "starter", MonthlyCapCents: 100}, nil)
	wantCode(t, err, creditkit.CodeInvalidRequest)
	if st := must(l.GetAutoTopUp(ctx(t), "carol", "")); st.Source != creditkit.TopUpSourceConfig {
		t.Fatalf("refused settings were saved: %+v", st)
	}
}
