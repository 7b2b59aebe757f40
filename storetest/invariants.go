package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// EventLog records the events a ledger published.
type EventLog struct {
	mu     sync.Mutex
	events []creditkit.Event
}

func (l *EventLog) add(e creditkit.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Count returns how many events of a type a customer got.
func (l *EventLog) Count(typ, customer string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Type == typ && e.Customer == customer {
			n++
		}
	}
	return n
}

// CheckInvariants verifies the ledger's invariants on every stored wallet:
// after settling what is due, the sum of a wallet's entries equals its
// available plus held credits as Balance reports them, equals the last
// entry's balance_after, and equals what its grants have left plus what its
// holds reserve; every grant's remaining is within [0, amount]; no wallet is
// negative; and every event in the outbox was also published.
func CheckInvariants(t *testing.T, l *creditkit.Ledger) {
	t.Helper()
	checkInvariants(t, l, nil)
}

// checkInvariants is CheckInvariants with what a reference model knows:
// everOverage, when not nil, tells whether a customer's wallet ever had an
// overage limit above 0 (which the stored wallet no longer shows once the
// limit was lowered).
func checkInvariants(t *testing.T, l *creditkit.Ledger, everOverage func(customer string) bool) {
	t.Helper()
	c := ctx(t)
	if _, err := l.RunDue(c); err != nil {
		t.Fatalf("invariants: run due: %v", err)
	}
	var wallets []*store.Wallet
	err := l.Store().View(c, func(c2 context.Context, tx store.ReadTx) error {
		var err error
		wallets, err = tx.Wallets(c2, store.WalletKey{}, 100000)
		return err
	})
	if err != nil {
		t.Fatalf("invariants: list wallets: %v", err)
	}
	now := l.Now()
	for _, w := range wallets {
		entries := allEntries(t, l, w.Customer, w.Currency)
		var sum, sumNow creditkit.Amount
		// A wallet that ever had overage may have entries whose available
		// after is negative (by its debt then).
		overage := w.OverageLimit > 0 || w.Debt > 0 || (everOverage != nil && everOverage(w.Customer))
		for _, e := range entries {
			if _, ok := e.Details["debt"]; ok || e.Type == creditkit.EntryRepayment || e.Type == creditkit.EntryOverageSettlement {
				overage = true
			}
		}
		// So has a wallet whose subscription is (or was, before its
		// cancellation set the limit back to 0) on a plan with overage: a
		// hold taken into debt then may outlive the limit.
		if sub, err := l.GetSubscription(c, w.Customer, &creditkit.SubscriptionOpts{Currency: w.Currency}); err == nil {
			if p := l.Config().Plans[sub.Plan]; p != nil && p.Overage > 0 {
				overage = true
			}
		}
		for _, e := range entries {
			sum += e.Amount
			if !e.At.After(now) {
				sumNow += e.Amount
			}
			checkEntryFacts(t, e, overage)
		}
		// The debt is never negative. It may be above a limit that was
		// lowered after it was drawn; draws never take it past the limit
		// (the reference model checks that step by step).
		if w.Debt < 0 {
			t.Errorf("invariant: %s/%s owes %d", w.Customer, w.Currency, w.Debt)
		}
		if sum != creditkit.Amount(w.LedgerBalance) {
			t.Errorf("invariant: %s/%s entries sum to %d but the wallet row says %d", w.Customer, w.Currency, sum, w.LedgerBalance)
		}
		if n := len(entries); n > 0 && entries[n-1].BalanceAfter != sum {
			t.Errorf("invariant: %s/%s last balance_after is %d, entries sum to %d", w.Customer, w.Currency, entries[n-1].BalanceAfter, sum)
		}
		bal := must(l.Balance(c, w.Customer, &creditkit.BalanceOpts{Currency: w.Currency}))
		if bal.Available+bal.Debt < 0 || bal.Held < 0 || bal.Debt != creditkit.Amount(w.Debt) {
			t.Errorf("invariant: %s/%s is negative beyond its debt %d: %+v", w.Customer, w.Currency, w.Debt, bal)
		}
		if sumNow != bal.Available+bal.Held {
			t.Errorf("invariant: %s/%s entries up to now sum to %d, balance reports available %d + held %d", w.Customer, w.Currency, sumNow, bal.Available, bal.Held)
		}
		if sum != bal.Available+bal.Held+bal.Scheduled {
			t.Errorf("invariant: %s/%s entries sum to %d, balance reports %d available + %d held + %d scheduled", w.Customer, w.Currency, sum, bal.Available, bal.Held, bal.Scheduled)
		}
		var remaining creditkit.Amount
		grants := must(l.Grants(c, w.Customer, &creditkit.GrantFilter{Currency: w.Currency, Limit: 1000}))
		for _, g := range grants {
			if g.Remaining < 0 || g.Remaining > g.Amount {
				t.Errorf("invariant: grant %s remaining %d outside [0, %d]", g.ID, g.Remaining, g.Amount)
			}
			if g.Status == creditkit.GrantActive || g.Status == creditkit.GrantScheduled {
				remaining += g.Remaining
			}
		}
		if remaining+bal.Held-bal.Debt != sum {
			t.Errorf("invariant: %s/%s grants hold %d + holds reserve %d - debt %d, entries sum to %d", w.Customer, w.Currency, remaining, bal.Held, bal.Debt, sum)
		}
	}
	stored, err := l.Events(c, 0, 1000)
	if err != nil {
		t.Fatalf("invariants: events: %v", err)
	}
	for i := 1; i < len(stored); i++ {
		if stored[i].Seq <= stored[i-1].Seq {
			t.Errorf("invariant: outbox out of order at %d", i)
		}
	}
}

// allEntries pages through a wallet's whole history.
func allEntries(t *testing.T, l *creditkit.Ledger, customer, currency string) []*creditkit.Entry {
	t.Helper()
	var out []*creditkit.Entry
	after := ""
	for {
		page := must(l.History(ctx(t), customer, &creditkit.HistoryFilter{Currency: currency, After: after, Limit: 1000}))
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ID
	}
}

// checkEntryFacts checks what every entry carries: a type from the closed
// set, an available balance after it within [0, balance after] (below 0
// only by debt, on a wallet with overage), and an occurred_at (the write
// time, unless the caller gave the usage's time).
func checkEntryFacts(t *testing.T, e *creditkit.Entry, overage bool) {
	t.Helper()
	if !e.Type.Valid() {
		t.Errorf("invariant: entry %s (%s) has type %q, not one of %v", e.ID, e.Category, e.Type, creditkit.EntryTypes())
	}
	if e.AvailableAfter == nil {
		t.Errorf("invariant: entry %s has no available_after", e.ID)
	} else if (*e.AvailableAfter < 0 && !overage) || *e.AvailableAfter > e.BalanceAfter {
		t.Errorf("invariant: entry %s available_after %d outside [0, balance_after %d]", e.ID, *e.AvailableAfter, e.BalanceAfter)
	}
	if e.OccurredAt.IsZero() {
		t.Errorf("invariant: entry %s has no occurred_at", e.ID)
	}
	if e.Details == nil || e.Metadata == nil {
		t.Errorf("invariant: entry %s details %v metadata %v, want objects", e.ID, e.Details, e.Metadata)
	}
}

// WalletBalances returns every wallet's ledger balance and debt, by
// "customer/currency": a snapshot to compare with SameBalances around a
// request that must move nothing.
func WalletBalances(t testing.TB, l *creditkit.Ledger) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	err := l.Store().View(context.Background(), func(ctx context.Context, tx store.ReadTx) error {
		ws, err := tx.Wallets(ctx, store.WalletKey{}, 100000)
		for _, w := range ws {
			out[w.Customer+"/"+w.Currency] = [2]int64{int64(w.LedgerBalance), int64(w.Debt)}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SameBalances reports whether two WalletBalances snapshots agree, a
// wallet missing from one counting as empty.
func SameBalances(a, b map[string][2]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
