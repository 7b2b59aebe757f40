package dashboard_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit/internal/browsertest"
)

// EnvScreenshots, when "1", makes the browser tests save screenshots of the
// main pages into docs/img/ (commit them; CI leaves it unset).
const EnvScreenshots = "CREDITKIT_SCREENSHOTS"

// tab is a browser tab on a test server.
type tab struct {
	t *testing.T
	e *env
	b *browsertest.Browser
}

func newTab(t *testing.T, e *env) *tab {
	return &tab{t: t, e: e, b: browsertest.New(t, 120*time.Second)}
}

// do runs actions, failing the test on an error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	for i, a := range actions {
		ctx, cancel := context.WithTimeout(tb.b.Ctx, 30*time.Second)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			tb.t.Fatalf("browser: step %d of %d: %v", i+1, len(actions), err)
		}
	}
}

// load runs an action that navigates (a submit, a click on a link) and
// waits for the new page's load event.
func (tb *tab) load(trigger chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.b.Ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, trigger)); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// text returns an element's text.
func (tb *tab) text(css string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.b.Ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// waitFor polls a JavaScript predicate until it holds.
func (tb *tab) waitFor(js string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.b.Ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		tb.t.Fatalf("waiting for %s: %v", js, err)
	}
}

// eval evaluates JavaScript into a T.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.b.Ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// signIn signs in through the form and waits for the overview.
func (tb *tab) signIn(secret string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.e.base+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), secret))
	tb.load(chromedp.Submit(chromedp.CSS("#key")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#stat-customers")))
}

// screenshot saves the page into docs/img/dashboard-<name>.png when
// CREDITKIT_SCREENSHOTS=1.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	if os.Getenv(EnvScreenshots) != "1" {
		return
	}
	// Quality 100 asks Chromium for a PNG (below 100 it sends a JPEG).
	png, err := chromedp.Run(tb.b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", "dashboard-"+name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// clean checks that the pages logged no console error and loaded nothing
// from another origin.
func (tb *tab) clean() {
	tb.t.Helper()
	if errs := tb.b.Errors(); len(errs) > 0 {
		tb.t.Fatalf("console errors: %q", errs)
	}
	for _, u := range tb.b.Requested() {
		if !strings.HasPrefix(u, tb.e.base+"/") && !strings.HasPrefix(u, "data:") {
			tb.t.Fatalf("the page requested %s, from another origin", u)
		}
	}
}

// TestBrowserMainFlow signs in, finds alice, reads her usage chart back
// from uPlot, grants credits and sees her balance and ledger change, voids
// the grant and finds it in the audit log with the actor, and visits every
// page: none logs a console error or loads from another origin.
func TestBrowserMainFlow(t *testing.T) {
	testBrowserMainFlow(t, newEnv(t, sqliteURL(t)), true)
}

// TestBrowserMainFlowPostgres runs the same flow on PostgreSQL.
func TestBrowserMainFlowPostgres(t *testing.T) {
	testBrowserMainFlow(t, newEnv(t, pgURL(t)), false)
}

func testBrowserMainFlow(t *testing.T, e *env, shots bool) {
	tb := newTab(t, e)
	tb.signIn(e.admin)
	if got := tb.text("#stat-customers"); got != "3" {
		t.Fatalf("overview customers %q, want 3", got)
	}
	tb.waitFor(`window.creditkitCharts && window.creditkitCharts["overview-usage"]`)
	if shots {
		tb.screenshot("overview")
	}

	// Find alice by the start of her ID.
	tb.do(chromedp.Navigate(e.base+"/dashboard/customers"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "ali"))
	tb.load(chromedp.Submit(chromedp.CSS("#q")))
	tb.waitFor(`location.search.includes("q=ali") && document.querySelector('#customers a[href="/dashboard/customers/alice"]')`)
	if n := eval[int](tb, `document.querySelectorAll("#customers tbody tr").length`); n != 1 {
		t.Fatalf("the search for ali lists %d customers, want 1", n)
	}
	if shots {
		tb.screenshot("customers")
	}
	tb.load(chromedp.Click(chromedp.CSS(`#customers a[href="/dashboard/customers/alice"]`)))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#bal-available")))
	before := e.available("alice")
	if got := tb.text("#bal-available"); got != itoa(before) {
		t.Fatalf("alice's available %q, want %d", got, before)
	}

	// The usage chart plots the seeded charges: read its data back from uPlot.
	tb.waitFor(`window.creditkitCharts && window.creditkitCharts["customer-usage"]`)
	labels := eval[[]string](tb, `window.creditkitCharts["customer-usage"].series.map(s => s.label)`)
	data := eval[[][]float64](tb, `window.creditkitCharts["customer-usage"].data.map(a => Array.from(a))`)
	if fmt.Sprint(labels) != "[Day process_image send_email]" {
		t.Fatalf("chart series %q", labels)
	}
	n := len(data[0])
	if n != 30 {
		t.Fatalf("chart has %d days, want 30", n)
	}
	for i, day := range e.seedDays {
		x := n - len(e.seedDays) + i
		if int64(data[0][x]) != day.Unix() {
			t.Fatalf("chart day %d is %v, want %v", x, time.Unix(int64(data[0][x]), 0).UTC(), day)
		}
		for s, op := range labels[1:] {
			if got, want := data[s+1][x], e.seedUsage[op][i]; math.Abs(got-want) > 1e-9 {
				t.Fatalf("chart %s on %s: %v, want %v", op, day.Format("2006-01-02"), got, want)
			}
		}
	}
	// uPlot drew it: a canvas of the container's width.
	if w := eval[int](tb, `document.querySelector("#customer-usage canvas").width`); w < 200 {
		t.Fatalf("chart canvas width %d", w)
	}
	if shots {
		tb.screenshot("customer")
	}

	// Grant 250 credits; htmx swaps in the new balance and ledger.
	tb.do(chromedp.SendKeys(chromedp.CSS("#grant-amount"), "250"), chromedp.SetValue(chromedp.CSS("#grant-category"), "goodwill"),
		chromedp.SendKeys(chromedp.CSS("#grant-reason"), "browser test goodwill"), chromedp.Click(chromedp.CSS("#form-grant button")))
	tb.waitFor(`(document.querySelector("#live .flash.ok") || {}).textContent?.includes("Granted 250 credits")`)
	if got := tb.text("#bal-available"); got != itoa(before+250) {
		t.Fatalf("after the grant alice's available shows %q, want %d", got, before+250)
	}
	if got := e.available("alice"); got != before+250 {
		t.Fatalf("after the grant alice has %d, want %d", got, before+250)
	}
	if row := tb.text("#ledger tbody tr:first-child"); !strings.Contains(row, "goodwill") || !strings.Contains(row, "250") {
		t.Fatalf("the ledger's newest entry is %q, want the goodwill grant", row)
	}

	// Void it from its row.
	grants, err := e.l.Grants(context.Background(), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := grants[len(grants)-1]
	row := "#grant-" + g.ID
	tb.do(chromedp.Click(chromedp.CSS(row+" summary")), chromedp.WaitVisible(chromedp.CSS("#void-reason-"+g.ID)),
		chromedp.SendKeys(chromedp.CSS("#void-reason-"+g.ID), "granted twice"), chromedp.Click(chromedp.CSS(row+" form button")))
	tb.waitFor(`(document.querySelector("#live .flash.ok") || {}).textContent?.includes("Voided 250 credits")`)
	if got := tb.text("#bal-available"); got != itoa(before) {
		t.Fatalf("after the void alice's available shows %q, want %d", got, before)
	}
	if got := tb.text(row + " .status"); got != "voided" {
		t.Fatalf("the grant's status shows %q", got)
	}

	// The void is in the audit log, with who did it.
	tb.do(chromedp.Navigate(e.base+"/dashboard/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	audit := tb.text("#audit tbody tr:first-child")
	for _, want := range []string{"grant.void", "Ada Admin", e.adminID, "alice", g.ID, "granted twice", "ok"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("the audit log's newest record %q lacks %q", audit, want)
		}
	}
	if shots {
		tb.screenshot("audit")
	}
	for _, p := range []struct{ path, wait, shot string }{
		{"/dashboard/webhooks", "main h1", "webhooks"},
		{"/dashboard/operations", "#operations", "operations"},
		{"/dashboard/plans", "#plans", "plans"},
	} {
		tb.do(chromedp.Navigate(e.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		if shots {
			tb.screenshot(p.shot)
		}
	}
	tb.clean()
}

// TestBrowserReadOnlyAndCSRF signs in with a read key: the customer page
// shows no action, and posts forged from the page (with the session's
// CSRF token, and an admin's post without it) are refused and move
// nothing. It also checks the customer page at phone width.
func TestBrowserReadOnlyAndCSRF(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	before := e.available("alice")

	tb := newTab(t, e)
	tb.signIn(e.read)
	tb.do(chromedp.Navigate(e.base+"/dashboard/customers/alice"), chromedp.WaitVisible(chromedp.CSS("#bal-available")))
	if n := eval[int](tb, `document.querySelectorAll("main form[method=post], [hx-post], #form-grant").length`); n != 0 {
		t.Fatalf("a read key sees %d action forms", n)
	}
	tb.waitFor(`document.querySelector("#read-only-note")`)
	forged := eval[int](tb, `fetch("/dashboard/customers/alice/grant", {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]},
		body: "amount=500&reason=forged&idem=forged-1"}).then(r => r.status)`)
	if forged != 403 {
		t.Fatalf("a read key's forged grant: %d, want 403", forged)
	}
	if got := e.available("alice"); got != before {
		t.Fatalf("alice has %d after a refused post, had %d", got, before)
	}

	// An admin's post without the CSRF token is refused too.
	tb.load(chromedp.Click(chromedp.CSS(".whoami button")))
	tb.do(chromedp.WaitVisible(chromedp.CSS("#key")))
	admin := tb
	admin.signIn(e.admin)
	admin.do(chromedp.Navigate(e.base+"/dashboard/customers/alice"), chromedp.WaitVisible(chromedp.CSS("#form-grant")))
	noToken := eval[int](admin, `fetch("/dashboard/customers/alice/grant", {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded"},
		body: "amount=500&reason=no+token&idem=nt-1"}).then(r => r.status)`)
	if noToken != 403 {
		t.Fatalf("a post without the CSRF token: %d, want 403", noToken)
	}
	if got := e.available("alice"); got != before {
		t.Fatalf("alice has %d after a refused post, had %d", got, before)
	}

	// A stale token (say, from a session that ended) sent by htmx: the
	// refusal shows in the page's message area and moves nothing.
	admin.do(chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("hx-headers", '{"X-CSRF-Token": "stale"}');
		document.querySelectorAll('input[name=csrf]').forEach(i => i.value = "stale")`),
		chromedp.SendKeys(chromedp.CSS("#grant-amount"), "500"), chromedp.SendKeys(chromedp.CSS("#grant-reason"), "stale token"),
		chromedp.Click(chromedp.CSS("#form-grant button")))
	admin.waitFor(`(document.querySelector("#messages .flash.err") || {}).textContent?.includes("security token")`)
	if got := e.available("alice"); got != before {
		t.Fatalf("alice has %d after a stale-token post, had %d", got, before)
	}

	// At phone width the page fits: nothing wider than the screen but the
	// tables, which scroll in their own box.
	admin.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(e.base+"/dashboard/customers/alice"),
		chromedp.WaitVisible(chromedp.CSS("#bal-available")))
	admin.waitFor(`window.creditkitCharts && window.creditkitCharts["customer-usage"]`)
	if w := eval[int](admin, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("at 390px the page is %dpx wide", w)
	}
	if os.Getenv(EnvScreenshots) == "1" {
		admin.screenshot("phone")
	}
	tb.clean()
}
