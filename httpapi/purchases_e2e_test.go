package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// withStarterPack adds a starter pack (1000 credits for 10 USD) to the
// test config.
func withStarterPack(cfg *creditkit.Config, _ *httpapi.Options) {
	cfg.Packs = map[string]*creditkit.Pack{"starter": {Name: "starter", Gives: 1000, Currency: "credits", PriceCents: 1000, PriceCurrency: "USD"}}
}

// TestPurchasesAPI: a purchase is 201, its replay 200 with the same
// purchase and nothing moved, the same external_id for another customer
// 409; a purchase reads back by provider and external_id and in the
// customer's list; a refund claws back and its redelivery moves nothing;
// Stripe refunds are refused here; bad input is 422 and names the packs;
// and the Go client does the same.
func TestPurchasesAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, withStarterPack)
		w, rd := e.write, e.read
		p := e.must(201, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "starter", "external_id": "txn_1",
			"provider": "paddle", "metadata": map[string]string{"order": "7"}}, "Idempotency-Key", "buy-1")
		if str(p.body, "provider") != "paddle" || num(p.body, "credits") != 1000 || num(p.body, "amount_paid") != 1000 ||
			str(p.body, "money_currency") != "USD" || p.body["replayed"] != false || str(p.body, "grant_id") == "" {
			t.Fatalf("purchase: %s", p.raw)
		}
		// The same key replays the first answer; the same payment under
		// another key is 200, replayed.
		if r := e.must(201, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "starter", "external_id": "txn_1",
			"provider": "paddle", "metadata": map[string]string{"order": "7"}}, "Idempotency-Key", "buy-1"); str(r.body, "id") != str(p.body, "id") {
			t.Fatalf("key replay: %s", r.raw)
		}
		again := e.must(200, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "starter", "external_id": "txn_1", "provider": "paddle"})
		if str(again.body, "id") != str(p.body, "id") || again.body["replayed"] != true {
			t.Fatalf("replay: %s", again.raw)
		}
		if b := e.must(200, "GET", "/v1/customers/ann/balance", rd, nil); num(b.body, "available") != 1000 {
			t.Fatalf("balance after a replay: %s", b.raw)
		}
		c := e.must(409, "POST", "/v1/customers/bob/purchases", w, map[string]any{"pack": "starter", "external_id": "txn_1", "provider": "paddle"})
		if str(c.body, "code") != "purchase_conflict" {
			t.Fatalf("conflict: %s", c.raw)
		}
		bad := e.must(422, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "huge", "external_id": "txn_2"})
		if !strings.Contains(str(bad.body, "detail"), "starter") {
			t.Fatalf("unknown pack: %s", bad.raw)
		}
		e.must(403, "POST", "/v1/customers/ann/purchases", rd, map[string]any{"pack": "starter", "external_id": "txn_3"})
		// A negative amount paid is refused (0 is a free purchase: see
		// TestPurchaseFreeAPI). An amount past what a purchase records
		// says the limit.
		e.must(422, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "starter", "external_id": "txn_4", "amount_paid": -1})
		huge := e.must(422, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "starter", "external_id": "txn_5", "amount_paid": int64(1) << 62})
		if str(huge.body, "code") != "invalid_amount" || !strings.Contains(str(huge.body, "detail"), "10000000000000") {
			t.Fatalf("huge amount_paid: %s", huge.raw)
		}
		// A number the field cannot hold says so in the API's words.
		for _, v := range []string{"1e30", "9223372036854775808"} {
			r := e.do("POST", "/v1/customers/ann/purchases", w, json.RawMessage(`{"pack":"starter","external_id":"txn_6","amount_paid":`+v+`}`))
			if r.status != 422 || str(r.body, "code") != "invalid_amount" || !strings.Contains(str(r.body, "detail"), "amount_paid "+v+" is not a whole number") ||
				strings.Contains(str(r.body, "detail"), "Go struct") {
				t.Fatalf("amount_paid %s: %d %s", v, r.status, r.raw)
			}
		}
		if b := e.must(200, "GET", "/v1/customers/ann/balance", rd, nil); num(b.body, "available") != 1000 {
			t.Fatalf("balance after refused purchases: %s", b.raw)
		}
		// The default provider is manual.
		m := e.must(201, "POST", "/v1/customers/ann/purchases", w, map[string]any{"pack": "starter", "external_id": "inv_9", "credits": 500})
		if str(m.body, "provider") != "manual" || num(m.body, "amount_paid") != 500 {
			t.Fatalf("manual purchase: %s", m.raw)
		}

		g := e.must(200, "GET", "/v1/purchases/paddle/txn_1", rd, nil)
		if str(g.body, "id") != str(p.body, "id") || str(g.body, "customer") != "ann" {
			t.Fatalf("get purchase: %s", g.raw)
		}
		e.must(404, "GET", "/v1/purchases/paddle/txn_none", rd, nil)
		list := e.must(200, "GET", "/v1/customers/ann/purchases?limit=1", rd, nil)
		if len(list.list) != 1 || str(list.body, "next_cursor") == "" {
			t.Fatalf("list: %s", list.raw)
		}
		// A customer token reads its own purchases, no one else's.
		tok := str(e.must(201, "POST", "/v1/customers/ann/tokens", w, nil).body, "token")
		if own := e.must(200, "GET", "/v1/customers/ann/purchases", tok, nil); len(own.list) != 2 {
			t.Fatalf("ann's purchases with her token: %s", own.raw)
		}
		e.must(403, "GET", "/v1/customers/bob/purchases", tok, nil)
		e.must(403, "GET", "/v1/purchases/paddle/txn_1", tok, nil)

		// 1,500 credits (txn_1's 1,000 and inv_9's 500), 1,200 spent: txn_1
		// is empty, inv_9 has 300. Half of txn_1 back owes 500 credits: 300
		// from inv_9, 200 as debt (refund_debt defaults to allow).
		e.must(200, "POST", "/v1/customers/ann/spend", w, map[string]any{"amount": 1200})
		r := e.must(200, "POST", "/v1/purchases/paddle/txn_1/refunds", w, map[string]any{"refunded_total": 500, "refund_id": "re_1", "reason": "asked"})
		if num(r.body, "clawed_back") != 300 || num(r.body, "debt") != 200 || num(r.body["purchase"].(map[string]any), "refunded_cents") != 500 {
			t.Fatalf("refund: %s", r.raw)
		}
		if again := e.must(200, "POST", "/v1/purchases/paddle/txn_1/refunds", w, map[string]any{"refunded_total": 500, "refund_id": "re_1"}); num(again.body, "clawed_back") != 0 {
			t.Fatalf("refund redelivered: %s", again.raw)
		}
		led := e.must(200, "GET", "/v1/customers/ann/ledger?type=refund", rd, nil)
		if len(led.list) != 1 || num(led.list[0].(map[string]any), "amount") != -500 {
			t.Fatalf("refund entries: %s", led.raw)
		}
		e.must(422, "POST", "/v1/purchases/stripe/cs_1/refunds", w, map[string]any{"refunded_total": 1})
		e.must(422, "POST", "/v1/purchases/paddle/txn_1/refunds", w, map[string]any{"refunded_total": 1001})
		e.must(404, "POST", "/v1/purchases/paddle/txn_none/refunds", w, map[string]any{"refunded_total": 1})

		// The Go client.
		cl, err := httpapi.NewClient(e.base, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		cp, err := cl.Purchase(ctx, "cli", creditkit.PurchaseOpts{Pack: "starter", ExternalID: "c1", Provider: "lemon"})
		if err != nil || cp.Replayed || cp.Credits != 1000 {
			t.Fatalf("client purchase: %+v %v", cp, err)
		}
		if cp2, err := cl.Purchase(ctx, "cli", creditkit.PurchaseOpts{Pack: "starter", ExternalID: "c1", Provider: "lemon"}); err != nil || !cp2.Replayed || cp2.ID != cp.ID {
			t.Fatalf("client replay: %+v %v", cp2, err)
		}
		if gp, err := cl.GetPurchase(ctx, "lemon", "c1"); err != nil || gp.ID != cp.ID {
			t.Fatalf("client get: %+v %v", gp, err)
		}
		if ps, err := cl.Purchases(ctx, "cli", nil); err != nil || len(ps) != 1 {
			t.Fatalf("client list: %+v %v", ps, err)
		}
		rf, err := cl.Refund(ctx, creditkit.RefundOpts{Provider: "lemon", ExternalID: "c1", RefundedTotal: 1000, RefundID: "r"})
		if err != nil || rf.ClawedBack != 1000 || len(rf.Entries) != 1 || rf.Entries[0].Type != creditkit.EntryRefund {
			t.Fatalf("client refund: %+v %v", rf, err)
		}
		if _, err := cl.Purchase(ctx, "other", creditkit.PurchaseOpts{Pack: "starter", ExternalID: "c1", Provider: "lemon"}); creditkit.ErrorCodeOf(err) != creditkit.CodePurchaseConflict {
			t.Fatalf("client conflict: %v", err)
		}
	})
}
