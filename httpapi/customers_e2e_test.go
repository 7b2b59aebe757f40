package httpapi_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestCustomers: create a customer (201, idempotent, 409 on other
// details), list by prefix with a cursor that the last page leaves off,
// read one with its balances, reads of a customer never seen are 404
// customer_not_found (check is not), and a customer token reads its own
// customer only.
func TestCustomers(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		w, rd := e.write, e.read

		// Reads of a customer never seen.
		for _, path := range []string{"/v1/customers/ghost", "/v1/customers/ghost/balance", "/v1/customers/ghost/grants",
			"/v1/customers/ghost/ledger", "/v1/customers/ghost/usage", "/v1/customers/ghost/balance-alerts"} {
			if p := e.must(404, "GET", path, rd, nil); str(p.body, "code") != "customer_not_found" {
				t.Fatalf("GET %s: %s", path, p.raw)
			}
		}
		if c := e.must(200, "POST", "/v1/customers/ghost/check", rd, map[string]any{"operation": "send_email"}); c.body["allowed"] != false {
			t.Fatalf("check of a new customer: %s", c.raw)
		}

		// Create.
		body := map[string]any{"id": "cus_ada", "name": "Ada", "email": "ada@example.com", "metadata": map[string]any{"plan": "pro"}}
		c1 := e.must(201, "POST", "/v1/customers", w, body, "Idempotency-Key", "cus-ada-1")
		if str(c1.body, "id") != "cus_ada" || str(c1.body, "name") != "Ada" || str(c1.body, "email") != "ada@example.com" || str(c1.body, "created_at") == "" {
			t.Fatalf("created: %s", c1.raw)
		}
		if _, ok := c1.body["balances"]; ok {
			t.Fatalf("a create answers balances: %s", c1.raw)
		}
		if r := e.must(201, "POST", "/v1/customers", w, body, "Idempotency-Key", "cus-ada-1"); str(r.body, "created_at") != str(c1.body, "created_at") {
			t.Fatalf("replay: %s", r.raw)
		}
		e.must(201, "POST", "/v1/customers", w, body) // the same details again: the customer back
		if p := e.must(409, "POST", "/v1/customers", w, map[string]any{"id": "cus_ada", "name": "Ada King"}); str(p.body, "code") != "customer_exists" {
			t.Fatalf("other details: %s", p.raw)
		}
		if p := e.must(409, "POST", "/v1/customers", w, map[string]any{"id": "cus_other"}, "Idempotency-Key", "cus-ada-1"); str(p.body, "code") != "idempotency_conflict" {
			t.Fatalf("key reused: %s", p.raw)
		}
		e.must(422, "POST", "/v1/customers", w, map[string]any{"id": "cus_bad", "email": "nope"})
		e.must(422, "POST", "/v1/customers", w, map[string]any{"id": "has space"})
		e.must(422, "POST", "/v1/customers", w, map[string]any{"name": "no id"})
		e.must(403, "POST", "/v1/customers", rd, map[string]any{"id": "cus_ro"})

		// A grant creates its customer; the balances follow.
		e.must(201, "POST", "/v1/customers/cus_bob/grants", w, map[string]any{"amount": 40})
		e.must(201, "POST", "/v1/customers/cus_ada/grants", w, map[string]any{"amount": 25})
		got := e.must(200, "GET", "/v1/customers/cus_ada", rd, nil)
		bals, _ := got.body["balances"].([]any)
		if str(got.body, "name") != "Ada" || len(bals) == 0 || num(bals[0].(map[string]any), "available") != 25 {
			t.Fatalf("get customer: %s", got.raw)
		}
		if b := e.must(200, "GET", "/v1/customers/cus_bob", rd, nil); str(b.body, "name") != "" || str(b.body, "id") != "cus_bob" {
			t.Fatalf("implicit customer: %s", b.raw)
		}

		// List: by prefix, a page at a time; the last page has no cursor.
		e.must(201, "POST", "/v1/customers", w, map[string]any{"id": "other"})
		p1 := e.must(200, "GET", "/v1/customers?prefix=cus_&limit=1", rd, nil)
		if len(p1.list) != 1 || str(p1.list[0].(map[string]any), "id") != "cus_ada" || str(p1.body, "next_cursor") != "cus_ada" {
			t.Fatalf("page 1: %s", p1.raw)
		}
		p2 := e.must(200, "GET", "/v1/customers?prefix=cus_&limit=1&cursor=cus_ada", rd, nil)
		if len(p2.list) != 1 || str(p2.list[0].(map[string]any), "id") != "cus_bob" {
			t.Fatalf("page 2: %s", p2.raw)
		}
		if _, ok := p2.body["next_cursor"]; ok {
			t.Fatalf("the last page has a cursor: %s", p2.raw)
		}
		if all := e.must(200, "GET", "/v1/customers", rd, nil); len(all.list) != 3 {
			t.Fatalf("all customers: %s", all.raw)
		}

		// A customer token reads its own customer, and no other, and no list.
		tok := str(e.must(201, "POST", "/v1/customers/cus_ada/tokens", w, nil).body, "token")
		e.must(200, "GET", "/v1/customers/cus_ada", tok, nil)
		e.must(403, "GET", "/v1/customers/cus_bob", tok, nil)
		e.must(403, "GET", "/v1/customers", tok, nil)
		e.must(403, "POST", "/v1/customers", tok, map[string]any{"id": "cus_x"})
	})
}

// TestClientCustomers: the Go client's customer calls answer what the
// ledger does, errors included.
func TestClientCustomers(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	ctx := context.Background()
	c, err := httpapi.NewClient(e.base, e.write, nil)
	if err != nil {
		t.Fatal(err)
	}
	cu, err := c.CreateCustomer(ctx, "cl_1", &creditkit.CustomerOpts{Name: "One", Metadata: map[string]string{"k": "v"}, IdempotencyKey: "cl-1"})
	if err != nil || cu.Name != "One" || cu.Metadata["k"] != "v" {
		t.Fatalf("create: %+v %v", cu, err)
	}
	if _, err := c.CreateCustomer(ctx, "cl_1", &creditkit.CustomerOpts{Name: "Two"}); creditkit.ErrorCodeOf(err) != creditkit.CodeCustomerExists {
		t.Fatalf("create with other details: %v", err)
	}
	if _, err := c.CreateCustomer(ctx, "cl_2", nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetCustomer(ctx, "cl_1")
	want, _ := e.l.GetCustomer(ctx, "cl_1")
	if err != nil || got.Name != want.Name || !got.CreatedAt.Equal(want.CreatedAt) || len(got.Balances) != len(want.Balances) {
		t.Fatalf("get: %+v %v, ledger %+v", got, err, want)
	}
	if _, err := c.GetCustomer(ctx, "nobody"); creditkit.ErrorCodeOf(err) != creditkit.CodeCustomerNotFound {
		t.Fatalf("get nobody: %v", err)
	}
	list, err := c.Customers(ctx, &creditkit.CustomerFilter{Prefix: "cl_", Limit: 1, After: "cl_1"})
	if err != nil || len(list) != 1 || list[0].ID != "cl_2" {
		t.Fatalf("list: %+v %v", list, err)
	}
}

// POST /v1/customers with a plan subscribes the new customer at once, and
// GET /v1/customers/{id} shows the subscription.
func TestCreateCustomerWithPlan(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/plan.db", func(cfg *creditkit.Config, _ *httpapi.Options) {
		cfg.Plans["pro"] = &creditkit.Plan{Name: "pro", Gives: 300, Currency: "credits",
			Every: creditkit.Period{Count: 1, Unit: "month"}, UnusedCredits: "expire"}
	})
	c := e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "ivy", "plan": "pro"})
	if sub, _ := c.body["subscription"].(map[string]any); sub == nil || sub["plan"] != "pro" {
		t.Fatalf("created: %s", c.raw)
	}
	if e.available("ivy") != 300 {
		t.Fatalf("available %d, want the plan's 300", e.available("ivy"))
	}
	got := e.must(200, "GET", "/v1/customers/ivy", e.read, nil)
	if sub, _ := got.body["subscription"].(map[string]any); sub == nil || sub["status"] != "active" {
		t.Fatalf("get: %s", got.raw)
	}
	e.must(422, "POST", "/v1/customers", e.write, map[string]any{"id": "jon", "plan": "nope"})
}
