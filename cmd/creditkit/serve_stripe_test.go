package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/creditkit/creditkit/internal/stripetest"
)

// TestServeDemoWithStripe: with Stripe keys in the environment (here
// pointed at stripe-mock), serve --demo lists the packs with their
// checkout, the checkout endpoint answers a Stripe Checkout URL, and a
// signed checkout.session.completed on the webhook grants the pack.
func TestServeDemoWithStripe(t *testing.T) {
	t.Parallel()
	mock := stripetest.Start(t)
	env := map[string]string{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_demo", "STRIPE_API_URL": mock}
	base, out, stop := startServe(t, &Main{Dir: t.TempDir(), Getenv: func(k string) string { return env[k] }},
		"serve", "--demo", "--addr", "127.0.0.1:0")
	if !strings.Contains(out.String(), "pack starter: 1000 credits for 49.00 USD") || !strings.Contains(out.String(), "/v1/providers/stripe/webhook") {
		t.Fatalf("demo output does not show the packs' checkout:\n%s", out)
	}
	key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())[1]
	client := &http.Client{Timeout: 10 * time.Second}
	_, before, err := call(client, "GET", base+"/v1/customers/alice/balance", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body, err := call(client, "POST", base+"/v1/customers/alice/checkout", key,
		map[string]any{"pack": "starter", "success_url": "https://app.example/done?session_id={CHECKOUT_SESSION_ID}"})
	if err != nil || status != 201 || !strings.HasPrefix(body["url"].(string), "https://checkout.stripe.com/") {
		t.Fatalf("checkout: %d %v %v", status, body, err)
	}
	payload, _ := json.Marshal(map[string]any{"id": "evt_demo", "object": "event", "type": "checkout.session.completed", "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{"id": "cs_test_demo", "object": "checkout.session", "mode": "payment", "status": "complete",
			"payment_status": "paid", "amount_total": 4900, "currency": "usd", "payment_intent": "pi_demo",
			"metadata": map[string]any{"creditkit_customer": "alice", "creditkit_pack": "starter"}}}})
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_demo", Timestamp: time.Now()}).Header
	req, _ := http.NewRequest("POST", base+"/v1/providers/stripe/webhook", bytes.NewReader(payload))
	req.Header.Set("Stripe-Signature", sig)
	res, err := client.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", res, err)
	}
	res.Body.Close()
	if status, body, _ := call(client, "GET", base+"/v1/customers/alice/balance", key, nil); status != 200 || body["available"] != before["available"].(float64)+1000 {
		t.Fatalf("balance after the purchase: %d %v, was %v", status, body, before["available"])
	}
	// The widgets offer top-ups: the server has a provider.
	if status, body, _ := call(client, "GET", base+"/widgets/config.json", "", nil); status != 200 || body["checkout"] != true {
		t.Fatalf("widgets config with a provider: %d %v", status, body)
	}
	client.CloseIdleConnections()
	if code := stop(); code != ExitOK {
		t.Fatalf("serve exited %d", code)
	}
}

// TestServeDemoWithoutStripe: without keys, serve --demo says what to
// set, and the checkout endpoint answers 503 saying the same.
func TestServeDemoWithoutStripe(t *testing.T) {
	t.Parallel()
	base, out, stop := startServe(t, &Main{Dir: t.TempDir()}, "serve", "--demo", "--addr", "127.0.0.1:0")
	if !strings.Contains(out.String(), "payments: off: set STRIPE_SECRET_KEY") {
		t.Fatalf("demo output does not say payments are off:\n%s", out)
	}
	key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())[1]
	client := &http.Client{Timeout: 10 * time.Second}
	status, body, err := call(client, "POST", base+"/v1/customers/alice/checkout", key, map[string]any{"pack": "starter", "success_url": "https://x"})
	if err != nil || status != 503 || body["code"] != "payments_not_configured" || body["request_id"] == "" || body["request_id"] == nil {
		t.Fatalf("checkout without keys: %d %v %v", status, body, err)
	}
	// A mistake in the request is named before the missing provider.
	for _, b := range []map[string]any{
		{"pack": "huge", "success_url": "https://x"},
		{"plan": "gold", "success_url": "https://x"},
		{"pack": "starter", "success_url": "javascript:alert(1)"},
		{"pack": "starter", "success_url": "https://x", "cancel_url": "/back"},
	} {
		status, body, err := call(client, "POST", base+"/v1/customers/alice/checkout", key, b)
		if err != nil || status != 422 {
			t.Fatalf("checkout %v: %d %v %v", b, status, body, err)
		}
		if d, _ := body["detail"].(string); (b["pack"] == "huge" && !strings.Contains(d, "starter")) || (b["plan"] == "gold" && !strings.Contains(d, "pro")) {
			t.Fatalf("checkout %v does not list what exists: %v", b, body)
		}
	}
	if status, body, _ := call(client, "GET", base+"/widgets/config.json", "", nil); status != 200 || body["checkout"] != false {
		t.Fatalf("widgets config without a provider: %d %v", status, body)
	}
	// No webhook without the provider.
	res, err := client.Post(base+"/v1/providers/stripe/webhook", "application/json", strings.NewReader("{}"))
	if err != nil || res.StatusCode != 404 {
		t.Fatalf("webhook without the provider: %v %v", res, err)
	}
	res.Body.Close()
	client.CloseIdleConnections()
	stop()
}
