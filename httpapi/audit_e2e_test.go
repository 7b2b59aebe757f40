package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// keyIDs maps the env's key names ("test admin", ...) to their IDs.
func (e *env) keyIDs() map[string]string {
	e.t.Helper()
	ks, err := e.st.APIKeys(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	ids := map[string]string{}
	for _, k := range ks {
		ids[k.Name] = k.ID
	}
	return ids
}

// auditList reads GET /v1/audit with a query, as the read key.
func (e *env) auditList(query string) resp {
	e.t.Helper()
	return e.must(200, "GET", "/v1/audit?"+query, e.read, nil)
}

// TestAuditRecordsAdminWrites: a grant and a void through the API land in
// GET /v1/audit with the key's ID and name, the request ID the caller saw,
// the action, the target, the customer and the reason; a failed void lands
// with its error code; a read key's refused grant lands as forbidden and
// moves nothing; reads, spends and unauthenticated calls do not land.
func TestAuditRecordsAdminWrites(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		ids := e.keyIDs()
		adminID, readID := ids["test admin"], ids["test read"]

		g := e.must(201, "POST", "/v1/customers/alice/grants", e.admin, map[string]any{"amount": 100, "description": "goodwill after outage"},
			"X-Request-Id", "req-grant-1", "Idempotency-Key", "g-1")
		grantID := str(g.body, "id")
		v := e.must(200, "POST", "/v1/grants/"+grantID+"/void", e.admin, map[string]any{"amount": 40, "reason": "fraud"})
		voidReq := v.header.Get("X-Request-Id")
		if voidReq == "" {
			t.Fatal("no X-Request-Id on the void")
		}
		before := len(e.auditList("").list)

		// Neither reads, nor spends, nor calls without a valid key are recorded.
		e.must(200, "GET", "/v1/customers/alice/balance", e.read, nil)
		e.must(200, "POST", "/v1/customers/alice/spend", e.write, map[string]any{"amount": 1})
		e.must(401, "POST", "/v1/customers/alice/grants", "", map[string]any{"amount": 5})
		e.must(401, "POST", "/v1/customers/alice/grants", "ck_not_a_key", map[string]any{"amount": 5})
		if n := len(e.auditList("").list); n != before || before != 2 {
			t.Fatalf("audit rows: %d after the grant and void, %d after reads, a spend and 401s; want 2 and 2", before, n)
		}

		// A failed write is recorded with its error code.
		e.must(404, "POST", "/v1/grants/grt_nope/void", e.admin, map[string]any{"reason": "cleanup"}, "X-Request-Id", "req-void-404")
		// A read key's write is refused, moves nothing, and is recorded.
		e.must(403, "POST", "/v1/customers/alice/grants", e.read, map[string]any{"amount": 1000, "description": "sneaky"}, "X-Request-Id", "req-403")
		if got := e.available("alice"); got != 59 {
			t.Fatalf("alice has %d after the refused grant, want 59", got)
		}

		rows := e.auditList("").list
		if len(rows) != 4 {
			t.Fatalf("audit rows = %d, want 4:\n%v", len(rows), rows)
		}
		want := []map[string]any{
			{"action": "grant.create", "actor_id": readID, "actor_name": "test read", "request_id": "req-403", "customer": "alice",
				"target": "", "reason": "sneaky", "outcome": "forbidden"},
			{"action": "grant.void", "actor_id": adminID, "actor_name": "test admin", "request_id": "req-void-404", "customer": "",
				"target": "grt_nope", "reason": "cleanup", "outcome": "not_found"},
			{"action": "grant.void", "actor_id": adminID, "actor_name": "test admin", "request_id": voidReq, "customer": "alice",
				"target": grantID, "reason": "fraud", "outcome": "ok"},
			{"action": "grant.create", "actor_id": adminID, "actor_name": "test admin", "request_id": "req-grant-1", "customer": "alice",
				"target": grantID, "reason": "goodwill after outage", "outcome": "ok"},
		}
		for i, w := range want {
			row := rows[i].(map[string]any)
			if str(row, "actor_kind") != "api_key" || str(row, "id") == "" || str(row, "at") == "" {
				t.Errorf("row %d: %v: want actor_kind api_key, an id and a time", i, row)
			}
			for k, wv := range w {
				if got := str(row, k); got != wv {
					t.Errorf("row %d (%s): %s = %q, want %q", i, str(row, "action"), k, got, wv)
				}
			}
		}
		details, _ := rows[3].(map[string]any)["details"].(map[string]any)
		req, _ := details["request"].(map[string]any)
		if details["idempotency_key"] != "g-1" || details["status"] != float64(201) || req["amount"] != float64(100) {
			t.Errorf("grant details = %v: want the idempotency key, status 201 and the request's amount", details)
		}
		if d, _ := rows[2].(map[string]any)["details"].(map[string]any); d["result_id"] != str(v.body, "id") {
			t.Errorf("void details = %v: want result_id, the void's entry %s", d, str(v.body, "id"))
		}
		if d, _ := rows[1].(map[string]any)["details"].(map[string]any); d["error"] == "" || d["status"] != float64(404) {
			t.Errorf("failed void details = %v: want the error and status 404", d)
		}

		// Filters: actor by ID or name, action (exact or grant.*), customer, time.
		for _, c := range []struct {
			query string
			want  int
		}{
			{"actor=" + adminID, 3},
			{"actor=" + url.QueryEscape("test read"), 1},
			{"action=grant.void", 2},
			{"action=grant.*", 4},
			{"action=hold.capture", 0},
			{"customer=alice", 3},
			{"from=" + url.QueryEscape(e.l.Now().Add(time.Hour).Format(time.RFC3339)), 0},
			{"to=" + url.QueryEscape(e.l.Now().Add(time.Hour).Format(time.RFC3339)), 4},
			{"actor=" + adminID + "&action=grant.void&customer=alice", 1},
		} {
			if got := len(e.auditList(c.query).list); got != c.want {
				t.Errorf("%s: %d rows, want %d", c.query, got, c.want)
			}
		}
		if p := e.must(422, "GET", "/v1/audit?from=yesterday", e.read, nil); str(p.body, "code") != "invalid_request" {
			t.Errorf("bad from: %s", p.raw)
		}

		// Paging: one row a page, newest first, the cursor only while more follow.
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("paging does not end")
			}
			p := e.auditList("limit=1&cursor=" + cursor)
			for _, r := range p.list {
				seen = append(seen, str(r.(map[string]any), "request_id"))
			}
			if cursor = str(p.body, "next_cursor"); cursor == "" {
				break
			}
		}
		if fmt.Sprint(seen) != fmt.Sprint([]string{"req-403", "req-void-404", voidReq, "req-grant-1"}) {
			t.Errorf("pages = %v", seen)
		}

		// The Go client reads the same log.
		c, err := httpapi.NewClient(e.base, e.read, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs, next, err := c.Audit(context.Background(), audit.Filter{Action: "grant.void", Limit: 1})
		if err != nil || len(recs) != 1 || next == "" || recs[0].Target != "grt_nope" || recs[0].Outcome != "not_found" {
			t.Fatalf("client page 1 = %+v, %q, %v", recs, next, err)
		}
		recs, next, err = c.Audit(context.Background(), audit.Filter{Action: "grant.void", Limit: 1, After: next})
		if err != nil || len(recs) != 1 || next != "" || recs[0].Target != grantID || recs[0].ActorName != "test admin" {
			t.Fatalf("client page 2 = %+v, %q, %v", recs, next, err)
		}

		// A customer token cannot read the audit log.
		tok := e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil)
		e.must(403, "GET", "/v1/audit", str(tok.body, "token"), nil)
	})
}

// TestAuditHoldsByAdminOnly: applications capture and release holds all
// day, so those are recorded only when an admin key makes them.
func TestAuditHoldsByAdminOnly(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	e.must(201, "POST", "/v1/customers/bob/grants", e.admin, map[string]any{"amount": 100})
	hold := func() string {
		return str(e.must(201, "POST", "/v1/customers/bob/holds", e.write, map[string]any{"amount": 10}).body, "id")
	}
	e.must(200, "POST", "/v1/holds/"+hold()+"/capture", e.write, nil)
	e.must(200, "POST", "/v1/holds/"+hold()+"/release", e.write, nil)
	h3, h4 := hold(), hold()
	e.must(200, "POST", "/v1/holds/"+h3+"/capture", e.admin, map[string]any{"amount": 4})
	e.must(200, "POST", "/v1/holds/"+h4+"/release", e.admin, nil)
	rows := e.auditList("action=hold.*").list
	if len(rows) != 2 {
		t.Fatalf("hold rows = %v, want the admin's capture and release", rows)
	}
	if r := rows[0].(map[string]any); str(r, "action") != "hold.release" || str(r, "target") != h4 || str(r, "customer") != "bob" {
		t.Errorf("release row = %v", r)
	}
	if r := rows[1].(map[string]any); str(r, "action") != "hold.capture" || str(r, "target") != h3 || str(r, "customer") != "bob" {
		t.Errorf("capture row = %v", r)
	}
	if n := len(e.auditList("action=hold.create").list); n != 0 {
		t.Errorf("%d hold.create rows: creating a hold is application traffic", n)
	}
}

// TestAuditWebhookEndpointKeepsSecretsOut: creating an endpoint is recorded
// as webhook_endpoint.create with the endpoint as its target; the URL's
// path and query, where a receiver's credentials may hide, stay out of the row.
func TestAuditWebhookEndpointKeepsSecretsOut(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), func(_ *creditkit.Config, o *httpapi.Options) { o.AllowPrivateWebhooks = true })
	ep := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": "https://127.0.0.1:9/hook?token=s3cret"})
	e.must(204, "DELETE", "/v1/webhook-endpoints/"+str(ep.body, "id"), e.admin, nil)
	rows := e.auditList("").list
	if len(rows) != 2 {
		t.Fatalf("rows = %v", rows)
	}
	del, create := rows[0].(map[string]any), rows[1].(map[string]any)
	if str(create, "action") != audit.ActionWebhookEndpointCreate || str(create, "target") != str(ep.body, "id") {
		t.Errorf("create row = %v", create)
	}
	if str(del, "action") != audit.ActionWebhookEndpointDelete || str(del, "target") != str(ep.body, "id") {
		t.Errorf("delete row = %v", del)
	}
	req, _ := create["details"].(map[string]any)["request"].(map[string]any)
	if req["url"] != "https://127.0.0.1:9" {
		t.Errorf("recorded url = %v, want only its scheme and host", req["url"])
	}
}

// TestEveryAPIWriteCarriesTheActor: every ledger entry written through the
// API names the key that wrote it.
func TestEveryAPIWriteCarriesTheActor(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"basic": {Name: "basic", Gives: 100, Currency: "credits", Every: month, SignupBonus: 5},
				"pro":   {Name: "pro", Gives: 1000, Currency: "credits", Every: month},
			}
		})
		ids := e.keyIDs()
		w, a := e.write, e.admin
		g := e.must(201, "POST", "/v1/customers/carl/grants", w, map[string]any{"amount": 500, "expires_in": "30d"})
		g2 := e.must(201, "POST", "/v1/customers/carl/grants", a, map[string]any{"amount": 50})
		e.must(200, "POST", "/v1/customers/carl/spend", w, map[string]any{"operation": "send_email"})
		sp := e.must(200, "POST", "/v1/customers/carl/spend", w, map[string]any{"amount": 7})
		h1 := e.must(201, "POST", "/v1/customers/carl/holds", w, map[string]any{"amount": 10})
		e.must(200, "POST", "/v1/holds/"+str(h1.body, "id")+"/capture", w, map[string]any{"amount": 3})
		h2 := e.must(201, "POST", "/v1/customers/carl/holds", w, map[string]any{"amount": 10})
		e.must(200, "POST", "/v1/holds/"+str(h2.body, "id")+"/release", w, nil)
		e.must(200, "POST", "/v1/transfers", w, map[string]any{"from": "carl", "to": "dina", "amount": 20})
		e.must(200, "POST", "/v1/grants/"+str(g2.body, "id")+"/void", a, map[string]any{"reason": "oops"})
		e.must(201, "POST", "/v1/entries/"+str(sp.body, "id")+"/reverse", w, map[string]any{"reason": "refund"})
		e.must(200, "PATCH", "/v1/grants/"+str(g.body, "id"), w, map[string]any{"expires_at": e.l.Now().Add(90 * 24 * time.Hour).Format(time.RFC3339), "reason": "extend"})
		e.must(200, "POST", "/v1/events", w, []map[string]any{{"customer": "carl", "operation": "send_email", "idempotency_key": "ev-1"}})
		e.must(200, "PUT", "/v1/customers/erin/subscription", w, map[string]any{"plan": "basic"})
		e.must(200, "PUT", "/v1/customers/erin/subscription", a, map[string]any{"plan": "pro"})
		e.must(200, "DELETE", "/v1/customers/erin/subscription", w, nil)

		wantActor := map[string]bool{"key:" + ids["test write"]: true, "key:" + ids["test admin"]: true}
		n := 0
		for _, cu := range []string{"carl", "dina", "erin"} {
			es, err := e.l.History(context.Background(), cu, &creditkit.HistoryFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range es {
				n++
				if !wantActor[en.Actor] {
					t.Errorf("%s entry %s (%s %s, %d): actor %q, want the calling key", cu, en.ID, en.Type, en.Category, en.Amount, en.Actor)
				}
			}
		}
		if n < 12 {
			t.Fatalf("only %d entries: the writes did not all land", n)
		}
		// The admin's grant, void and plan change are in the audit log too.
		if got := len(e.auditList("actor=" + ids["test admin"]).list); got != 3 {
			t.Errorf("admin rows = %d, want 3 (grant, void, plan change)", got)
		}
		if got := len(e.auditList("action=subscription.change").list); got != 2 {
			t.Errorf("subscription.change rows = %d, want 2", got)
		}
	})
}

// failingAuditStore is a server store whose audit inserts fail, as on a
// full disk.
type failingAuditStore struct{ store.ServerStore }

func (failingAuditStore) AppendAudit(context.Context, *store.AuditRow) error {
	return errors.New("disk full")
}

func (f failingAuditStore) AuditRows(ctx context.Context, q store.AuditQuery) ([]*store.AuditRow, error) {
	return f.ServerStore.(store.AuditStore).AuditRows(ctx, q)
}

// TestAuditFailureKeepsTheWrite: when the audit row cannot be written, the
// grant stands, is answered as usual and is applied once (its replay moves
// nothing); the failure is logged at error level with the row's fields and
// counted in creditkit_audit_failures_total.
func TestAuditFailureKeepsTheWrite(t *testing.T) {
	ctx := context.Background()
	l, err := creditkit.Open(ctx, storeURLs(t)["sqlite"](t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var logs bytes.Buffer
	reg := httpapi.NewRegistry()
	srv, err := httpapi.New(ctx, l, &httpapi.Options{ServerStore: failingAuditStore{l.Store().(store.ServerStore)}, Registry: reg,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "ops", store.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c, err := httpapi.NewClient(hs.URL, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for range 2 {
		g, err := c.Grant(ctx, "alice", 100, &creditkit.GrantOpts{IdempotencyKey: "g-1", Description: "goodwill"})
		if err != nil {
			t.Fatalf("grant with a failing audit log: %v", err)
		}
		if first == "" {
			first = g.ID
		} else if g.ID != first {
			t.Fatalf("the replay made grant %s, want %s", g.ID, first)
		}
	}
	if b, err := l.Balance(ctx, "alice", nil); err != nil || b.Available != 100 {
		t.Fatalf("balance = %+v, %v; want 100, applied once", b, err)
	}
	if !strings.Contains(logs.String(), `"msg":"audit log: a row was not written; its fields follow"`) ||
		!strings.Contains(logs.String(), `"action":"grant.create"`) || !strings.Contains(logs.String(), `"reason":"goodwill"`) {
		t.Errorf("no error log with the lost row's fields:\n%s", logs.String())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	failures := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "creditkit_audit_failures_total" {
			failures = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if failures != 2 {
		t.Errorf("creditkit_audit_failures_total = %v, want 2", failures)
	}
}

// TestAuditTargets: without an object in the path, the target is what was
// created, else what the request names; a customer action concerns that
// customer even when it fails.
func TestAuditTargets(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	e.must(201, "POST", "/v1/customers", e.admin, map[string]any{"id": "fay", "name": "Fay"})
	e.must(409, "POST", "/v1/customers", e.admin, map[string]any{"id": "fay"})
	e.must(201, "POST", "/v1/customers/fay/grants", e.admin, map[string]any{"amount": 10, "reason": "pack", "description": "bought by phone"})
	e.must(200, "POST", "/v1/transfers", e.admin, map[string]any{"from": "fay", "to": "gus", "amount": 4})
	rows := e.auditList("").list
	want := []struct{ action, customer, target, outcome string }{
		{"credits.transfer", "fay", "gus", "ok"},
		{"grant.create", "fay", "", "ok"}, // the grant's id, checked below
		{"customer.create", "fay", "fay", "customer_exists"},
		{"customer.create", "fay", "fay", "ok"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %v", rows)
	}
	for i, w := range want {
		r := rows[i].(map[string]any)
		if str(r, "action") != w.action || str(r, "customer") != w.customer || str(r, "outcome") != w.outcome ||
			(w.target != "" && str(r, "target") != w.target) || str(r, "target") == "" {
			t.Errorf("row %d = %v, want %+v", i, r, w)
		}
	}
	// A grant's reason is its ledger category; its description says why.
	if r := rows[1].(map[string]any); str(r, "reason") != "bought by phone" {
		t.Errorf("grant row reason = %q, want its description", str(r, "reason"))
	}
}

// TestMountedHandlerRecords: a handler mounted beside the API (the
// dashboard) records its own action, with the request's ID, through the
// server's audit log, and GET /v1/audit shows it.
func TestMountedHandlerRecords(t *testing.T) {
	ctx := context.Background()
	l, err := creditkit.Open(ctx, storeURLs(t)["sqlite"](t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv, err := httpapi.New(ctx, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount("POST /dashboard/void", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := srv.AuditLog().Record(r.Context(), audit.Record{ActorKind: audit.ActorDashboard, ActorID: "key_dash", ActorName: "support",
			RequestID: httpapi.RequestID(r.Context()), Action: audit.ActionGrantVoid, Customer: "alice", Target: "grt_1", Reason: "duplicate"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	_, secret, err := httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "reader", store.ScopeRead, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/dashboard/void", nil)
	req.Header.Set("X-Request-Id", "req-dash-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mounted handler: %s", res.Status)
	}
	c, err := httpapi.NewClient(hs.URL, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := c.Audit(ctx, audit.Filter{Actor: "support"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("audit = %+v, %v; want the dashboard's record", rs, err)
	}
	if r := rs[0]; r.ActorKind != audit.ActorDashboard || r.RequestID != "req-dash-1" || r.Target != "grt_1" || r.Reason != "duplicate" || r.Outcome != "ok" {
		t.Errorf("record = %+v", r)
	}
}
