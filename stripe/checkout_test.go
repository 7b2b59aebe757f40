package stripe_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// TestCheckoutCreatesSessions: a pack's checkout is a payment session
// (inline price data from costs, or the pack's stripe_price), a plan's a
// subscription session on its interval's price; each names the creditkit
// customer and the pack or plan in metadata, on the customer's Stripe
// customer, created once (with metadata and an idempotency key) and
// linked. stripe-mock checks every request against Stripe's API.
func TestCheckoutCreatesSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		status, out := e.call(http.MethodPost, "/v1/customers/alice/checkout", map[string]any{"pack": "starter",
			"success_url": "https://app.example/paid?session_id={CHECKOUT_SESSION_ID}", "cancel_url": "https://app.example/cancel"})
		if status != http.StatusCreated || out["mode"] != "payment" || out["pack"] != "starter" || out["provider"] != "stripe" ||
			!strings.HasPrefix(out["url"].(string), "https://") || !strings.HasPrefix(out["id"].(string), "cs_") {
			t.Fatalf("pack checkout: %d %v", status, out)
		}
		custs := e.fake.sent(http.MethodPost, "/v1/customers")
		if len(custs) != 1 || custs[0].Form.Get("metadata[creditkit_customer]") != "alice" || custs[0].IdempotencyKey != "creditkit-customer-alice" {
			t.Fatalf("customer creation: %+v", custs)
		}
		linked, err := e.l.Store().(store.ProviderStore).ProviderCustomer(context.Background(), "stripe", "alice")
		if err != nil || !strings.HasPrefix(linked, "cus_") {
			t.Fatalf("link: %q %v", linked, err)
		}
		sess := e.fake.sent(http.MethodPost, "/v1/checkout/sessions")
		f := sess[0].Form
		for k, want := range map[string]string{"mode": "payment", "customer": linked, "client_reference_id": "alice",
			"metadata[creditkit_customer]": "alice", "metadata[creditkit_pack]": "starter",
			"payment_intent_data[metadata][creditkit_pack]": "starter", "payment_intent_data[metadata][creditkit_customer]": "alice",
			"line_items[0][price_data][unit_amount]": "4900", "line_items[0][price_data][currency]": "usd", "line_items[0][quantity]": "1",
			"success_url": "https://app.example/paid?session_id={CHECKOUT_SESSION_ID}"} {
			if got := f.Get(k); got != want {
				t.Errorf("session %s = %q, want %q", k, got, want)
			}
		}

		// The pack's stripe_price; the Stripe customer is not created again.
		status, out = e.call(http.MethodPost, "/v1/customers/alice/checkout", map[string]any{"pack": "priced", "success_url": "https://app.example/ok"})
		if status != http.StatusCreated {
			t.Fatalf("priced pack: %d %v", status, out)
		}
		if f := e.fake.sent(http.MethodPost, "/v1/checkout/sessions")[1].Form; f.Get("line_items[0][price]") != "price_pack_priced" || f.Get("line_items[0][price_data][unit_amount]") != "" {
			t.Fatalf("priced pack session: %v", f)
		}
		if n := len(e.fake.sent(http.MethodPost, "/v1/customers")); n != 1 {
			t.Fatalf("%d Stripe customers created for one creditkit customer", n)
		}

		// A plan: subscription mode on the interval's price.
		status, out = e.call(http.MethodPost, "/v1/customers/alice/checkout", map[string]any{"plan": "pro", "interval": "year", "success_url": "https://app.example/ok"})
		if status != http.StatusCreated || out["mode"] != "subscription" || out["plan"] != "pro" {
			t.Fatalf("plan checkout: %d %v", status, out)
		}
		f = e.fake.sent(http.MethodPost, "/v1/checkout/sessions")[2].Form
		if f.Get("mode") != "subscription" || f.Get("line_items[0][price]") != "price_pro_y" || f.Get("subscription_data[metadata][creditkit_plan]") != "pro" ||
			f.Get("subscription_data[metadata][creditkit_customer]") != "alice" {
			t.Fatalf("plan session: %v", f)
		}
		// basic has one interval: it is the default.
		if status, out = e.call(http.MethodPost, "/v1/customers/bob/checkout", map[string]any{"plan": "basic", "success_url": "https://app.example/ok"}); status != http.StatusCreated {
			t.Fatalf("basic: %d %v", status, out)
		}

		// Bad requests say what to fix and call Stripe for nothing.
		before := len(e.fake.sent(http.MethodPost, "/v1/"))
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"pack": "nope", "success_url": "https://x"}, `unknown pack "nope"`},
			{map[string]any{"plan": "nope", "success_url": "https://x"}, `unknown plan "nope"`},
			{map[string]any{"plan": "pro", "success_url": "https://x"}, "say which with interval"},
			{map[string]any{"plan": "pro", "interval": "week", "success_url": "https://x"}, `no stripe_price for interval "week"`},
			{map[string]any{"pack": "starter", "plan": "pro", "success_url": "https://x"}, "either pack"},
			{map[string]any{"success_url": "https://x"}, "either pack"},
		} {
			status, out := e.call(http.MethodPost, "/v1/customers/carol/checkout", c.body)
			if status != http.StatusUnprocessableEntity || !strings.Contains(out["detail"].(string), c.want) {
				t.Errorf("%v: %d %v, want 422 with %q", c.body, status, out, c.want)
			}
		}
		if after := len(e.fake.sent(http.MethodPost, "/v1/")); after != before {
			t.Fatalf("bad requests reached Stripe: %d calls", after-before)
		}
	})
}

// TestCheckoutWithoutProvider: with no provider configured the checkout
// endpoints answer 503 saying what to set.
func TestCheckoutWithoutProvider(t *testing.T) {
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "c.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, testGrace) }()
	defer func() { stop(); <-done }()
	_, key, err := httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "t", store.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, l: l, base: "http://" + ln.Addr().String(), key: key}
	for _, c := range []struct{ method, path string }{{http.MethodPost, "/v1/customers/alice/checkout"}, {http.MethodGet, "/v1/checkout/complete?session_id=cs_1"}} {
		var body any
		if c.method == http.MethodPost {
			body = map[string]any{"pack": "starter", "success_url": "https://x"}
		}
		status, out := e.call(c.method, c.path, body)
		if status != http.StatusServiceUnavailable || out["code"] != "payments_not_configured" || !strings.Contains(out["detail"].(string), "STRIPE_SECRET_KEY") {
			t.Fatalf("%s %s without a provider: %d %v", c.method, c.path, status, out)
		}
	}
}

// TestCheckoutIdempotencyKey: the request's Idempotency-Key becomes the
// Stripe idempotency key of the session, scoped by customer, so that a
// retry answers the same session.
func TestCheckoutIdempotencyKey(t *testing.T) {
	e := setup(t, storeURLs(t)["sqlite"](t))
	req, err := http.NewRequest(http.MethodPost, e.base+"/v1/customers/alice/checkout",
		strings.NewReader(`{"pack": "starter", "success_url": "https://app.example/ok"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "buy-1")
	if status, out := do(t, req); status != http.StatusCreated {
		t.Fatalf("checkout: %d %v", status, out)
	}
	sess := e.fake.sent(http.MethodPost, "/v1/checkout/sessions")
	if len(sess) != 1 || sess[0].IdempotencyKey != "creditkit-checkout-alice-buy-1" {
		t.Fatalf("session requests: %+v", sess)
	}
}
