package creditkit_test

import (
	"context"
	"fmt"
	"log"

	"github.com/creditkit/creditkit"
)

// Sell a pack once, however often the payment is reported, and take the
// credits back when the money goes back.
func ExampleLedger_Purchase() {
	ctx := context.Background()
	l, done := openExample(`
packs:
  starter: { gives: 1000 credits, costs: 10 USD }
refund_debt: allow
`)
	defer done()

	for range 2 { // a webhook delivered twice
		p, err := l.Purchase(ctx, "user_42", creditkit.PurchaseOpts{Pack: "starter", Provider: "paddle", ExternalID: "txn_1"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("credits:", p.Credits, "paid:", creditkit.FormatMoney(p.AmountPaid, p.MoneyCurrency), "replayed:", p.Replayed)
	}
	if _, err := l.Debit(ctx, "user_42", 600, nil); err != nil {
		log.Fatal(err)
	}
	r, err := l.Refund(ctx, creditkit.RefundOpts{Provider: "paddle", ExternalID: "txn_1", RefundedTotal: 1000})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("clawed back:", r.ClawedBack, "debt:", r.Debt)
	bal, _ := l.Balance(ctx, "user_42", nil)
	fmt.Println("balance:", bal.Available)
	// Output:
	// credits: 1000 paid: 10.00 USD replayed: false
	// credits: 1000 paid: 10.00 USD replayed: true
	// clawed back: 400 debt: 600
	// balance: -600
}
