package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/dashboard"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// testGrace is how long a test server's shutdown waits for requests in
// flight: long, so that a loaded machine does not fail a test that passed,
// and it costs nothing when none is in flight.
const testGrace = 30 * time.Second

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

const testConfig = `
low_balance: 10 credits
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
plans:
  free:
    gives: 100 credits every month
  pro:
    gives: 1000 credits every month
  metered:
    gives: 100 credits every month
    overage: up to 500 credits
    overage_price: 1 USD per 100 credits
packs:
  starter: { gives: 1000 credits, costs: 49 USD }
`

// env is a real server on 127.0.0.1 (the HTTP API with the dashboard
// mounted) over a seeded ledger, with a key of each scope.
type env struct {
	t     *testing.T
	l     *creditkit.Ledger
	st    store.ServerStore
	clock *creditkit.ManualClock
	base  string
	// admin, write and read are key secrets; adminID and readID their IDs.
	admin, write, read string
	adminID, readID    string
	// seedDays are the days (UTC midnights) of alice's seeded charges and
	// seedUsage what each day charged, by operation.
	seedDays  []time.Time
	seedUsage map[string][]float64
}

// pgURL is a fresh PostgreSQL database for the test.
func pgURL(t *testing.T) string { return pgtest.NewDatabaseURL(t, cluster) }

// sqliteURL is a fresh SQLite database for the test.
func sqliteURL(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "creditkit.db") }

// newEnv opens a ledger on dbURL, seeds alice, bob and carol, and serves the
// API with the dashboard on 127.0.0.1:0.
func newEnv(t *testing.T, dbURL string) *env {
	t.Helper()
	return newEnvWith(t, dbURL, &httpapi.Options{})
}

// newEnvWith is newEnv with the server's options (its logger and metrics
// registry, say); the dashboard records into the server's audit log, as in
// serve.
func newEnvWith(t *testing.T, dbURL string, o *httpapi.Options) *env {
	t.Helper()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	// A manual clock close to the wall clock: the browser judges cookies
	// by its own clock, and the seeded days stay fixed during the test.
	clock := creditkit.NewManualClock(time.Now().UTC().Truncate(time.Second))
	cfg.Clock = clock
	l, err := creditkit.Open(ctx, dbURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.KeyCacheTTL = -1
	srv, err := httpapi.New(ctx, l, o)
	if err != nil {
		t.Fatal(err)
	}
	h, err := dashboard.New(ctx, l, &dashboard.Options{KeyCacheTTL: -1, Audit: srv.AuditLog(), Logger: o.Logger})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(dashboard.Path+"/", h)
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
	e := &env{t: t, l: l, st: l.Store().(store.ServerStore), clock: clock, base: "http://" + ln.Addr().String()}
	var k *store.APIKey
	k, e.admin = e.key("Ada Admin", store.ScopeAdmin)
	e.adminID = k.ID
	_, e.write = e.key("Will Write", store.ScopeWrite)
	k, e.read = e.key("Rita Read", store.ScopeRead)
	e.readID = k.ID
	e.seed()
	return e
}

// key creates an API key and returns it and its secret.
func (e *env) key(name, scope string) (*store.APIKey, string) {
	e.t.Helper()
	k, secret, err := auth.CreateKey(context.Background(), e.st, name, scope, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return k, secret
}

// seed gives alice a grant and charges on the last three days, bob a
// grant, and carol nothing but her name.
func (e *env) seed() {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.l.Grant(ctx, "alice", 1000, &creditkit.GrantOpts{Reason: "signup_bonus", Actor: "seed"}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.l.Grant(ctx, "bob", 250, &creditkit.GrantOpts{Reason: "trial", Actor: "seed"}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.l.CreateCustomer(ctx, "carol", &creditkit.CustomerOpts{Name: "Carol"}); err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	e.seedUsage = map[string][]float64{"send_email": {0, 0, 0}, "process_image": {0, 0, 0}}
	spends := []struct {
		daysAgo int
		op      string
		params  creditkit.Params
		cost    float64
	}{
		{2, "send_email", nil, 1},
		{2, "process_image", creditkit.Params{"mb": "5"}, 15},
		{1, "send_email", nil, 1},
		{1, "send_email", nil, 1},
		{0, "process_image", creditkit.Params{"mb": "2"}, 12},
	}
	for i := 2; i >= 0; i-- {
		e.seedDays = append(e.seedDays, today.AddDate(0, 0, -i))
	}
	for _, s := range spends {
		// An hour after midnight, or now when that is later than now.
		at := today.AddDate(0, 0, -s.daysAgo).Add(time.Hour)
		if at.After(now) {
			at = now
		}
		if _, err := e.l.Spend(ctx, "alice", s.op, s.params, &creditkit.SpendOpts{OccurredAt: at, Actor: "seed"}); err != nil {
			e.t.Fatal(err)
		}
		e.seedUsage[s.op][2-s.daysAgo] += s.cost
	}
}

// available is a customer's available balance now.
func (e *env) available(customer string) creditkit.Amount {
	e.t.Helper()
	b, err := e.l.Balance(context.Background(), customer, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return b.Available
}

// client is a cookie-keeping HTTP client of the dashboard, as a browser
// without script would be.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer: status, headers and body.
type page struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values, header map[string]string) page {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.base+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(path string) page { return c.do(http.MethodGet, path, nil, nil) }

// post sends a form as htmx does, with the CSRF header when csrf is set.
func (c *client) post(path string, form url.Values, csrf string) page {
	h := map[string]string{"HX-Request": "true"}
	if csrf != "" {
		h["X-CSRF-Token"] = csrf
	}
	return c.do(http.MethodPost, path, form, h)
}

// signIn signs in with a key and returns the session's CSRF token.
func (c *client) signIn(secret string) string {
	c.e.t.Helper()
	p := c.do(http.MethodPost, "/dashboard/login", url.Values{"key": {secret}, "next": {"/dashboard/"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/" {
		c.e.t.Fatalf("sign in: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	return c.csrf()
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the session's CSRF token from a page.
func (c *client) csrf() string {
	c.e.t.Helper()
	p := c.get("/dashboard/customers/alice")
	m := csrfField.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		c.e.t.Fatalf("no CSRF token on the customer page: %d\n%s", p.status, p.body)
	}
	return m[1]
}

// mustContain fails unless the page has every string.
func (p page) mustContain(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Fatalf("page (%d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

// idem returns a fresh idempotency key for a form.
func idem(t *testing.T, n int) string {
	return fmt.Sprintf("test-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), n)
}
