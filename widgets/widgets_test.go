package widgets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/internal/browsertest"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/widgets"
)

// testGrace is how long a test server's shutdown waits for requests in
// flight: long, so that a loaded machine does not fail a test that passed,
// and it costs nothing when none is in flight.
const testGrace = 30 * time.Second

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

// EnvScreenshots, when "1", saves screenshots of the widgets to docs/img.
const EnvScreenshots = "CREDITKIT_SCREENSHOTS"

const testConfig = `
currency: { name: credits, decimals: 0 }
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  generate_video: 100 credits + 10 credits per second
plans:
  pro:
    gives: 1000 credits every month
    unused_credits: expire
packs:
  starter: { gives: 1000 credits, costs: 49 USD }
  large:   { gives: 10000 credits, costs: 399 USD }
`

// bundle is a real API server with the widgets mounted, on 127.0.0.1, over
// a seeded ledger.
type bundle struct {
	t     *testing.T
	l     *creditkit.Ledger
	base  string
	admin string
}

// setup opens a ledger on url, seeds alice and bob, and serves the API and
// the widgets. checkout says whether the server offers checkout.
func setup(t *testing.T, url string, checkout bool) *bundle {
	t.Helper()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("widgets_test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(ctx, url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AllowWidgetOrigins([]string{"*"}); err != nil {
		t.Fatal(err)
	}
	b := &bundle{t: t, l: l}
	widgets.Mount(srv, &widgets.Options{Config: l.Config, Checkout: func() bool { return checkout },
		DemoToken: func(ctx context.Context) (string, string, error) { return "alice", b.token("alice"), nil }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, testGrace) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	})
	b.base = "http://" + ln.Addr().String()
	_, b.admin, err = httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "widgets test", store.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.seed()
	return b
}

// seed gives alice a subscription, a bonus and usage on several days, and
// bob a trial grant and one charge.
func (b *bundle) seed() {
	b.t.Helper()
	ctx := context.Background()
	l := b.l
	now := l.Now()
	must := func(_ any, err error) {
		b.t.Helper()
		if err != nil {
			b.t.Fatal(err)
		}
	}
	must(l.StartSubscription(ctx, "alice", "pro", nil))
	must(l.Grant(ctx, "alice", 250, &creditkit.GrantOpts{Reason: "signup_bonus", ExpiresIn: 30 * 24 * time.Hour}))
	for i, sp := range []struct {
		op     string
		params creditkit.Params
		ago    time.Duration
	}{
		{"send_email", nil, 0},
		{"process_image", creditkit.Params{"mb": "5"}, 0},
		{"send_email", nil, 2 * 24 * time.Hour},
		{"generate_video", creditkit.Params{"second": "3"}, 5 * 24 * time.Hour},
		{"process_image", creditkit.Params{"mb": "2"}, 5 * 24 * time.Hour},
	} {
		opts := &creditkit.SpendOpts{IdempotencyKey: fmt.Sprintf("alice-%d", i)}
		if sp.ago > 0 {
			opts.OccurredAt = now.Add(-sp.ago)
		}
		must(l.Spend(ctx, "alice", sp.op, sp.params, opts))
	}
	must(l.Grant(ctx, "bob", 500, &creditkit.GrantOpts{Reason: "trial"}))
	must(l.Spend(ctx, "bob", "send_email", nil, nil))
}

// token mints a customer token through the API, as an app's backend does.
func (b *bundle) token(customer string) string {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+"/v1/customers/"+customer+"/tokens", strings.NewReader(`{"ttl":"15m"}`))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusCreated {
		b.t.Fatalf("mint a token for %s: %d %v", customer, res.StatusCode, err)
	}
	return out.Token
}

// browser opens a tab that reports Content-Security-Policy violations as
// console errors, so that Errors() sees them too.
func browser(t *testing.T) *browsertest.Browser {
	t.Helper()
	br := browsertest.New(t, 90*time.Second)
	_, err := chromedp.Call(br.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener("securitypolicyviolation", function (e) {
			console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
		});`,
	})
	if err != nil {
		t.Fatal(err)
	}
	return br
}

// tags are the five widgets.
var tags = []string{"creditkit-balance", "creditkit-utilization", "creditkit-grants", "creditkit-history", "creditkit-usage-chart"}

// eval evaluates js in the page and decodes its value.
func eval[T any](t *testing.T, br *browsertest.Browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(br.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitStates waits until every widget matched by selector is in state.
func waitStates(t *testing.T, br *browsertest.Browser, selector, state string) {
	t.Helper()
	js := fmt.Sprintf(`(function () {
		var els = Array.from(document.querySelectorAll(%q));
		return els.length > 0 && els.every(function (e) { return e.getAttribute("state") === %q; });
	})()`, selector, state)
	if _, err := chromedp.Run(br.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		states := eval[map[string]string](t, br, fmt.Sprintf(`Object.fromEntries(Array.from(document.querySelectorAll(%q)).map(function (e) {
			return [e.localName + "#" + (e.id || ""), e.getAttribute("state") + ": " + e.shadowRoot.textContent];
		}))`, selector))
		t.Fatalf("widgets %s not all %s: %v (%v)", selector, state, states, err)
	}
}

// clean checks that the page logged no error and requested nothing outside
// origins.
func clean(t *testing.T, br *browsertest.Browser, origins ...string) {
	t.Helper()
	if errs := br.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	for _, u := range br.Requested() {
		if !slices.ContainsFunc(origins, func(o string) bool { return strings.HasPrefix(u, o+"/") }) {
			t.Errorf("the page requested %s, outside %v", u, origins)
		}
	}
}

// screenshot saves the page, or the element matched by selector, to
// docs/img/name as a PNG when CREDITKIT_SCREENSHOTS=1.
func screenshot(t *testing.T, br *browsertest.Browser, name, selector string) {
	t.Helper()
	if os.Getenv(EnvScreenshots) != "1" {
		return
	}
	// Quality 100 makes a PNG; browsertest's Screenshot writes a JPEG.
	action := chromedp.FullScreenshot(100)
	if selector != "" {
		action = chromedp.ScreenshotScale(chromedp.CSS(selector), 2)
	}
	png, err := chromedp.Run(br.Ctx, action)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "docs", "img", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// eachStore runs fn on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.NewDatabaseURL(t, cluster)) })
}

// TestWidgetsShowTheCustomersNumbers opens the demo page, whose widgets read
// alice with a token minted for her, and compares every number they show
// with what the ledger itself answers.
func TestWidgetsShowTheCustomersNumbers(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		b := setup(t, url, false)
		ctx := context.Background()
		br := browser(t)
		if err := chromedp.Do(br.Ctx, chromedp.Navigate(b.base+widgets.DemoPath)); err != nil {
			t.Fatal(err)
		}
		waitStates(t, br, "#widgets > *", "loaded")

		// Balance.
		bal, err := b.l.Balance(ctx, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := eval[int64](t, br, `Number(document.querySelector("creditkit-balance").shadowRoot.querySelector(".big").dataset.amount)`); got != int64(bal.Available) {
			t.Errorf("balance widget shows %d, the ledger %d", got, bal.Available)
		}
		if got := eval[string](t, br, `document.querySelector("creditkit-balance").shadowRoot.querySelector(".big").textContent`); got != grouped(int64(bal.Available)) {
			t.Errorf("balance widget text %q, want %s", got, grouped(int64(bal.Available)))
		}
		// No provider and no checkout-url: no top-up button.
		if eval[bool](t, br, `!!document.querySelector("creditkit-balance").shadowRoot.querySelector(".topup")`) {
			t.Error("a top-up button without a provider or a checkout-url")
		}

		// Utilization: used and granted in the subscription's period.
		sub, err := b.l.GetSubscription(ctx, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		var granted creditkit.Amount
		grants, err := b.l.Grants(ctx, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range grants {
			if g.Status != creditkit.GrantVoided && !g.EffectiveAt.Before(sub.PeriodStart) && g.EffectiveAt.Before(sub.PeriodEnd) {
				granted += g.Amount
			}
		}
		rows, err := b.l.Usage(ctx, "alice", &creditkit.UsageQuery{Since: sub.PeriodStart, Until: sub.PeriodEnd})
		if err != nil {
			t.Fatal(err)
		}
		var used creditkit.Amount
		for _, r := range rows {
			used += r.Amount
		}
		u := eval[map[string]string](t, br, `Object.assign({}, document.querySelector("creditkit-utilization").shadowRoot.querySelector(".value").dataset)`)
		if u["used"] != fmt.Sprint(int64(used)) || u["granted"] != fmt.Sprint(int64(granted)) || used == 0 || granted == 0 {
			t.Errorf("utilization widget %v, the ledger used %d of %d", u, used, granted)
		}

		// Grants, newest first.
		var wantGrants []string
		for _, g := range slices.Backward(grants) {
			wantGrants = append(wantGrants, fmt.Sprintf("%s %d/%d", g.ID, g.Remaining, g.Amount))
		}
		gotGrants := eval[[]string](t, br, `Array.from(document.querySelector("creditkit-grants").shadowRoot.querySelectorAll("tr[data-grant]")).map(function (r) {
			return r.dataset.grant + " " + r.dataset.remaining + "/" + r.dataset.amount;
		})`)
		if !slices.Equal(gotGrants, wantGrants) {
			t.Errorf("grants widget %q, the ledger %q", gotGrants, wantGrants)
		}

		// History: the newest 10 entries (the demo's limit).
		entries, err := b.l.History(ctx, "alice", &creditkit.HistoryFilter{Newest: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var wantEntries []string
		for _, e := range entries {
			wantEntries = append(wantEntries, fmt.Sprintf("%s %d", e.ID, e.Amount))
		}
		gotEntries := eval[[]string](t, br, `Array.from(document.querySelector("creditkit-history").shadowRoot.querySelectorAll("tr[data-entry]")).map(function (r) {
			return r.dataset.entry + " " + r.dataset.amount;
		})`)
		if !slices.Equal(gotEntries, wantEntries) {
			t.Errorf("history widget %q, the ledger %q", gotEntries, wantEntries)
		}

		// Usage chart: one bar per operation and day, as the ledger sums them.
		today := time.Now().UTC().Truncate(24 * time.Hour)
		daily, err := b.l.Usage(ctx, "alice", &creditkit.UsageQuery{Interval: "day", ByOperation: true,
			Since: today.AddDate(0, 0, -29), Until: today.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		var wantBars []string
		for _, r := range daily {
			wantBars = append(wantBars, fmt.Sprintf("%s %s %d", r.Start.Format(time.DateOnly), r.Operation, r.Amount))
		}
		slices.Sort(wantBars)
		gotBars := eval[[]string](t, br, `Array.from(document.querySelector("creditkit-usage-chart").shadowRoot.querySelectorAll("rect[data-day]")).map(function (r) {
			return r.dataset.day + " " + r.dataset.operation + " " + r.dataset.amount;
		}).sort()`)
		if len(wantBars) < 4 || !slices.Equal(gotBars, wantBars) {
			t.Errorf("usage chart bars %q, the ledger %q", gotBars, wantBars)
		}

		clean(t, br, b.base)
		if strings.HasSuffix(t.Name(), "sqlite") {
			screenshot(t, br, "widgets-demo.png", "")
			// The demo's own controls: French labels, the dark theme
			// (custom properties only).
			if err := chromedp.Do(br.Ctx, chromedp.SetValue(chromedp.ID("lang"), "fr"), chromedp.SetValue(chromedp.ID("theme"), "dark"),
				chromedp.Evaluate[chromedp.Void](`["lang", "theme"].forEach(function (id) { document.getElementById(id).dispatchEvent(new Event("change")); })`)); err != nil {
				t.Fatal(err)
			}
			if got := eval[string](t, br, `document.querySelector("creditkit-history").shadowRoot.querySelector("h2").textContent`); got != "Historique" {
				t.Errorf("the demo's language switch left the history titled %q", got)
			}
			screenshot(t, br, "widgets-demo-dark.png", "")
		}
	})
}

// TestWidgetsRefuseAnotherCustomer points every widget at bob with alice's
// token: the API refuses with 403 and each widget shows its error state,
// with no number of bob's.
func TestWidgetsRefuseAnotherCustomer(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), true)
	host := hostPage(t, b.base, b.token("alice"), "bob", "")
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/app")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, "#widgets > *", "error")
	for _, tag := range tags {
		text := eval[string](t, br, fmt.Sprintf(`document.querySelector(%q).shadowRoot.querySelector('[part="error"]').textContent`, tag))
		if !strings.Contains(text, "another customer") {
			t.Errorf("%s error state says %q, want the API's refusal", tag, text)
		}
		if eval[bool](t, br, fmt.Sprintf(`!!document.querySelector(%q).shadowRoot.querySelector("table,svg,.big,.bar")`, tag)) {
			t.Errorf("%s shows data although the API refused", tag)
		}
	}
	statuses := eval[[]int](t, br, `window.errorStatuses`)
	if len(statuses) != len(tags) || slices.ContainsFunc(statuses, func(s int) bool { return s != http.StatusForbidden }) {
		t.Errorf("creditkit-error statuses %v, want five 403s", statuses)
	}
	// Only the API's refusals, which are not console errors.
	if errs := br.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestWidgetsFromAnotherOrigin serves the app's page on a second server (127.0.0.1,
// another port: another origin) with a strict CSP of its own, loads the
// script from the creditkit server and reads alice through CORS.
func TestWidgetsFromAnotherOrigin(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), false)
	host := hostPage(t, b.base, b.token("alice"), "alice", "")
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/app")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, "#widgets > *", "loaded")
	bal, err := b.l.Balance(context.Background(), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eval[int64](t, br, `Number(document.querySelector("creditkit-balance").shadowRoot.querySelector(".big").dataset.amount)`); got != int64(bal.Available) {
		t.Errorf("balance widget shows %d, the ledger %d", got, bal.Available)
	}
	var sawAPI bool
	for _, u := range br.Requested() {
		sawAPI = sawAPI || strings.HasPrefix(u, b.base+"/v1/customers/alice/")
	}
	if !sawAPI {
		t.Errorf("the page never called the API at %s: %q", b.base, br.Requested())
	}
	clean(t, br, host.URL, b.base)
}

// TestWidgetsLoadingThenLoadedAndEmpty: a widget says it is loading at once,
// then shows its data; a customer with nothing shows every empty state.
func TestWidgetsLoadingThenLoadedAndEmpty(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), false)
	if _, err := b.l.CreateCustomer(context.Background(), "dave", nil); err != nil {
		t.Fatal(err)
	}
	host := hostPage(t, b.base, "", "", "")
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/app")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, "#widgets > *", "error") // no token yet: "set the customer and token attributes"

	add := func(id, tag, customer, token string) string {
		return eval[string](t, br, fmt.Sprintf(`(function () {
			var el = document.createElement(%q);
			el.id = %q;
			el.className = "added";
			el.setAttribute("customer", %q);
			el.setAttribute("token", %q);
			document.body.appendChild(el);
			return el.getAttribute("state") + " " + el.shadowRoot.textContent;
		})()`, tag, id, customer, token))
	}
	if got := add("fresh", "creditkit-balance", "alice", b.token("alice")); !strings.Contains(got, "loading") || !strings.Contains(got, "Loading") {
		t.Errorf("a new widget is %q, want the loading state", got)
	}
	waitStates(t, br, "#fresh", "loaded")

	// A history page of 2 entries, then 2 more with "Show more".
	add("paged", "creditkit-history", "alice", b.token("alice"))
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#paged").setAttribute("limit", "2")`)); err != nil {
		t.Fatal(err)
	}
	rowsJS := `document.querySelector("#paged").shadowRoot.querySelectorAll("tr[data-entry]").length`
	if _, err := chromedp.Run(br.Ctx, chromedp.Poll[bool](rowsJS+` === 2 && document.querySelector("#paged").getAttribute("state") === "loaded"`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#paged").shadowRoot.querySelector(".more").click()`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(br.Ctx, chromedp.Poll[bool](rowsJS+` === 4`)); err != nil {
		t.Fatalf("Show more did not add two entries: %v", err)
	}
	entries, err := b.l.History(context.Background(), "alice", &creditkit.HistoryFilter{Newest: true, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := eval[[]string](t, br, `Array.from(document.querySelector("#paged").shadowRoot.querySelectorAll("tr[data-entry]")).map(function (r) { return r.dataset.entry; })`)
	var want []string
	for _, e := range entries {
		want = append(want, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("two pages of history %q, the ledger %q", got, want)
	}

	for _, customer := range []string{"nobody", "dave"} { // never written; created with nothing
		tok := b.token(customer)
		for _, tag := range tags {
			add(customer+"-"+tag, tag, customer, tok)
		}
		for _, tag := range tags {
			id := customer + "-" + tag
			if tag == "creditkit-balance" && customer == "dave" {
				// A customer that exists has a balance: 0.
				waitStates(t, br, "#"+id, "loaded")
				if got := eval[string](t, br, `document.querySelector("#dave-creditkit-balance").shadowRoot.querySelector(".big").textContent`); got != "0" {
					t.Errorf("dave's balance shows %q, want 0", got)
				}
				continue
			}
			waitStates(t, br, "#"+id, "empty")
			msg := eval[string](t, br, fmt.Sprintf(`document.querySelector("#%s").shadowRoot.querySelector('[part="message"]').textContent`, id))
			if !strings.Contains(msg, "No ") && !strings.Contains(msg, "Nothing") {
				t.Errorf("%s's empty state says %q", id, msg)
			}
		}
	}
	clean(t, br, host.URL, b.base)
}

// TestWidgetsRefresh: a spend made after the widgets loaded shows after a
// click on a widget's refresh button, after CreditKit.refreshAll(), and on
// the widget's refresh interval.
func TestWidgetsRefresh(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), false)
	ctx := context.Background()
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(b.base+widgets.DemoPath)); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, "#widgets > *", "loaded")
	shows := func(want creditkit.Amount) {
		t.Helper()
		js := fmt.Sprintf(`document.querySelector("creditkit-balance").shadowRoot.querySelector(".big").dataset.amount === "%d"`, want)
		if _, err := chromedp.Run(br.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("the balance widget never showed %d: %v", want, err)
		}
	}
	spend := func(key string) creditkit.Amount {
		t.Helper()
		if _, err := b.l.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": "3"}, &creditkit.SpendOpts{IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
		bal, err := b.l.Balance(ctx, "alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		return bal.Available
	}

	// The refresh button.
	want := spend("refresh-button")
	if got := eval[string](t, br, `document.querySelector("creditkit-balance").shadowRoot.querySelector(".big").dataset.amount`); got == fmt.Sprint(int64(want)) {
		t.Fatal("the widget changed before it was refreshed")
	}
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("creditkit-balance").shadowRoot.querySelector(".refresh").click()`)); err != nil {
		t.Fatal(err)
	}
	shows(want)

	// refreshAll, from the host page: the history shows the new charge.
	want = spend("refresh-all")
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`CreditKit.refreshAll()`)); err != nil {
		t.Fatal(err)
	}
	shows(want)
	entries, err := b.l.History(ctx, "alice", &creditkit.HistoryFilter{Newest: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	js := fmt.Sprintf(`document.querySelector("creditkit-history").shadowRoot.querySelector("tr[data-entry]").dataset.entry === %q`, entries[0].ID)
	if _, err := chromedp.Run(br.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the history never showed the new charge %s: %v", entries[0].ID, err)
	}

	// The interval (5 seconds at least).
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("creditkit-balance").setAttribute("refresh", "5")`)); err != nil {
		t.Fatal(err)
	}
	shows(spend("interval"))
	clean(t, br, b.base)
}

// TestWidgetTopUp: with packs and a provider, the balance widget offers a
// top-up; picking a pack sends creditkit-topup and goes to the host's
// checkout-url.
func TestWidgetTopUp(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), true)
	host := hostPage(t, b.base, b.token("alice"), "alice", "/checkout?pack={pack}&who={customer}")
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/app")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, "#widgets > *", "loaded")
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("creditkit-balance").shadowRoot.querySelector(".topup").click()`)); err != nil {
		t.Fatal(err)
	}
	packs := eval[[]string](t, br, `Array.from(document.querySelector("creditkit-balance").shadowRoot.querySelectorAll("[data-pack]")).map(function (b) { return b.dataset.pack + ": " + b.textContent; })`)
	if len(packs) != 2 || packs[0] != "starter: starter: 1,000 for $49.00" || packs[1] != "large: large: 10,000 for $399.00" {
		t.Fatalf("packs offered %q", packs)
	}
	screenshot(t, br, "widgets-topup.png", "creditkit-balance")
	if _, err := chromedp.Run(br.Ctx, chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("creditkit-balance").shadowRoot.querySelector('[data-pack="starter"]').click()`))); err != nil {
		t.Fatal(err)
	}
	got := eval[string](t, br, `location.pathname + location.search + " " + sessionStorage.getItem("topup")`)
	if got != "/checkout?pack=starter&who=alice starter" {
		t.Errorf("checkout page reached with %q, want pack=starter for alice and the event seen first", got)
	}
	clean(t, br, host.URL, b.base)
}

// TestWidgetLabelsAndTheme: labels follow the page's language or the
// labels attribute, and the widgets take their colours from CSS custom
// properties set on the host page.
func TestWidgetLabelsAndTheme(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), true)
	host := hostPage(t, b.base, b.token("alice"), "alice", "/checkout")
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/app")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, "#widgets > *", "loaded")
	title := func(tag string) string {
		return eval[string](t, br, fmt.Sprintf(`document.querySelector(%q).shadowRoot.querySelector("h2").textContent`, tag))
	}
	if got := title("creditkit-balance"); got != "Balance" {
		t.Errorf("English title %q", got)
	}
	if err := chromedp.Do(br.Ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("widgets").setAttribute("lang", "fr");
		document.querySelectorAll("#widgets > *").forEach(function (w) { w.setAttribute("lang", "fr"); });
		document.querySelector("creditkit-grants").setAttribute("labels", JSON.stringify({grants: "Vos crédits"}));`)); err != nil {
		t.Fatal(err)
	}
	if got := title("creditkit-balance"); got != "Solde" {
		t.Errorf("French title %q, want Solde", got)
	}
	if got := title("creditkit-grants"); got != "Vos crédits" {
		t.Errorf("title from the labels attribute %q", got)
	}
	if got := eval[string](t, br, `document.querySelector("creditkit-balance").shadowRoot.querySelector(".topup").textContent`); got != "Recharger" {
		t.Errorf("French top-up button %q", got)
	}
	color := eval[string](t, br, `document.getElementById("widgets").style.setProperty("--creditkit-accent", "rgb(1, 2, 3)");
		getComputedStyle(document.querySelector("creditkit-balance").shadowRoot.querySelector(".topup")).backgroundColor`)
	if color != "rgb(1, 2, 3)" {
		t.Errorf("top-up button colour %q, want the page's --creditkit-accent", color)
	}
	clean(t, br, host.URL, b.base)
}

// hostPage serves an app's page on its own origin that shows the five
// widgets for customer with token, loading widgets.js from api, under a
// strict CSP that allows only its own scripts and the creditkit server.
// /checkout is a page the top-up goes to.
func hostPage(t *testing.T, api, token, customer, checkoutURL string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	csp := "default-src 'none'; script-src 'self' " + api + "; style-src 'self'; connect-src " + api + "; base-uri 'none'; form-action 'none'"
	mux.HandleFunc("GET /app", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		attrs := fmt.Sprintf(`customer="%s" token="%s"`, customer, token)
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>app</title>
<link rel="stylesheet" href="/app.css"><script src="/app.js"></script>
<script src="%s/widgets.js" defer></script></head><body>
<div id="widgets">
<creditkit-balance %s checkout-url="%s"></creditkit-balance>
<creditkit-utilization %s></creditkit-utilization>
<creditkit-grants %s></creditkit-grants>
<creditkit-history %s></creditkit-history>
<creditkit-usage-chart %s range="7d"></creditkit-usage-chart>
</div></body></html>`, api, attrs, checkoutURL, attrs, attrs, attrs, attrs)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `window.errorStatuses = [];
document.addEventListener("creditkit-error", function (e) { window.errorStatuses.push(e.detail.status); });
document.addEventListener("creditkit-topup", function (e) { sessionStorage.setItem("topup", e.detail.pack); });`)
	})
	mux.HandleFunc("GET /app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, `body { font-family: sans-serif; margin: 16px; }
#widgets { display: grid; gap: 12px; }
creditkit-balance, creditkit-utilization { max-width: 360px; }`)
	})
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, `<!doctype html><title>checkout</title><p>checkout</p>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// grouped writes n as English does, with thousands separated by commas.
func grouped(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + grouped(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
