package creditkit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A wallet in debt cannot transfer away the credits that come back to it
// while it owes (a hold released, a charge reversed): a transfer moves only
// what is available net of the debt, so the wallet never goes below zero
// available, nor its ledger balance below −limit.
func TestTransferOutOfDebt(t *testing.T) {
	t.Parallel()
	const config = `
operations:
  work: 1 credit
`
	onBothStoresWith(t, config, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		wantRefused := func(what, from string, amount, available, debt Amount) {
			t.Helper()
			_, err := l.Transfer(ctx, from, "sink", amount, nil)
			var ic *InsufficientCreditsError
			if !errors.As(err, &ic) || ic.Needed != amount || ic.Available != available || ic.Debt != debt {
				t.Fatalf("%s: %v, want insufficient credits with %d available and debt %d", what, err, available, debt)
			}
		}
		wantWallet := func(what, customer string, available, debt, limit Amount) {
			t.Helper()
			b := must[*Balance](t)(l.Balance(ctx, customer, nil))
			hist := must[[]*Entry](t)(l.History(ctx, customer, &HistoryFilter{Limit: 1000}))
			var sum Amount
			for _, e := range hist {
				sum += e.Amount
			}
			if b.Available != available || b.Debt != debt || sum != b.Available+b.Held || sum < -limit {
				t.Fatalf("%s: %+v (entries sum to %d), want available %d, debt %d, never below -%d", what, b, sum, available, debt, limit)
			}
		}

		// A hold released while the wallet owes.
		must[*Grant](t)(l.Grant(ctx, "held", 100, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "held", 1000, nil))
		amt := Amount(100)
		h := must[*Hold](t)(l.Hold(ctx, "held", "", nil, &HoldOpts{Amount: &amt}))
		must[*Entry](t)(l.Debit(ctx, "held", 60, nil)) // all debt
		must[*Hold](t)(l.Release(ctx, h.ID, nil))
		wantWallet("after the release", "held", 40, 60, 1000)
		wantRefused("all the released credits", "held", 100, 40, 60)
		wantRefused("one more than net", "held", 41, 40, 60)
		if _, err := l.Transfer(ctx, "sink", "held", 1, nil); err == nil {
			t.Fatal("the sink had credits to send")
		}
		must[*TransferResult](t)(l.Transfer(ctx, "held", "sink", 40, nil))
		// What is left in the grants backs the debt: available 0.
		wantWallet("after moving what is net", "held", 0, 60, 1000)
		wantRefused("anything once net is 0", "held", 1, 0, 60)

		// A charge reversed while the wallet owes, without any limit left:
		// the limit lowered to 0 stops new debt, and transfers too.
		must[*Grant](t)(l.Grant(ctx, "rev", 100, nil))
		must[*Overage](t)(l.SetOverageLimit(ctx, "rev", 50, nil))
		first := must[*Entry](t)(l.Debit(ctx, "rev", 100, nil))
		must[*Entry](t)(l.Debit(ctx, "rev", 30, nil)) // all debt
		must[*Overage](t)(l.SetOverageLimit(ctx, "rev", 0, nil))
		must[*Entry](t)(l.Reverse(ctx, first.ID, &ReverseOpts{Reason: "refund"}))
		wantWallet("after the reversal", "rev", 70, 30, 50)
		wantRefused("the reversed credits", "rev", 100, 70, 30)
		must[*TransferResult](t)(l.Transfer(ctx, "rev", "sink", 70, nil))
		wantWallet("after moving what is net", "rev", 0, 30, 50)
		wantRefused("anything once net is 0", "rev", 1, 0, 30)

		// A new grant pays the debt first; then everything transfers.
		must[*Grant](t)(l.Grant(ctx, "rev", 50, nil))
		wantWallet("after the grant", "rev", 50, 0, 50)
		must[*TransferResult](t)(l.Transfer(ctx, "rev", "sink", 50, nil))
		wantWallet("after the last transfer", "rev", 0, 0, 50)

		// A wallet without debt transfers what its grants hold, as before;
		// what it sends to a wallet in debt repays that debt first.
		wantWallet("the sink", "sink", 160, 0, 0)
		must[*TransferResult](t)(l.Transfer(ctx, "sink", "held", 100, nil))
		wantWallet("the sink's credits repay held's debt", "held", 100, 0, 1000)
	})
}
