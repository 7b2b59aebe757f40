package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/creditkit/creditkit"
)

// Verification is what the ledger check found.
type Verification struct {
	// OK is true when every customer's entries add up to its balance,
	// nothing is negative, and the charges match the acknowledged spends.
	OK bool
	// Message says what was checked, or the first problems found.
	Message string
	// Customers is how many customers were checked.
	Customers int
	// Entries is how many entries were read.
	Entries int64
	// Charges is how many of them are operation charges.
	Charges int64
	// Problems lists what did not add up, at most maxProblems of them.
	Problems []string
}

// maxProblems caps the problems a verification lists.
const maxProblems = 10

// historyPage is the page size the check reads history with.
const historyPage = 1000

// Verify checks the ledger of customers: for each, the sum of its entries
// equals its balance (available plus held), the last entry's balance_after
// equals that sum, and neither the balance nor any running balance is
// negative. When acked >= 0 it also checks that the operation charges
// number acked (up to acked+ambiguous, for spends whose outcome the caller
// never learnt). It returns an error only when it could not read the
// ledger.
func Verify(ctx context.Context, t Target, customers []string, acked, ambiguous int64) (*Verification, error) {
	v := &Verification{Customers: len(customers)}
	var (
		mu       sync.Mutex
		problems int
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems++
		if len(v.Problems) < maxProblems {
			v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
		}
	}
	err := forEach(ctx, len(customers), 8, func(ctx context.Context, i int) error {
		c := customers[i]
		var (
			sum, charges, entries int64
			last                  *creditkit.Entry
			after                 string
		)
		for {
			page, err := t.History(ctx, c, &creditkit.HistoryFilter{Limit: historyPage, After: after})
			if err != nil {
				return fmt.Errorf("bench: read history of %s: %w", c, err)
			}
			for _, e := range page {
				sum += int64(e.Amount)
				entries++
				if e.Category == creditkit.CategoryOperationCharge {
					charges++
				}
				if e.BalanceAfter < 0 {
					report("%s: entry %s leaves a negative balance %d", c, e.ID, e.BalanceAfter)
				}
				last = e
			}
			if len(page) < historyPage {
				break
			}
			after = page[len(page)-1].ID
		}
		b, err := t.Balance(ctx, c, nil)
		if err != nil {
			return fmt.Errorf("bench: read balance of %s: %w", c, err)
		}
		total := int64(b.Available) + int64(b.Held)
		switch {
		case sum != total:
			report("%s: entries sum to %d but the balance is %d (available %d + held %d)", c, sum, total, b.Available, b.Held)
		case last != nil && int64(last.BalanceAfter) != sum:
			report("%s: entries sum to %d but the last entry says balance_after %d", c, sum, last.BalanceAfter)
		}
		if b.Available < 0 || b.Held < 0 || b.Debt != 0 {
			report("%s: negative or indebted wallet: available %d, held %d, debt %d", c, b.Available, b.Held, b.Debt)
		}
		mu.Lock()
		v.Entries += entries
		v.Charges += charges
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if acked >= 0 && (v.Charges < acked || v.Charges > acked+ambiguous) {
		want := fmt.Sprint(acked)
		if ambiguous > 0 {
			want = fmt.Sprintf("between %d and %d", acked, acked+ambiguous)
		}
		report("%d operation charges in the ledger, want %s (the spends acknowledged)", v.Charges, want)
	}
	v.OK = problems == 0
	if v.OK {
		v.Message = fmt.Sprintf("ok: %d customers, %d entries, %d charges = %d acknowledged spends; every balance equals its entries, none negative",
			v.Customers, v.Entries, v.Charges, acked)
		if acked < 0 {
			v.Message = fmt.Sprintf("ok: %d customers, %d entries; every balance equals its entries, none negative", v.Customers, v.Entries)
		}
	} else {
		v.Message = fmt.Sprintf("FAILED: %d problems: %s", problems, strings.Join(v.Problems, "; "))
	}
	return v, nil
}
