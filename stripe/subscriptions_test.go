package stripe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// TestSubscriptionLifecycleFromEvents drives a subscription through
// Stripe's events (created, upgraded, downgraded, paused, resumed, payment
// failed, recovered, deleted) and checks the wallet after each. Each event
// is applied from the subscription's current state at Stripe, so the
// created event arriving after an updated one changes nothing.
func TestSubscriptionLifecycleFromEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		ctx := context.Background()
		linkCustomer(t, e, "alice", "cus_alice")
		n := 0
		// state makes Stripe hold sub_1 as given, then delivers an event.
		state := func(typ, price, status string, paused bool) map[string]any {
			t.Helper()
			n++
			obj := subscriptionObj("sub_1", "cus_alice", price, status, paused)
			e.fake.set("/v1/subscriptions/sub_1", obj)
			if strings.HasPrefix(typ, "invoice.") {
				return e.send(evtID(n), typ, map[string]any{"id": "in_" + evtID(n), "object": "invoice", "customer": "cus_alice",
					"parent": map[string]any{"type": "subscription_details", "subscription_details": map[string]any{"subscription": "sub_1"}}})
			}
			return e.send(evtID(n), typ, obj)
		}
		wantSub := func(plan string, status creditkit.SubscriptionStatus, when string) {
			t.Helper()
			sub, err := e.l.GetSubscription(ctx, "alice", nil)
			if err != nil || sub.Plan != plan || sub.Status != status {
				t.Fatalf("%s: subscription %+v %v, want %s %s", when, sub, err, plan, status)
			}
		}
		month := func(k int) { e.clock.Set(epoch.AddDate(0, k, 0)) }

		// An updated event first (the created one is late): the current
		// state at Stripe starts the subscription.
		state("customer.subscription.updated", "price_basic_m", "active", false)
		wantSub("basic", creditkit.SubscriptionActive, "created out of order")
		e.wantBalance("alice", 100, "created")
		if out := e.send("evt_late_created", "customer.subscription.created", subscriptionObj("sub_1", "cus_alice", "price_basic_m", "active", false)); out["outcome"] != "unchanged" {
			t.Fatalf("late created event: %v", out)
		}
		e.wantBalance("alice", 100, "late created event")

		// Upgrade: at once, a new period with the full allowance.
		state("customer.subscription.updated", "price_pro_m", "active", false)
		wantSub("pro", creditkit.SubscriptionActive, "upgraded")
		e.wantBalance("alice", 1000, "upgraded")

		// Downgrade: at the period end.
		state("customer.subscription.updated", "price_basic_m", "active", false)
		sub, _ := e.l.GetSubscription(ctx, "alice", nil)
		if sub.Plan != "pro" || sub.ScheduledPlan != "basic" {
			t.Fatalf("downgrade: %+v", sub)
		}
		e.wantBalance("alice", 1000, "downgrade scheduled")
		month(1)
		runDue(t, e)
		wantSub("basic", creditkit.SubscriptionActive, "downgraded at the period end")
		e.wantBalance("alice", 100, "downgraded")

		// Paused (pause_collection): no refill at the next period end.
		state("customer.subscription.updated", "price_basic_m", "active", true)
		wantSub("basic", creditkit.SubscriptionPaused, "paused")
		month(2)
		runDue(t, e)
		e.wantBalance("alice", 0, "paused past the period end")

		// Resumed: a new period now.
		e.clock.Set(epoch.AddDate(0, 2, 3))
		state("customer.subscription.updated", "price_basic_m", "active", false)
		wantSub("basic", creditkit.SubscriptionActive, "resumed")
		e.wantBalance("alice", 100, "resumed")

		// Payment failed: past_due; past the grace no refill.
		e.clock.Set(epoch.AddDate(0, 2, 10))
		state("invoice.payment_failed", "price_basic_m", "past_due", false)
		wantSub("basic", creditkit.SubscriptionPastDue, "payment failed")
		e.clock.Set(epoch.AddDate(0, 3, 4))
		runDue(t, e)
		e.wantBalance("alice", 0, "past due past the grace")

		// Recovered: invoice.paid with the subscription active again.
		e.clock.Set(epoch.AddDate(0, 3, 5))
		state("invoice.paid", "price_basic_m", "active", false)
		wantSub("basic", creditkit.SubscriptionActive, "recovered")
		e.wantBalance("alice", 100, "recovered")
		// A late payment_failed while Stripe says active moves nothing.
		if out := e.send("evt_late_failed", "invoice.payment_failed", map[string]any{"id": "in_x", "object": "invoice", "customer": "cus_alice",
			"parent": map[string]any{"type": "subscription_details", "subscription_details": map[string]any{"subscription": "sub_1"}}}); out["outcome"] != "unchanged" {
			t.Fatalf("late payment_failed: %v", out)
		}
		wantSub("basic", creditkit.SubscriptionActive, "late payment_failed")

		// cancel_at_period_end set, then taken back at Stripe: the
		// ledger schedules the cancellation, then keeps the subscription.
		withCancel := func(on bool, paused ...bool) {
			t.Helper()
			n++
			obj := subscriptionObj("sub_1", "cus_alice", "price_basic_m", "active", len(paused) > 0 && paused[0])
			obj["cancel_at_period_end"] = on
			e.fake.set("/v1/subscriptions/sub_1", obj)
			e.send(evtID(n), "customer.subscription.updated", obj)
		}
		withCancel(true)
		if sub, err := e.l.GetSubscription(ctx, "alice", nil); err != nil || sub.CancelAt == nil || sub.Status != creditkit.SubscriptionActive {
			t.Fatalf("cancel at period end: %+v %v", sub, err)
		}
		withCancel(false)
		if sub, err := e.l.GetSubscription(ctx, "alice", nil); err != nil || sub.CancelAt != nil || sub.Status != creditkit.SubscriptionActive {
			t.Fatalf("cancel at period end taken back: %+v %v", sub, err)
		}
		// A pause and a cancellation at period end in one event: the
		// cancellation stays scheduled through the pause, not applied now.
		withCancel(true, true)
		if sub, err := e.l.GetSubscription(ctx, "alice", nil); err != nil || sub.CancelAt == nil || sub.Status != creditkit.SubscriptionPaused {
			t.Fatalf("paused with a cancellation at period end: %+v %v", sub, err)
		}
		withCancel(true)
		if sub, err := e.l.GetSubscription(ctx, "alice", nil); err != nil || sub.CancelAt == nil || sub.Status != creditkit.SubscriptionActive {
			t.Fatalf("resumed, still cancelling at period end: %+v %v", sub, err)
		}
		withCancel(false)
		if sub, err := e.l.GetSubscription(ctx, "alice", nil); err != nil || sub.CancelAt != nil || sub.Status != creditkit.SubscriptionActive {
			t.Fatalf("cancellation taken back after the pause: %+v %v", sub, err)
		}

		// Deleted: canceled, no more refills.
		state("customer.subscription.deleted", "price_basic_m", "canceled", false)
		wantSub("basic", creditkit.SubscriptionCanceled, "deleted")
		e.clock.Set(epoch.AddDate(0, 5, 0))
		runDue(t, e)
		e.wantBalance("alice", 0, "canceled")
		// The deleted event again (a new id, as Stripe may resend): nothing.
		if out := e.send("evt_deleted_again", "customer.subscription.deleted", subscriptionObj("sub_1", "cus_alice", "price_basic_m", "canceled", false)); out["outcome"] != "unchanged" {
			t.Fatalf("deleted again: %v", out)
		}
	})
}

// TestSubscriptionUnknownPrice: a subscription on a price no plan has is
// acknowledged (200), named in the outcome, and moves nothing.
func TestSubscriptionUnknownPrice(t *testing.T) {
	e := setup(t, storeURLs(t)["sqlite"](t))
	linkCustomer(t, e, "bob", "cus_bob")
	obj := subscriptionObj("sub_2", "cus_bob", "price_nobody", "active", false)
	e.fake.set("/v1/subscriptions/sub_2", obj)
	out := e.send("evt_unknown", "customer.subscription.created", obj)
	if !strings.Contains(out["outcome"].(string), `unknown price "price_nobody"`) {
		t.Fatalf("unknown price: %v", out)
	}
	e.wantBalance("bob", 0, "unknown price")
	if _, err := e.l.GetSubscription(context.Background(), "bob", nil); creditkit.ErrorCodeOf(err) != creditkit.CodeNotFound {
		t.Fatalf("unknown price subscribed bob: %v", err)
	}
	// A subscription of a Stripe customer creditkit never linked, with
	// creditkit_customer metadata (subscription_data of our checkout), is
	// linked and applied.
	obj = subscriptionObj("sub_3", "cus_carol", "price_basic_m", "active", false)
	obj["metadata"] = map[string]any{"creditkit_customer": "carol"}
	e.fake.set("/v1/subscriptions/sub_3", obj)
	e.send("evt_carol", "customer.subscription.created", obj)
	e.wantBalance("carol", 100, "subscribed by metadata")
}

func evtID(n int) string { return "evt_" + itoa(int64(n)) }

// runDue runs the ledger's due work (refills).
func runDue(t *testing.T, e *env) {
	t.Helper()
	if _, err := e.l.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSubscriptionCheckoutReturn: the return from a plan's checkout reads
// the session, then the subscription it created, and subscribes the
// customer at once (before any subscription event); the created event
// then changes nothing. An invoice event in the older API shape (the
// subscription at the top) is understood too.
func TestSubscriptionCheckoutReturn(t *testing.T) {
	e := setup(t, storeURLs(t)["sqlite"](t))
	sub := subscriptionObj("sub_9", "cus_frank", "price_pro_m", "active", false)
	sub["metadata"] = map[string]any{"creditkit_customer": "frank", "creditkit_plan": "pro"}
	e.fake.set("/v1/subscriptions/sub_9", sub)
	e.fake.set("/v1/checkout/sessions/cs_test_sub", map[string]any{"id": "cs_test_sub", "object": "checkout.session", "mode": "subscription",
		"status": "complete", "payment_status": "paid", "subscription": "sub_9", "customer": "cus_frank",
		"metadata": map[string]any{"creditkit_customer": "frank", "creditkit_plan": "pro"}})
	status, res := e.complete("cs_test_sub")
	s, _ := res["subscription"].(map[string]any)
	if status != 200 || res["status"] != "paid" || s == nil || s["plan"] != "pro" || s["status"] != "active" {
		t.Fatalf("return from a plan checkout: %d %v", status, res)
	}
	e.wantBalance("frank", 1000, "subscribed on return")
	if out := e.send("evt_sub9", "customer.subscription.created", sub); out["outcome"] != "unchanged" {
		t.Fatalf("created after the return: %v", out)
	}
	sub["status"] = "past_due"
	e.fake.set("/v1/subscriptions/sub_9", sub)
	e.send("evt_inv_old", "invoice.payment_failed", map[string]any{"id": "in_old", "object": "invoice", "subscription": "sub_9"})
	got, err := e.l.GetSubscription(context.Background(), "frank", nil)
	if err != nil || got.Status != creditkit.SubscriptionPastDue {
		t.Fatalf("old-shape invoice: %+v %v", got, err)
	}
}
