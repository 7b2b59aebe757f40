package stripe_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/stripetest"
	"github.com/creditkit/creditkit/stripe"
)

// requestRecorder is an http.RoundTripper in front of the real stripe-mock that
// keeps every outgoing request (method, path, form body, headers), so a
// test can see what the charger sent.
type requestRecorder struct {
	mu   sync.Mutex
	reqs []sentRequest
}

type sentRequest struct {
	method, path string
	form         url.Values
	header       http.Header
}

func (r *requestRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := sentRequest{method: req.Method, path: req.URL.Path, header: req.Header.Clone(), form: req.URL.Query()}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(strings.NewReader(string(b)))
		if f, err := url.ParseQuery(string(b)); err == nil && len(f) > 0 {
			rec.form = f
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *requestRecorder) posts(path string) []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sentRequest
	for _, q := range r.reqs {
		if q.method == http.MethodPost && q.path == path {
			out = append(out, q)
		}
	}
	return out
}

// offSessionLinks is a fixed customer → Stripe customer map.
type offSessionLinks map[string]string

func (l offSessionLinks) StripeCustomerID(ctx context.Context, customer string) (string, error) {
	return l[customer], nil
}

func newOffSessionCharger(t *testing.T, rec *requestRecorder) *stripe.OffSessionCharger {
	t.Helper()
	base := stripetest.Start(t)
	c, err := stripe.NewOffSessionCharger(stripe.OffSessionOptions{APIKey: "sk_test_123", BaseURL: base,
		HTTPClient: &http.Client{Transport: rec}, Customers: offSessionLinks{"alice": "cus_123", "carol": "cus_bad/x"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOffSessionChargeCreatesAConfirmedOffSessionPaymentIntent charges
// through stripe-go against stripe-mock and checks the outgoing
// PaymentIntent: the customer, its saved card (stripe-mock's customer
// fixture has no default payment method, so the charger lists the
// customer's cards and takes the first), confirm and off_session, the
// amount and currency, the metadata, and the attempt's idempotency key in
// the Idempotency-Key header. stripe-mock answers a fixture whose status is
// requires_payment_method whatever was asked (it keeps no state and never
// runs a card), so the success of a real charge is not shown here; the
// runner's tests cover what a succeeded one does.
func TestOffSessionChargeCreatesAConfirmedOffSessionPaymentIntent(t *testing.T) {
	rec := &requestRecorder{}
	c := newOffSessionCharger(t, rec)
	res, err := c.ChargeOffSession(t.Context(), creditkit.ChargeRequest{Customer: "alice", AmountCents: 4900, MoneyCurrency: "USD",
		IdempotencyKey: "topup_01TEST", Description: "Auto top-up", Metadata: map[string]string{"creditkit_attempt": "topup_01TEST"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != "stripe" || !strings.HasPrefix(res.PaymentIntentID, "pi_") {
		t.Errorf("result = %+v, want provider stripe and a pi_ id", res)
	}
	pis := rec.posts("/v1/payment_intents")
	if len(pis) != 1 {
		t.Fatalf("%d PaymentIntent creations sent, want 1", len(pis))
	}
	f, h := pis[0].form, pis[0].header
	for k, want := range map[string]string{"amount": "4900", "currency": "usd", "customer": "cus_123", "confirm": "true",
		"off_session": "true", "payment_method_types[0]": "card", "metadata[creditkit_attempt]": "topup_01TEST", "description": "Auto top-up"} {
		if got := f.Get(k); got != want {
			t.Errorf("PaymentIntent %s = %q, want %q (form %v)", k, got, want, f)
		}
	}
	if !strings.HasPrefix(f.Get("payment_method"), "pm_") {
		t.Errorf("payment_method = %q, want the customer's first card", f.Get("payment_method"))
	}
	if got := h.Get("Idempotency-Key"); got != "topup_01TEST" {
		t.Errorf("Idempotency-Key = %q, want the attempt id", got)
	}
	if got := h.Get("Authorization"); got != "Bearer sk_test_123" {
		t.Errorf("Authorization = %q", got)
	}
}

// TestOffSessionChargeRefusals: a customer without a Stripe customer is a
// definite refusal and sends nothing to Stripe; a request Stripe refuses
// is a definite refusal too, not an unknown outcome, so the runner fails the attempt
// once instead of retrying it. stripe-mock validates little of a
// PaymentIntent's parameters (it accepts a negative amount), so the refusal
// used is its real 404 invalid_request_error for a customer id it cannot
// route.
func TestOffSessionChargeRefusals(t *testing.T) {
	rec := &requestRecorder{}
	c := newOffSessionCharger(t, rec)
	_, err := c.ChargeOffSession(t.Context(), creditkit.ChargeRequest{Customer: "bob", AmountCents: 4900, MoneyCurrency: "USD", IdempotencyKey: "k1"})
	if err == nil || errors.Is(err, creditkit.ErrChargeOutcomeUnknown) || !strings.Contains(err.Error(), "no Stripe customer") {
		t.Errorf("no Stripe customer: err = %v, want a definite refusal naming it", err)
	}
	if n := len(rec.posts("/v1/payment_intents")); n != 0 {
		t.Errorf("%d PaymentIntents sent for a customer without a Stripe customer", n)
	}
	_, err = c.ChargeOffSession(t.Context(), creditkit.ChargeRequest{Customer: "carol", AmountCents: 4900, MoneyCurrency: "USD", IdempotencyKey: "k2"})
	if err == nil || !strings.Contains(err.Error(), "invalid_request_error") {
		t.Fatalf("a Stripe customer id stripe-mock cannot route: err = %v, want its invalid_request_error", err)
	}
	if errors.Is(err, creditkit.ErrChargeOutcomeUnknown) {
		t.Errorf("a request Stripe refused is an unknown outcome: %v", err)
	}
}

// TestOffSessionChargeUnreachableIsUnknown: when Stripe cannot be reached
// the charge's outcome is unknown (the attempt stays in flight and is
// retried with the same key).
func TestOffSessionChargeUnreachableIsUnknown(t *testing.T) {
	c, err := stripe.NewOffSessionCharger(stripe.OffSessionOptions{APIKey: "sk_test_123", BaseURL: "http://127.0.0.1:1",
		Customers: offSessionLinks{"alice": "cus_123"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ChargeOffSession(t.Context(), creditkit.ChargeRequest{Customer: "alice", AmountCents: 4900, MoneyCurrency: "USD", IdempotencyKey: "k"})
	if !errors.Is(err, creditkit.ErrChargeOutcomeUnknown) {
		t.Errorf("err = %v, want ErrChargeOutcomeUnknown", err)
	}
}
