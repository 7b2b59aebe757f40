package widgets_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/browsertest"
)

// bigCustomer is one customer on the big numbers page and what its balance
// and utilization widgets must say, character for character.
type bigCustomer struct {
	id          string
	balance     string // the balance figure (.big)
	rows        string // held, debt, scheduled (.rows), "" for none
	utilization string // the utilization sentence (.value)
}

// seedBig gives huge 999999999999999999 + 500 credits (more than a double
// holds exactly) and one charge, and debtor a debt beyond 2^53.
func seedBig(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	l := b.l
	if _, err := l.Grant(ctx, "huge", 999999999999999999, &creditkit.GrantOpts{Reason: "purchase"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Grant(ctx, "huge", 500, &creditkit.GrantOpts{Reason: "signup_bonus"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Spend(ctx, "huge", "send_email", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Grant(ctx, "debtor", 3, &creditkit.GrantOpts{Reason: "trial"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SetOverageLimit(ctx, "debtor", 5_000_000_000_000_000_000, nil); err != nil {
		t.Fatal(err)
	}
	// 10 + 1234567890123456789 credits: a debt of 1234567890123456796.
	if _, err := l.Spend(ctx, "debtor", "process_image", creditkit.Params{"mb": "1234567890123456789"}, nil); err != nil {
		t.Fatal(err)
	}
}

// bigPage serves an app page (on its own origin, with a strict CSP) with
// the five widgets for each customer, in a div whose id is the customer.
// With noSource, the page hides JSON.parse's source text from revivers
// first, as a browser without JSON.parse source text access does.
func bigPage(t *testing.T, b *bundle, customers []string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	csp := "default-src 'none'; script-src 'self' " + b.base + "; style-src 'self'; connect-src " + b.base + "; base-uri 'none'"
	page := func(w http.ResponseWriter, script string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		var body strings.Builder
		for _, c := range customers {
			attrs := fmt.Sprintf(`customer="%s" token="%s"`, c, b.token(c))
			fmt.Fprintf(&body, `<div id="%s" class="customer">`, c)
			for _, tag := range tags {
				fmt.Fprintf(&body, `<%s %s></%s>`, tag, attrs, tag)
			}
			body.WriteString("</div>\n")
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>big</title>%s
<script src="%s/widgets.js" defer></script></head><body>
%s</body></html>`, script, b.base, body.String())
	}
	mux.HandleFunc("GET /app", func(w http.ResponseWriter, r *http.Request) { page(w, "") })
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) { page(w, `<script src="/nosource.js"></script>`) })
	mux.HandleFunc("GET /nosource.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `(function () {
	var parse = JSON.parse;
	JSON.parse = function (text, reviver) {
		return parse(text, reviver && function (key, value) { return reviver.call(this, key, value); });
	};
})();`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// shown reads what the balance and utilization widgets of customer render.
func shown(t *testing.T, br *browsertest.Browser, customer string) bigCustomer {
	t.Helper()
	got := eval[map[string]string](t, br, fmt.Sprintf(`(function () {
		var box = document.getElementById(%q);
		var bal = box.querySelector("creditkit-balance").shadowRoot;
		var util = box.querySelector("creditkit-utilization").shadowRoot;
		var rows = bal.querySelector(".rows");
		return {balance: bal.querySelector(".big").textContent, rows: rows ? rows.textContent : "",
			utilization: util.querySelector(".value").textContent};
	})()`, customer))
	return bigCustomer{id: customer, balance: got["balance"], rows: got["rows"], utilization: got["utilization"]}
}

// TestWidgetsShowBigNumbersExactly, on SQLite and PostgreSQL: a balance beyond 2^53 (which JSON.parse
// into a double would round to 1,000,000,000,000,000,500) shows to the last
// digit in the balance and utilization widgets, as does a debt beyond 2^53;
// a normal balance is unchanged, and the other widgets load with the exact
// amounts too.
func TestWidgetsShowBigNumbersExactly(t *testing.T) {
	eachStore(t, testBigNumbersExactly)
}

func testBigNumbersExactly(t *testing.T, url string) {
	b := setup(t, url, false)
	seedBig(t, b)
	host := bigPage(t, b, []string{"huge", "debtor", "bob"})
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/app")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, ".customer > *", "loaded")

	month := time.Now().UTC().Format("Jan")
	for _, want := range []bigCustomer{
		{"huge", "1,000,000,000,000,000,498", "", "1 of 1,000,000,000,000,000,499 credits used"},
		{"debtor", "-1,234,567,890,123,456,796", "Debt 1,234,567,890,123,456,796", "1,234,567,890,123,456,799 of 3 credits used"},
		{"bob", "499", "", "1 of 500 credits used"},
	} {
		if got := shown(t, br, want.id); got != want {
			t.Errorf("%s's widgets show %+v, want %+v", want.id, got, want)
		}
	}
	if !strings.Contains(eval[string](t, br, `document.querySelector("#huge creditkit-utilization").shadowRoot.textContent`), month) {
		t.Error("the utilization widget lost its period")
	}

	// The other widgets: every amount exact, in the text and the data.
	grants := eval[[]string](t, br, `Array.from(document.querySelector("#huge creditkit-grants").shadowRoot.querySelectorAll("tr[data-grant]")).map(function (r) {
		return r.dataset.remaining + "/" + r.dataset.amount + " " + r.querySelector(".num").textContent;
	})`)
	if want := []string{"499/500 499/ 500", "999999999999999999/999999999999999999 999,999,999,999,999,999/ 999,999,999,999,999,999"}; fmt.Sprint(grants) != fmt.Sprint(want) {
		t.Errorf("huge's grants widget %q, want %q", grants, want)
	}
	history := eval[[]string](t, br, `Array.from(document.querySelector("#debtor creditkit-history").shadowRoot.querySelectorAll("tr[data-entry]")).map(function (r) {
		return r.dataset.amount + " " + Array.from(r.querySelectorAll(".num")).map(function (c) { return c.textContent; }).join(" ");
	})`)
	if want := []string{"-1234567890123456799 −1,234,567,890,123,456,799 -1,234,567,890,123,456,796", "3 +3 3"}; fmt.Sprint(history) != fmt.Sprint(want) {
		t.Errorf("debtor's history widget %q, want %q", history, want)
	}
	legend := eval[string](t, br, `document.querySelector("#debtor creditkit-usage-chart").shadowRoot.querySelector(".legend").textContent`)
	if legend != "process_image 1,234,567,890,123,456,799" {
		t.Errorf("debtor's usage chart legend %q", legend)
	}
	bar := eval[string](t, br, `(function () {
		var r = document.querySelector("#debtor creditkit-usage-chart").shadowRoot.querySelector("rect[data-day]");
		return r.dataset.amount + " " + r.querySelector("title").textContent.split(": ")[1] + " " + (r.getAttribute("height") > 100);
	})()`)
	if bar != "1234567890123456799 1,234,567,890,123,456,799 true" {
		t.Errorf("debtor's usage bar %q", bar)
	}
	// An amount with decimals stays exact too.
	if got := eval[string](t, br, `(function () {
		var el = document.querySelector("#huge creditkit-balance");
		el.config = {currencies: [{name: "usd", decimals: 2}]};
		return [el.num(JSON.parse("123456789012345678", function (k, v, c) { return BigInt(c.source); }), "usd"),
			el.num(9007199254740991, "usd"), el.num(-5, "usd"), el.signed(-123456789012345678n, "usd")].join(" ");
	})()`); got != "1,234,567,890,123,456.78 90,071,992,547,409.91 -0.05 −1,234,567,890,123,456.78" {
		t.Errorf("amounts with 2 decimals: %q", got)
	}
	clean(t, br, host.URL, b.base)
}

// TestWidgetsBigNumbersWithoutSourceText: in a browser whose JSON.parse
// gives revivers no source text, a number beyond 2^53 cannot be read
// exactly, so the widgets say it is too large to show rather than show a
// wrong one; numbers that fit still show.
func TestWidgetsBigNumbersWithoutSourceText(t *testing.T) {
	b := setup(t, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), false)
	seedBig(t, b)
	host := bigPage(t, b, []string{"huge", "bob"})
	br := browser(t)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(host.URL+"/old")); err != nil {
		t.Fatal(err)
	}
	waitStates(t, br, ".customer > *", "loaded")
	for _, want := range []bigCustomer{
		{"huge", "Too large to show", "", "Too large to show"},
		{"bob", "499", "", "1 of 500 credits used"},
	} {
		if got := shown(t, br, want.id); got != want {
			t.Errorf("%s's widgets show %+v, want %+v", want.id, got, want)
		}
	}
	text := eval[string](t, br, `Array.from(document.querySelectorAll("#huge > *")).map(function (e) { return e.shadowRoot.textContent; }).join(" ")`)
	if strings.Contains(text, "1,000,000,000,000,000,") || strings.Contains(text, "NaN") {
		t.Errorf("huge's widgets show a number they could not read: %q", text)
	}
	if got := eval[string](t, br, `document.querySelector("#huge creditkit-grants").shadowRoot.querySelector("tbody tr:last-child .num").textContent`); got != "Too large to show/ Too large to show" {
		t.Errorf("huge's big grant shows %q", got)
	}
	clean(t, br, host.URL, b.base)
}
