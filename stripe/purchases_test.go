package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/stripetest"
	"github.com/creditkit/creditkit/store"
)

// sessionObj is a pack's checkout session as Stripe holds it once the
// customer paid (paymentStatus paid) or while a delayed payment settles
// (unpaid on a complete session).
func sessionObj(id, customer, pack, paymentStatus string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "mode": "payment", "status": "complete",
		"payment_status": paymentStatus, "amount_total": 4900, "currency": "usd", "payment_intent": "pi_" + id,
		"customer": "cus_" + customer, "client_reference_id": customer,
		"metadata": map[string]any{"creditkit_customer": customer, "creditkit_pack": pack}}
}

// complete calls the return path as the customer's browser does: with
// no API key.
func (e *env) complete(session string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+"/v1/checkout/complete?session_id="+session, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return do(e.t, req)
}

// packGrants counts a customer's pack grants.
func (e *env) packGrants(customer string) int {
	e.t.Helper()
	gs, err := e.l.Grants(context.Background(), customer, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, g := range gs {
		if g.Source == creditkit.SourcePack {
			n++
		}
	}
	return n
}

func purchaseID(t *testing.T, m map[string]any) string {
	t.Helper()
	p, ok := m["purchase"].(map[string]any)
	if !ok {
		t.Fatalf("no purchase in %v", m)
	}
	return p["id"].(string)
}

// TestPackFulfilledByWebhookThenReturn: the webhook grants the pack; the
// customer's return answers the same purchase and grants nothing more.
func TestPackFulfilledByWebhookThenReturn(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		sess := sessionObj("cs_test_a", "alice", "starter", "paid")
		e.fake.set("/v1/checkout/sessions/cs_test_a", sess)
		out := e.send("evt_a", "checkout.session.completed", sess)
		e.wantBalance("alice", 1000, "after the webhook")
		status, res := e.complete("cs_test_a")
		if status != http.StatusOK || res["status"] != "paid" || res["customer"] != "alice" {
			t.Fatalf("return path: %d %v", status, res)
		}
		p := res["purchase"].(map[string]any)
		if p["replayed"] != true || p["external_id"] != "cs_test_a" || p["payment_intent_id"] != "pi_cs_test_a" || p["amount_paid"] != float64(4900) {
			t.Fatalf("return path purchase: %v (webhook said %v)", p, out)
		}
		e.wantBalance("alice", 1000, "after the return")
		if n := e.packGrants("alice"); n != 1 {
			t.Fatalf("%d pack grants, want 1", n)
		}
	})
}

// TestPackFulfilledByReturnThenWebhook: the customer's return (verified
// with Stripe) grants first; the webhook then moves nothing.
func TestPackFulfilledByReturnThenWebhook(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		sess := sessionObj("cs_test_b", "bob", "starter", "paid")
		e.fake.set("/v1/checkout/sessions/cs_test_b", sess)
		status, res := e.complete("cs_test_b")
		if status != http.StatusOK || res["status"] != "paid" {
			t.Fatalf("return path: %d %v", status, res)
		}
		first := purchaseID(t, res)
		if n := len(e.fake.sent(http.MethodGet, "/v1/checkout/sessions/cs_test_b")); n != 1 {
			t.Fatalf("the return path read the session %d times, want 1", n)
		}
		e.wantBalance("bob", 1000, "after the return")
		out := e.send("evt_b", "checkout.session.completed", sess)
		e.wantBalance("bob", 1000, "after the webhook")
		if n := e.packGrants("bob"); n != 1 {
			t.Fatalf("%d pack grants, want 1 (webhook said %v)", n, out)
		}
		// The return path again: the same purchase.
		if _, res := e.complete("cs_test_b"); purchaseID(t, res) != first {
			t.Fatalf("second return: %v, want purchase %s", res, first)
		}
	})
}

// TestPackAsyncPayment: a completed session whose payment is still on
// its way (a bank debit) grants nothing, by either path; the
// async_payment_succeeded event grants it.
func TestPackAsyncPayment(t *testing.T) {
	e := setup(t, storeURLs(t)["sqlite"](t))
	pending := sessionObj("cs_test_c", "carol", "starter", "unpaid")
	e.fake.set("/v1/checkout/sessions/cs_test_c", pending)
	if out := e.send("evt_c1", "checkout.session.completed", pending); out["outcome"] == nil || e.balance("carol") != 0 {
		t.Fatalf("unpaid completed session: %v", out)
	}
	if status, res := e.complete("cs_test_c"); status != http.StatusOK || res["status"] != "pending" || res["purchase"] != nil {
		t.Fatalf("return while pending: %d %v", status, res)
	}
	e.wantBalance("carol", 0, "pending")
	paid := sessionObj("cs_test_c", "carol", "starter", "paid")
	e.fake.set("/v1/checkout/sessions/cs_test_c", paid)
	e.send("evt_c2", "checkout.session.async_payment_succeeded", paid)
	e.wantBalance("carol", 1000, "async payment succeeded")
	// An open session (the customer has not paid) fulfils nothing.
	e.fake.set("/v1/checkout/sessions/cs_test_open", map[string]any{"id": "cs_test_open", "object": "checkout.session", "mode": "payment",
		"status": "open", "payment_status": "unpaid", "metadata": map[string]any{"creditkit_customer": "dan", "creditkit_pack": "starter"}})
	if status, res := e.complete("cs_test_open"); status != http.StatusOK || res["status"] != "open" {
		t.Fatalf("open session: %d %v", status, res)
	}
	e.wantBalance("dan", 0, "open session")
}

// TestPackWebhookAndReturnRacing: the webhook and the return path racing,
// several times each: one grant, and every answer names the same
// purchase.
func TestPackWebhookAndReturnRacing(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		sess := sessionObj("cs_test_d", "dora", "starter", "paid")
		e.fake.set("/v1/checkout/sessions/cs_test_d", sess)
		payload := stripeEvent("evt_d", "checkout.session.completed", sess)
		var wg sync.WaitGroup
		ids := make(chan string, 10)
		start := make(chan struct{})
		for i := range 5 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				status, out := post(t, e.base, payload, signed(payload, whsec, nowT()))
				if status != http.StatusOK {
					t.Errorf("webhook %d: %d %v", i, status, out)
				}
			}()
			go func() {
				defer wg.Done()
				<-start
				status, res := e.complete("cs_test_d")
				if status != http.StatusOK {
					t.Errorf("return %d: %d %v", i, status, res)
					return
				}
				ids <- purchaseID(t, res)
			}()
		}
		close(start)
		wg.Wait()
		close(ids)
		var first string
		for id := range ids {
			if first == "" {
				first = id
			}
			if id != first {
				t.Fatalf("returns answered purchases %s and %s", first, id)
			}
		}
		e.wantBalance("dora", 1000, "after the race")
		if n := e.packGrants("dora"); n != 1 {
			t.Fatalf("%d pack grants after the race, want 1", n)
		}
		p, err := e.l.GetPurchase(context.Background(), "stripe", "cs_test_d")
		if err != nil || p.ID != first {
			t.Fatalf("purchase %+v %v, want %s", p, err, first)
		}
	})
}

// TestEventToThreeServers: one event delivered at once to three servers
// on one PostgreSQL (as when Stripe retries while a slow node is still
// working, behind a load balancer): one grant.
func TestEventToThreeServers(t *testing.T) {
	dbURL := storeURLs(t)["postgres"](t)
	mock := stripetest.Start(t)
	fake := newFakeState()
	var envs []*env
	for range 3 {
		envs = append(envs, newEnv(t, dbURL, mock, fake, nil))
	}
	sess := sessionObj("cs_test_e", "erin", "starter", "paid")
	payload := stripeEvent("evt_e", "checkout.session.completed", sess)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for round := range 2 {
		for i, e := range envs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status, out := post(t, e.base, payload, signed(payload, whsec, nowT()))
				if status != http.StatusOK {
					t.Errorf("round %d server %d: %d %v", round, i, status, out)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	envs[0].wantBalance("erin", 1000, "one event on three servers")
	if n := envs[1].packGrants("erin"); n != 1 {
		t.Fatalf("%d pack grants, want 1", n)
	}
}

// TestRefundsFromChargeEvents: a pack half spent, refunded 20 % and 40 %
// (cumulative) then in full through charge.refunded events: each claws
// back ceil(credits × refunded ÷ paid) minus what earlier refunds took;
// what was spent becomes debt under refund_debt: allow and a shortfall
// under forbid. A repeated event moves nothing.
func TestRefundsFromChargeEvents(t *testing.T) {
	for _, policy := range []string{creditkit.RefundDebtAllow, creditkit.RefundDebtForbid} {
		t.Run(policy, func(t *testing.T) {
			eachStore(t, func(t *testing.T, url string) {
				e := newEnvConfig(t, url, stripetest.Start(t), newFakeState(), func(c *creditkit.Config) { c.RefundDebt = policy }, nil)
				ctx := context.Background()
				sess := sessionObj("cs_test_r", "rita", "starter", "paid")
				e.send("evt_paid", "checkout.session.completed", sess)
				if _, err := e.l.Debit(ctx, "rita", 500, nil); err != nil {
					t.Fatal(err)
				}
				charge := func(evt string, refunded int64, refund string) map[string]any {
					return e.send(evt, "charge.refunded", map[string]any{"id": "ch_r", "object": "charge", "amount": 4900,
						"amount_refunded": refunded, "refunded": refunded == 4900, "payment_intent": "pi_cs_test_r", "currency": "usd",
						"refunds": map[string]any{"object": "list", "data": []any{map[string]any{"id": refund, "object": "refund"}}}})
				}
				charge("evt_r1", 980, "re_1") // 20 %: 200 credits
				e.wantBalance("rita", 300, "20 % refunded")
				charge("evt_r2", 1960, "re_2") // 40 %: 200 more
				e.wantBalance("rita", 100, "40 % refunded")
				out := charge("evt_r3", 4900, "re_3") // all: 600 more, 100 left
				p, err := e.l.GetPurchase(ctx, "stripe", "cs_test_r")
				if err != nil {
					t.Fatal(err)
				}
				b, err := e.l.Balance(ctx, "rita", nil)
				if err != nil {
					t.Fatal(err)
				}
				switch policy {
				case creditkit.RefundDebtAllow:
					if p.ClawedBack != 500 || p.RefundDebt != 500 || p.Shortfall != 0 || b.Debt != 500 {
						t.Fatalf("allow: purchase %+v balance %+v (%v)", p, b, out)
					}
				default:
					if p.ClawedBack != 500 || p.RefundDebt != 0 || p.Shortfall != 500 || b.Debt != 0 || b.Available != 0 {
						t.Fatalf("forbid: purchase %+v balance %+v (%v)", p, b, out)
					}
				}
				if p.RefundedCents != 4900 {
					t.Fatalf("refunded %d, want 4900", p.RefundedCents)
				}
				// The full refund again (a new event id): nothing moves.
				charge("evt_r4", 4900, "re_3")
				b2, err := e.l.Balance(ctx, "rita", nil)
				if err != nil || *b2 != *b {
					t.Fatalf("repeated refund moved: %+v -> %+v %v", b, b2, err)
				}
				// A refund of a charge creditkit never sold: acknowledged.
				if out := e.send("evt_other", "charge.refunded", map[string]any{"id": "ch_other", "object": "charge", "amount_refunded": 100,
					"payment_intent": "pi_other"}); out["outcome"] != "ignored: no purchase for charge ch_other" {
					t.Fatalf("unknown charge: %v", out)
				}
			})
		})
	}
}

// TestWebhookRefusedByTheLedger: an event the ledger refuses for good (a
// session naming a pack the config no longer has) is acknowledged, so
// that Stripe stops retrying it, with the reason as its outcome.
func TestWebhookRefusedByTheLedger(t *testing.T) {
	e := setup(t, storeURLs(t)["sqlite"](t))
	out := e.send("evt_gone", "checkout.session.completed", sessionObj("cs_test_gone", "gus", "discontinued", "paid"))
	if o, _ := out["outcome"].(string); !strings.HasPrefix(o, "rejected: ") || !strings.Contains(o, "discontinued") {
		t.Fatalf("refused event: %v", out)
	}
	e.wantBalance("gus", 0, "refused event")
}

// TestEventAfterACrash: a node claimed an event and granted the pack,
// then died before marking the event processed. Stripe's redelivery runs
// the event again: the purchase is keyed on the session, so it answers
// the same purchase, grants nothing more, and marks the event processed.
func TestEventAfterACrash(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		ctx := context.Background()
		ps := e.l.Store().(store.ProviderStore)
		if ok, _, err := ps.ClaimProviderEvent(ctx, &store.ProviderEvent{Provider: "stripe", ID: "evt_crash", Type: "checkout.session.completed", ReceivedAt: epoch}); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		first, err := e.l.Purchase(ctx, "hana", creditkit.PurchaseOpts{Pack: "starter", Provider: "stripe", ExternalID: "cs_test_crash",
			AmountPaid: 4900, MoneyCurrency: "USD", PaymentIntentID: "pi_cs_test_crash"})
		if err != nil {
			t.Fatal(err)
		}
		out := e.send("evt_crash", "checkout.session.completed", sessionObj("cs_test_crash", "hana", "starter", "paid"))
		if out["duplicate"] == true || out["outcome"] != "purchase "+first.ID+" (already fulfilled)" {
			t.Fatalf("redelivery after a crash: %v", out)
		}
		e.wantBalance("hana", 1000, "after the redelivery")
		ev, err := ps.GetProviderEvent(ctx, "stripe", "evt_crash")
		if err != nil || ev.ProcessedAt == nil {
			t.Fatalf("event after the redelivery: %+v %v", ev, err)
		}
	})
}
