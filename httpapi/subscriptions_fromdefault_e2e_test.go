package httpapi_test

import (
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestSubscriptionTrialFromDefaultPlan: a customer the first check put on
// the default plan asks PUT .../subscription for a paid plan with a
// trial: it is trialing with the plan's trial credits and signup bonus; a
// trial that cannot apply is a 422, and a later plan change gives no
// second bonus.
func TestSubscriptionTrialFromDefaultPlan(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"free": {Name: "free", Default: true, Gives: 100, Currency: "credits", Every: month},
				"pro": {Name: "pro", Gives: 1000, Currency: "credits", Every: month, SignupBonus: 500, TrialIncludes: 50,
					Price: &creditkit.Price{Cents: 2000, Currency: "USD", Every: month}},
				"team": {Name: "team", Gives: 5000, Currency: "credits", Every: month, SignupBonus: 700},
			}
		})
		w, rd := e.write, e.read
		const path = "/v1/customers/trio/subscription"
		e.must(200, "POST", "/v1/customers/trio/check", rd, map[string]any{"amount": 1})
		if g := e.must(200, "GET", path, rd, nil); str(g.body, "plan") != "free" {
			t.Fatalf("default plan: %s", g.raw)
		}
		s := e.must(200, "PUT", path, w, map[string]any{"plan": "pro", "trial": "14d"}, "Idempotency-Key", "t-1")
		if str(s.body, "plan") != "pro" || str(s.body, "status") != "trialing" || str(s.body, "trial_end") == "" {
			t.Fatalf("trial from the default plan: %s", s.raw)
		}
		if b := e.must(200, "GET", "/v1/customers/trio/balance", rd, nil); b.body["available"] != float64(550) {
			t.Fatalf("bonus + trial credits: %s", b.raw)
		}
		if r := e.must(200, "PUT", path, w, map[string]any{"plan": "pro", "trial": "14d"}, "Idempotency-Key", "t-1"); str(r.body, "id") != str(s.body, "id") || str(r.body, "status") != "trialing" {
			t.Fatalf("replay: %s", r.raw)
		}
		// A trialing subscription starts no second trial: 422, not dropped.
		if r := e.must(422, "PUT", path, w, map[string]any{"plan": "team", "trial": "7d"}); str(r.body, "code") != "invalid_request" {
			t.Fatalf("second trial: %s", r.raw)
		}
		if c := e.must(200, "PUT", path, w, map[string]any{"plan": "team"}); str(c.body, "plan") != "team" {
			t.Fatalf("change: %s", c.raw)
		}
		if b := e.must(200, "GET", "/v1/customers/trio/balance", rd, nil); b.body["available"] != float64(550) {
			t.Fatalf("no second bonus: %s", b.raw)
		}
	})
}

// TestSubscriptionRenewByPut: PUT of the current plan takes back a
// cancellation scheduled at the period end.
func TestSubscriptionRenewByPut(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"pro": {Name: "pro", Gives: 1000, Currency: "credits", Every: month},
			}
		})
		w := e.write
		const path = "/v1/customers/ren/subscription"
		e.must(200, "PUT", path, w, map[string]any{"plan": "pro"})
		if c := e.must(200, "DELETE", path+"?at_period_end=true", w, nil); str(c.body, "cancel_at") == "" {
			t.Fatalf("cancel at period end: %s", c.raw)
		}
		r := e.must(200, "PUT", path, w, map[string]any{"plan": "pro"}, "Idempotency-Key", "renew-1")
		if str(r.body, "cancel_at") != "" || str(r.body, "status") != "active" {
			t.Fatalf("renewed: %s", r.raw)
		}
		if r2 := e.must(200, "PUT", path, w, map[string]any{"plan": "pro"}, "Idempotency-Key", "renew-1"); str(r2.body, "cancel_at") != "" {
			t.Fatalf("replay: %s", r2.raw)
		}
	})
}
