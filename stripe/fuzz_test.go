package stripe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/internal/stripetest"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
	"github.com/creditkit/creditkit/stripe"
)

// fuzzUnique is replaced in every fuzz input by a number of its own before
// the body is signed, so that event and checkout session ids stay new
// across execs (the ledger is shared by the whole run) and the fuzzer
// exercises processing rather than duplicate detection.
const fuzzUnique = "@N"

// fuzzEvent builds a seed event body whose id carries fuzzUnique.
func fuzzEvent(typ string, obj any) []byte {
	b, err := json.Marshal(map[string]any{"id": "evt_" + fuzzUnique, "object": "event", "type": typ, "api_version": "2025-01-01",
		"created": 1767225600, "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": obj}})
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzWebhook delivers mutated Stripe events to the webhook handler, each
// signed with the endpoint secret (so that decoding and dispatch run, not
// only the signature check) unless the sig mode says to forge or garble
// the header. It checks that the handler never panics and never answers
// 5xx (everything it talks to is local, so no failure is transient: a 5xx
// would have Stripe retry an event that cannot succeed for days), that a
// refused signature moves nothing and records nothing, that the ledger's
// invariants hold after every delivery, and that delivering an accepted
// event again answers it as a duplicate and moves nothing.
//
// One ledger (SQLite; PostgreSQL with CREDITKIT_FUZZ_POSTGRES=1),
// provider and stripe-mock serve the whole run.
//
//	go test ./stripe -run '^$' -fuzz FuzzWebhook -fuzztime 60s
func FuzzWebhook(f *testing.F) {
	mock := stripetest.Start(f)
	fake := newFakeState()
	dir, err := os.MkdirTemp("", "creditkit-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		f.Fatal(err)
	}
	clock := creditkit.NewManualClock(epoch)
	cfg.Clock = clock
	dbURL := "sqlite:" + filepath.Join(dir, "fuzz.db")
	if os.Getenv("CREDITKIT_FUZZ_POSTGRES") == "1" {
		dbURL = pgtest.NewDatabaseURL(f, cluster)
	}
	l, err := creditkit.Open(ctx, dbURL, cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { l.Close() })
	p, err := stripe.New(l, &stripe.Options{SecretKey: "sk_test_123", WebhookSecret: whsec, APIURL: mock,
		HTTPClient: &http.Client{Transport: fake, Timeout: 30 * time.Second}, PastDueGrace: 48 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	h := p.WebhookHandler()
	ps := l.Store().(store.ProviderStore)

	// Stripe holds a subscription of fuzzsub's on basic; its customer is
	// linked, so subscription and invoice events move credit.
	if _, err := ps.LinkProviderCustomer(ctx, "stripe", "fuzzsub", "cus_fuzzsub", epoch); err != nil {
		f.Fatal(err)
	}
	fake.set("/v1/subscriptions/sub_fuzz", subscriptionObj("sub_fuzz", "cus_fuzzsub", "price_basic_m", "active", false))
	fake.set("/v1/subscriptions/sub_pro", subscriptionObj("sub_pro", "cus_fuzzsub", "price_pro_m", "past_due", false))
	// fuzzbuyer bought a starter pack with payment intent pi_fuzz, so
	// charge.refunded events find a purchase to claw back from.
	if _, err := l.Purchase(ctx, "fuzzbuyer", creditkit.PurchaseOpts{Pack: "starter", Provider: "stripe", ExternalID: "cs_fuzz",
		PaymentIntentID: "pi_fuzz", AmountPaid: 4900, MoneyCurrency: "USD", Actor: "stripe"}); err != nil {
		f.Fatal(err)
	}

	session := func(mode, status, paymentStatus string) map[string]any {
		s := sessionObj("cs_"+fuzzUnique, "fuzzbuyer", "starter", paymentStatus)
		s["mode"], s["status"], s["payment_intent"] = mode, status, "pi_"+fuzzUnique
		if mode == "subscription" {
			s["subscription"] = "sub_fuzz"
			s["metadata"] = map[string]any{"creditkit_customer": "fuzzsub", "creditkit_plan": "basic"}
		}
		return s
	}
	charge := func(refunded int) map[string]any {
		return map[string]any{"id": "ch_fuzz", "object": "charge", "amount": 4900, "amount_refunded": refunded, "currency": "usd",
			"refunded": refunded == 4900, "payment_intent": "pi_fuzz", "customer": "cus_fuzzbuyer",
			"refunds": map[string]any{"object": "list", "data": []any{map[string]any{"id": "re_" + fuzzUnique, "object": "refund", "amount": refunded}}}}
	}
	invoice := func(sub string, old bool) map[string]any {
		inv := map[string]any{"id": "in_" + fuzzUnique, "object": "invoice", "customer": "cus_fuzzsub", "status": "paid", "amount_paid": 900}
		if old {
			inv["subscription"] = sub
		} else {
			inv["parent"] = map[string]any{"type": "subscription_details", "subscription_details": map[string]any{"subscription": sub}}
		}
		return inv
	}
	seeds := [][]byte{
		fuzzEvent("checkout.session.completed", session("payment", "complete", "paid")),
		fuzzEvent("checkout.session.completed", session("payment", "complete", "unpaid")),
		fuzzEvent("checkout.session.completed", session("subscription", "complete", "paid")),
		fuzzEvent("checkout.session.async_payment_succeeded", session("payment", "complete", "paid")),
		fuzzEvent("checkout.session.async_payment_failed", session("payment", "complete", "unpaid")),
		fuzzEvent("checkout.session.completed", map[string]any{"id": "cs_" + fuzzUnique, "object": "checkout.session", "mode": "payment",
			"status": "complete", "payment_status": "paid", "metadata": map[string]any{"creditkit_customer": "fuzzbuyer", "creditkit_pack": "nosuch"}}),
		// Paid in subscription mode but naming no subscription: refused
		// for good (it was answered 500, for Stripe to retry for days).
		fuzzEvent("checkout.session.completed", map[string]any{"id": "cs_" + fuzzUnique, "object": "checkout.session", "mode": "subscription",
			"status": "complete", "payment_status": "paid", "metadata": map[string]any{"creditkit_customer": "fuzzsub"}}),
		fuzzEvent("charge.refunded", charge(1000)),
		fuzzEvent("charge.refunded", charge(4900)),
		fuzzEvent("charge.refunded", map[string]any{"id": "ch_" + fuzzUnique, "object": "charge", "amount_refunded": 100}),
		fuzzEvent("customer.subscription.created", subscriptionObj("sub_fuzz", "cus_fuzzsub", "price_basic_m", "active", false)),
		fuzzEvent("customer.subscription.updated", subscriptionObj("sub_pro", "cus_fuzzsub", "price_pro_m", "past_due", false)),
		fuzzEvent("customer.subscription.updated", subscriptionObj("sub_fuzz", "cus_fuzzsub", "price_basic_m", "active", true)),
		fuzzEvent("customer.subscription.deleted", subscriptionObj("sub_fuzz", "cus_fuzzsub", "price_basic_m", "canceled", false)),
		fuzzEvent("customer.subscription.paused", subscriptionObj("sub_fuzz", "cus_fuzzsub", "price_basic_m", "paused", true)),
		fuzzEvent("customer.subscription.resumed", subscriptionObj("sub_fuzz", "cus_fuzzsub", "price_basic_m", "active", false)),
		fuzzEvent("invoice.paid", invoice("sub_fuzz", false)),
		fuzzEvent("invoice.paid", invoice("sub_fuzz", true)),
		fuzzEvent("invoice.payment_failed", invoice("sub_pro", false)),
		fuzzEvent("invoice.payment_succeeded", invoice("sub_pro", true)),
		fuzzEvent("invoice.paid", map[string]any{"id": "in_" + fuzzUnique, "object": "invoice"}),
		fuzzEvent("customer.created", map[string]any{"id": "cus_x", "object": "customer"}),
		[]byte(`{"id":"evt_@N","object":"event","type":"invoice.paid","data":null}`),
		// An object that does not decode: refused for good (it was
		// answered 500).
		[]byte(`{"id":"evt_@N","object":"event","type":"charge.refunded","data":{"object":{"amount_refunded":"lots"}}}`),
		// NUL bytes, which PostgreSQL text cannot hold.
		[]byte(`{"id":"evt_@N\u0000","object":"event","type":"customer.created","data":{"object":{}}}`),
		[]byte(`{"id":"evt_@N","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_@N\u0000","mode":"payment","status":"complete","payment_status":"paid","amount_total":4900,"currency":"usd","metadata":{"creditkit_customer":"fuzzbuyer","creditkit_pack":"starter"}}}}`),
		[]byte(`{"id":"evt_@N","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_@N","amount_refunded":100,"payment_intent":"pi_\u0000"}}}`),
		[]byte(`{}`),
		[]byte(`not json`),
	}
	// sig modes: 0 signed now; 1 no header; 2 forged v1; 3 another
	// secret; 4 stale; 5 garbage header.
	for i, s := range seeds {
		f.Add(s, uint8(0))
		if i%4 == 0 {
			f.Add(s, uint8(1+i/4%5))
		}
	}

	var n int
	deliver := func(t *testing.T, body []byte, sig string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, stripe.WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("Stripe-Signature", sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := map[string]any{}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer %d is not JSON: %q", rec.Code, rec.Body.Bytes())
		}
		return rec.Code, out
	}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		n++
		body = bytes.ReplaceAll(body, []byte(fuzzUnique), fmt.Appendf(nil, "f%d", n))
		now := time.Now()
		var sig string
		switch mode % 6 {
		case 0:
			sig = signed(body, whsec, now)
		case 1:
		case 2:
			sig = fmt.Sprintf("t=%d,v1=%s", now.Unix(), strings.Repeat("ab", 32))
		case 3:
			sig = signed(body, "whsec_other", now)
		case 4:
			sig = signed(body, whsec, now.Add(-10*time.Minute))
		case 5:
			sig = string(body)
		}
		before := storetest.WalletBalances(t, l)
		status, out := deliver(t, body, sig)
		if status >= 500 {
			t.Fatalf("answered %d %v to %q", status, out, body)
		}
		if mode%6 != 0 || status != http.StatusOK {
			if status == http.StatusOK {
				t.Fatalf("an unsigned or forged event was taken: %v", out)
			}
			if after := storetest.WalletBalances(t, l); !storetest.SameBalances(before, after) {
				t.Fatalf("a refused event (%d %v) moved credit: %v -> %v", status, out, before, after)
			}
			return
		}
		storetest.CheckInvariants(t, l)
		// The same delivery again is a duplicate that moves nothing.
		mid := storetest.WalletBalances(t, l)
		status2, out2 := deliver(t, body, signed(body, whsec, time.Now()))
		if status2 != http.StatusOK || out2["duplicate"] != true || out2["outcome"] != out["outcome"] {
			t.Fatalf("second delivery: %d %v, first %v", status2, out2, out)
		}
		if after := storetest.WalletBalances(t, l); !storetest.SameBalances(mid, after) {
			t.Fatalf("a duplicate moved credit: %v -> %v", mid, after)
		}
	})
}
