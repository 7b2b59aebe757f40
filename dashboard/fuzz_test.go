package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/dashboard"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
)

// fuzzActions are the action routes FuzzActions posts to, by its action
// byte; extra is the form field the action's own value goes in.
var fuzzActions = []struct{ route, extra string }{
	{"grant", "category"},
	{"grant", "expires_in"},
	{"void", "grant"},
	{"adjust", "direction"},
	{"reverse", "entry"},
	{"plan", "plan"},
	{"token", "ttl"},
	{"replay", "reason"},
}

// FuzzActions posts mutated forms to every dashboard action as a
// signed-in admin with a valid CSRF token (in the header or the form), and
// the same with a mutated token or session cookie. The handler is called
// directly, so a panic fails the fuzz run. Properties: no answer is 5xx;
// a post with a bad token or cookie is refused (401/403) and moves
// nothing; an action moves the credit of its page's customer only; an
// answer that is an error (not 200, or a form showing its
// error) moves no credit; the ledger's invariants hold after every post
// that moved credit.
// extra "@grant" and "@entry" stand for alice's newest grant and charge,
// so that voids and reversals can succeed.
//
// One ledger (SQLite; PostgreSQL with CREDITKIT_FUZZ_POSTGRES=1) serves
// the whole run.
//
//	go test ./dashboard -run '^$' -fuzz FuzzActions -fuzztime 60s
func FuzzActions(f *testing.F) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "creditkit-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		f.Fatal(err)
	}
	clock := creditkit.NewManualClock(time.Now().UTC().Truncate(time.Second))
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
	h, err := dashboard.New(ctx, l, &dashboard.Options{KeyCacheTTL: -1})
	if err != nil {
		f.Fatal(err)
	}
	st := l.Store().(store.ServerStore)
	_, admin, err := auth.CreateKey(ctx, st, "Ada Admin", store.ScopeAdmin, clock.Now())
	if err != nil {
		f.Fatal(err)
	}
	if _, err := l.Grant(ctx, "alice", 100000, &creditkit.GrantOpts{Reason: "seed", Actor: "seed"}); err != nil {
		f.Fatal(err)
	}
	for range 20 {
		if _, err := l.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": "3"}, &creditkit.SpendOpts{Actor: "seed"}); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := l.CreateCustomer(ctx, "carol", &creditkit.CustomerOpts{Name: "Carol"}); err != nil {
		f.Fatal(err)
	}

	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	// Sign in once; every exec posts with this session.
	login := httptest.NewRequest(http.MethodPost, dashboard.Path+"/login",
		strings.NewReader(url.Values{"key": {admin}, "next": {dashboard.Path + "/"}}.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	login.Header.Set("Sec-Fetch-Site", "same-origin")
	lw := serve(login)
	cookies := lw.Result().Cookies()
	if lw.Code != http.StatusSeeOther || len(cookies) == 0 {
		f.Fatalf("sign in: %d %s", lw.Code, lw.Body)
	}
	get := httptest.NewRequest(http.MethodGet, dashboard.Path+"/customers/alice", nil)
	for _, c := range cookies {
		get.AddCookie(c)
	}
	gw := serve(get)
	m := csrfField.FindStringSubmatch(gw.Body.String())
	if gw.Code != http.StatusOK || m == nil {
		f.Fatalf("no CSRF token: %d", gw.Code)
	}
	csrf := m[1]

	// mode: 0 token in the header (htmx); 1 token in the form field (plain
	// form); 2 a mutated token; 3 a mutated session cookie; 4 no cookie.
	for i, s := range []struct {
		action                               uint8
		customer, amount, reason, extra, idm string
	}{
		{0, "alice", "250", "goodwill", "goodwill", "k1"},
		{0, "alice", "250", "goodwill", "goodwill", "k1"},
		{1, "bob", "12.5", "expiring", "30d", ""},
		{1, "bob", "5", "expiring", "P1M", ""},
		{2, "alice", "", "given by mistake", "@grant", "k2"},
		{2, "alice", "10", "part of it", "@grant", ""},
		{2, "bob", "", "not bob's", "@grant", ""},
		{3, "alice", "10", "double charge", "remove", "k3"},
		{3, "alice", "7", "make good", "add", ""},
		{3, "dave", "99999999999999999999", "huge", "remove", ""},
		// Another customer's charge, from bob's page: refused (it was
		// reversed, on alice's wallet).
		{4, "bob", "", "not bob's", "@entry", ""},
		{4, "alice", "", "refund", "@entry", "k4"},
		{4, "alice", "3", "part refund", "@entry", ""},
		{5, "alice", "", "upgrade", "pro", "k5"},
		{5, "carol", "", "start", "free", ""},
		{5, "carol", "", "unknown", "enterprise", ""},
		{6, "alice", "", "ticket 42", "1h", ""},
		{6, "alice", "", "too long", "48h", ""},
		{6, "nobody", "", "ticket", "", ""},
		{7, "wd_nope", "", "", "", ""},
		{0, "alice", "-5", "negative", "", ""},
		{0, "alice", "0", "zero", "", ""},
		{0, "alice", "1e309", "overflow", "", ""},
		{0, "alice", "5 nosuchunit", "unit", "", ""},
		{0, "alice", "5", "", "", ""},
		{0, "alice", "5", strings.Repeat("x", 501), "", ""},
		{0, "a/b?c", "5", "odd name", "", ""},
		{0, "", "5", "no name", "", ""},
		{0, strings.Repeat("c", 300), "5", "long name", "", ""},
		{3, "alice", "5", "no direction", "", ""},
		{0, "alice", "\x00", "\xff\xfe", "\x00", "\x00"},
		{0, "alice", "5", "nul \x00 byte", "cat\x00", "nul\x00"},
		{3, "alice", "5", "nul \x00 byte", "add", ""},
		{0, "alice", "5", "nul key", "goodwill", "nul\x00"},
		{0, "alice", "5", "nul category", "cat\x00", ""},
		{5, "carol", "", "nul plan key", "pro", "nul\x00"},
	} {
		f.Add(s.action, s.customer, s.amount, s.reason, s.extra, s.idm, uint8(i%2))
		if i%5 == 0 {
			f.Add(s.action, s.customer, s.amount, s.reason, s.extra, s.idm, uint8(2+i/5%3))
		}
	}

	newest := func(t *testing.T, charge bool) string {
		if charge {
			hist, err := l.History(ctx, "alice", &creditkit.HistoryFilter{Type: creditkit.EntryCharge, Newest: true, Limit: 1})
			if err != nil || len(hist) == 0 {
				return "e_none"
			}
			return hist[0].ID
		}
		gs, err := l.Grants(ctx, "alice", nil)
		if err != nil || len(gs) == 0 {
			return "g_none"
		}
		return gs[len(gs)-1].ID
	}
	f.Fuzz(func(t *testing.T, action uint8, customer, amount, reason, extra, idm string, mode uint8) {
		a := fuzzActions[int(action)%len(fuzzActions)]
		switch extra {
		case "@grant":
			extra = newest(t, false)
		case "@entry":
			extra = newest(t, true)
		}
		form := url.Values{"amount": {amount}, "reason": {reason}, a.extra: {extra}, "idem": {idm}}
		path := dashboard.Path + "/customers/" + url.PathEscape(customer) + "/" + a.route
		if a.route == "replay" {
			path = dashboard.Path + "/webhooks/" + url.PathEscape(customer) + "/replay"
		}
		mode %= 5
		token := csrf
		if mode == 2 {
			token = mutate(csrf, idm)
		}
		if mode == 1 {
			form.Set("csrf", token)
		}
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if mode != 1 {
			r.Header.Set("HX-Request", "true")
			r.Header.Set("X-CSRF-Token", token)
		}
		for _, c := range cookies {
			switch mode {
			case 3:
				// Raw, as a client may send it: AddCookie would drop the
				// bytes a cookie cannot hold and so undo the mutation.
				r.Header.Add("Cookie", c.Name+"="+mutate(c.Value, idm))
			case 4:
			default:
				r.AddCookie(c)
			}
		}
		before := storetest.WalletBalances(t, l)
		w := serve(r)
		body := w.Body.String()
		if w.Code >= 500 {
			t.Fatalf("POST %s %v answered %d:\n%s", path, form, w.Code, body)
		}
		if mode >= 2 && w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden &&
			w.Code != http.StatusNotFound && w.Code != http.StatusMovedPermanently && w.Code != http.StatusTemporaryRedirect {
			t.Fatalf("POST %s with a bad token or cookie (mode %d) answered %d", path, mode, w.Code)
		}
		failed := w.Code != http.StatusOK || strings.Contains(body, `class="flash err"`)
		after := storetest.WalletBalances(t, l)
		if storetest.SameBalances(before, after) {
			return
		}
		if failed {
			t.Fatalf("POST %s %v answered an error (%d) but moved credit: %v -> %v\n%s", path, form, w.Code, before, after, body)
		}
		// An action on a customer's page moves that customer's credit only.
		for k, v := range after {
			if before[k] != v && !strings.HasPrefix(k, customer+"/") {
				t.Fatalf("POST %s %v moved %s's credit: %v -> %v", path, form, k, before[k], v)
			}
		}
		// Something moved: the ledger's invariants still hold (checked
		// only then, as they read every wallet's whole history).
		storetest.CheckInvariants(t, l)
	})
}

// mutate returns s changed where seed says (a token or cookie a client
// tampered with), never s itself.
func mutate(s, seed string) string {
	if seed == "" {
		return s + "x"
	}
	i := len(seed) % (len(s) + 1)
	out := s[:i] + seed + s[i:]
	if out == s {
		return s + "x"
	}
	return out
}
