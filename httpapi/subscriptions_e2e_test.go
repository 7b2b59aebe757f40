package httpapi_test

import (
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestSubscriptions: PUT subscribes (with a trial) and changes the plan,
// GET reads it, pause and resume, DELETE cancels now or at the period end;
// unknown plans are 422, a customer without a subscription 404, and a
// replayed PUT answers the first response.
func TestSubscriptions(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"basic": {Name: "basic", Gives: 100, Currency: "credits", Every: month, TrialIncludes: 20},
				"pro":   {Name: "pro", Gives: 1000, Currency: "credits", Every: month},
			}
		})
		w, rd := e.write, e.read
		const path = "/v1/customers/cus_s/subscription"

		e.must(404, "GET", path, rd, nil)
		e.must(404, "POST", path+"/pause", w, nil)
		e.must(404, "DELETE", path, w, nil)
		if p := e.must(422, "PUT", path, w, map[string]any{"plan": "nope"}); str(p.body, "code") != "invalid_request" {
			t.Fatalf("unknown plan: %s", p.raw)
		}
		e.must(422, "PUT", path, w, map[string]any{"plan": "basic", "trial": "soon"})
		e.must(403, "PUT", path, rd, map[string]any{"plan": "basic"})

		s1 := e.must(200, "PUT", path, w, map[string]any{"plan": "basic", "trial": "14d"}, "Idempotency-Key", "sub-1")
		if str(s1.body, "status") != "trialing" || str(s1.body, "plan") != "basic" || str(s1.body, "trial_end") == "" {
			t.Fatalf("subscribed: %s", s1.raw)
		}
		if r := e.must(200, "PUT", path, w, map[string]any{"plan": "basic", "trial": "14d"}, "Idempotency-Key", "sub-1"); str(r.body, "id") != str(s1.body, "id") {
			t.Fatalf("replay: %s", r.raw)
		}
		if b := e.must(200, "GET", "/v1/customers/cus_s/balance", rd, nil); b.body["available"] != float64(20) {
			t.Fatalf("trial balance: %s", b.raw)
		}
		if g := e.must(200, "GET", path, rd, nil); str(g.body, "id") != str(s1.body, "id") {
			t.Fatalf("get: %s", g.raw)
		}
		// The trial changes plan at once and stays a trial.
		if c := e.must(200, "PUT", path, w, map[string]any{"plan": "pro"}); str(c.body, "plan") != "pro" || str(c.body, "status") != "trialing" {
			t.Fatalf("change: %s", c.raw)
		}
		e.must(422, "POST", path+"/pause", w, nil) // only an active subscription pauses
		if c := e.must(200, "DELETE", path+"?at_period_end=true", w, nil); str(c.body, "cancel_at") == "" || str(c.body, "status") != "trialing" {
			t.Fatalf("cancel at period end: %s", c.raw)
		}
		if c := e.must(200, "DELETE", path, w, nil); str(c.body, "status") != "canceled" {
			t.Fatalf("cancel now: %s", c.raw)
		}

		// Resubscribe without a trial: active, then pause and resume.
		if s2 := e.must(200, "PUT", path, w, map[string]any{"plan": "basic"}); str(s2.body, "status") != "active" || str(s2.body, "id") == str(s1.body, "id") {
			t.Fatalf("resubscribe: %s", s2.raw)
		}
		if p := e.must(200, "POST", path+"/pause", w, nil, "Idempotency-Key", "pause-1"); str(p.body, "status") != "paused" {
			t.Fatalf("pause: %s", p.raw)
		}
		if r := e.must(200, "POST", path+"/resume", w, nil); str(r.body, "status") != "active" {
			t.Fatalf("resume: %s", r.raw)
		}
	})
}

// TestSubscriptionsClient drives the subscription verbs through the Go
// client: the same answers as the library.
func TestSubscriptionsClient(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"basic": {Name: "basic", Gives: 100, Currency: "credits", Every: month},
				"pro":   {Name: "pro", Gives: 1000, Currency: "credits", Every: month},
			}
		})
		c, err := httpapi.NewClient(e.base, e.write, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if _, err := c.GetSubscription(ctx, "cus_c", nil); creditkit.ErrorCodeOf(err) != creditkit.CodeNotFound {
			t.Fatalf("get before: %v", err)
		}
		s, err := c.StartSubscription(ctx, "cus_c", "basic", &creditkit.SubscribeOpts{Trial: creditkit.Span{Days: 7}})
		if err != nil || s.Status != creditkit.SubscriptionTrialing {
			t.Fatalf("start: %+v %v", s, err)
		}
		if s, err = c.ChangePlan(ctx, "cus_c", "pro", nil); err != nil || s.Plan != "pro" {
			t.Fatalf("change: %+v %v", s, err)
		}
		if s, err = c.Cancel(ctx, "cus_c", &creditkit.CancelOpts{AtPeriodEnd: true}); err != nil || s.CancelAt == nil {
			t.Fatalf("cancel at period end: %+v %v", s, err)
		}
		if s, err = c.Cancel(ctx, "cus_c", nil); err != nil || s.Status != creditkit.SubscriptionCanceled {
			t.Fatalf("cancel: %+v %v", s, err)
		}
		if _, err = c.StartSubscription(ctx, "cus_c", "basic", nil); err != nil {
			t.Fatal(err)
		}
		if s, err = c.Pause(ctx, "cus_c", nil); err != nil || s.Status != creditkit.SubscriptionPaused {
			t.Fatalf("pause: %+v %v", s, err)
		}
		if s, err = c.Resume(ctx, "cus_c", nil); err != nil || s.Status != creditkit.SubscriptionActive {
			t.Fatalf("resume: %+v %v", s, err)
		}
		got, err := c.GetSubscription(ctx, "cus_c", nil)
		if err != nil || got.ID != s.ID {
			t.Fatalf("get: %+v %v", got, err)
		}
	})
}
