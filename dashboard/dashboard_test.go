package dashboard_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/dashboard"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// TestSignIn checks the session rules: a wrong key is refused, a right one
// gets an HttpOnly, SameSite=Strict cookie scoped to /dashboard/; pages
// without a session send the browser to sign in; a tampered cookie, a key
// revoked since, an expired session and a sign-out all end the session.
func TestSignIn(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	c := e.client()

	p := c.get("/dashboard/customers")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/login?next=/dashboard/customers" {
		t.Fatalf("without a session: %d %q", p.status, p.header.Get("Location"))
	}
	p = c.do(http.MethodPost, "/dashboard/login", url.Values{"key": {"ck_wrong"}}, nil)
	if p.status != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", p.status)
	}
	p.mustContain(t, "unknown or revoked")
	p = c.do(http.MethodPost, "/dashboard/login", url.Values{"key": {e.admin}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if p.status != http.StatusForbidden || len(p.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cross-site sign-in: %d %q", p.status, p.header.Values("Set-Cookie"))
	}

	p = c.do(http.MethodPost, "/dashboard/login", url.Values{"key": {e.admin}, "next": {"/dashboard/plans"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/plans" {
		t.Fatalf("sign in: %d %q", p.status, p.header.Get("Location"))
	}
	cookie := p.header.Get("Set-Cookie")
	for _, want := range []string{dashboard.CookieName + "=", "Path=/dashboard/", "HttpOnly", "SameSite=Strict", "Max-Age=28800"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Fatalf("cookie %q is Secure on plain HTTP", cookie)
	}
	c.get("/dashboard/").mustContain(t, "Ada Admin", "Outstanding debt")
	// Behind a TLS proxy the cookie is Secure.
	p = e.client().do(http.MethodPost, "/dashboard/login", url.Values{"key": {e.admin}}, map[string]string{"X-Forwarded-Proto": "https"})
	if !strings.Contains(p.header.Get("Set-Cookie"), "; Secure") {
		t.Fatalf("cookie behind a TLS proxy: %q", p.header.Get("Set-Cookie"))
	}

	// A tampered cookie is no session.
	u, _ := url.Parse(e.base + "/dashboard/")
	good := c.http.Jar.Cookies(u)[0].Value
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: dashboard.CookieName, Value: "x" + good, Path: "/dashboard/"}})
	if p := c.get("/dashboard/"); p.status != http.StatusSeeOther {
		t.Fatalf("tampered cookie: %d", p.status)
	}
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: dashboard.CookieName, Value: good, Path: "/dashboard/"}})
	if p := c.get("/dashboard/"); p.status != http.StatusOK {
		t.Fatalf("good cookie again: %d", p.status)
	}

	// The session expires with the clock.
	e.clock.Advance(dashboard.DefaultSessionTTL + time.Second)
	if p := c.get("/dashboard/"); p.status != http.StatusSeeOther {
		t.Fatalf("expired session: %d", p.status)
	}
	csrf := c.signIn(e.admin)

	// Sign-out clears the cookie.
	p = c.post("/dashboard/logout", url.Values{}, csrf)
	if p.header.Get("HX-Redirect") != "/dashboard/login" || !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out: %d %q %q", p.status, p.header.Get("HX-Redirect"), p.header.Get("Set-Cookie"))
	}
	if p := c.get("/dashboard/"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", p.status)
	}

	// A revoked key's session stops at its next request.
	c.signIn(e.read)
	if ok, err := e.st.RevokeAPIKey(context.Background(), e.readID, e.clock.Now()); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if p := c.get("/dashboard/"); p.status != http.StatusSeeOther {
		t.Fatalf("revoked key's session: %d", p.status)
	}
}

// TestCSRF posts a grant without the session's CSRF token, and with
// another session's: both are refused with 403 and move nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	c := e.client()
	c.signIn(e.admin)
	other := e.client()
	otherCSRF := other.signIn(e.admin)
	before := e.available("alice")
	form := url.Values{"amount": {"500"}, "reason": {"sneaky"}, "idem": {idem(t, 1)}}
	for name, token := range map[string]string{"none": "", "another session's": otherCSRF, "garbage": "abc"} {
		p := c.post("/dashboard/customers/alice/grant", form, token)
		if p.status != http.StatusForbidden {
			t.Fatalf("%s token: %d", name, p.status)
		}
		p.mustContain(t, "security token")
	}
	// A plain form post (no htmx) without the field is refused too.
	if p := c.do(http.MethodPost, "/dashboard/customers/alice/grant", form, nil); p.status != http.StatusForbidden {
		t.Fatalf("plain post: %d", p.status)
	}
	if got := e.available("alice"); got != before {
		t.Fatalf("alice has %d, had %d: a refused post moved credits", got, before)
	}
}

// TestReadKeyChangesNothing signs in with a read key: every page shows,
// no action form does, and a post with a valid CSRF token is refused and
// moves nothing.
func TestReadKeyChangesNothing(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	c := e.client()
	csrf := c.signIn(e.read)
	for _, path := range []string{"/dashboard/", "/dashboard/customers", "/dashboard/customers/alice", "/dashboard/audit",
		"/dashboard/webhooks", "/dashboard/operations", "/dashboard/plans"} {
		p := c.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.status)
		}
		if strings.Contains(p.body, "hx-post") {
			t.Fatalf("%s shows an action to a read key", path)
		}
	}
	c.get("/dashboard/customers/alice").mustContain(t, "read-only")
	before := e.available("alice")
	for _, path := range []string{"grant", "adjust", "void", "plan", "token", "reverse"} {
		p := c.post("/dashboard/customers/alice/"+path, url.Values{"amount": {"5"}, "reason": {"forged"}, "direction": {"add"}, "plan": {"pro"}}, csrf)
		if p.status != http.StatusForbidden {
			t.Fatalf("forged %s: %d", path, p.status)
		}
	}
	if got := e.available("alice"); got != before {
		t.Fatalf("alice has %d, had %d", got, before)
	}
	if sub, err := e.l.GetSubscription(context.Background(), "alice", nil); err == nil && sub != nil {
		t.Fatalf("a forged plan change subscribed alice: %+v", sub)
	}
}

// TestActions grants, adjusts, voids, reverses and changes the plan through
// the forms, and checks the answer shows the new balance and the ledger
// moved as asked.
func TestActions(t *testing.T) {
	for name, dbURL := range map[string]func(t *testing.T) string{"sqlite": sqliteURL, "postgres": func(t *testing.T) string { return pgURL(t) }} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, dbURL(t))
			c := e.client()
			csrf := c.signIn(e.admin)
			start := e.available("alice")

			p := c.post("/dashboard/customers/alice/grant", url.Values{"amount": {"250"}, "category": {"goodwill"}, "reason": {"outage on Monday"}, "idem": {idem(t, 1)}}, csrf)
			if p.status != http.StatusOK {
				t.Fatalf("grant: %d %s", p.status, p.body)
			}
			p.mustContain(t, `id="live"`, "Granted 250 credits", `id="bal-available">`+itoa(start+250)+"<")
			if strings.Contains(p.body, "<html") {
				t.Fatal("an htmx answer is a whole page")
			}
			// The same form sent twice moves credits once.
			c.post("/dashboard/customers/alice/grant", url.Values{"amount": {"250"}, "category": {"goodwill"}, "reason": {"outage on Monday"}, "idem": {idem(t, 1)}}, csrf)
			if got := e.available("alice"); got != start+250 {
				t.Fatalf("after a replayed grant alice has %d, want %d", got, start+250)
			}

			// A reason is required, and its absence moves nothing.
			p = c.post("/dashboard/customers/alice/adjust", url.Values{"amount": {"10"}, "direction": {"remove"}, "idem": {idem(t, 2)}}, csrf)
			p.mustContain(t, "Give a reason")
			p = c.post("/dashboard/customers/alice/adjust", url.Values{"amount": {"10"}, "direction": {"remove"}, "reason": {"double charge"}, "idem": {idem(t, 3)}}, csrf)
			p.mustContain(t, "Removed 10 credits", `id="bal-available">`+itoa(start+240)+"<")

			grants, err := e.l.Grants(context.Background(), "alice", nil)
			if err != nil {
				t.Fatal(err)
			}
			last := grants[len(grants)-1]
			p = c.post("/dashboard/customers/alice/void", url.Values{"grant": {last.ID}, "reason": {"given by mistake"}, "idem": {idem(t, 4)}}, csrf)
			p.mustContain(t, "Voided 250 credits of grant "+last.ID, `id="bal-available">`+itoa(start-10)+"<")

			hist, err := e.l.History(context.Background(), "alice", &creditkit.HistoryFilter{Type: creditkit.EntryCharge, Newest: true, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			p = c.post("/dashboard/customers/alice/reverse", url.Values{"entry": {hist[0].ID}, "reason": {"refund the fix"}, "idem": {idem(t, 5)}}, csrf)
			p.mustContain(t, "Gave back 10 credits", `id="bal-available">`+itoa(start)+"<")

			p = c.post("/dashboard/customers/alice/plan", url.Values{"plan": {"pro"}, "reason": {"upgrade for the trial"}, "idem": {idem(t, 6)}}, csrf)
			p.mustContain(t, "alice is on plan pro", `id="bal-available">`+itoa(start+1000)+"<")

			// Errors of the library come back in the form.
			p = c.post("/dashboard/customers/alice/void", url.Values{"grant": {last.ID}, "reason": {"again"}, "idem": {idem(t, 7)}}, csrf)
			if p.status != http.StatusOK {
				t.Fatalf("void of a voided grant: %d", p.status)
			}
			p.mustContain(t, "flash err")

			p = c.post("/dashboard/customers/alice/token", url.Values{"ttl": {"1h"}, "reason": {"ticket 42"}}, csrf)
			m := regexp.MustCompile(`id="minted" readonly value="(ckt_[^"]+)"`).FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("no token minted:\n%s", p.body)
			}
			// Every action is in the audit log, newest first, with the
			// dashboard user as actor; the refused second void too.
			lg, err := audit.Of(e.l.Store(), e.l.Now)
			if err != nil {
				t.Fatal(err)
			}
			recs, _, err := lg.List(context.Background(), audit.Filter{Customer: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if r.ActorKind != audit.ActorDashboard || r.ActorID != e.adminID || r.ActorName != "Ada Admin" || r.RequestID == "" || r.Reason == "" {
					t.Fatalf("record %+v lacks its actor, request id or reason", r)
				}
				got = append(got, r.Action+":"+r.Outcome)
			}
			want := "[customer_token.create:ok grant.void:grant_not_active subscription.change:ok entry.reverse:ok grant.void:ok credits.adjust:ok grant.create:ok grant.create:ok]"
			if fmt.Sprint(got) != want {
				t.Fatalf("audit records %v, want %s", got, want)
			}
			if recs[3].Target != hist[0].ID || recs[4].Target != last.ID {
				t.Fatalf("audit targets %q %q, want %q %q", recs[3].Target, recs[4].Target, hist[0].ID, last.ID)
			}
			if recs[7].Details["result_id"] != last.ID || recs[7].Details["idempotency_key"] != idem(t, 1) || recs[7].Details["amount"] != 250.0 {
				t.Fatalf("the grant's audit details: %v", recs[7].Details)
			}
			// The ledger names the dashboard user too.
			if h, _ := e.l.History(context.Background(), "alice", &creditkit.HistoryFilter{Newest: true, Limit: 1, Type: creditkit.EntryVoid}); len(h) != 1 || h[0].Actor != "dashboard:"+e.adminID {
				t.Fatalf("the void entry's actor: %+v", h)
			}

			// The token reads alice's balance through the API.
			req, _ := http.NewRequest(http.MethodGet, e.base+"/v1/customers/alice/balance", nil)
			req.Header.Set("Authorization", "Bearer "+m[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the minted token reads alice's balance: %d", resp.StatusCode)
			}
		})
	}
}

// TestPages renders every page with the seeded data, and their empty and
// error states.
func TestPages(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	c := e.client()
	c.signIn(e.admin)
	c.get("/dashboard/").mustContain(t, `id="stat-customers">3<`, "process_image", `data-chart=`)
	c.get("/dashboard/customers").mustContain(t, "alice", "bob", "carol")
	c.get("/dashboard/customers?q=al").mustContain(t, "alice")
	if p := c.get("/dashboard/customers?q=al"); strings.Contains(p.body, ">bob<") {
		t.Fatal("the search by prefix lists bob")
	}
	p := c.get("/dashboard/customers?sort=-available")
	if i, j := strings.Index(p.body, ">bob<"), strings.Index(p.body, ">alice<"); i < 0 || j < 0 || j > i {
		t.Fatalf("sorted by available, alice (%d) should come before bob (%d)", j, i)
	}
	c.get("/dashboard/customers?q=zz").mustContain(t, "No customer ID starts with")

	// Paging: 30 more customers make two pages by ID, and 30 more entries
	// two pages of bob's ledger.
	for i := range 30 {
		if _, err := e.l.Grant(context.Background(), fmt.Sprintf("zed%02d", i), 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.l.Grant(context.Background(), "bob", 1, &creditkit.GrantOpts{Reason: "page_test"}); err != nil {
			t.Fatal(err)
		}
	}
	p = c.get("/dashboard/customers")
	next := regexp.MustCompile(`href="(/dashboard/customers\?after=[^"]+)">Next page`).FindStringSubmatch(p.body)
	if next == nil || strings.Contains(p.body, "zed29") {
		t.Fatalf("first page of customers:\n%s", p.body)
	}
	c.get(strings.ReplaceAll(next[1], "&amp;", "&")).mustContain(t, "zed29", "First page")
	p = c.get("/dashboard/customers?sort=available&q=zed")
	p.mustContain(t, "Next page")
	c.get("/dashboard/customers?sort=available&q=zed&page=2").mustContain(t, "zed29")
	p = c.get("/dashboard/customers/bob?category=page_test")
	older := regexp.MustCompile(`href="(/dashboard/customers/bob\?[^"]*after=[^"]+)">Older entries`).FindStringSubmatch(p.body)
	if older == nil || strings.Count(p.body, "<td>page_test") != 25 {
		t.Fatalf("first page of bob's ledger: %d rows\n%s", strings.Count(p.body, "<td>page_test"), p.body)
	}
	if p := c.get(strings.ReplaceAll(older[1], "&amp;", "&")); strings.Count(p.body, "<td>page_test") != 5 {
		t.Fatalf("second page of bob's ledger: %d rows", strings.Count(p.body, "<td>page_test"))
	}
	c.get("/dashboard/customers/alice").mustContain(t, "signup_bonus", "Grants", `id="utilization"`, "customer-usage", "starter")
	c.get("/dashboard/customers/carol").mustContain(t, "No grants yet", "No ledger entries yet", "No usage in these days")
	c.get("/dashboard/customers/alice?type=expiration").mustContain(t, "No entries match these filters")
	if p := c.get("/dashboard/customers/nobody"); p.status != http.StatusNotFound || !strings.Contains(p.body, "not found") {
		t.Fatalf("unknown customer: %d", p.status)
	}
	c.get("/dashboard/operations").mustContain(t, "process_image", "mb=1", "11 credits")
	c.get("/dashboard/operations?op=process_image&params=mb%3D5.2").mustContain(t, "costs 16 credits")
	c.get("/dashboard/operations?op=process_image&params=gb").mustContain(t, "not name=value")
	c.get("/dashboard/plans").mustContain(t, "1000 credits every month", "49.00 USD")
	c.get("/dashboard/webhooks").mustContain(t, "No webhook deliveries")
	if p := c.get("/dashboard/webhooks?status=bogus"); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad status filter: %d", p.status)
	}
	if p := c.get("/dashboard/nope"); p.status != http.StatusNotFound {
		t.Fatalf("unknown page: %d", p.status)
	}
}

// TestSecurityHeaders checks the CSP and the other headers on a page and a
// static file, and that the page names no other origin.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	c := e.client()
	if p := c.get("/dashboard/login"); p.status != http.StatusOK || !strings.Contains(p.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("sign-in page: %d %v", p.status, p.header)
	}
	c.signIn(e.admin)
	for _, path := range []string{"/dashboard/", "/dashboard/customers/alice", "/dashboard/static/dashboard.js"} {
		p := c.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.status)
		}
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Fatalf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Fatalf("%s: CSP %q allows unsafe sources", path, csp)
		}
		if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: headers %v", path, p.header)
		}
	}
	p := c.get("/dashboard/customers/alice")
	if m := regexp.MustCompile(`(?:src|href)="(https?:)?//`).FindString(p.body); m != "" {
		t.Fatalf("the page loads from another origin: %s", m)
	}
	if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, "<style") {
		t.Fatal("the page has inline script or style")
	}
	p.mustContain(t, `"includeIndicatorStyles":false`)
}

// TestVendoredFiles checks the vendored files against VENDOR.md's hashes,
// and that each one's licence is in the repository.
func TestVendoredFiles(t *testing.T) {
	doc, err := os.ReadFile("VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `(static/[^`]+)` \\|.*\\| `([0-9a-f]{64})` \\|$").FindAllStringSubmatch(string(doc), -1)
	if len(rows) != 3 {
		t.Fatalf("VENDOR.md lists %d files, want 3", len(rows))
	}
	for _, r := range rows {
		b, err := os.ReadFile(r[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != r[2] {
			t.Errorf("%s has sha256 %s, VENDOR.md says %s", r[1], got, r[2])
		}
	}
	for _, f := range []string{"LICENSE.htmx", "LICENSE.uplot"} {
		if _, err := os.Stat(filepath.Join(".", f)); err != nil {
			t.Error(err)
		}
	}
}

func itoa(a creditkit.Amount) string { return strconv.FormatInt(int64(a), 10) }

// TestWebhookReplay fails a delivery, shows it on the webhooks page and the
// overview with its attempts and last error, and replays it with an admin
// key: the delivery is pending again, due now, and the replay is audited.
// A write key sees the page without the replay button and is refused.
func TestWebhookReplay(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	ctx := context.Background()
	now := e.clock.Now()
	if err := e.st.CreateWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: "we_1", URL: "https://hooks.example.com/credits", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DispatchEvents(ctx, now, 100, webhook.Fanout(now, func() string { return "wd_" + strconv.FormatInt(time.Now().UnixNano(), 36) })); err != nil {
		t.Fatal(err)
	}
	ds, err := e.st.ClaimDeliveries(ctx, now, time.Minute, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %d", err, len(ds))
	}
	d := ds[0]
	if err := e.st.FinishDelivery(ctx, d.ID, store.DeliveryAttempt{At: now, HTTPStatus: 500, Error: "HTTP 500 from the endpoint",
		Status: store.DeliveryFailed, StatusIfEndpointDeleted: store.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}

	w := e.client()
	wcsrf := w.signIn(e.write)
	p := w.get("/dashboard/webhooks?status=failed")
	p.mustContain(t, d.ID, "HTTP 500 from the endpoint", "hooks.example.com")
	if strings.Contains(p.body, "/replay") {
		t.Fatal("a write key sees the replay button")
	}
	if p := w.post("/dashboard/webhooks/"+d.ID+"/replay", url.Values{}, wcsrf); p.status != http.StatusForbidden {
		t.Fatalf("a write key's replay: %d", p.status)
	}

	c := e.client()
	csrf := c.signIn(e.admin)
	c.get("/dashboard/").mustContain(t, d.ID, "HTTP 500 from the endpoint")
	c.get("/dashboard/webhooks").mustContain(t, "/dashboard/webhooks/"+d.ID+"/replay")
	p = c.post("/dashboard/webhooks/"+d.ID+"/replay", url.Values{}, csrf)
	if p.status != http.StatusOK {
		t.Fatalf("replay: %d %s", p.status, p.body)
	}
	p.mustContain(t, `<tr id="delivery-`+d.ID+`"`, "pending")
	got, err := e.st.Delivery(ctx, d.ID)
	if err != nil || got.Status != store.DeliveryPending || got.NextAttemptAt.After(e.clock.Now()) {
		t.Fatalf("after the replay: %+v %v", got, err)
	}
	// Pending again after a failed attempt: the overview still lists it,
	// as retrying.
	c.get("/dashboard/").mustContain(t, d.ID, "retrying after 1 failed attempt")
	lg, _ := audit.Of(e.l.Store(), e.l.Now)
	recs, _, err := lg.List(ctx, audit.Filter{Action: "webhook_delivery.replay", Actor: e.adminID}) // the write key's refused replay is recorded too
	if err != nil || len(recs) != 1 || recs[0].Target != d.ID || recs[0].ActorID != e.adminID {
		t.Fatalf("replay audit: %+v %v", recs, err)
	}
	if p := c.post("/dashboard/webhooks/wd_nope/replay", url.Values{}, csrf); p.status != http.StatusNotFound {
		t.Fatalf("replay of an unknown delivery: %d", p.status)
	}
	c.get("/dashboard/audit?action=webhook_delivery.replay").mustContain(t, d.ID, "Ada Admin")
	c.get("/dashboard/audit?customer=nobody").mustContain(t, "No audit records match")
	if p := c.get("/dashboard/audit?from=yesterday"); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad from: %d", p.status)
	}
}

// TestRevokedKeyCache: with a key cache, a session of a key revoked since
// keeps working only until the cache entry ages out on the ledger's clock.
func TestRevokedKeyCache(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	h, err := dashboard.New(context.Background(), e.l, &dashboard.Options{KeyCacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := e.client()
	c.e = &env{t: t, base: srv.URL}
	c.signIn(e.read)
	if ok, err := e.st.RevokeAPIKey(context.Background(), e.readID, e.clock.Now()); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if p := c.get("/dashboard/plans"); p.status != http.StatusOK {
		t.Fatalf("within the cache TTL: %d", p.status)
	}
	e.clock.Advance(time.Minute)
	if p := c.get("/dashboard/plans"); p.status != http.StatusSeeOther {
		t.Fatalf("after the cache TTL: %d", p.status)
	}
}
