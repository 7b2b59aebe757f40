package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/creditkit/creditkit"
)

// Many goroutines spend, debit and hold against a wallet with an overage
// limit, batched and unbatched: the debt never passes the limit, every
// accepted credit is accounted for, and the invariants (sum of entries =
// grants + held - debt) hold.
func testConcurrentOverage(t *testing.T, b *Bundle) {
	for _, unbatched := range []bool{false, true} {
		u := b
		if unbatched {
			u = SetupWith(t, b.newStore, func(cfg *creditkit.Config) { cfg.Writes.NoBatching = true })
		}
		l, c := u.Ledger, ctx(t)
		must(l.Grant(c, "debtor", 100, nil))
		must(l.SetOverageLimit(c, "debtor", 250, nil))
		var spent, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 10 {
					var err error
					if (i+j)%4 == 0 {
						amount := creditkit.Amount(3)
						var h *creditkit.Hold
						if h, err = l.Hold(c, "debtor", "", nil, &creditkit.HoldOpts{Amount: &amount}); err == nil {
							_, err = l.Capture(c, h.ID, nil, nil)
						}
					} else {
						_, err = l.Debit(c, "debtor", 3, nil)
					}
					var ic *creditkit.InsufficientCreditsError
					switch {
					case err == nil:
						spent.Add(3)
					case errors.As(err, &ic) && ic.OverageLimit == 250:
						refused.Add(1)
					default:
						t.Errorf("spend: %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		bal := must(l.Balance(c, "debtor", nil))
		// 160 × 3 = 480 asked for; 100 + 250 = 350 could go: 116 accepted
		// (348 credits), 44 refused.
		if spent.Load() != 348 || refused.Load() != 44 || bal.Debt != 248 || bal.Available != -248 {
			t.Fatalf("unbatched %v: spent %d, refused %d, balance %+v", unbatched, spent.Load(), refused.Load(), bal)
		}
		CheckInvariants(t, l)
	}
}
