package creditkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

var debtStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// checkWalletDebt checks a wallet's accounting with overage: the sum of its
// entries equals what Balance reports (available, net of the debt, plus
// held and scheduled), equals the last balance_after, the debt is within
// [0, limit], available is negative only by the debt, and the grants'
// remaining plus held less the debt is the sum too.
func checkWalletDebt(t *testing.T, l *Ledger, customer string) *Balance {
	t.Helper()
	ctx := context.Background()
	b := must[*Balance](t)(l.Balance(ctx, customer, nil))
	entries := must[[]*Entry](t)(l.History(ctx, customer, &HistoryFilter{Limit: 1000}))
	var sum Amount
	for _, e := range entries {
		sum += e.Amount
		if e.BalanceAfter != sum {
			t.Fatalf("entry %s balance_after %d, running sum %d", e.ID, e.BalanceAfter, sum)
		}
	}
	if sum != b.Available+b.Held+b.Scheduled {
		t.Fatalf("entries sum to %d, balance reports %+v", sum, b)
	}
	ov := must[*Overage](t)(l.GetOverage(ctx, customer, ""))
	if ov.Debt != b.Debt || b.Debt < 0 || (ov.Limit > 0 && b.Debt > ov.Limit) || b.Available+b.Debt < 0 {
		t.Fatalf("debt %d outside [0, limit %d] or available %d below -debt", b.Debt, ov.Limit, b.Available)
	}
	var remaining Amount
	for _, g := range must[[]*Grant](t)(l.Grants(ctx, customer, &GrantFilter{Limit: 1000})) {
		if g.Status == GrantActive || g.Status == GrantScheduled {
			remaining += g.Remaining
		}
	}
	if remaining+b.Held-b.Debt != sum {
		t.Fatalf("grants hold %d + held %d - debt %d, entries sum to %d", remaining, b.Held, b.Debt, sum)
	}
	return b
}

// The issue's scenario: 1,000 credits and an overage limit of 5,000; a
// spend of 3,500 goes 2,500 into debt, the next of 3,000 is refused naming
// the limit, settlement bills 2,500 credits at 1 USD per 100 credits =
// 25.00 USD, and a grant of 1,000 then shows 1,000 available.
func TestOverageIssueScenario(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "acme", 1000, nil))
		ov := must[*Overage](t)(l.SetOverageLimit(ctx, "acme", 5000, &OverageOpts{IdempotencyKey: "ov-1"}))
		if ov.Limit != 5000 || ov.Debt != 0 {
			t.Fatalf("overage = %+v", ov)
		}
		// A replay changes nothing and answers the same.
		if again := must[*Overage](t)(l.SetOverageLimit(ctx, "acme", 5000, &OverageOpts{IdempotencyKey: "ov-1"})); *again != *ov {
			t.Fatalf("replay = %+v", again)
		}

		// 10 + 3490 × 1 = 3,500 credits.
		c := must[*Check](t)(l.Check(ctx, "acme", "process_image", Params{"mb": 3490}))
		if !c.Allowed || c.Cost != 3500 || c.Overage != 2500 || c.OverageLimit != 5000 || c.Debt != 0 || c.Available != 1000 {
			t.Fatalf("check = %+v", c)
		}
		e := must[*Entry](t)(l.Spend(ctx, "acme", "process_image", Params{"mb": 3490}, nil))
		if e.Amount != -3500 || e.BalanceAfter != -2500 || *e.AvailableAfter != -2500 || e.Details["debt"] != 2500.0 {
			t.Fatalf("charge = %+v", e)
		}
		if len(e.Allocations) != 1 || e.Allocations[0].Amount != 1000 {
			t.Fatalf("allocations cover only the grant: %+v", e.Allocations)
		}
		b := checkWalletDebt(t, l, "acme")
		if b.Available != -2500 || b.Debt != 2500 {
			t.Fatalf("balance = %+v", b)
		}

		c = must[*Check](t)(l.Check(ctx, "acme", "process_image", Params{"mb": 2990}))
		if c.Allowed || c.Overage != 3000 || c.Debt != 2500 || c.Available != -2500 {
			t.Fatalf("check past the limit = %+v", c)
		}
		_, err := l.Debit(ctx, "acme", 3000, nil)
		var ic *InsufficientCreditsError
		if !errors.As(err, &ic) || ic.OverageLimit != 5000 || ic.Debt != 2500 || ic.Needed != 3000 || ic.Available != 0 {
			t.Fatalf("debit past the limit: %v (%+v)", err, ic)
		}
		if !errors.Is(err, ErrInsufficientCredits) || ErrorCodeOf(err) != CodeInsufficientCredits {
			t.Fatalf("code of %v", err)
		}
		want := "insufficient credits: acme needs 3000 credits but has 0 credits available and owes 2500 credits of its overage limit of 5000 credits"
		if err.Error() != want {
			t.Fatalf("message %q, want %q", err.Error(), want)
		}
		// Exactly up to the limit still goes.
		must[*Entry](t)(l.Debit(ctx, "acme", 2500, nil))
		if b := checkWalletDebt(t, l, "acme"); b.Debt != 5000 || b.Available != -5000 {
			t.Fatalf("at the limit = %+v", b)
		}
		if _, err := l.Debit(ctx, "acme", 1, nil); !errors.As(err, &ic) {
			t.Fatalf("one past the limit: %v", err)
		}
		// Give back the second debit's debt through a grant, to settle 2,500.
		g := must[*Grant](t)(l.Grant(ctx, "acme", 2500, nil))
		if g.Remaining != 0 {
			t.Fatalf("a grant that repays all it has keeps %d", g.Remaining)
		}
		if b := checkWalletDebt(t, l, "acme"); b.Debt != 2500 {
			t.Fatalf("after repaying = %+v", b)
		}

		clock.Advance(time.Hour)
		price := &OveragePrice{Cents: 100, Currency: "USD", Per: 100}
		s := must[*Settlement](t)(l.SettleDebt(ctx, "acme", &SettleOpts{OveragePrice: price, IdempotencyKey: "settle-1"}))
		if s.Credits != 2500 || s.Money != "25.00" || s.MoneyCents != 2500 || s.MoneyCurrency != "USD" || s.MoneyExact != "25" || s.Entry == nil {
			t.Fatalf("settlement = %+v", s)
		}
		if s.Entry.Type != EntryOverageSettlement || s.Entry.Amount != 2500 || s.Entry.BalanceAfter != 0 || s.Entry.Details["money"] != "25.00" {
			t.Fatalf("settlement entry = %+v", s.Entry)
		}
		if again := must[*Settlement](t)(l.SettleDebt(ctx, "acme", &SettleOpts{OveragePrice: price, IdempotencyKey: "settle-1"})); again.Entry.ID != s.Entry.ID {
			t.Fatalf("replay settled again: %+v", again)
		}
		if b := checkWalletDebt(t, l, "acme"); b.Debt != 0 || b.Available != 0 {
			t.Fatalf("after settlement = %+v", b)
		}
		// Nothing left to settle: no entry, no event.
		if none := must[*Settlement](t)(l.SettleDebt(ctx, "acme", &SettleOpts{OveragePrice: price})); none.Credits != 0 || none.Entry != nil {
			t.Fatalf("second settlement = %+v", none)
		}
		var billed []*Event
		for _, ev := range must[[]*Event](t)(l.Events(ctx, 0, 1000)) {
			if ev.Type == EventOverageBilled {
				billed = append(billed, ev)
			}
		}
		if len(billed) != 1 || billed[0].Data["credits"] != 2500.0 || billed[0].Data["money"] != "25.00" || billed[0].Data["money_currency"] != "USD" {
			t.Fatalf("billed events = %+v", billed)
		}

		must[*Grant](t)(l.Grant(ctx, "acme", 1000, nil))
		if b := checkWalletDebt(t, l, "acme"); b.Available != 1000 || b.Debt != 0 {
			t.Fatalf("after the refill = %+v", b)
		}
		settled := must[[]*Entry](t)(l.History(ctx, "acme", &HistoryFilter{Type: EntryOverageSettlement}))
		if len(settled) != 1 {
			t.Fatalf("history of overage_settlement = %+v", settled)
		}
	})
}

// A grant that arrives while the wallet owes pays the debt first, with a
// repayment entry whose allocation names it; what it repaid is gone from
// its remaining. A scheduled grant repays nothing.
func TestGrantRepaysDebt(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Overage](t)(l.SetOverageLimit(ctx, "bob", 100, nil))
		must[*Entry](t)(l.Debit(ctx, "bob", 80, nil))
		later := must[*Grant](t)(l.Grant(ctx, "bob", 500, &GrantOpts{EffectiveAt: debtStart.Add(24 * time.Hour)}))
		if later.Remaining != 500 {
			t.Fatalf("a scheduled grant repaid: %+v", later)
		}
		g := must[*Grant](t)(l.Grant(ctx, "bob", 30, nil))
		if g.Remaining != 0 {
			t.Fatalf("grant remaining %d, want 0 (all repaid)", g.Remaining)
		}
		b := checkWalletDebt(t, l, "bob")
		if b.Debt != 50 || b.Available != -50 || b.Scheduled != 500 {
			t.Fatalf("balance = %+v", b)
		}
		g2 := must[*Grant](t)(l.Grant(ctx, "bob", 200, nil))
		if g2.Remaining != 150 {
			t.Fatalf("grant remaining %d, want 150", g2.Remaining)
		}
		b = checkWalletDebt(t, l, "bob")
		if b.Debt != 0 || b.Available != 150 {
			t.Fatalf("balance = %+v", b)
		}
		reps := must[[]*Entry](t)(l.History(ctx, "bob", &HistoryFilter{Type: EntryRepayment}))
		if len(reps) != 2 {
			t.Fatalf("repayments = %+v", reps)
		}
		for i, want := range []struct {
			grant         string
			repaid, after Amount
		}{{g.ID, 30, 50}, {g2.ID, 50, 0}} {
			r := reps[i]
			if r.Amount != 0 || len(r.Allocations) != 1 || r.Allocations[0].GrantID != want.grant || r.Allocations[0].Amount != want.repaid ||
				r.Details["repaid"] != float64(want.repaid) || r.Details["debt_after"] != float64(want.after) || r.Category != CategoryRepayment {
				t.Fatalf("repayment %d = %+v", i, r)
			}
		}
		// Spending draws the grants first, then debt again.
		e := must[*Entry](t)(l.Debit(ctx, "bob", 170, nil))
		if e.Details["debt"] != 20.0 || len(e.Allocations) != 1 {
			t.Fatalf("charge = %+v", e)
		}
		clock.Advance(25 * time.Hour)
		// The scheduled grant took effect: it does not repay on its own;
		// the next charge draws it first.
		b = checkWalletDebt(t, l, "bob")
		if b.Debt != 20 || b.Available != 480 {
			t.Fatalf("balance after the scheduled grant = %+v", b)
		}
	})
}

// Without an overage limit nothing changes: a debit beyond what the wallet
// has fails and the error names no limit; bad limits are refused.
func TestNoOverageNeverNegative(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "cy", 10, nil))
		_, err := l.Debit(ctx, "cy", 11, nil)
		var ic *InsufficientCreditsError
		if !errors.As(err, &ic) || ic.OverageLimit != 0 || ic.Debt != 0 || err.Error() != "insufficient credits: cy needs 11 credits but has 10 credits available" {
			t.Fatalf("debit: %v", err)
		}
		c := must[*Check](t)(l.Check(ctx, "cy", "process_image", Params{"mb": 1}))
		if c.Allowed || c.Overage != 1 || c.OverageLimit != 0 {
			t.Fatalf("check = %+v", c)
		}
		if _, err := l.SetOverageLimit(ctx, "cy", -1, nil); ErrorCodeOf(err) != CodeInvalidAmount {
			t.Fatalf("negative limit: %v", err)
		}
		if _, err := l.SettleDebt(ctx, "cy", &SettleOpts{OveragePrice: &OveragePrice{Cents: 1, Currency: "USD", Per: 0}}); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("bad price: %v", err)
		}
		if _, err := l.SettleDebt(ctx, "cy", &SettleOpts{At: debtStart.Add(time.Hour)}); ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("future settlement: %v", err)
		}
		// Turning overage on, then off again, keeps the debt but refuses more.
		must[*Overage](t)(l.SetOverageLimit(ctx, "cy", 5, nil))
		must[*Entry](t)(l.Debit(ctx, "cy", 13, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "cy", 0, nil))
		if _, err := l.Debit(ctx, "cy", 1, nil); !errors.As(err, &ic) || ic.Debt != 3 {
			t.Fatalf("debit with overage off: %v", err)
		}
		if b := checkWalletDebt(t, l, "cy"); b.Debt != 3 || b.Available != -3 {
			t.Fatalf("balance = %+v", b)
		}
	})
}

// Many goroutines spend against one wallet with an overage limit: the debt
// never passes the limit, every accepted spend is accounted for, and the
// sum of entries equals the balance.
func TestOverageConcurrent(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "hot", 200, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "hot", 500, nil))
		const workers, each, cost = 12, 8, 7
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			accepted Amount
			refused  int
			failures []error
		)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					_, err := l.Debit(ctx, "hot", cost, &DebitOpts{IdempotencyKey: fmt.Sprintf("w%d-%d", i, j)})
					mu.Lock()
					var ic *InsufficientCreditsError
					switch {
					case err == nil:
						accepted += cost
					case errors.As(err, &ic) && ic.OverageLimit == 500:
						refused++
					default:
						failures = append(failures, err)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("unexpected errors: %v", failures)
		}
		b := checkWalletDebt(t, l, "hot")
		if b.Debt > 500 || accepted != 200+b.Debt || b.Available != -b.Debt {
			t.Fatalf("accepted %d, refused %d, balance %+v", accepted, refused, b)
		}
		// 12 × 8 × 7 = 672 asked for, 700 could go: all accepted but the
		// grants and the limit bound it; with 672 < 700 none is refused.
		if refused != 0 || accepted != workers*each*cost {
			t.Fatalf("accepted %d refused %d", accepted, refused)
		}
		// Now push past the limit from many goroutines at once.
		var wg2 sync.WaitGroup
		var ok2 Amount
		for i := range workers {
			wg2.Add(1)
			go func() {
				defer wg2.Done()
				if _, err := l.Debit(ctx, "hot", 5, &DebitOpts{IdempotencyKey: fmt.Sprintf("x%d", i)}); err == nil {
					mu.Lock()
					ok2 += 5
					mu.Unlock()
				}
			}()
		}
		wg2.Wait()
		b = checkWalletDebt(t, l, "hot")
		if b.Debt > 500 || ok2 != 25 || b.Debt != 500-3 {
			t.Fatalf("past the limit: accepted %d, balance %+v", ok2, b)
		}
	})
}

// Overage settlement is billed and recognized on the revenue report, and
// repayments recognize the grant's credits they consumed: it still
// reconciles.
func TestRevenueCountsOverage(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		usd := &CostBasis{PerCredit: "0.01", Currency: "USD"}
		must[*Grant](t)(l.Grant(ctx, "rev", 1000, &GrantOpts{CostBasis: usd}))
		must[*Overage](t)(l.SetOverageLimit(ctx, "rev", 5000, nil))
		must[*Entry](t)(l.Debit(ctx, "rev", 1600, nil)) // 600 debt
		clock.Advance(time.Hour)
		must[*Grant](t)(l.Grant(ctx, "rev", 100, &GrantOpts{CostBasis: usd})) // repays 100
		clock.Advance(time.Hour)
		s := must[*Settlement](t)(l.SettleDebt(ctx, "rev", &SettleOpts{OveragePrice: &OveragePrice{Cents: 3, Currency: "USD", Per: 2}}))
		// 500 × 3 / 2 cents = 7.50 USD.
		if s.Credits != 500 || s.Money != "7.50" {
			t.Fatalf("settlement = %+v", s)
		}
		checkWalletDebt(t, l, "rev")
		r := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: debtStart, To: debtStart.Add(24 * time.Hour)}))
		checkReconciles(t, "overage", r)
		m := moneyOf(r, "USD")
		wantLine(t, "overage billed", m.OverageBilled, "7.50", "7.5", map[string]Amount{"credits": 500})
		// 1,000 drawn by the charge + 100 repaid = 11.00, plus 7.50 overage.
		wantLine(t, "recognized", m.Recognized, "18.50", "18.5", map[string]Amount{"credits": 1600})
		wantLine(t, "sold", m.Sold, "11.00", "11", map[string]Amount{"credits": 1100})
		// A range that starts after the settlement has none of it.
		r2 := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: debtStart.Add(3 * time.Hour), To: debtStart.Add(24 * time.Hour)}))
		checkReconciles(t, "after", r2)
		if m2 := moneyOf(r2, "USD"); m2 != nil && m2.OverageBilled.Exact != "0" {
			t.Fatalf("overage outside the range: %+v", m2.OverageBilled)
		}
	})
}

// A hold beyond what the grants have reserves the rest as debt: a capture
// keeps the captured part of it as debt, a release or a lapse gives the
// rest back, and settlement and repayment leave held debt alone.
func TestHoldDrawsDebt(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "hd", 30, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "hd", 100, nil))
		amt := func(a Amount) *Amount { return &a }
		h := must[*Hold](t)(l.Hold(ctx, "hd", "", nil, &HoldOpts{Amount: amt(80)}))
		if h.Debt != 50 || len(h.Allocations) != 1 || h.Allocations[0].Amount != 30 {
			t.Fatalf("hold = %+v", h)
		}
		if got := must[*Hold](t)(l.GetHold(ctx, h.ID)); got.Debt != 50 || len(got.Allocations) != 1 {
			t.Fatalf("stored hold = %+v", got)
		}
		b := checkWalletDebt(t, l, "hd")
		if b.Debt != 50 || b.Held != 80 || b.Available != -50 {
			t.Fatalf("balance with the hold = %+v", b)
		}
		if _, err := l.Hold(ctx, "hd", "", nil, &HoldOpts{Amount: amt(51)}); !errors.Is(err, ErrInsufficientCredits) {
			t.Fatalf("hold past the limit: %v", err)
		}
		// Held debt is neither settled nor repaid.
		if s := must[*Settlement](t)(l.SettleDebt(ctx, "hd", nil)); s.Credits != 0 {
			t.Fatalf("settled held debt: %+v", s)
		}
		g := must[*Grant](t)(l.Grant(ctx, "hd", 10, nil))
		if g.Remaining != 10 {
			t.Fatalf("repaid held debt: %+v", g)
		}
		e := must[*Entry](t)(l.Capture(ctx, h.ID, amt(60), nil))
		if e.Amount != -60 || e.Details["debt"] != 30.0 || len(e.Allocations) != 1 || e.Allocations[0].Amount != 30 {
			t.Fatalf("capture = %+v", e)
		}
		b = checkWalletDebt(t, l, "hd")
		if b.Debt != 30 || b.Held != 0 || b.Available != -20 {
			t.Fatalf("balance after the capture = %+v", b)
		}
		h2 := must[*Hold](t)(l.Hold(ctx, "hd", "", nil, &HoldOpts{Amount: amt(40)}))
		if h2.Debt != 30 {
			t.Fatalf("second hold = %+v", h2)
		}
		must[*Hold](t)(l.Release(ctx, h2.ID, nil))
		if b := checkWalletDebt(t, l, "hd"); b.Debt != 30 || b.Available != -20 {
			t.Fatalf("after the release = %+v", b)
		}
		h3 := must[*Hold](t)(l.Hold(ctx, "hd", "", nil, &HoldOpts{Amount: amt(25), TTL: time.Minute}))
		if h3.Debt != 15 {
			t.Fatalf("third hold = %+v", h3)
		}
		clock.Advance(2 * time.Minute)
		// Lapsed, not swept yet: the balance already gives the debt back.
		if b := must[*Balance](t)(l.Balance(ctx, "hd", nil)); b.Debt != 30 || b.Held != 0 || b.Available != -20 {
			t.Fatalf("balance with a lapsed hold = %+v", b)
		}
		must[DueResult](t)(l.RunDue(ctx))
		if b := checkWalletDebt(t, l, "hd"); b.Debt != 30 {
			t.Fatalf("after the sweep = %+v", b)
		}
		if s := must[*Settlement](t)(l.SettleDebt(ctx, "hd", nil)); s.Credits != 30 || s.Money != "" || s.Entry.Amount != 30 {
			t.Fatalf("settlement = %+v", s)
		}
		if b := checkWalletDebt(t, l, "hd"); b.Debt != 0 || b.Available != 10 {
			t.Fatalf("after the settlement = %+v", b)
		}
	})
}

// ParseOveragePrice reads the config's overage price grammar, and says
// what to fix otherwise.
func TestParseOveragePrice(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig("t.yaml", []byte(revenueConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want OveragePrice
		cur  string
	}{
		{"1 USD per 100 credits", OveragePrice{Cents: 100, Currency: "USD", Per: 100}, "credits"},
		{"0.01 usd per credit", OveragePrice{Cents: 1, Currency: "USD", Per: 1}, "credits"},
		{"5 JPY per 2.5 gems", OveragePrice{Cents: 5, Currency: "JPY", Per: 250}, "gems"},
	} {
		p, cur, err := cfg.ParseOveragePrice(tc.in)
		if err != nil || *p != tc.want || cur != tc.cur {
			t.Fatalf("%q = %+v %q %v, want %+v %q", tc.in, p, cur, err, tc.want, tc.cur)
		}
	}
	for _, bad := range []string{"", "1 USD", "1 USD for 100 credits", "1 US per 100", "x USD per 100", "-1 USD per 100", "1 USD per 0 credits", "1 USD per 100 widgets"} {
		if _, _, err := cfg.ParseOveragePrice(bad); err == nil {
			t.Fatalf("%q parsed", bad)
		}
	}
	// Money rounds once, half away from zero.
	for _, tc := range []struct {
		credits Amount
		p       OveragePrice
		cents   int64
		value   string
		exact   string
	}{
		{2500, OveragePrice{Cents: 100, Currency: "USD", Per: 100}, 2500, "25.00", "25"},
		{1, OveragePrice{Cents: 1, Currency: "USD", Per: 2}, 1, "0.01", "0.005"},
		{1, OveragePrice{Cents: 1, Currency: "USD", Per: 3}, 0, "0.00", "1/300"},
		{7, OveragePrice{Cents: 3, Currency: "JPY", Per: 2}, 11, "11", "10.5"},
	} {
		cents, value, exact := overageMoney(tc.credits, &tc.p)
		if cents != tc.cents || value != tc.value || exact != tc.exact {
			t.Fatalf("%d at %+v = %d %q %q, want %d %q %q", tc.credits, tc.p, cents, value, exact, tc.cents, tc.value, tc.exact)
		}
	}
}

// A reversal of a charge partly in debt gives back only what its
// allocations took from grants; the debt stays. Transfers never draw debt,
// nor move the credits that back it.
func TestReversalAndTransferWithDebt(t *testing.T) {
	t.Parallel()
	onBothStoresAt(t, debtStart, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		must[*Grant](t)(l.Grant(ctx, "rv", 40, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "rv", 100, nil))
		e := must[*Entry](t)(l.Debit(ctx, "rv", 70, nil))
		r := must[*Entry](t)(l.Reverse(ctx, e.ID, &ReverseOpts{Reason: "support"}))
		if r.Amount != 40 {
			t.Fatalf("reversal = %+v", r)
		}
		if b := checkWalletDebt(t, l, "rv"); b.Debt != 30 || b.Available != 10 {
			t.Fatalf("balance after the reversal = %+v", b)
		}
		// The grants hold 40, but 30 of it backs the debt: a transfer moves
		// only the 10 available net of it, never into debt.
		if _, err := l.Transfer(ctx, "rv", "other", 11, nil); !errors.Is(err, ErrInsufficientCredits) {
			t.Fatalf("transfer past what is available net of the debt: %v", err)
		}
		must[*TransferResult](t)(l.Transfer(ctx, "rv", "other", 10, nil))
		if b := checkWalletDebt(t, l, "rv"); b.Debt != 30 || b.Available != 0 {
			t.Fatalf("balance after the transfer = %+v", b)
		}
	})
}
