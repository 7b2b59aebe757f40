package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// TestOverageBecomesInvoiceItem: a settlement of overage debt at a
// billing period's end (credits.overage.billed) becomes one Stripe
// invoice item on the customer's Stripe customer, with an idempotency key
// made from the settlement; running the worker again sends nothing more.
// The request is observed reaching stripe-mock.
func TestOverageBecomesInvoiceItem(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		ctx := context.Background()
		if _, err := e.l.StartSubscription(ctx, "dave", "pro", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.l.Debit(ctx, "dave", 1200, nil); err != nil { // 200 credits of overage debt
			t.Fatal(err)
		}
		// Nothing to bill yet.
		if n, err := e.p.BillOverage(ctx); err != nil || n != 0 {
			t.Fatalf("before the period end: %d %v", n, err)
		}
		e.clock.Set(epoch.AddDate(0, 1, 0))
		runDue(t, e) // settles 200 credits at 1 USD per 100: 200 cents
		// A settlement younger than OverageSettle waits.
		if n, err := e.p.BillOverage(ctx); err != nil || n != 0 {
			t.Fatalf("within the settle delay: %d %v", n, err)
		}
		e.clock.Advance(2 * time.Minute)
		n, err := e.p.BillOverage(ctx)
		if err != nil || n != 1 {
			t.Fatalf("bill overage: %d %v", n, err)
		}
		items := e.fake.sent(http.MethodPost, "/v1/invoiceitems")
		if len(items) != 1 {
			t.Fatalf("%d invoice item requests, want 1", len(items))
		}
		f := items[0].Form
		if f.Get("amount") != "200" || f.Get("currency") != "usd" || !strings.HasPrefix(f.Get("customer"), "cus_") ||
			f.Get("metadata[creditkit_customer]") != "dave" || !strings.HasPrefix(items[0].IdempotencyKey, "creditkit-overage-") {
			t.Fatalf("invoice item request: %v key %q", f, items[0].IdempotencyKey)
		}
		// The key is the settlement's entry: a resend after a crash reuses it.
		evs, err := e.l.Events(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var entry string
		for _, ev := range evs {
			if ev.Type == creditkit.EventOverageBilled {
				entry, _ = ev.Data["entry_id"].(string)
			}
		}
		if entry == "" || items[0].IdempotencyKey != "creditkit-overage-"+entry {
			t.Fatalf("idempotency key %q, settlement entry %q", items[0].IdempotencyKey, entry)
		}
		if n, err := e.p.BillOverage(ctx); err != nil || n != 0 {
			t.Fatalf("second run: %d %v", n, err)
		}
		if got := len(e.fake.sent(http.MethodPost, "/v1/invoiceitems")); got != 1 {
			t.Fatalf("%d invoice item requests after a second run, want 1", got)
		}
	})
}
