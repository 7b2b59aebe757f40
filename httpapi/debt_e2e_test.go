package httpapi_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestOverageAndSettle: the scenario over HTTP. A wallet with 1,000
// credits and an overage limit of 5,000 spends 3,500 (balance -2,500, debt
// 2,500); a spend of 3,000 is 402 naming the limit; settlement bills 2,500
// credits at 1 USD per 100 credits = 25.00 USD; a grant of 1,000 then shows
// 1,000 available.
func TestOverageAndSettle(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		w, rd := e.write, e.read
		e.must(201, "POST", "/v1/customers/ov/grants", w, map[string]any{"amount": 1000})
		o := e.must(200, "PUT", "/v1/customers/ov/overage", w, map[string]any{"limit": 5000}, "Idempotency-Key", "ov-1")
		if num(o.body, "limit") != 5000 || num(o.body, "debt") != 0 {
			t.Fatalf("set overage: %s", o.raw)
		}
		e.must(422, "PUT", "/v1/customers/ov/overage", w, map[string]any{"limit": -1})
		e.must(403, "PUT", "/v1/customers/ov/overage", rd, map[string]any{"limit": 1})

		s := e.must(200, "POST", "/v1/customers/ov/spend", w, map[string]any{"amount": 3500})
		if num(s.body, "balance_after") != -2500 {
			t.Fatalf("spend into debt: %s", s.raw)
		}
		b := e.must(200, "GET", "/v1/customers/ov/balance", rd, nil)
		if num(b.body, "available") != -2500 || num(b.body, "debt") != 2500 {
			t.Fatalf("balance: %s", b.raw)
		}
		p := e.must(402, "POST", "/v1/customers/ov/spend", w, map[string]any{"amount": 3000})
		if str(p.body, "code") != "insufficient_credits" || num(p.body, "overage_limit") != 5000 || num(p.body, "debt") != 2500 || num(p.body, "available") != 0 {
			t.Fatalf("past the limit: %s", p.raw)
		}
		if g := e.must(200, "GET", "/v1/customers/ov/overage", rd, nil); num(g.body, "debt") != 2500 || num(g.body, "limit") != 5000 {
			t.Fatalf("get overage: %s", g.raw)
		}

		st := e.must(200, "POST", "/v1/customers/ov/settle", w, map[string]any{"overage_price": map[string]any{"cents": 100, "currency": "USD", "per": 100}},
			"Idempotency-Key", "settle-1")
		if num(st.body, "credits") != 2500 || str(st.body, "money") != "25.00" || str(st.body, "money_currency") != "USD" {
			t.Fatalf("settle: %s", st.raw)
		}
		led := e.must(200, "GET", "/v1/customers/ov/ledger?type=overage_settlement", rd, nil)
		if len(led.list) != 1 || num(led.list[0].(map[string]any), "amount") != 2500 {
			t.Fatalf("settlement in the ledger: %s", led.raw)
		}
		e.must(201, "POST", "/v1/customers/ov/grants", w, map[string]any{"amount": 1000})
		if b := e.must(200, "GET", "/v1/customers/ov/balance", rd, nil); num(b.body, "available") != 1000 || num(b.body, "debt") != 0 {
			t.Fatalf("after the grant: %s", b.raw)
		}
		// Nothing to settle: 200 with credits 0.
		if n := e.must(200, "POST", "/v1/customers/ov/settle", w, nil); num(n.body, "credits") != 0 {
			t.Fatalf("nothing to settle: %s", n.raw)
		}

		// The Go client's calls.
		c, err := httpapi.NewClient(e.base, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if o, err := c.SetOverageLimit(ctx, "cl", 10, nil); err != nil || o.Limit != 10 {
			t.Fatalf("client set: %+v %v", o, err)
		}
		if _, err := c.Debit(ctx, "cl", 4, nil); err != nil {
			t.Fatal(err)
		}
		if o, err := c.GetOverage(ctx, "cl", ""); err != nil || o.Debt != 4 {
			t.Fatalf("client get: %+v %v", o, err)
		}
		st2, err := c.SettleDebt(ctx, "cl", &creditkit.SettleOpts{OveragePrice: &creditkit.OveragePrice{Cents: 1, Currency: "EUR", Per: 3}})
		if err != nil || st2.Credits != 4 || st2.Money != "0.01" || st2.MoneyExact != "1/75" {
			t.Fatalf("client settle: %+v %v", st2, err)
		}
	})
}
