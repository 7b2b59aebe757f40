package creditkit

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// revenueConfig has two credit currencies, one with decimals, so that a
// cost basis per whole credit is priced per smallest unit.
const revenueConfig = `
currencies:
  - { name: credits, decimals: 0 }
  - { name: gems, decimals: 2 }
operations:
  process_image: 10 credits + 1 credit per mb
packs:
  starter: { gives: 1000 credits, costs: 7 USD }
  gem_pack: { gives: 50 gems, costs: 3 EUR, expires_after: 90 days }
`

// onBothStoresAt runs fn on a fresh ledger with revenueConfig over SQLite
// and over PostgreSQL, with a manual clock at start.
func onBothStoresAt(t *testing.T, start time.Time, fn func(t *testing.T, l *Ledger, clock *ManualClock)) {
	t.Helper()
	onBothStoresWith(t, revenueConfig, start, fn)
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func rat(t *testing.T, what string, l RevenueLine) *big.Rat {
	t.Helper()
	r, err := l.Rat()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return r
}

// moneyOf returns the report's money currency code, or a zero report.
func moneyOf(r *RevenueReport, code string) *MoneyRevenue {
	for _, m := range r.Money {
		if m.Currency == code {
			return m
		}
	}
	zero := RevenueLine{Value: "0", Exact: "0", Credits: map[string]Amount{}}
	return &MoneyRevenue{Currency: code, OpeningDeferred: zero, Sold: zero, OverageBilled: zero, TransferredIn: zero, Recognized: zero,
		Breakage: zero, Voided: zero, TransferredOut: zero, ClosingDeferred: zero, Refunds: zero}
}

func uncostedOf(r *RevenueReport, cur string) UncostedCredits {
	for _, u := range r.Uncosted {
		if u.Currency == cur {
			return *u
		}
	}
	return UncostedCredits{Currency: cur}
}

// lines returns a money report's lines by name, in the order of the
// identity: the first five add, the last five take away.
func (m *MoneyRevenue) lines() []struct {
	name string
	line RevenueLine
	sign int
} {
	type nl = struct {
		name string
		line RevenueLine
		sign int
	}
	return []nl{
		{"opening_deferred", m.OpeningDeferred, 1}, {"sold", m.Sold, 1}, {"overage_billed", m.OverageBilled, 1}, {"transferred_in", m.TransferredIn, 1},
		{"recognized", m.Recognized, -1}, {"breakage", m.Breakage, -1}, {"voided", m.Voided, -1}, {"transferred_out", m.TransferredOut, -1},
		{"closing_deferred", m.ClosingDeferred, -1},
	}
}

// checkReconciles checks the identity of every money currency, in money
// and in credits, and of the uncosted credits; that every rounded value is
// its exact value rounded once; and, over every customer, that transfers
// cancel out.
func checkReconciles(t *testing.T, what string, r *RevenueReport) {
	t.Helper()
	for _, m := range r.Money {
		sum := new(big.Rat)
		credits := map[string]Amount{}
		for _, nl := range m.lines() {
			v := rat(t, what+" "+nl.name, nl.line)
			if got := v.FloatString(m.Decimals); got != nl.line.Value {
				t.Fatalf("%s %s %s: value %s is not exact %s rounded (%s)", what, m.Currency, nl.name, nl.line.Value, nl.line.Exact, got)
			}
			if nl.sign < 0 {
				v.Neg(v)
			}
			sum.Add(sum, v)
			for c, n := range nl.line.Credits {
				credits[c] += Amount(nl.sign) * n
			}
		}
		if sum.Sign() != 0 {
			t.Fatalf("%s %s does not reconcile: opening + sold + overage + in - recognized - breakage - voided - out - closing = %s\n%+v",
				what, m.Currency, sum.RatString(), m)
		}
		for c, n := range credits {
			if n != 0 {
				t.Fatalf("%s %s: %s credits do not reconcile, off by %d", what, m.Currency, c, n)
			}
		}
		if rat(t, what+" refunds", m.Refunds).Sign() < 0 {
			t.Fatalf("%s %s: refunds %s must not be negative (they count in sold as negatives)", what, m.Currency, m.Refunds.Exact)
		}
		// Over every customer transfers cancel out, unless a refund took
		// back the money of credits transferred away: the receiver keeps
		// them, deferred at the pack's cost basis (docs/revenue.md).
		if r.Customer == "" && rat(t, what+" refunds", m.Refunds).Sign() == 0 && m.TransferredIn.Exact != m.TransferredOut.Exact {
			t.Fatalf("%s %s: over every customer transfers cancel out, got in %s and out %s", what, m.Currency, m.TransferredIn.Exact, m.TransferredOut.Exact)
		}
	}
	for _, u := range r.Uncosted {
		if u.Opening+u.Granted+u.TransferredIn-u.Consumed-u.Expired-u.Voided-u.TransferredOut != u.Closing {
			t.Fatalf("%s: uncosted %s do not reconcile: %+v", what, u.Currency, u)
		}
	}
}

// A small history, with every number worked out by hand.
func TestRevenueHandComputed(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresAt(t, t0, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		usd := func(p string) *CostBasis { return &CostBasis{PerCredit: p, Currency: "USD"} }
		// alice buys 1000 credits at 0.01 USD (10.00 USD) and gets a bonus
		// of 100, worth nothing.
		pack := must[*Grant](t)(l.Grant(ctx, "alice", 1000, &GrantOpts{Reason: "pack", CostBasis: usd("0.01")}))
		must[*Grant](t)(l.Grant(ctx, "alice", 100, &GrantOpts{Reason: "signup_bonus"}))
		// bob buys 500 credits at 0.02 EUR (10.00 EUR), expiring in 10 days.
		must[*Grant](t)(l.Grant(ctx, "bob", 500, &GrantOpts{Reason: "subscription", ExpiresIn: 10 * 24 * time.Hour,
			CostBasis: &CostBasis{PerCredit: "0.02", Currency: "EUR"}}))
		// dave buys 12.34 gems at 0.5 USD a gem (6.17 USD); eve 5 credits
		// at 0.001 USD (0.005 USD, which rounds to 0.01).
		must[*Grant](t)(l.Grant(ctx, "dave", 1234, &GrantOpts{Currency: "gems", Reason: "pack", CostBasis: usd("0.5")}))
		must[*Grant](t)(l.Grant(ctx, "eve", 5, &GrantOpts{Reason: "pack", CostBasis: usd("0.001")}))

		// Day 1: alice spends 300: the bonus's 100 first, then 200 of the
		// pack (2.00 USD recognized). bob spends 100 (2.00 EUR).
		clock.Advance(24 * time.Hour)
		debit := must[*Entry](t)(l.Debit(ctx, "alice", 300, nil))
		must[*Entry](t)(l.Debit(ctx, "bob", 100, nil))
		// Day 2: 50 of alice's debit come back to the pack (-0.50 USD).
		clock.Advance(24 * time.Hour)
		fifty := Amount(50)
		must[*Entry](t)(l.Reverse(ctx, debit.ID, &ReverseOpts{Amount: &fifty, Reason: "goodwill"}))
		// Day 3: alice gives carol 100 credits of the pack (1.00 USD moves).
		clock.Advance(24 * time.Hour)
		must[*TransferResult](t)(l.Transfer(ctx, "alice", "carol", 100, nil))
		// Day 4: 150 of the pack are voided (1.50 USD).
		clock.Advance(24 * time.Hour)
		part := Amount(150)
		must[*Entry](t)(l.Void(ctx, pack.ID, &VoidOpts{Amount: &part, Reason: "chargeback"}))
		// Day 11: bob's 400 left expire (8.00 EUR of breakage).
		clock.Advance(7 * 24 * time.Hour)
		must[DueResult](t)(l.RunDue(ctx))

		end := t0.Add(20 * 24 * time.Hour)
		all := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: t0, To: end}))
		checkReconciles(t, "all", all)
		u := moneyOf(all, "USD")
		wantLine(t, "USD opening", u.OpeningDeferred, "0.00", "0", nil)
		wantLine(t, "USD sold", u.Sold, "16.18", "16.175", map[string]Amount{"credits": 1005, "gems": 1234})
		wantLine(t, "USD recognized", u.Recognized, "1.50", "1.5", map[string]Amount{"credits": 150})
		wantLine(t, "USD voided", u.Voided, "1.50", "1.5", map[string]Amount{"credits": 150})
		wantLine(t, "USD breakage", u.Breakage, "0.00", "0", nil)
		wantLine(t, "USD in", u.TransferredIn, "1.00", "1", map[string]Amount{"credits": 100})
		wantLine(t, "USD out", u.TransferredOut, "1.00", "1", map[string]Amount{"credits": 100})
		wantLine(t, "USD closing", u.ClosingDeferred, "13.18", "13.175", map[string]Amount{"credits": 705, "gems": 1234})
		wantLine(t, "USD overage", u.OverageBilled, "0.00", "0", nil)
		wantLine(t, "USD refunds", u.Refunds, "0.00", "0", nil)
		e := moneyOf(all, "EUR")
		wantLine(t, "EUR sold", e.Sold, "10.00", "10", map[string]Amount{"credits": 500})
		wantLine(t, "EUR recognized", e.Recognized, "2.00", "2", map[string]Amount{"credits": 100})
		wantLine(t, "EUR breakage", e.Breakage, "8.00", "8", map[string]Amount{"credits": 400})
		wantLine(t, "EUR closing", e.ClosingDeferred, "0.00", "0", nil)
		if got, want := uncostedOf(all, "credits"), (UncostedCredits{Currency: "credits", Granted: 100, Consumed: 100}); got != want {
			t.Fatalf("uncosted credits: got %+v, want %+v", got, want)
		}

		// alice alone from day 2: the pack had 800 left (8.00 USD); the
		// reversal, the transfer and the void leave 600.
		a := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: t0.Add(48 * time.Hour), To: end, Customer: "alice"}))
		checkReconciles(t, "alice", a)
		au := moneyOf(a, "USD")
		wantLine(t, "alice opening", au.OpeningDeferred, "8.00", "8", map[string]Amount{"credits": 800})
		wantLine(t, "alice recognized", au.Recognized, "-0.50", "-0.5", map[string]Amount{"credits": -50})
		wantLine(t, "alice out", au.TransferredOut, "1.00", "1", map[string]Amount{"credits": 100})
		wantLine(t, "alice in", au.TransferredIn, "0.00", "0", nil)
		wantLine(t, "alice closing", au.ClosingDeferred, "6.00", "6", map[string]Amount{"credits": 600})
		if len(a.Money) != 1 || a.Customer != "alice" {
			t.Fatalf("alice's report: %+v", a)
		}
		c := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: t0, To: end, Customer: "carol"}))
		checkReconciles(t, "carol", c)
		wantLine(t, "carol in", moneyOf(c, "USD").TransferredIn, "1.00", "1", map[string]Amount{"credits": 100})
		wantLine(t, "carol closing", moneyOf(c, "USD").ClosingDeferred, "1.00", "1", map[string]Amount{"credits": 100})

		// A range before anything happened is empty.
		before := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: t0.Add(-time.Hour), To: t0}))
		if len(before.Money) != 0 || len(before.Uncosted) != 0 {
			t.Fatalf("before anything: %+v", before)
		}
	})
}

func wantLine(t *testing.T, what string, got RevenueLine, value, exact string, credits map[string]Amount) {
	t.Helper()
	if credits == nil {
		credits = map[string]Amount{}
	}
	if got.Value != value || got.Exact != exact || fmt.Sprint(got.Credits) != fmt.Sprint(credits) {
		t.Fatalf("%s: got %s (exact %s, credits %v), want %s (exact %s, credits %v)", what, got.Value, got.Exact, got.Credits, value, exact, credits)
	}
}

// Bad ranges are refused with a message that says what to give.
func TestRevenueRefusesBadRanges(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresAt(t, t0, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		for _, o := range []*RevenueOpts{nil, {From: t0}, {To: t0}, {From: t0, To: t0}, {From: t0, To: t0.Add(-time.Hour)},
			{From: t0, To: t0.Add(time.Hour), Customer: "bad id with spaces"}} {
			_, err := l.Revenue(ctx, o)
			wantCode(t, fmt.Sprintf("%+v", o), err, CodeInvalidRequest)
		}
		_, err := l.Revenue(ctx, &RevenueOpts{From: t0, To: t0.Add(time.Hour), Customer: "nobody"})
		wantCode(t, "a report of a customer never seen", err, CodeCustomerNotFound)
	})
}

// Exact values have as many digits as they need, or are fractions.
func TestExactDecimal(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"0": "0", "16.175": "16.175", "-0.5": "-0.5", "10/3": "10/3", "1/8": "0.125", "7": "7", "1/1024": "0.0009765625"} {
		r, _ := new(big.Rat).SetString(in)
		if got := exactDecimal(r); got != want {
			t.Errorf("exactDecimal(%s) = %s, want %s", in, got, want)
		}
	}
}

// A year of random history on both stores: grants with cost bases in two
// money currencies and in two credit currencies (one with decimals),
// without cost bases, scheduled and expiring; operation spends and debits;
// holds captured in part or released; partial and whole voids; reversals;
// transfers; expiry.
// At the end of each month, the closing deferred value equals what the
// grants still hold, priced independently of the report. Every report over
// the months, the year, and uneven sub-ranges reconciles, per customer and
// over all, and adjacent ranges add up to the range they cover.
func TestRevenueReconcilesOverAYear(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	onBothStoresAt(t, start, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(9, 2026))
		customers := []string{"ann", "ben", "cat", "dan", "eve"}
		for _, c := range customers {
			must[*Customer](t)(l.CreateCustomer(ctx, c, nil)) // reads of customers never seen are customer_not_found
		}
		currencies := []string{"credits", "gems"}
		prices := []string{"0.01", "0.0125", "0.003", "1.5", "0.07", "0.333"}
		var charges []string
		var purchases []*Purchase
		refunded := 0
		type openHold struct{ id string }
		var holds []openHold
		resolveHolds := func() {
			for _, h := range holds {
				if r.IntN(2) == 0 {
					if _, err := l.Release(ctx, h.id, nil); err != nil && ErrorCodeOf(err) != CodeHoldNotActive {
						t.Fatal(err)
					}
					continue
				}
				hold, err := l.GetHold(ctx, h.id)
				if err != nil {
					t.Fatal(err)
				}
				part := Amount(r.Int64N(int64(hold.Amount)) + 1)
				e, err := l.Capture(ctx, h.id, &part, nil)
				if err != nil {
					if ErrorCodeOf(err) == CodeHoldNotActive {
						continue
					}
					t.Fatal(err)
				}
				charges = append(charges, e.ID)
			}
			holds = nil
		}
		available := func(c, cur string) Amount {
			b, err := l.Balance(ctx, c, &BalanceOpts{Currency: cur})
			if err != nil {
				t.Fatal(err)
			}
			return b.Available
		}
		var checkpoints []time.Time
		for m := 1; m <= 12; m++ {
			// Half past the hour: every write happens on the hour, so
			// nothing takes effect exactly at a checkpoint.
			checkpoints = append(checkpoints, start.AddDate(0, m, 0).Add(30*time.Minute))
		}
		end := checkpoints[len(checkpoints)-1]
		now := start
		next := 0
		ops := 0
		for next < len(checkpoints) {
			now = now.Add(time.Duration(1+r.IntN(30)) * time.Hour)
			if !now.Before(checkpoints[next]) {
				resolveHolds()
				clock.Set(checkpoints[next])
				must[DueResult](t)(l.RunDue(ctx))
				checkDeferred(t, l, customers, checkpoints[next])
				now = checkpoints[next].Add(30 * time.Minute)
				next++
				continue
			}
			clock.Set(now)
			ops++
			c, cur := customers[r.IntN(len(customers))], currencies[r.IntN(len(currencies))]
			switch k := r.IntN(23); {
			case k < 5:
				o := &GrantOpts{Currency: cur, Reason: []string{"pack", "subscription", "signup_bonus"}[r.IntN(3)]}
				if r.IntN(4) > 0 {
					o.CostBasis = &CostBasis{PerCredit: prices[r.IntN(len(prices))], Currency: []string{"USD", "EUR"}[r.IntN(2)]}
				}
				if r.IntN(3) == 0 {
					o.ExpiresIn = time.Duration(24*(5+r.IntN(60))) * time.Hour
				}
				if r.IntN(6) == 0 {
					o.EffectiveAt = now.Add(time.Duration(1+r.IntN(72)) * time.Hour)
				}
				must[*Grant](t)(l.Grant(ctx, c, Amount(100+r.IntN(5000)), o))
			case k < 7 && cur == "credits":
				e, err := l.Spend(ctx, c, "process_image", Params{"mb": r.IntN(200)}, nil)
				switch {
				case err == nil:
					charges = append(charges, e.ID)
				case ErrorCodeOf(err) != CodeInsufficientCredits:
					t.Fatal(err)
				}
			case k < 10:
				if a := available(c, cur); a > 0 {
					charges = append(charges, must[*Entry](t)(l.Debit(ctx, c, Amount(1+r.Int64N(int64(a))), &DebitOpts{Currency: cur})).ID)
				}
			case k < 12:
				if a := available(c, cur); a > 0 {
					amt := Amount(1 + r.Int64N(int64(a)))
					h := must[*Hold](t)(l.Hold(ctx, c, "", nil, &HoldOpts{Amount: &amt, Currency: cur, TTL: time.Duration(1+r.IntN(48)) * time.Hour}))
					holds = append(holds, openHold{h.ID})
				}
			case k < 13:
				resolveHolds()
			case k < 15:
				if len(charges) > 0 {
					id := charges[r.IntN(len(charges))]
					var o ReverseOpts
					o.Reason = "support"
					if r.IntN(2) == 0 {
						one := Amount(1 + r.IntN(40))
						o.Amount = &one
					}
					if _, err := l.Reverse(ctx, id, &o); err != nil && ErrorCodeOf(err) != CodeInvalidAmount {
						t.Fatal(err)
					}
				}
			case k < 17:
				gs := must[[]*Grant](t)(l.Grants(ctx, c, &GrantFilter{Status: GrantActive, Limit: 1000}))
				if len(gs) > 0 {
					g := gs[r.IntN(len(gs))]
					var o VoidOpts
					if r.IntN(3) > 0 && g.Remaining > 1 {
						part := Amount(1 + r.Int64N(int64(g.Remaining)-1))
						o.Amount = &part
					}
					must[*Entry](t)(l.Void(ctx, g.ID, &o))
				}
			case k < 19:
				to := customers[r.IntN(len(customers))]
				if a := available(c, cur); a > 0 && to != c {
					must[*TransferResult](t)(l.Transfer(ctx, c, to, Amount(1+r.Int64N(int64(a))), &TransferOpts{Currency: cur, Evergreen: r.IntN(2) == 0}))
				}
			case k < 21:
				pack := map[string]string{"credits": "starter", "gems": "gem_pack"}[cur]
				purchases = append(purchases, must[*Purchase](t)(l.Purchase(ctx, c, PurchaseOpts{Pack: pack, Provider: "manual", ExternalID: fmt.Sprintf("pay_%d", ops)})))
			case k < 22:
				// A refund, partial or whole, of a purchase; the total only
				// grows, as a provider reports it.
				if len(purchases) > 0 {
					i := r.IntN(len(purchases))
					p := purchases[i]
					if p.RefundedCents < p.AmountPaid {
						total := min(p.AmountPaid, p.RefundedCents+1+r.Int64N(p.AmountPaid/2+1))
						rf := must[*Refund](t)(l.Refund(ctx, RefundOpts{Provider: "manual", ExternalID: p.ExternalID, RefundedTotal: total}))
						purchases[i] = rf.Purchase
						refunded++
					}
				}
			default:
				must[DueResult](t)(l.RunDue(ctx))
			}
		}
		t.Logf("%d operations over the year, %d purchases, %d refunds", ops, len(purchases), refunded)

		report := func(from, to time.Time, customer string) *RevenueReport {
			t.Helper()
			rep := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: from, To: to, Customer: customer}))
			checkReconciles(t, fmt.Sprintf("%s..%s %q", fmtTime(from), fmtTime(to), customer), rep)
			return rep
		}
		year := report(start, end, "")
		for _, code := range []string{"USD", "EUR"} {
			m := moneyOf(year, code)
			for _, nl := range m.lines() {
				if nl.name != "opening_deferred" && nl.name != "overage_billed" && rat(t, nl.name, nl.line).Sign() == 0 {
					t.Fatalf("the year's %s %s is 0: the history does not exercise it", code, nl.name)
				}
			}
		}
		// Refunds are negative sales: the year's refunds line shows them
		// apart, and the identity above held with them inside sold.
		for _, code := range []string{"USD", "EUR"} {
			if rat(t, code+" refunds", moneyOf(year, code).Refunds).Sign() <= 0 {
				t.Fatalf("the year's %s refunds are 0: the history does not exercise them", code)
			}
		}
		// Months chain: each one opens where the last closed, and their
		// flows add up to the year's.
		from := start
		var months []*RevenueReport
		for _, cp := range checkpoints {
			months = append(months, report(from, cp, ""))
			from = cp
		}
		checkAdds(t, "months", year, months)
		// Uneven sub-ranges, cut anywhere (not on the hour).
		for i := 0; i < 4; i++ {
			a := start.Add(time.Duration(r.Int64N(int64(end.Sub(start)))))
			b := a.Add(time.Duration(r.Int64N(int64(end.Sub(a))))).Add(time.Second)
			c := b.Add(time.Duration(r.Int64N(int64(end.Sub(b)) + 1))).Add(time.Second)
			checkAdds(t, fmt.Sprintf("cut %d", i), report(a, c, ""), []*RevenueReport{report(a, b, ""), report(b, c, "")})
		}
		// Per customer: each reconciles with its own transfers, and they
		// add up to the report over all.
		a := start.Add(time.Duration(r.Int64N(int64(end.Sub(start)))))
		var per []*RevenueReport
		for _, c := range customers {
			per = append(per, report(a, end, c))
		}
		checkSum(t, "customers", report(a, end, ""), per)
	})
}

// checkDeferred prices what the grants hold at t (after RunDue, with no
// hold open) and compares it with the closing deferred value of a report
// ending at t.
func checkDeferred(t *testing.T, l *Ledger, customers []string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	want := map[string]*big.Rat{}
	wantUncosted := map[string]Amount{}
	for _, c := range customers {
		gs := must[[]*Grant](t)(l.Grants(ctx, c, &GrantFilter{Limit: 1000}))
		if len(gs) == 1000 {
			t.Fatal("more than a page of grants: page through them")
		}
		for _, g := range gs {
			if !g.EffectiveAt.Before(at) || g.Remaining == 0 {
				continue
			}
			if g.CostBasis == nil {
				wantUncosted[g.Currency] += g.Remaining
				continue
			}
			dec := map[string]int64{"credits": 1, "gems": 100}[g.Currency]
			v, _ := new(big.Rat).SetString(g.CostBasis.PerCredit)
			v.Mul(v, big.NewRat(int64(g.Remaining), dec))
			if want[g.CostBasis.Currency] == nil {
				want[g.CostBasis.Currency] = new(big.Rat)
			}
			want[g.CostBasis.Currency].Add(want[g.CostBasis.Currency], v)
		}
	}
	rep := must[*RevenueReport](t)(l.Revenue(ctx, &RevenueOpts{From: at.Add(-time.Hour), To: at}))
	checkReconciles(t, "deferred at "+fmtTime(at), rep)
	for _, code := range []string{"USD", "EUR"} {
		w := want[code]
		if w == nil {
			w = new(big.Rat)
		}
		if got := rat(t, code, moneyOf(rep, code).ClosingDeferred); got.Cmp(w) != 0 {
			t.Fatalf("at %s: %s closing deferred %s, but the grants hold %s", fmtTime(at), code, got.RatString(), w.RatString())
		}
	}
	for _, cur := range []string{"credits", "gems"} {
		if got := uncostedOf(rep, cur).Closing; got != wantUncosted[cur] {
			t.Fatalf("at %s: uncosted %s closing %d, but the grants hold %d", fmtTime(at), cur, got, wantUncosted[cur])
		}
	}
}

// checkAdds checks that consecutive reports parts cover whole: the first
// opens where whole opens, the last closes where whole closes, each opens
// where the one before closed, and their flows add up.
func checkAdds(t *testing.T, what string, whole *RevenueReport, parts []*RevenueReport) {
	t.Helper()
	for i := 1; i < len(parts); i++ {
		for _, code := range []string{"USD", "EUR"} {
			if a, b := moneyOf(parts[i-1], code).ClosingDeferred.Exact, moneyOf(parts[i], code).OpeningDeferred.Exact; a != b {
				t.Fatalf("%s: part %d closes %s at %s, part %d opens at %s", what, i-1, code, a, i, b)
			}
		}
	}
	sum := sumReports(t, parts)
	for _, code := range []string{"USD", "EUR"} {
		w, s := moneyOf(whole, code), sum[code]
		s["opening_deferred"] = rat(t, "opening", moneyOf(parts[0], code).OpeningDeferred)
		s["closing_deferred"] = rat(t, "closing", moneyOf(parts[len(parts)-1], code).ClosingDeferred)
		for _, nl := range w.lines() {
			if got := rat(t, nl.name, nl.line); got.Cmp(s[nl.name]) != 0 {
				t.Fatalf("%s: %s %s of the whole is %s, the parts make %s", what, code, nl.name, got.RatString(), s[nl.name].RatString())
			}
		}
	}
}

// checkSum checks that reports over disjoint sets of customers add up to
// whole, line by line, except transfers between them, which whole nets.
func checkSum(t *testing.T, what string, whole *RevenueReport, parts []*RevenueReport) {
	t.Helper()
	sum := sumReports(t, parts)
	for _, code := range []string{"USD", "EUR"} {
		for _, nl := range moneyOf(whole, code).lines() {
			if nl.name == "transferred_in" || nl.name == "transferred_out" {
				continue
			}
			if got := rat(t, nl.name, nl.line); got.Cmp(sum[code][nl.name]) != 0 {
				t.Fatalf("%s: %s %s over all is %s, the customers make %s", what, code, nl.name, got.RatString(), sum[code][nl.name].RatString())
			}
		}
	}
}

// sumReports adds reports line by line, per money currency.
func sumReports(t *testing.T, reps []*RevenueReport) map[string]map[string]*big.Rat {
	t.Helper()
	out := map[string]map[string]*big.Rat{}
	for _, code := range []string{"USD", "EUR"} {
		out[code] = map[string]*big.Rat{}
		for _, rep := range reps {
			for _, nl := range moneyOf(rep, code).lines() {
				if out[code][nl.name] == nil {
					out[code][nl.name] = new(big.Rat)
				}
				out[code][nl.name].Add(out[code][nl.name], rat(t, nl.name, nl.line))
			}
		}
	}
	return out
}
