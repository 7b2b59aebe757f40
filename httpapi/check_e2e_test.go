package httpapi_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestCheckAmountHeldAndPlan: a check takes an operation or a raw amount
// (exactly one; 422 otherwise) and answers held credits and the plan's
// allowance, what was used of it this period and the next refill; plan is
// absent without a subscription. The harness validates every response
// against the OpenAPI document.
func TestCheckAmountHeldAndPlan(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"metered": {Name: "metered", Gives: 1000, Currency: "credits", Every: month, Overage: 500, OverageSet: true},
			}
		})
		w, rd := e.write, e.read
		const path = "/v1/customers/chk/check"

		// No subscription yet: no plan.
		e.must(201, "POST", "/v1/customers/solo/grants", w, map[string]any{"amount": 30})
		c := e.must(200, "POST", "/v1/customers/solo/check", rd, map[string]any{"amount": 40})
		if c.body["allowed"] != false || num(c.body, "cost") != 40 || num(c.body, "available") != 30 || num(c.body, "overage") != 10 ||
			c.body["plan"] != nil || c.body["operation"] != nil || str(c.body, "currency") != "credits" {
			t.Fatalf("raw check without a plan: %s", c.raw)
		}

		e.must(200, "PUT", "/v1/customers/chk/subscription", w, map[string]any{"plan": "metered"})
		e.must(200, "POST", "/v1/customers/chk/spend", w, map[string]any{"amount": 300})
		e.must(201, "POST", "/v1/customers/chk/holds", w, map[string]any{"amount": 200})

		c = e.must(200, "POST", path, rd, map[string]any{"operation": "send_email"})
		if c.body["allowed"] != true || str(c.body, "operation") != "send_email" || num(c.body, "cost") != 1 ||
			num(c.body, "available") != 500 || num(c.body, "held") != 200 || num(c.body, "overage_limit") != 500 {
			t.Fatalf("check: %s", c.raw)
		}
		p, _ := c.body["plan"].(map[string]any)
		if p == nil || str(p, "name") != "metered" || str(p, "status") != "active" || num(p, "allowance") != 1000 || str(p, "every") != "month" ||
			num(p, "used") != 300 || str(p, "period_start") == "" || str(p, "next_refill_at") != str(p, "period_end") {
			t.Fatalf("check's plan: %s", c.raw)
		}
		c = e.must(200, "POST", path, rd, map[string]any{"amount": 900, "currency": "credits"})
		if c.body["allowed"] != true || num(c.body, "overage") != 400 {
			t.Fatalf("a raw amount into overage: %s", c.raw)
		}

		for _, bad := range []map[string]any{
			{},
			{"operation": "send_email", "amount": 5},
			{"amount": 5, "params": map[string]any{"mb": 1}},
			{"operation": "send_email", "currency": "credits"},
		} {
			if r := e.must(422, "POST", path, rd, bad); str(r.body, "code") != "invalid_request" {
				t.Fatalf("%v: %s", bad, r.raw)
			}
		}
		for _, bad := range []any{1.5, 1e30} {
			// Refused as a spend's amount is.
			s := e.must(422, "POST", "/v1/customers/chk/spend", w, map[string]any{"amount": bad})
			if r := e.must(422, "POST", path, rd, map[string]any{"amount": bad}); str(r.body, "code") != str(s.body, "code") {
				t.Fatalf("amount %v: %s, a spend answers %s", bad, r.raw, s.raw)
			}
		}
		for _, bad := range []any{0, -3} {
			if r := e.must(422, "POST", path, rd, map[string]any{"amount": bad}); str(r.body, "code") != "invalid_amount" {
				t.Fatalf("amount %v: %s", bad, r.raw)
			}
		}
		e.must(422, "POST", path, rd, map[string]any{"amount": 5, "currency": "doubloons"})

		// The Go client.
		cl, err := httpapi.NewClient(e.base, rd, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		got, err := cl.CheckAmount(ctx, "chk", 600, "")
		if err != nil || !got.Allowed || got.Overage != 100 || got.Held != 200 || got.Plan == nil || got.Plan.Used != 300 || got.Plan.NextRefillAt == nil {
			t.Fatalf("client CheckAmount: %+v %v", got, err)
		}
		got, err = cl.Check(ctx, "chk", "send_email", nil)
		if err != nil || got.Operation != "send_email" || got.Plan == nil || got.Plan.Allowance != 1000 {
			t.Fatalf("client Check: %+v %v", got, err)
		}
	})
}
