package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestEveryEndpoint drives each /v1 endpoint once, on both stores, and checks
// what it did in the ledger.
func TestEveryEndpoint(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(_ *creditkit.Config, o *httpapi.Options) { o.AllowPrivateWebhooks = true }) // webhooks to 127.0.0.1
		w, rd, adm := e.write, e.read, e.admin

		// Grants.
		g := e.must(201, "POST", "/v1/customers/alice/grants", w, map[string]any{"amount": 100, "reason": "signup_bonus", "expires_in": "30d", "metadata": map[string]string{"campaign": "launch"}})
		grantID := str(g.body, "id")
		if num(g.body, "remaining") != 100 || str(g.body, "source") != "bonus" || g.body["expires_at"] == nil {
			t.Fatalf("grant: %s", g.raw)
		}
		g2 := e.must(201, "POST", "/v1/customers/alice/grants", w, map[string]any{"amount": 50})
		if got := e.must(200, "GET", "/v1/grants/"+grantID, rd, nil); str(got.body, "id") != grantID {
			t.Fatalf("get grant: %s", got.raw)
		}
		if l := e.must(200, "GET", "/v1/customers/alice/grants?status=active", rd, nil).list; len(l) != 2 {
			t.Fatalf("active grants: %d, want 2", len(l))
		}
		p1 := e.must(200, "GET", "/v1/customers/alice/grants?limit=1", rd, nil)
		if len(p1.list) != 1 || str(p1.body, "next_cursor") == "" {
			t.Fatalf("first page: %s", p1.raw)
		}
		p2 := e.must(200, "GET", "/v1/customers/alice/grants?limit=1&cursor="+str(p1.body, "next_cursor"), rd, nil)
		if len(p2.list) != 1 || str(p2.list[0].(map[string]any), "id") != str(g2.body, "id") {
			t.Fatalf("second page: %s", p2.raw)
		}

		// Spending.
		sp := e.must(200, "POST", "/v1/customers/alice/spend", w, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 5.2}})
		if num(sp.body, "amount") != -16 || str(sp.body, "category") != "operation_charge" || !strings.HasPrefix(str(sp.body, "actor"), "key:") {
			t.Fatalf("spend: %s", sp.raw)
		}
		db := e.must(200, "POST", "/v1/customers/alice/spend", w, map[string]any{"amount": 4, "reason": "support_call"})
		if num(db.body, "amount") != -4 || str(db.body, "category") != "support_call" {
			t.Fatalf("debit: %s", db.raw)
		}
		if e.available("alice") != 130 {
			t.Fatalf("available %d, want 130", e.available("alice"))
		}
		ck := e.must(200, "POST", "/v1/customers/alice/check", rd, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 200}})
		if ck.body["allowed"] != false || num(ck.body, "cost") != 210 || num(ck.body, "available") != 130 {
			t.Fatalf("check: %s", ck.raw)
		}
		est := e.must(200, "POST", "/v1/estimate", rd, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 1}})
		if num(est.body, "cost") != 11 || str(est.body, "currency") != "credits" {
			t.Fatalf("estimate: %s", est.raw)
		}

		// Holds.
		h := e.must(201, "POST", "/v1/customers/alice/holds", w, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 10}, "ttl": "5m"})
		holdID := str(h.body, "id")
		if num(h.body, "amount") != 20 || e.available("alice") != 110 {
			t.Fatalf("hold: %s (available %d)", h.raw, e.available("alice"))
		}
		if got := e.must(200, "GET", "/v1/holds/"+holdID, rd, nil); str(got.body, "status") != "active" {
			t.Fatalf("get hold: %s", got.raw)
		}
		cap := e.must(200, "POST", "/v1/holds/"+holdID+"/capture", w, map[string]any{"amount": 15})
		if num(cap.body, "amount") != -15 || e.available("alice") != 115 {
			t.Fatalf("capture: %s (available %d)", cap.raw, e.available("alice"))
		}
		h2 := e.must(201, "POST", "/v1/customers/alice/holds", w, map[string]any{"amount": 7})
		rel := e.must(200, "POST", "/v1/holds/"+str(h2.body, "id")+"/release", w, nil)
		if str(rel.body, "status") != "released" || e.available("alice") != 115 {
			t.Fatalf("release: %s", rel.raw)
		}

		// Transfers and void.
		tr := e.must(200, "POST", "/v1/transfers", w, map[string]any{"from": "alice", "to": "bob", "amount": 10})
		if tr.body["out"] == nil || tr.body["in"] == nil || e.available("bob") != 10 || e.available("alice") != 105 {
			t.Fatalf("transfer: %s", tr.raw)
		}
		v := e.must(200, "POST", "/v1/grants/"+str(g2.body, "id")+"/void", w, map[string]any{"reason": "refund"})
		if str(v.body, "category") != "void" || num(v.body, "amount") != -50 || e.available("alice") != 55 {
			t.Fatalf("void: %s (available %d)", v.raw, e.available("alice"))
		}

		// Batch ingest: each event on its own.
		ts := time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Format(time.RFC3339)
		ev := e.must(200, "POST", "/v1/events", w, []map[string]any{
			{"customer": "alice", "operation": "send_email", "idempotency_key": "ev-1", "timestamp": ts},
			{"customer": "alice", "operation": "process_image", "params": map[string]any{"mb": 1000}, "idempotency_key": "ev-2"},
			{"customer": "alice", "operation": "nope", "idempotency_key": "ev-3"},
			{"customer": "bob", "operation": "send_email", "idempotency_key": "ev-4"},
		})
		res := ev.body["results"].([]any)
		codes := []string{}
		for _, r := range res {
			m := r.(map[string]any)
			if m["error"] != nil {
				codes = append(codes, str(m["error"].(map[string]any), "code"))
			} else {
				codes = append(codes, str(m, "status"))
			}
		}
		if want := []string{"ok", "insufficient_credits", "unknown_operation", "ok"}; !slices.Equal(codes, want) || num(ev.body, "succeeded") != 2 {
			t.Fatalf("events: %v, want %v\n%s", codes, want, ev.raw)
		}
		first := res[0].(map[string]any)["entry"].(map[string]any)
		if str(first, "occurred_at") != ts {
			t.Fatalf("event timestamp not recorded: %v", first)
		}
		again := e.must(200, "POST", "/v1/events", w, []map[string]any{{"customer": "alice", "operation": "send_email", "idempotency_key": "ev-1", "timestamp": ts}})
		if id := str(again.body["results"].([]any)[0].(map[string]any)["entry"].(map[string]any), "id"); id != str(first, "id") || e.available("alice") != 54 {
			t.Fatalf("replayed event: entry %s, want %s; available %d, want 54", id, str(first, "id"), e.available("alice"))
		}

		// Ledger, paged to the end.
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			r := e.must(200, "GET", "/v1/customers/alice/ledger?limit=3&cursor="+url.QueryEscape(cursor), rd, nil)
			for _, it := range r.list {
				ids = append(ids, str(it.(map[string]any), "id"))
			}
			if cursor = str(r.body, "next_cursor"); cursor == "" || pages > 20 {
				break
			}
		}
		hist, err := e.l.History(context.Background(), "alice", &creditkit.HistoryFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != len(hist) || len(ids) < 8 {
			t.Fatalf("paged ledger has %d entries, the ledger %d", len(ids), len(hist))
		}
		for i, h := range hist {
			if ids[i] != h.ID {
				t.Fatalf("ledger entry %d: %s, want %s", i, ids[i], h.ID)
			}
		}
		if r := e.must(200, "GET", "/v1/customers/alice/ledger?category=void&order=desc", rd, nil); len(r.list) != 1 {
			t.Fatalf("void entries: %s", r.raw)
		}

		// Usage, by operation.
		u := e.must(200, "GET", "/v1/customers/alice/usage?by=operation&interval=day", rd, nil)
		usage := map[string][2]int64{}
		for _, it := range u.list {
			m := it.(map[string]any)
			usage[str(m, "operation")] = [2]int64{num(m, "count"), num(m, "amount")}
		}
		if usage["process_image"] != [2]int64{2, 31} || usage["send_email"] != [2]int64{1, 1} || usage[""] != [2]int64{1, 4} {
			t.Fatalf("usage: %v\n%s", usage, u.raw)
		}

		// Balance, now and in the past.
		b := e.must(200, "GET", "/v1/customers/alice/balance", rd, nil)
		if num(b.body, "available") != 54 {
			t.Fatalf("balance: %s", b.raw)
		}
		past := e.must(200, "GET", "/v1/customers/alice/balance?at="+url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), rd, nil)
		if num(past.body, "available") != 0 {
			t.Fatalf("balance an hour ago: %s", past.raw)
		}

		// Catalog, tokens, admin.
		cat := e.must(200, "GET", "/v1/operations", rd, nil)
		if ops := cat.body["operations"].([]any); len(ops) != 2 || str(ops[0].(map[string]any), "formula") != "10 credits + 1 credit per mb" {
			t.Fatalf("operations: %s", cat.raw)
		}
		tok := e.must(201, "POST", "/v1/customers/alice/tokens", w, map[string]any{"ttl": "5m"})
		if !strings.HasPrefix(str(tok.body, "token"), "ckt_") {
			t.Fatalf("token: %s", tok.raw)
		}
		if r := e.must(200, "POST", "/v1/admin/run-due", adm, nil); r.body["expired_grants"] == nil {
			t.Fatalf("run-due: %s", r.raw)
		}

		// Webhook endpoints.
		we := e.must(201, "POST", "/v1/webhook-endpoints", adm, map[string]any{"url": "http://127.0.0.1:9/hook", "event_types": []string{"credits.spent"}})
		if !strings.HasPrefix(str(we.body, "secret"), "whsec_") {
			t.Fatalf("endpoint: %s", we.raw)
		}
		weID := str(we.body, "id")
		if l := e.must(200, "GET", "/v1/webhook-endpoints", adm, nil).list; len(l) != 1 || str(l[0].(map[string]any), "secret") != "" {
			t.Fatalf("endpoints list: %v (secrets must not be listed)", l)
		}
		e.must(200, "GET", "/v1/webhook-endpoints/"+weID, adm, nil)
		if l := e.must(200, "GET", "/v1/webhook-deliveries", adm, nil).list; len(l) != 0 {
			t.Fatalf("deliveries before any dispatch: %v", l)
		}
		e.must(404, "POST", "/v1/webhook-deliveries/dlv_nope/replay", adm, nil)
		// With an Idempotency-Key, a replay answers as the first time did,
		// and the key cannot create a different endpoint.
		k1 := e.must(201, "POST", "/v1/webhook-endpoints", adm, map[string]any{"url": "http://127.0.0.1:9/a"}, "Idempotency-Key", "we-1")
		k2 := e.must(201, "POST", "/v1/webhook-endpoints", adm, map[string]any{"url": "http://127.0.0.1:9/a"}, "Idempotency-Key", "we-1")
		if str(k1.body, "id") != str(k2.body, "id") || str(k1.body, "secret") != str(k2.body, "secret") {
			t.Fatalf("endpoint replay: %s vs %s", k1.raw, k2.raw)
		}
		if r := e.do("POST", "/v1/webhook-endpoints", adm, map[string]any{"url": "http://127.0.0.1:9/b"}, "Idempotency-Key", "we-1"); r.status != 409 || str(r.body, "code") != "idempotency_conflict" {
			t.Fatalf("endpoint key reused: %d %s", r.status, r.raw)
		}
		e.must(204, "DELETE", "/v1/webhook-endpoints/"+str(k1.body, "id"), adm, nil)
		if r := e.do("POST", "/v1/webhook-endpoints", adm, map[string]any{"url": "http://127.0.0.1:9/a"}, "Idempotency-Key", "we-1"); r.status != 409 {
			t.Fatalf("key of a deleted endpoint: %d %s", r.status, r.raw)
		}
		e.must(204, "DELETE", "/v1/webhook-endpoints/"+weID, adm, nil)
		e.must(404, "GET", "/v1/webhook-endpoints/"+weID, adm, nil)
		e.must(404, "DELETE", "/v1/webhook-endpoints/"+weID, adm, nil)
	})
}

// TestErrorCodes checks each error's status and code, and that no failed
// request moved a credit.
func TestErrorCodes(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(_ *creditkit.Config, o *httpapi.Options) { o.MaxBodyBytes = 4 << 10 })
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 20})
		h := e.must(201, "POST", "/v1/customers/alice/holds", e.write, map[string]any{"amount": 5})
		holdID := str(h.body, "id")
		e.must(200, "POST", "/v1/holds/"+holdID+"/release", e.write, nil)
		e.must(200, "POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "send_email"}, "Idempotency-Key", "once")
		revoked := e.key("write")
		ks, err := e.st.APIKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.st.RevokeAPIKey(context.Background(), ks[len(ks)-1].ID, time.Now()); !ok || err != nil {
			t.Fatalf("revoke: %v %v", ok, err)
		}
		before := e.available("alice")

		spend := "/v1/customers/alice/spend"
		cases := []struct {
			name, method, path, key string
			body                    any
			headers                 []string
			status                  int
			code                    string
		}{
			{"no key", "POST", spend, "", map[string]any{"operation": "send_email"}, nil, 401, "unauthorized"},
			{"bad key", "POST", spend, "ck_nope", map[string]any{"operation": "send_email"}, nil, 401, "unauthorized"},
			{"revoked key", "POST", spend, revoked, map[string]any{"operation": "send_email"}, nil, 401, "unauthorized"},
			{"read key writes", "POST", spend, e.read, map[string]any{"operation": "send_email"}, nil, 403, "forbidden"},
			{"write key admin", "GET", "/v1/webhook-endpoints", e.write, nil, nil, 403, "forbidden"},
			{"insufficient", "POST", spend, e.write, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 100}}, nil, 402, "insufficient_credits"},
			{"unknown operation", "POST", spend, e.write, map[string]any{"operation": "teleport"}, nil, 422, "unknown_operation"},
			{"bad params", "POST", spend, e.write, map[string]any{"operation": "process_image", "params": map[string]any{"mb": "lots"}}, nil, 422, "invalid_params"},
			{"unknown field", "POST", spend, e.write, map[string]any{"operation": "send_email", "colour": "red"}, nil, 422, "invalid_request"},
			{"operation and amount", "POST", spend, e.write, map[string]any{"operation": "send_email", "amount": 3}, nil, 422, "invalid_request"},
			{"zero amount", "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 0}, nil, 422, "invalid_amount"},
			{"negative debit", "POST", spend, e.write, map[string]any{"amount": -5}, nil, 422, "invalid_amount"},
			{"bad expires_in", "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 5, "expires_in": "soon"}, nil, 422, "invalid_request"},
			{"bad time", "GET", "/v1/customers/alice/balance?at=yesterday", e.read, nil, nil, 422, "invalid_request"},
			{"malformed JSON", "POST", spend, e.write, `{"operation":`, nil, 400, "invalid_request"},
			{"too large", "POST", spend, e.write, `{"operation":"send_email","metadata":{"x":"` + strings.Repeat("a", 8<<10) + `"}}`, nil, 413, "request_too_large"},
			{"grant not found", "POST", "/v1/grants/grt_nope/void", e.write, nil, nil, 404, "not_found"},
			{"hold not found", "GET", "/v1/holds/hld_nope", e.read, nil, nil, 404, "not_found"},
			{"no such route", "GET", "/v1/nothing", e.read, nil, nil, 404, "not_found"},
			{"idempotency conflict", "POST", spend, e.write, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 1}}, []string{"Idempotency-Key", "once"}, 409, "idempotency_conflict"},
			{"hold not active", "POST", "/v1/holds/" + holdID + "/capture", e.write, nil, nil, 409, "hold_not_active"},
			{"insufficient transfer", "POST", "/v1/transfers", e.write, map[string]any{"from": "alice", "to": "bob", "amount": 1000}, nil, 402, "insufficient_credits"},
			{"wrong method", "PUT", spend, e.write, map[string]any{"operation": "send_email"}, nil, 405, "method_not_allowed"},
			{"not JSON", "POST", spend, e.write, "operation=send_email", []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
			{"amount out of range", "POST", spend, e.write, `{"amount":1e30}`, nil, 422, "invalid_amount"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(c.method, c.path, c.key, c.body, c.headers...)
				if r.status != c.status || str(r.body, "code") != c.code {
					t.Fatalf("status %d code %q, want %d %q\n%s", r.status, str(r.body, "code"), c.status, c.code, r.raw)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q, want application/problem+json", ct)
				}
				if str(r.body, "detail") == "" || num(r.body, "status") != int64(c.status) || !strings.HasSuffix(str(r.body, "type"), "#"+c.code) {
					t.Errorf("not a complete problem: %s", r.raw)
				}
				if r.header.Get("X-Request-Id") == "" || str(r.body, "request_id") != r.header.Get("X-Request-Id") {
					t.Errorf("request id: header %q body %q", r.header.Get("X-Request-Id"), str(r.body, "request_id"))
				}
				if c.code == "insufficient_credits" && (r.body["needed"] == nil || r.body["available"] == nil) {
					t.Errorf("402 without needed and available: %s", r.raw)
				}
				if got := e.available("alice"); got != before {
					t.Fatalf("a failed request moved credits: available %d, was %d", got, before)
				}
			})
		}
		r := e.do("POST", spend, e.write, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 100}})
		if num(r.body, "needed") != 110 || num(r.body, "available") != int64(before) {
			t.Fatalf("402 numbers: %s", r.raw)
		}
	})
}

// TestLargeLimitKeepsTheCursor: a limit above the 1000 cap returns a full
// page of 1000 with a cursor to the rest, never a silently short list.
func TestLargeLimitKeepsTheCursor(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 5000})
	events := make([]map[string]any, 1000)
	for i := range events {
		events[i] = map[string]any{"customer": "alice", "operation": "send_email", "idempotency_key": fmt.Sprintf("e%d", i)}
	}
	if r := e.must(200, "POST", "/v1/events", e.write, events); num(r.body, "succeeded") != 1000 {
		t.Fatalf("ingest: %d succeeded", num(r.body, "succeeded"))
	}
	p := e.must(200, "GET", "/v1/customers/alice/ledger?limit=5000", e.read, nil)
	if len(p.list) != 1000 || str(p.body, "next_cursor") == "" {
		t.Fatalf("page of %d, cursor %q", len(p.list), str(p.body, "next_cursor"))
	}
	rest := e.must(200, "GET", "/v1/customers/alice/ledger?limit=5000&cursor="+str(p.body, "next_cursor"), e.read, nil)
	if len(rest.list) != 1 || str(rest.body, "next_cursor") != "" {
		t.Fatalf("last page: %d entries, cursor %q", len(rest.list), str(rest.body, "next_cursor"))
	}
}
