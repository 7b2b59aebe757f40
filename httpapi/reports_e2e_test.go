package httpapi_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// The revenue report over HTTP: numbers worked out by hand, a read key is
// enough, a customer token is refused, bad ranges are 422, and the Go
// client answers what the ledger answers.
func TestRevenueReport(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		clock := creditkit.NewManualClock(t0)
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) { cfg.Clock = clock })
		w, rd := e.write, e.read
		// 2000 credits at 0.0049 USD (9.80 USD), 300 free.
		g := e.must(201, "POST", "/v1/customers/rita/grants", w, map[string]any{"amount": 2000, "reason": "pack",
			"cost_basis": map[string]any{"per_credit": "0.0049", "currency": "USD"}})
		e.must(201, "POST", "/v1/customers/rita/grants", w, map[string]any{"amount": 300, "reason": "signup_bonus"})
		clock.Advance(time.Hour)
		// 500 spent: 300 free, then 200 bought (0.98 USD); 100 of those
		// come back (-0.49 USD); 250 voided (1.225 USD).
		sp := e.must(200, "POST", "/v1/customers/rita/spend", w, map[string]any{"amount": 500, "reason": "call"})
		e.must(201, "POST", "/v1/entries/"+str(sp.body, "id")+"/reverse", w, map[string]any{"amount": 100, "reason": "outage"})
		e.must(200, "POST", "/v1/grants/"+str(g.body, "id")+"/void", w, map[string]any{"amount": 250})

		q := url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(24 * time.Hour).Format(time.RFC3339)}}
		r := e.must(200, "GET", "/v1/reports/revenue?"+q.Encode(), rd, nil)
		money := r.body["money"].([]any)
		if len(money) != 1 {
			t.Fatalf("report: %s", r.raw)
		}
		usd := money[0].(map[string]any)
		for line, want := range map[string][2]string{
			"opening_deferred": {"0.00", "0"}, "sold": {"9.80", "9.8"}, "recognized": {"0.49", "0.49"}, "voided": {"1.23", "1.225"},
			"breakage": {"0.00", "0"}, "overage_billed": {"0.00", "0"}, "refunds": {"0.00", "0"}, "closing_deferred": {"8.09", "8.085"},
		} {
			l := usd[line].(map[string]any)
			if str(l, "value") != want[0] || str(l, "exact") != want[1] {
				t.Errorf("%s: got %s (exact %s), want %s (exact %s)", line, str(l, "value"), str(l, "exact"), want[0], want[1])
			}
		}
		if str(usd, "currency") != "USD" || num(usd, "decimals") != 2 || num(usd["closing_deferred"].(map[string]any)["credits"].(map[string]any), "credits") != 1650 {
			t.Fatalf("report: %s", r.raw)
		}
		if un := r.body["uncosted"].([]any)[0].(map[string]any); num(un, "granted") != 300 || num(un, "consumed") != 300 || num(un, "closing") != 0 {
			t.Fatalf("uncosted: %s", r.raw)
		}

		// One customer; a customer token may not read reports.
		q.Set("customer", "rita")
		e.must(200, "GET", "/v1/reports/revenue?"+q.Encode(), rd, nil)
		tok := e.must(201, "POST", "/v1/customers/rita/tokens", w, map[string]any{"ttl": "5m"})
		e.must(403, "GET", "/v1/reports/revenue?"+q.Encode(), str(tok.body, "token"), nil)
		e.must(401, "GET", "/v1/reports/revenue?"+q.Encode(), "", nil)

		// Bad ranges.
		e.must(422, "GET", "/v1/reports/revenue?from="+url.QueryEscape(t0.Format(time.RFC3339)), rd, nil)
		e.must(422, "GET", "/v1/reports/revenue?from=yesterday&to=today", rd, nil)
		nobody := url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(time.Hour).Format(time.RFC3339)}, "customer": {"nobody"}}
		if p := e.must(404, "GET", "/v1/reports/revenue?"+nobody.Encode(), rd, nil); str(p.body, "code") != "customer_not_found" {
			t.Fatalf("report of a customer never seen: %s", p.raw)
		}
		back := url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(-time.Hour).Format(time.RFC3339)}}
		if p := e.must(422, "GET", "/v1/reports/revenue?"+back.Encode(), rd, nil); str(p.body, "code") != "invalid_request" {
			t.Fatalf("to before from: %s", p.raw)
		}

		// The client.
		c, err := httpapi.NewClient(e.base, rd, &httpapi.ClientOptions{HTTPClient: e.client})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, o := range []*creditkit.RevenueOpts{{From: t0, To: t0.Add(time.Hour)}, {From: t0.Add(time.Minute), To: t0.Add(48 * time.Hour), Customer: "rita"}} {
			sameJSON(t, "revenue", noErr(c.Revenue(ctx, o))(t), noErr(e.l.Revenue(ctx, o))(t))
		}
		if _, err := c.Revenue(ctx, &creditkit.RevenueOpts{From: t0, To: t0}); creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
			t.Fatalf("client, empty range: %v", err)
		}
	})
}
