package httpapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/storetest"
)

// withTopUpPack adds a pack of 1,000 credits for 49 USD to the config and
// lets webhooks go to loopback.
func withTopUpPack(cfg *creditkit.Config, o *httpapi.Options) {
	cfg.Packs["starter"] = &creditkit.Pack{Name: "starter", Gives: 1000, Currency: "credits", PriceCents: 4900, PriceCurrency: "USD"}
	o.AllowPrivateWebhooks = true
}

// startTopUps runs an auto top-up runner on the env's ledger until the
// test ends.
func startTopUps(t *testing.T, e *env, charger creditkit.TopUpCharger) *creditkit.TopUpRunner {
	t.Helper()
	r := creditkit.NewTopUpRunner(e.l, charger, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	t.Cleanup(func() { cancel(); r.Stop() })
	return r
}

// TestAutoTopUpOverHTTP: a wallet's auto top-up is set, read and turned off
// over HTTP (and through the Go client); a spend over HTTP that leaves the
// wallet under its threshold buys the pack once.
func TestAutoTopUpOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, withTopUpPack)
		charger := &storetest.TestCharger{}
		r := startTopUps(t, e, charger)
		w, rd := e.write, e.read
		const path = "/v1/customers/alice/auto-topup"

		if g := e.must(200, "GET", path, rd, nil); str(g.body, "source") != "none" || g.body["enabled"] != false {
			t.Fatalf("before any settings: %s", g.raw)
		}
		if p := e.must(422, "PUT", path, w, map[string]any{"threshold": 100, "pack": "big"}); str(p.body, "code") != "invalid_request" {
			t.Fatalf("unknown pack: %s", p.raw)
		}
		e.must(422, "PUT", path, w, map[string]any{"threshold": 100, "pack": "starter", "cooldown": "5s"})
		e.must(422, "PUT", path, w, map[string]any{"threshold": 100, "pack": "starter", "cooldown": "soon"})
		e.must(422, "PUT", path, w, map[string]any{"threshold": 0, "pack": "starter"})
		// A target no purchase could price is refused when it is set, not
		// at the first spend.
		if p := e.must(422, "PUT", path, w, map[string]any{"threshold": 400, "pack": "starter", "target_balance": int64(1) << 62}); str(p.body, "code") != "invalid_amount" ||
			!strings.Contains(str(p.body, "detail"), "smaller target") {
			t.Fatalf("huge target: %s", p.raw)
		}
		e.must(403, "PUT", path, rd, map[string]any{"threshold": 100, "pack": "starter"})
		p := e.must(200, "PUT", path, w, map[string]any{"threshold": 100, "pack": "starter", "monthly_cap_cents": 10000, "cooldown": "30m"})
		if str(p.body, "source") != "customer" || p.body["enabled"] != true || num(p.body, "threshold") != 100 || str(p.body, "pack") != "starter" ||
			num(p.body, "monthly_cap_cents") != 10000 || str(p.body, "money_currency") != "USD" || str(p.body, "cooldown") != "30m0s" {
			t.Fatalf("put: %s", p.raw)
		}

		e.must(201, "POST", "/v1/customers/alice/grants", w, map[string]any{"amount": 150})
		for range 60 {
			e.must(200, "POST", "/v1/customers/alice/spend", w, map[string]any{"operation": "send_email"})
		}
		if err := r.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if pays, reqs := charger.Charged(); pays != 1 || len(reqs) != 1 || reqs[0].AmountCents != 4900 {
			t.Fatalf("%d payments from %+v, want one of 4900 cents", pays, reqs)
		}
		if b := e.must(200, "GET", "/v1/customers/alice/balance", rd, nil); num(b.body, "available") != 150-60+1000 {
			t.Fatalf("balance: %s", b.raw)
		}
		g := e.must(200, "GET", path, rd, nil)
		if num(g.body, "month_spent_cents") != 4900 || str(g.body, "last_purchase_at") == "" || str(g.body, "next_attempt_after") == "" || g.body["in_flight"] != nil {
			t.Fatalf("after the top-up: %s", g.raw)
		}
		if d := e.must(200, "DELETE", path, w, nil); d.body["enabled"] != false || str(d.body, "source") != "customer" || str(d.body, "pack") != "starter" {
			t.Fatalf("delete: %s", d.raw)
		}

		// The Go client's calls.
		c, err := httpapi.NewClient(e.base, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		st, err := c.SetAutoTopUp(ctx, "bob", creditkit.AutoTopUp{Enabled: true, Threshold: 50, Pack: "starter", TargetBalance: 400}, nil)
		if err != nil || !st.Enabled || st.TargetBalance != 400 || st.Cooldown != "1h0m0s" {
			t.Fatalf("client set: %+v %v", st, err)
		}
		if st, err := c.GetAutoTopUp(ctx, "bob", ""); err != nil || st.Threshold != 50 {
			t.Fatalf("client get: %+v %v", st, err)
		}
		if st, err := c.DisableAutoTopUp(ctx, "bob", ""); err != nil || st.Enabled {
			t.Fatalf("client disable: %+v %v", st, err)
		}
		_, err = c.SetAutoTopUp(ctx, "bob", creditkit.AutoTopUp{Enabled: true, Threshold: 50, Pack: "starter", TargetBalance: 10}, nil)
		if creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
			t.Fatalf("client set with a target under the threshold: %v", err)
		}
	})
}

// TestAutoTopUpFailureIsDeliveredOnce: a declined charge makes one
// credits.topup.failed event, which a webhook endpoint subscribed to it
// receives, signed, once; the spends that follow within the cooldown make
// no other attempt.
func TestAutoTopUpFailureIsDeliveredOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, withTopUpPack)
		charger := &storetest.TestCharger{Fail: errors.New("your card was declined")}
		r := startTopUps(t, e, charger)
		rc := newReceiver(t, 0)
		we := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": rc.url, "event_types": []string{creditkit.EventTopUpFailed}})
		rc.secret = str(we.body, "secret")
		startScheduler(t, e, []time.Duration{20 * time.Millisecond})

		e.must(200, "PUT", "/v1/customers/alice/auto-topup", e.write, map[string]any{"threshold": 100, "pack": "starter"})
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 110})
		for range 30 {
			e.must(200, "POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "send_email"})
		}
		if err := r.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the failed event to be delivered", func() bool {
			_, p, _ := rc.snapshot()
			return len(p) > 0
		})
		_, processed, badSig := rc.snapshot()
		if len(processed) != 1 || badSig != 0 {
			t.Fatalf("receiver processed %v (bad signatures %d), want one event", processed, badSig)
		}
		for id := range processed {
			rc.mu.Lock()
			typ := rc.types[id]
			rc.mu.Unlock()
			if typ != creditkit.EventTopUpFailed {
				t.Fatalf("delivered %s, want %s", typ, creditkit.EventTopUpFailed)
			}
		}
		if _, reqs := charger.Charged(); len(reqs) != 1 {
			t.Fatalf("%d charge requests, want 1", len(reqs))
		}
		g := e.must(200, "GET", "/v1/customers/alice/auto-topup", e.read, nil)
		if str(g.body, "last_failure") != "your card was declined" || num(g.body, "month_spent_cents") != 0 {
			t.Fatalf("status: %s", g.raw)
		}
	})
}
