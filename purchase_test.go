package creditkit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// purchaseConfig has two packs, one that expires, and a bonus-friendly
// single currency; refund_debt is appended per test.
const purchaseConfig = `
currencies:
  - { name: credits, decimals: 0 }
packs:
  starter: { gives: 1000 credits, costs: 10 USD }
  large:   { gives: 3000 credits, costs: 20 USD, expires_after: 1 year }
`

var purchaseStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func buy(t *testing.T, l *Ledger, customer, pack, external string) *Purchase {
	t.Helper()
	p, err := l.Purchase(context.Background(), customer, PurchaseOpts{Pack: pack, Provider: "manual", ExternalID: external})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func refund(t *testing.T, l *Ledger, external string, total int64, refundID string) *Refund {
	t.Helper()
	r, err := l.Refund(context.Background(), RefundOpts{Provider: "manual", ExternalID: external, RefundedTotal: total, RefundID: refundID})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func grantRemaining(t *testing.T, l *Ledger, id string) Amount {
	t.Helper()
	g, err := l.GetGrant(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return g.Remaining
}

// TestPurchaseGrantsOnce: a purchase grants the pack once, with its
// source, priority, expiry, cost basis and metadata; a replay of the same
// (provider, external_id) returns it and moves nothing; another customer
// or pack with the same external_id is a conflict; an unknown pack names
// the packs.
func TestPurchaseGrantsOnce(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig, purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		var mu sync.Mutex
		var events []Event
		l.Subscribe(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
		paidAt := purchaseStart.Add(-time.Minute)
		p, err := l.Purchase(ctx, "ann", PurchaseOpts{Pack: "large", Provider: "stripe", ExternalID: "cs_1", ChargeID: "ch_1",
			PaymentIntentID: "pi_1", PurchasedAt: paidAt, Metadata: map[string]string{"order": "42"}, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Replayed || p.Credits != 3000 || p.AmountPaid != 2000 || p.MoneyCurrency != "USD" || p.Currency != "credits" ||
			!p.PurchasedAt.Equal(paidAt) || p.CostBasis == nil || p.CostBasis.PerCredit != "0.006666666667" {
			t.Fatalf("purchase = %+v (cost basis %+v)", p, p.CostBasis)
		}
		g, err := l.GetGrant(ctx, p.GrantID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Source != SourcePack || g.Priority != 30 || g.Amount != 3000 || g.ExpiresAt == nil ||
			!g.ExpiresAt.Equal(purchaseStart.AddDate(1, 0, 0)) || g.CostBasis == nil || g.CostBasis.Currency != "USD" {
			t.Fatalf("grant = %+v", g)
		}
		for k, v := range map[string]string{"order": "42", "pack": "large", "provider": "stripe", "external_id": "cs_1", "amount_paid": "2000",
			"money_currency": "USD", "charge_id": "ch_1", "payment_intent_id": "pi_1", "purchase_id": p.ID,
			"purchased_at": paidAt.Format(time.RFC3339Nano), "cost_basis": "0.006666666667"} {
			if g.Metadata[k] != v {
				t.Fatalf("grant metadata %s = %q, want %q (%v)", k, g.Metadata[k], v, g.Metadata)
			}
		}
		again, err := l.Purchase(ctx, "ann", PurchaseOpts{Pack: "large", Provider: "stripe", ExternalID: "cs_1"})
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed || again.ID != p.ID || again.GrantID != p.GrantID {
			t.Fatalf("replay = %+v, want purchase %s replayed", again, p.ID)
		}
		wantBalance(t, l, "ann", 3000, "after a replay")
		got, err := l.GetPurchase(ctx, "stripe", "cs_1")
		if err != nil || got.ID != p.ID || got.Replayed {
			t.Fatalf("GetPurchase = %+v, %v", got, err)
		}
		if _, err := l.GetPurchase(ctx, "stripe", "cs_none"); ErrorCodeOf(err) != CodeNotFound {
			t.Fatalf("GetPurchase of nothing: %v", err)
		}
		// The same payment for someone else, or for another pack.
		_, err = l.Purchase(ctx, "bob", PurchaseOpts{Pack: "large", Provider: "stripe", ExternalID: "cs_1"})
		if ErrorCodeOf(err) != CodePurchaseConflict || !strings.Contains(err.Error(), "ann") {
			t.Fatalf("other customer: %v", err)
		}
		_, err = l.Purchase(ctx, "ann", PurchaseOpts{Pack: "starter", Provider: "stripe", ExternalID: "cs_1"})
		if ErrorCodeOf(err) != CodePurchaseConflict {
			t.Fatalf("other pack: %v", err)
		}
		// The same external id of another provider is another payment.
		buy(t, l, "ann", "starter", "cs_1")
		wantBalance(t, l, "ann", 4000, "after a manual purchase")
		// Bad input moves nothing and says what to fix.
		for _, c := range []struct {
			opts PurchaseOpts
			want string
		}{
			{PurchaseOpts{Pack: "huge", Provider: "manual", ExternalID: "x"}, "large, starter"},
			{PurchaseOpts{Pack: "starter", Provider: "Stripe!", ExternalID: "x"}, "lowercase"},
			{PurchaseOpts{Pack: "starter", Provider: "manual"}, "external_id"},
			{PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "x", Credits: -1}, "negative"},
			{PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "x", MoneyCurrency: "EUR"}, "amount_paid"},
			{PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "x", Metadata: map[string]string{"pack": "x"}}, "reserved"},
		} {
			_, err := l.Purchase(ctx, "ann", c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%+v: got %v, want an error saying %q", c.opts, err, c.want)
			}
		}
		wantBalance(t, l, "ann", 4000, "after bad input")
		// Credits set scale the price: 500 starter credits cost 5 USD.
		half, err := l.Purchase(ctx, "cid", PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "half", Credits: 500})
		if err != nil || half.AmountPaid != 500 || half.CostBasis.PerCredit != "0.01" {
			t.Fatalf("half a pack = %+v, %v", half, err)
		}
		list, err := l.Purchases(ctx, "ann", nil)
		if err != nil || len(list) != 2 || list[0].ID != p.ID {
			t.Fatalf("purchases of ann = %v, %v", list, err)
		}
		if _, err := l.Purchases(ctx, "nobody", nil); ErrorCodeOf(err) != CodeCustomerNotFound {
			t.Fatalf("purchases of nobody: %v", err)
		}
		mu.Lock()
		completed := 0
		for _, e := range events {
			if e.Type == EventPurchaseCompleted {
				completed++
			}
		}
		mu.Unlock()
		if completed != 3 {
			t.Fatalf("%d purchase events, want 3", completed)
		}
	})
}

// TestPurchaseConcurrentOnce: 20 callers fulfil the same payment at once
// (the webhook and the return page, on several processes): one grant,
// one purchase, 19 replays.
func TestPurchaseConcurrentOnce(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig, purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		const callers = 20
		var wg sync.WaitGroup
		results := make([]*Purchase, callers)
		errs := make([]error, callers)
		start := make(chan struct{})
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = l.Purchase(context.Background(), "race", PurchaseOpts{Pack: "starter", Provider: "stripe", ExternalID: "cs_race"})
			}()
		}
		close(start)
		wg.Wait()
		fresh := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if r.ID != results[0].ID {
				t.Fatalf("two purchases: %s and %s", r.ID, results[0].ID)
			}
			if !r.Replayed {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d callers fulfilled the purchase, want 1", fresh)
		}
		wantBalance(t, l, "race", 1000, "after 20 racing purchases")
		if n := countEntries(t, l, "race", EntryGrant); n != 1 {
			t.Fatalf("%d grant entries, want 1", n)
		}
	})
}

// refundScenario buys a starter pack (1000 credits for 10 USD), spends half
// of it, then refunds 2.50 USD twice (the second a redelivery), 5 USD, and
// the rest. It returns the refunds.
func refundScenario(t *testing.T, l *Ledger) []*Refund {
	t.Helper()
	p := buy(t, l, "cus", "starter", "pay_1")
	debit(t, l, "cus", 500)
	var out []*Refund
	for _, r := range []struct {
		total int64
		id    string
	}{{250, "re_1"}, {250, "re_1"}, {500, "re_2"}, {1000, "re_3"}} {
		out = append(out, refund(t, l, "pay_1", r.total, r.id))
	}
	if out[3].Purchase.ID != p.ID || out[3].Purchase.RefundedCents != 1000 {
		t.Fatalf("purchase after refunds = %+v", out[3].Purchase)
	}
	return out
}

// TestRefundAllowRecordsDebt: two partial refunds then a full one on a
// pack half spent, under refund_debt: allow. The partial refunds take
// 250 credits each from the pack; the redelivered one moves nothing; the
// full one finds the pack empty and records the 500 spent as debt.
func TestRefundAllowRecordsDebt(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig+"refund_debt: allow\n", purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		rs := refundScenario(t, l)
		for i, want := range []struct{ clawed, debt, entries Amount }{{250, 0, 1}, {0, 0, 0}, {250, 0, 1}, {0, 500, 1}} {
			r := rs[i]
			if r.ClawedBack != want.clawed || r.Debt != want.debt || r.Shortfall != 0 || Amount(len(r.Entries)) != want.entries {
				t.Fatalf("refund %d = clawed %d debt %d shortfall %d, %d entries; want %+v", i, r.ClawedBack, r.Debt, r.Shortfall, len(r.Entries), want)
			}
		}
		last := rs[3]
		if p := last.Purchase; p.ClawedBack != 500 || p.RefundDebt != 500 || p.Shortfall != 0 {
			t.Fatalf("purchase after refunds = %+v", p)
		}
		e := last.Entries[0]
		if e.Type != EntryRefund || e.Amount != -500 || len(e.Allocations) != 0 || e.Details["refund_id"] != "re_3" ||
			e.Details["debt"] != float64(500) || e.Details["refunded_total"] != float64(1000) {
			t.Fatalf("last refund entry = %+v", e)
		}
		b, err := l.Balance(context.Background(), "cus", nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != -500 || b.Debt != 500 {
			t.Fatalf("balance after refunds = %+v, want available -500 and debt 500", b)
		}
		if n := countEntries(t, l, "cus", EntryRefund); n != 3 {
			t.Fatalf("%d refund entries, want 3", n)
		}
		// Beyond the overage limit (0), the debt stops spending on credit,
		// and the next purchase repays it first.
		if _, err := l.Debit(context.Background(), "cus", 1, nil); ErrorCodeOf(err) != CodeInsufficientCredits {
			t.Fatalf("debit in refund debt: %v", err)
		}
		buy(t, l, "cus", "starter", "pay_2")
		wantBalance(t, l, "cus", 500, "after buying again")
		// A refund of more than was paid is refused and moves nothing.
		if _, err := l.Refund(context.Background(), RefundOpts{Provider: "manual", ExternalID: "pay_2", RefundedTotal: 1001}); ErrorCodeOf(err) != CodeInvalidAmount {
			t.Fatalf("over-refund: %v", err)
		}
		if _, err := l.Refund(context.Background(), RefundOpts{Provider: "manual", ExternalID: "nope", RefundedTotal: 1}); ErrorCodeOf(err) != CodeNotFound {
			t.Fatalf("refund of nothing: %v", err)
		}
	})
}

// TestRefundForbidReportsShortfall: the same story under refund_debt:
// forbid: the full refund finds nothing left and reports a 500 shortfall
// in its entry and its event; the wallet never goes negative.
func TestRefundForbidReportsShortfall(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig+"refund_debt: forbid\n", purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		var mu sync.Mutex
		var refunded []Event
		l.Subscribe(func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Type == EventCreditsRefunded {
				refunded = append(refunded, e)
			}
		})
		rs := refundScenario(t, l)
		for i, want := range []struct{ clawed, short Amount }{{250, 0}, {0, 0}, {250, 0}, {0, 500}} {
			if r := rs[i]; r.ClawedBack != want.clawed || r.Shortfall != want.short || r.Debt != 0 {
				t.Fatalf("refund %d = clawed %d debt %d shortfall %d; want %+v", i, r.ClawedBack, r.Debt, r.Shortfall, want)
			}
		}
		if p := rs[3].Purchase; p.ClawedBack != 500 || p.RefundDebt != 0 || p.Shortfall != 500 {
			t.Fatalf("purchase after refunds = %+v", p)
		}
		e := rs[3].Entries[0]
		if e.Type != EntryRefund || e.Amount != 0 || e.Details["shortfall"] != float64(500) {
			t.Fatalf("last refund entry = %+v", e)
		}
		b, err := l.Balance(context.Background(), "cus", nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != 0 || b.Debt != 0 {
			t.Fatalf("balance after refunds = %+v, want 0 and no debt", b)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(refunded) != 3 || fmt.Sprint(refunded[2].Data["shortfall"]) != "500" {
			t.Fatalf("refund events = %+v", refunded)
		}
	})
}

// TestRefundClawBackOrder: a refund takes from the purchase's own grant
// first, whatever the burn-down order says, then from the other grants in
// burn-down order.
func TestRefundClawBackOrder(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig, purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		bonus, err := l.Grant(ctx, "ord", 500, &GrantOpts{Reason: "signup_bonus"})
		if err != nil {
			t.Fatal(err)
		}
		p1 := buy(t, l, "ord", "starter", "o1")
		debit(t, l, "ord", 300) // from the bonus: priority 10 burns first
		// Half the money back: 500 credits, all from the pack, though the
		// bonus burns first.
		r := refund(t, l, "o1", 500, "r1")
		if r.ClawedBack != 500 || grantRemaining(t, l, p1.GrantID) != 500 || grantRemaining(t, l, bonus.ID) != 200 {
			t.Fatalf("half refund took %d; pack has %d, bonus %d", r.ClawedBack, grantRemaining(t, l, p1.GrantID), grantRemaining(t, l, bonus.ID))
		}
		p2 := buy(t, l, "ord", "starter", "o2")
		debit(t, l, "ord", 600) // bonus 200, then pack o1 (older) 400
		if grantRemaining(t, l, p1.GrantID) != 100 {
			t.Fatalf("pack o1 has %d, want 100", grantRemaining(t, l, p1.GrantID))
		}
		// The rest of the money back: 500 credits, 100 from o1, then 400
		// from the other grants in burn-down order (the bonus is empty, so
		// pack o2).
		r = refund(t, l, "o1", 1000, "r2")
		allocs := r.Entries[0].Allocations
		if r.ClawedBack != 500 || r.Debt != 0 || len(allocs) != 2 || allocs[0].GrantID != p1.GrantID || allocs[0].Amount != 100 ||
			allocs[1].GrantID != p2.GrantID || allocs[1].Amount != 400 {
			t.Fatalf("full refund = %+v, allocations %+v", r, allocs)
		}
		wantBalance(t, l, "ord", 600, "after the refunds")
		// A refund can find the purchase by its charge or payment intent.
		p3, err := l.Purchase(ctx, "ord", PurchaseOpts{Pack: "starter", Provider: "paddle", ExternalID: "txn_3", ChargeID: "ch_3", PaymentIntentID: "pi_3"})
		if err != nil {
			t.Fatal(err)
		}
		r, err = l.Refund(ctx, RefundOpts{Provider: "paddle", ChargeID: "ch_3", RefundedTotal: 100})
		if err != nil || r.Purchase.ID != p3.ID || r.ClawedBack != 100 {
			t.Fatalf("refund by charge = %+v, %v", r, err)
		}
		r, err = l.Refund(ctx, RefundOpts{Provider: "paddle", PaymentIntentID: "pi_3", RefundedTotal: 200})
		if err != nil || r.Purchase.ID != p3.ID || r.ClawedBack != 100 || r.Entries[0].Details["charge_id"] != "ch_3" {
			t.Fatalf("refund by payment intent = %+v, %v", r, err)
		}
		// A refund that first learns the charge ID keeps it for the next.
		buy(t, l, "ord", "starter", "o4")
		if _, err := l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: "o4", ChargeID: "ch_4", RefundedTotal: 100}); err != nil {
			t.Fatal(err)
		}
		r, err = l.Refund(ctx, RefundOpts{Provider: "manual", ChargeID: "ch_4", RefundedTotal: 300})
		if err != nil || r.Purchase.ExternalID != "o4" || r.Purchase.ChargeID != "ch_4" || r.ClawedBack != 200 {
			t.Fatalf("refund by a charge learnt from a refund = %+v, %v", r, err)
		}
	})
}

// TestRefundCreditsRoundUp: the credits owed are ceil(credits × refunded
// ÷ paid), cumulative, so partial refunds never add up to more than the
// pack.
func TestRefundCreditsRoundUp(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		credits, refunded, paid int64
		want                    Amount
	}{{1000, 250, 1000, 250}, {3000, 1, 2000, 2}, {3000, 2000, 2000, 3000}, {7, 1, 3, 3}, {7, 0, 3, 0}, {1 << 62, 3, 4, 3 << 60}} {
		if got := refundCredits(c.credits, c.refunded, c.paid); got != c.want {
			t.Errorf("refundCredits(%d, %d, %d) = %d, want %d", c.credits, c.refunded, c.paid, got, c.want)
		}
	}
}

// TestRefundDebtConfig: refund_debt is allow or forbid, with a
// line-numbered error otherwise; the default is allow.
func TestRefundDebtConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig("c.yaml", []byte(purchaseConfig))
	if err != nil || cfg.refundDebt() != RefundDebtAllow {
		t.Fatalf("default = %v, %v", cfg, err)
	}
	cfg, err = ParseConfig("c.yaml", []byte(purchaseConfig+"refund_debt: Forbid\n"))
	if err != nil || cfg.RefundDebt != RefundDebtForbid {
		t.Fatalf("forbid = %v, %v", cfg, err)
	}
	_, err = ParseConfig("c.yaml", []byte(purchaseConfig+"refund_debt: sometimes\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:7") || !strings.Contains(err.Error(), "allow") {
		t.Fatalf("bad value: %v", err)
	}
	bad := DefaultConfig()
	bad.RefundDebt = "maybe"
	if err := bad.Validate(); ErrorCodeOf(err) != CodeInvalidConfig {
		t.Fatalf("Validate: %v", err)
	}
}

// TestRevenueRefundsAreNegativeSales: a starter pack (1000 credits, 10
// USD) half spent, then refunded a quarter and then in full: the report
// shows the clawed-back credits as negative sales at the pack's cost
// basis (and again, positive, on the refunds line), the spent half as
// recognized, and reconciles. The 500 credits recorded as debt were paid
// for by the money refunded: they are negative sales too, at the pack's
// cost basis, and reverse the revenue recognized when they were spent.
func TestRevenueRefundsAreNegativeSales(t *testing.T) {
	t.Parallel()
	onBothStoresWith(t, purchaseConfig, purchaseStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		buy(t, l, "rev", "starter", "r1")
		debit(t, l, "rev", 500)
		clock.Advance(time.Hour)
		refund(t, l, "r1", 250, "re_1")
		mid := clock.Now().Add(time.Minute)
		clock.Advance(time.Hour)
		refund(t, l, "r1", 1000, "re_2")
		end := clock.Now().Add(time.Minute)
		report := func(from, to time.Time) *MoneyRevenue {
			rep, err := l.Revenue(ctx, &RevenueOpts{From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			checkReconciles(t, "refunds", rep)
			return moneyOf(rep, "USD")
		}
		c := map[string]Amount{"credits": 250}
		first := report(purchaseStart.Add(-time.Minute), mid)
		wantLine(t, "sold", first.Sold, "7.50", "7.5", map[string]Amount{"credits": 750})
		wantLine(t, "refunds", first.Refunds, "2.50", "2.5", c)
		wantLine(t, "recognized", first.Recognized, "5.00", "5", map[string]Amount{"credits": 500})
		wantLine(t, "closing", first.ClosingDeferred, "2.50", "2.5", c)
		second := report(mid, end)
		wantLine(t, "opening", second.OpeningDeferred, "2.50", "2.5", c)
		wantLine(t, "sold", second.Sold, "-7.50", "-7.5", map[string]Amount{"credits": -750})
		wantLine(t, "refunds", second.Refunds, "7.50", "7.5", map[string]Amount{"credits": 750})
		wantLine(t, "recognized", second.Recognized, "-5.00", "-5", map[string]Amount{"credits": -500})
		wantLine(t, "closing", second.ClosingDeferred, "0.00", "0", map[string]Amount{})
	})
}
