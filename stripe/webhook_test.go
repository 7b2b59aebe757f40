package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/stripe"
)

// TestWebhookRefusesUnverifiedEvents: a forged signature, no signature, a
// stale timestamp, a body signed with another secret or changed after
// signing are refused with 400; nothing moves and the event is not even
// recorded, so the genuine delivery is processed later. An oversized body
// is refused with 413.
func TestWebhookRefusesUnverifiedEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		// Stripe holds an active subscription of alice's on basic.
		linkCustomer(t, e, "alice", "cus_alice")
		e.fake.set("/v1/subscriptions/sub_1", subscriptionObj("sub_1", "cus_alice", "price_basic_m", "active", false))
		payload := stripeEvent("evt_forged", "customer.subscription.created", subscriptionObj("sub_1", "cus_alice", "price_basic_m", "active", false))
		now := time.Now()
		for name, sig := range map[string]string{
			"unsigned":       "",
			"forged":         "t=" + itoa(now.Unix()) + ",v1=" + strings.Repeat("ab", 32),
			"other secret":   signed(payload, "whsec_other", now),
			"stale":          signed(payload, whsec, now.Add(-6*time.Minute)),
			"garbage header": "nonsense",
		} {
			status, out := post(t, e.base, payload, sig)
			if status != http.StatusBadRequest || out["received"] == true {
				t.Errorf("%s: %d %v, want 400", name, status, out)
			}
		}
		tampered := []byte(strings.Replace(string(payload), "price_basic_m", "price_pro_m", 1))
		if status, _ := post(t, e.base, tampered, signed(payload, whsec, now)); status != http.StatusBadRequest {
			t.Errorf("tampered body: %d, want 400", status)
		}
		big := make([]byte, stripe.DefaultMaxEventBytes+1)
		if status, _ := post(t, e.base, big, signed(big, whsec, now)); status != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized body: %d, want 413", status)
		}
		e.wantBalance("alice", 0, "after refused events")
		if ev, err := e.l.Store().(store.ProviderStore).GetProviderEvent(context.Background(), "stripe", "evt_forged"); err != nil || ev != nil {
			t.Fatalf("a refused event was recorded: %+v %v", ev, err)
		}
		if n := len(e.fake.sent(http.MethodGet, "/v1/subscriptions")); n != 0 {
			t.Fatalf("refused events read Stripe %d times", n)
		}
		// Within the tolerance (4 minutes old) the same event is taken.
		if status, out := post(t, e.base, payload, signed(payload, whsec, now.Add(-4*time.Minute))); status != http.StatusOK || out["received"] != true {
			t.Fatalf("genuine event: %d %v", status, out)
		}
		e.wantBalance("alice", 100, "after the genuine event")
	})
}

// TestWebhookWithoutSecret: no signing secret refuses every event with
// 503 (Stripe retries once the secret is set), and moves nothing.
func TestWebhookWithoutSecret(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), mockURL(t), newFakeState(), func(o *stripe.Options) { o.WebhookSecret = "" })
	payload := stripeEvent("evt_1", "customer.subscription.created", map[string]any{"id": "sub_1"})
	status, out := post(t, e.base, payload, signed(payload, whsec, time.Now()))
	if status != http.StatusServiceUnavailable || !strings.Contains(out["error"].(string), "STRIPE_WEBHOOK_SECRET") {
		t.Fatalf("no secret: %d %v", status, out)
	}
}

// TestWebhookEventOnce: an event delivered twice is processed once: the
// second delivery answers the first outcome without reading Stripe or
// writing the ledger.
func TestWebhookEventOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		linkCustomer(t, e, "alice", "cus_alice")
		e.fake.set("/v1/subscriptions/sub_1", subscriptionObj("sub_1", "cus_alice", "price_basic_m", "active", false))
		obj := subscriptionObj("sub_1", "cus_alice", "price_basic_m", "active", false)
		first := e.send("evt_1", "customer.subscription.created", obj)
		if first["duplicate"] == true || !strings.Contains(first["outcome"].(string), "start") {
			t.Fatalf("first delivery: %v", first)
		}
		reads := len(e.fake.sent(http.MethodGet, "/v1/subscriptions"))
		again := e.send("evt_1", "customer.subscription.created", obj)
		if again["duplicate"] != true || again["outcome"] != first["outcome"] {
			t.Fatalf("second delivery: %v", again)
		}
		if n := len(e.fake.sent(http.MethodGet, "/v1/subscriptions")); n != reads {
			t.Fatalf("a duplicate read Stripe again")
		}
		e.wantBalance("alice", 100, "one refill for one event")
		ev, err := e.l.Store().(store.ProviderStore).GetProviderEvent(context.Background(), "stripe", "evt_1")
		if err != nil || ev == nil || ev.ProcessedAt == nil || ev.Type != "customer.subscription.created" || ev.Outcome != first["outcome"] {
			t.Fatalf("recorded event: %+v %v", ev, err)
		}
		// An event type the adapter does not handle is acknowledged.
		if out := e.send("evt_2", "customer.created", map[string]any{"id": "cus_x", "object": "customer"}); out["outcome"] != "ignored: customer.created" {
			t.Fatalf("unhandled type: %v", out)
		}
	})
}

// linkCustomer links a creditkit customer to a Stripe customer id, as
// the first checkout does.
func linkCustomer(t *testing.T, e *env, customer, stripeID string) {
	t.Helper()
	if _, err := e.l.Store().(store.ProviderStore).LinkProviderCustomer(context.Background(), "stripe", customer, stripeID, epoch); err != nil {
		t.Fatal(err)
	}
}
