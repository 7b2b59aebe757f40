package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/stripetest"
)

// freeSessionObj is a pack's checkout session that needed no payment (a
// 100% coupon): Stripe completes it with payment_status
// no_payment_required, amount_total 0 and no payment intent.
func freeSessionObj(id, customer, pack string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "mode": "payment", "status": "complete",
		"payment_status": "no_payment_required", "amount_total": 0, "amount_subtotal": 4900, "currency": "usd",
		"customer": "cus_" + customer, "client_reference_id": customer,
		"metadata": map[string]any{"creditkit_customer": customer, "creditkit_pack": pack}}
}

// soldUSD returns what the revenue report sold in USD for a customer
// around the tests' epoch ("" when it has no USD line).
func (e *env) soldUSD(customer string) string {
	e.t.Helper()
	rep, err := e.l.Revenue(context.Background(), &creditkit.RevenueOpts{From: epoch.Add(-time.Hour), To: epoch.Add(time.Hour), Customer: customer})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range rep.Money {
		if m.Currency == "USD" {
			return m.Sold.Value
		}
	}
	return ""
}

// TestFreeCheckoutRecordsNothingPaid: a signed checkout.session.completed
// for a session that needed no payment grants the pack's credits as a
// purchase that paid 0 (not the pack's 49 USD): no cost basis, nothing
// sold in the revenue report, and no money a refund could give back. The
// customer's return answers the same purchase, in either order.
func TestFreeCheckoutRecordsNothingPaid(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		ctx := context.Background()
		sess := freeSessionObj("cs_test_free", "zoe", "starter")
		e.fake.set("/v1/checkout/sessions/cs_test_free", sess)
		out := e.send("evt_free", "checkout.session.completed", sess)
		if o, _ := out["outcome"].(string); !strings.HasPrefix(o, "purchase ") {
			t.Fatalf("free session's webhook: %v", out)
		}
		e.wantBalance("zoe", 1000, "after the free session's webhook")
		p, err := e.l.GetPurchase(ctx, "stripe", "cs_test_free")
		if err != nil {
			t.Fatal(err)
		}
		if p.AmountPaid != 0 || p.MoneyCurrency != "USD" || p.CostBasis != nil || p.Credits != 1000 {
			t.Fatalf("free session's purchase = %+v (cost basis %+v), want 0 USD paid and no cost basis", p, p.CostBasis)
		}
		status, res := e.complete("cs_test_free")
		if status != http.StatusOK || res["status"] != "paid" {
			t.Fatalf("return path: %d %v", status, res)
		}
		rp := res["purchase"].(map[string]any)
		if rp["replayed"] != true || rp["id"] != p.ID || rp["amount_paid"] != float64(0) || rp["cost_basis"] != nil {
			t.Fatalf("return path purchase: %v, want %s replayed with 0 paid", rp, p.ID)
		}
		e.wantBalance("zoe", 1000, "after the return")
		if sold := e.soldUSD("zoe"); sold != "" && sold != "0.00" {
			t.Fatalf("revenue sold %s USD for a free session", sold)
		}
		// Nothing was paid, so no money can be refunded on it.
		_, err = e.l.Refund(ctx, creditkit.RefundOpts{Provider: "stripe", ExternalID: "cs_test_free", RefundedTotal: 4900})
		if creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidAmount || !strings.Contains(err.Error(), "paid nothing") {
			t.Fatalf("refund of a free session: %v", err)
		}
		e.wantBalance("zoe", 1000, "after the refused refund")

		// The return path first, then the webhook: the same.
		sess2 := freeSessionObj("cs_test_free2", "zack", "starter")
		e.fake.set("/v1/checkout/sessions/cs_test_free2", sess2)
		status, res = e.complete("cs_test_free2")
		if status != http.StatusOK || res["status"] != "paid" {
			t.Fatalf("return path first: %d %v", status, res)
		}
		rp = res["purchase"].(map[string]any)
		if rp["replayed"] != false || rp["amount_paid"] != float64(0) || rp["cost_basis"] != nil {
			t.Fatalf("return path first purchase: %v", rp)
		}
		out = e.send("evt_free2", "checkout.session.completed", sess2)
		if out["outcome"] != "purchase "+rp["id"].(string)+" (already fulfilled)" {
			t.Fatalf("webhook after the return: %v", out)
		}
		e.wantBalance("zack", 1000, "after both paths")
	})
}

// TestCouponCheckoutRecordsWhatWasPaid: a session paid at half price (a
// 50% coupon) records its amount_total, 24.50 USD, not the pack's price:
// the cost basis, the revenue report and the refunds follow it, and a
// refund above what was paid is refused.
func TestCouponCheckoutRecordsWhatWasPaid(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := newEnvConfig(t, url, stripetest.Start(t), newFakeState(), func(c *creditkit.Config) { c.RefundDebt = creditkit.RefundDebtAllow }, nil)
		ctx := context.Background()
		sess := sessionObj("cs_test_half", "hal", "starter", "paid")
		sess["amount_total"], sess["amount_subtotal"] = 2450, 4900
		e.fake.set("/v1/checkout/sessions/cs_test_half", sess)
		e.send("evt_half", "checkout.session.completed", sess)
		p, err := e.l.GetPurchase(ctx, "stripe", "cs_test_half")
		if err != nil {
			t.Fatal(err)
		}
		if p.AmountPaid != 2450 || p.MoneyCurrency != "USD" || p.CostBasis == nil || p.CostBasis.PerCredit != "0.0245" {
			t.Fatalf("half-price purchase = %+v (cost basis %+v), want 2450 USD at 0.0245 per credit", p, p.CostBasis)
		}
		if status, res := e.complete("cs_test_half"); status != http.StatusOK || res["purchase"].(map[string]any)["amount_paid"] != float64(2450) {
			t.Fatalf("return path: %d %v", status, res)
		}
		if sold := e.soldUSD("hal"); sold != "24.50" {
			t.Fatalf("revenue sold %s USD, want 24.50", sold)
		}
		charge := func(evt string, refunded int64) map[string]any {
			return e.send(evt, "charge.refunded", map[string]any{"id": "ch_half", "object": "charge", "amount": 2450,
				"amount_refunded": refunded, "refunded": refunded == 2450, "payment_intent": "pi_cs_test_half", "currency": "usd",
				"refunds": map[string]any{"object": "list", "data": []any{map[string]any{"id": "re_" + evt, "object": "refund"}}}})
		}
		// More than was paid (the pack's full price) is refused.
		if o, _ := charge("evt_over", 4900)["outcome"].(string); !strings.HasPrefix(o, "rejected: ") || !strings.Contains(o, "2450") {
			t.Fatalf("refund above what was paid: %v", o)
		}
		e.wantBalance("hal", 1000, "after the refused refund")
		charge("evt_all", 2450)
		e.wantBalance("hal", 0, "refunded in full")
	})
}
