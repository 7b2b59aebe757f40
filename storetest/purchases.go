package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// RunPurchases runs the purchase cases against stores made by newStore:
// the purchases table through Changes and store.PurchaseReader, exactly
// once under a race of two ledgers (two nodes) on one store, and refunds
// under both refund_debt policies, with the ledger's invariants checked
// after each.
func RunPurchases(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b *Bundle)
	}{
		{"PurchaseRows", testPurchaseRows},
		{"PurchaseOnceAcrossNodes", testPurchaseOnceAcrossNodes},
		{"RefundOnceAcrossNodes", testRefundOnceAcrossNodes},
		{"RefundAllow", func(t *testing.T, b *Bundle) { testRefunds(t, b, creditkit.RefundDebtAllow) }},
		{"RefundForbid", func(t *testing.T, b *Bundle) { testRefunds(t, b, creditkit.RefundDebtForbid) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			defer guard(t)
			b := Setup(t, newStore)
			c.fn(t, b)
			CheckInvariants(t, b.Ledger)
		})
	}
}

// withPacks adds a starter pack (1000 credits for 10 USD) and a refund
// debt policy to a suite config.
func withPacks(policy string) func(cfg *creditkit.Config) {
	return func(cfg *creditkit.Config) {
		cfg.Packs = map[string]*creditkit.Pack{"starter": {Name: "starter", Gives: 1000, Currency: "credits", PriceCents: 1000, PriceCurrency: "USD"}}
		cfg.RefundDebt = policy
	}
}

// purchaseReader runs fn with the store's purchase queries in a read
// transaction.
func purchaseReader(t *testing.T, s store.Store, fn func(ctx context.Context, pr store.PurchaseReader) error) {
	t.Helper()
	if err := s.View(ctx(t), func(ctx context.Context, tx store.ReadTx) error {
		pr, ok := tx.(store.PurchaseReader)
		if !ok {
			t.Fatalf("%T does not implement store.PurchaseReader", tx)
		}
		return fn(ctx, pr)
	}); err != nil {
		t.Fatal(err)
	}
}

// testPurchaseRows: rows saved through Changes read back field for field
// by external ID, charge and payment intent; a customer's list pages by
// ID; a save replaces the row of the same ID; and a new row naming a
// (provider, external_id) another row has is a lost race (ErrRetry).
func testPurchaseRows(t *testing.T, b *Bundle) {
	c := ctx(t)
	s := b.Store
	t0 := Epoch.Add(time.Hour)
	row := func(id, customer, external, charge, pi string) *store.Purchase {
		return &store.Purchase{ID: id, Customer: customer, Currency: "credits", Pack: "starter", Provider: "stripe", ExternalID: external,
			ChargeID: charge, PaymentIntentID: pi, Credits: 1000, AmountPaid: 1000, MoneyCurrency: "USD", GrantID: "grt_" + id,
			PurchasedAt: t0, Metadata: []byte(`{"k":"v"}`), CreatedAt: t0, UpdatedAt: t0}
	}
	rows := []*store.Purchase{row("pur_1", "pa", "cs_1", "ch_1", "pi_1"), row("pur_2", "pa", "cs_2", "", ""), row("pur_3", "pb", "cs_3", "ch_3", "")}
	if err := s.Update(c, func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Purchases: rows})
	}); err != nil {
		t.Fatal(err)
	}
	purchaseReader(t, s, func(ctx context.Context, pr store.PurchaseReader) error {
		for _, want := range rows {
			got, err := pr.PurchaseByExternalID(ctx, "stripe", want.ExternalID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("purchase %s read back as\n%+v\nwant\n%+v", want.ID, got, want)
			}
		}
		for _, q := range []struct {
			name string
			get  func() (*store.Purchase, error)
			want string
		}{
			{"by charge", func() (*store.Purchase, error) { return pr.PurchaseByCharge(ctx, "stripe", "ch_3") }, "pur_3"},
			{"by payment intent", func() (*store.Purchase, error) { return pr.PurchaseByPaymentIntent(ctx, "stripe", "pi_1") }, "pur_1"},
			{"by empty charge", func() (*store.Purchase, error) { return pr.PurchaseByCharge(ctx, "stripe", "") }, ""},
			{"of another provider", func() (*store.Purchase, error) { return pr.PurchaseByExternalID(ctx, "paddle", "cs_1") }, ""},
		} {
			got, err := q.get()
			if err != nil {
				return err
			}
			if (got == nil) != (q.want == "") || (got != nil && got.ID != q.want) {
				t.Fatalf("%s: %+v, want %q", q.name, got, q.want)
			}
		}
		list, err := pr.Purchases(ctx, store.PurchaseQuery{Customer: "pa", Limit: 1})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != "pur_1" {
			t.Fatalf("first page of pa: %+v", list)
		}
		list, err = pr.Purchases(ctx, store.PurchaseQuery{Customer: "pa", After: "pur_1", Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != "pur_2" {
			t.Fatalf("second page of pa: %+v", list)
		}
		return nil
	})
	// A save replaces the row (the last of a list that names it twice).
	first, last := *rows[0], *rows[0]
	first.RefundedCents = 1
	last.RefundedCents, last.ClawedBack, last.RefundDebt, last.Shortfall, last.UpdatedAt = 500, 400, 100, 0, t0.Add(time.Minute)
	if err := s.Update(c, func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Purchases: []*store.Purchase{&first, &last}})
	}); err != nil {
		t.Fatal(err)
	}
	purchaseReader(t, s, func(ctx context.Context, pr store.PurchaseReader) error {
		got, err := pr.PurchaseByExternalID(ctx, "stripe", "cs_1")
		if err == nil && !reflect.DeepEqual(got, &last) {
			t.Fatalf("after replace: %+v, want %+v", got, &last)
		}
		return err
	})
	dup := row("pur_9", "pc", "cs_1", "", "")
	err := s.Update(c, func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Purchases: []*store.Purchase{dup}})
	})
	if !errors.Is(err, store.ErrRetry) {
		t.Fatalf("a second row for stripe/cs_1: %v, want ErrRetry", err)
	}
}

// testPurchaseOnceAcrossNodes: two ledgers on one store (two nodes), 20
// callers at once fulfil one payment, half of them naming another
// customer (a mix-up in the app): one purchase, one grant; the callers
// of its customer get it (replayed but for one), the others a
// purchase_conflict.
func testPurchaseOnceAcrossNodes(t *testing.T, b *Bundle) {
	c := ctx(t)
	b1 := SetupWith(t, b.newStore, withPacks(""))
	cfg2 := *b1.Ledger.Config()
	cfg2.Clock = b1.Clock
	l2, err := creditkit.New(b1.Store, &cfg2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })
	const callers = 20
	results := make([]*creditkit.Purchase, callers)
	errs := make([]error, callers)
	customers := []string{"alice", "bob"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := b1.Ledger
			if i%2 == 1 {
				l = l2
			}
			<-start
			results[i], errs[i] = l.Purchase(c, customers[(i/2)%2], creditkit.PurchaseOpts{Pack: "starter", Provider: "stripe", ExternalID: "cs_race"})
		}()
	}
	close(start)
	wg.Wait()
	winner, fresh := "", 0
	for i := range callers {
		if errs[i] == nil {
			if winner == "" {
				winner = results[i].Customer
			}
			if results[i].Customer != winner {
				t.Fatalf("both %s and %s got the purchase", winner, results[i].Customer)
			}
			if !results[i].Replayed {
				fresh++
			}
		}
	}
	if winner == "" || fresh != 1 {
		t.Fatalf("winner %q, %d fresh purchases; errors %v", winner, fresh, errs)
	}
	for i := range callers {
		if customers[(i/2)%2] == winner {
			if errs[i] != nil {
				t.Fatalf("a caller for the winner %s failed: %v", winner, errs[i])
			}
			continue
		}
		wantCode(t, errs[i], creditkit.CodePurchaseConflict)
	}
	wantAvailable(t, b1.Ledger, winner, 1000)
	grants := must(b1.Ledger.Grants(c, winner, nil))
	if len(grants) != 1 {
		t.Fatalf("%s has %d grants, want 1", winner, len(grants))
	}
	CheckInvariants(t, b1.Ledger)
}

// testRefunds: a pack half spent, refunded 25% twice (a redelivery), 50%,
// then in full: the pack's own grant gives back 250 and 250, the full
// refund finds it empty and the 500 spent become debt (allow) or a
// shortfall (forbid).
func testRefunds(t *testing.T, b *Bundle, policy string) {
	c := ctx(t)
	b1 := SetupWith(t, b.newStore, withPacks(policy))
	l := b1.Ledger
	p := must(l.Purchase(c, "cus", creditkit.PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "pay_1", ChargeID: "ch_1"}))
	must(l.Debit(c, "cus", 500, nil))
	var last *creditkit.Refund
	for i, r := range []struct {
		total         int64
		clawed, owing creditkit.Amount
	}{{250, 250, 0}, {250, 0, 0}, {500, 250, 0}, {1000, 0, 500}} {
		last = must(l.Refund(c, creditkit.RefundOpts{Provider: "manual", ChargeID: "ch_1", RefundedTotal: r.total, RefundID: "re"}))
		owing := last.Debt + last.Shortfall
		if last.ClawedBack != r.clawed || owing != r.owing {
			t.Fatalf("refund %d (%s): clawed %d, debt %d, shortfall %d; want clawed %d and %d owing", i, policy, last.ClawedBack, last.Debt, last.Shortfall, r.clawed, r.owing)
		}
	}
	g := must(l.GetGrant(c, p.GrantID))
	if g.Remaining != 0 {
		t.Fatalf("the pack's grant has %d left", g.Remaining)
	}
	bal := must(l.Balance(c, "cus", nil))
	switch policy {
	case creditkit.RefundDebtAllow:
		if last.Debt != 500 || bal.Debt != 500 || bal.Available != -500 {
			t.Fatalf("allow: refund %+v, balance %+v", last, bal)
		}
	default:
		if last.Shortfall != 500 || bal.Debt != 0 || bal.Available != 0 {
			t.Fatalf("forbid: refund %+v, balance %+v", last, bal)
		}
	}
	refunds := must(l.History(c, "cus", &creditkit.HistoryFilter{Type: creditkit.EntryRefund}))
	if len(refunds) != 3 {
		t.Fatalf("%d refund entries, want 3", len(refunds))
	}
	CheckInvariants(t, l)
}

// testRefundOnceAcrossNodes: one refund delivered to two nodes ten times at
// once claws back once; then ten refunds with growing totals arrive at
// once in any order, and together they claw back what the largest total
// owes, no more.
func testRefundOnceAcrossNodes(t *testing.T, b *Bundle) {
	c := ctx(t)
	b1 := SetupWith(t, b.newStore, withPacks(""))
	cfg2 := *b1.Ledger.Config()
	cfg2.Clock = b1.Clock
	l2, err := creditkit.New(b1.Store, &cfg2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })
	must(b1.Ledger.Purchase(c, "rn", creditkit.PurchaseOpts{Pack: "starter", Provider: "stripe", ExternalID: "cs_rn", ChargeID: "ch_rn"}))
	race := func(total func(i int) int64) creditkit.Amount {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var clawed creditkit.Amount
		start := make(chan struct{})
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := b1.Ledger
				if i%2 == 1 {
					l = l2
				}
				<-start
				r, err := l.Refund(c, creditkit.RefundOpts{Provider: "stripe", ChargeID: "ch_rn", RefundedTotal: total(i), RefundID: fmt.Sprint("re_", i)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				clawed += r.ClawedBack
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		return clawed
	}
	if got := race(func(int) int64 { return 300 }); got != 300 {
		t.Fatalf("one refund delivered ten times clawed back %d, want 300", got)
	}
	if got := race(func(i int) int64 { return 400 + int64(i)*50 }); got != 550 {
		t.Fatalf("refunds up to 8.50 USD clawed back %d more, want 550", got)
	}
	wantAvailable(t, b1.Ledger, "rn", 150)
	CheckInvariants(t, b1.Ledger)
}
