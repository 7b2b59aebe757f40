package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestPurchaseFreeAPI: an explicit "amount_paid": 0 is a free purchase
// (0 paid, no cost basis, its credits granted), absent is the pack's
// price; a replay that gives another amount_paid or currency is 409
// purchase_conflict naming what was recorded, one that leaves them out is
// 200; a refund of money on a free purchase is 422. The Go client says
// free the same way.
func TestPurchaseFreeAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, withStarterPack)
		w, rd := e.write, e.read
		free := e.must(201, "POST", "/v1/customers/zoe/purchases", w, map[string]any{"pack": "starter", "external_id": "coupon_1", "amount_paid": 0})
		if num(free.body, "amount_paid") != 0 || str(free.body, "money_currency") != "USD" || num(free.body, "credits") != 1000 || free.body["cost_basis"] != nil {
			t.Fatalf("free purchase: %s", free.raw)
		}
		if b := e.must(200, "GET", "/v1/customers/zoe/balance", rd, nil); num(b.body, "available") != 1000 {
			t.Fatalf("balance after a free purchase: %s", b.raw)
		}
		if again := e.must(200, "POST", "/v1/customers/zoe/purchases", w, map[string]any{"pack": "starter", "external_id": "coupon_1"}); again.body["replayed"] != true || num(again.body, "amount_paid") != 0 {
			t.Fatalf("free replay: %s", again.raw)
		}
		if c := e.must(409, "POST", "/v1/customers/zoe/purchases", w, map[string]any{"pack": "starter", "external_id": "coupon_1", "amount_paid": 1000}); str(c.body, "code") != "purchase_conflict" || !strings.Contains(str(c.body, "detail"), "amount_paid 0") {
			t.Fatalf("paid replay of a free purchase: %s", c.raw)
		}
		r := e.must(422, "POST", "/v1/purchases/manual/coupon_1/refunds", w, map[string]any{"refunded_total": 1000})
		if str(r.body, "code") != "invalid_amount" || !strings.Contains(str(r.body, "detail"), "paid nothing") {
			t.Fatalf("refund of a free purchase: %s", r.raw)
		}

		// zed paid the pack's price (10 USD); a replay naming another
		// amount or currency is a conflict, not that purchase again.
		paid := e.must(201, "POST", "/v1/customers/zed/purchases", w, map[string]any{"pack": "starter", "external_id": "ext1"})
		if num(paid.body, "amount_paid") != 1000 {
			t.Fatalf("paid purchase: %s", paid.raw)
		}
		c := e.must(409, "POST", "/v1/customers/zed/purchases", w, map[string]any{"pack": "starter", "external_id": "ext1", "amount_paid": 100})
		if d := str(c.body, "detail"); str(c.body, "code") != "purchase_conflict" || !strings.Contains(d, "amount_paid 1000 (10.00 USD) recorded") || !strings.Contains(d, "100 given") {
			t.Fatalf("replay with another amount: %s", c.raw)
		}
		c = e.must(409, "POST", "/v1/customers/zed/purchases", w, map[string]any{"pack": "starter", "external_id": "ext1", "amount_paid": 1000, "currency": "EUR"})
		if !strings.Contains(str(c.body, "detail"), "currency USD recorded, not the EUR given") {
			t.Fatalf("replay with another currency: %s", c.raw)
		}
		for _, body := range []map[string]any{{"pack": "starter", "external_id": "ext1"}, {"pack": "starter", "external_id": "ext1", "amount_paid": 1000, "currency": "USD"}} {
			if again := e.must(200, "POST", "/v1/customers/zed/purchases", w, body); again.body["replayed"] != true || str(again.body, "id") != str(paid.body, "id") {
				t.Fatalf("replay %v: %s", body, again.raw)
			}
		}
		if b := e.must(200, "GET", "/v1/customers/zed/balance", rd, nil); num(b.body, "available") != 1000 {
			t.Fatalf("zed's balance after the replays: %s", b.raw)
		}

		// The Go client.
		cl, err := httpapi.NewClient(e.base, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		cp, err := cl.Purchase(ctx, "cli", creditkit.PurchaseOpts{Pack: "starter", ExternalID: "c_free", Free: true})
		if err != nil || cp.AmountPaid != 0 || cp.CostBasis != nil || cp.Credits != 1000 {
			t.Fatalf("client free purchase: %+v %v", cp, err)
		}
		if _, err := cl.Purchase(ctx, "cli", creditkit.PurchaseOpts{Pack: "starter", ExternalID: "c_free", AmountPaid: 1000}); creditkit.ErrorCodeOf(err) != creditkit.CodePurchaseConflict {
			t.Fatalf("client paid replay of a free purchase: %v", err)
		}
		if _, err := cl.Purchase(ctx, "cli", creditkit.PurchaseOpts{Pack: "starter", ExternalID: "c_2", Free: true, AmountPaid: 5}); creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidAmount {
			t.Fatalf("client free with an amount: %v", err)
		}
	})
}
