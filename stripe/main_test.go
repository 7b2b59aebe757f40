package stripe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/internal/stripetest"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/stripe"
)

// testGrace is how long a test server's shutdown waits for requests in
// flight: long, so that a loaded machine does not fail a test that passed,
// and it costs nothing when none is in flight.
const testGrace = 30 * time.Second

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

const testConfig = `
currencies:
  - { name: credits, decimals: 0 }
operations:
  work: 1 credit
plans:
  basic:
    stripe_price: { month: price_basic_m }
    gives: 100 credits every month
  pro:
    stripe_price: { month: price_pro_m, year: price_pro_y }
    gives: 1000 credits every month
    overage: up to 500 credits
    overage_price: 1 USD per 100 credits
packs:
  starter: { gives: 1000 credits, costs: 49 USD }
  priced: { gives: 500 credits, costs: 29 USD, stripe_price: price_pack_priced }
`

const whsec = "whsec_test_secret"

// epoch is where the tests' ledger clocks start.
var epoch = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// storeURLs names the databases the tests run on.
func storeURLs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "creditkit.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabaseURL(t, cluster) },
	}
}

// eachStore runs fn on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, url string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { fn(t, storeURLs(t)[name](t)) })
	}
}

// fakeState sits in front of stripe-mock as stripe-go's transport. Every
// request goes to stripe-mock, which checks it against Stripe's OpenAPI
// spec and answers from its fixtures; the request is recorded. stripe-mock
// keeps no state, so a GET of an object the test has set (a checkout
// session now paid, a subscription now paused) answers the test's JSON
// instead of the fixture, once stripe-mock has answered 200: this is the
// state Stripe would hold.
type fakeState struct {
	mu       sync.Mutex
	next     http.RoundTripper
	objects  map[string]string
	requests []recorded
}

// recorded is one request that reached stripe-mock.
type recorded struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
}

func newFakeState() *fakeState {
	return &fakeState{next: http.DefaultTransport.(*http.Transport).Clone(), objects: map[string]string{}}
}

func (f *fakeState) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.requests = append(f.requests, recorded{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"), Form: form})
	obj, ok := f.objects[r.URL.Path]
	f.mu.Unlock()
	resp, err := f.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || !ok || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(obj))
	resp.ContentLength = int64(len(obj))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// set makes Stripe hold obj at path, such as /v1/subscriptions/sub_1.
func (f *fakeState) set(path string, obj any) {
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[path] = string(b)
}

// sent returns the recorded requests of a method and path prefix.
func (f *fakeState) sent(method, prefix string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.requests {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// env is a real server on 127.0.0.1 with the Stripe adapter pointed at
// stripe-mock (through fakeState).
type env struct {
	t     *testing.T
	l     *creditkit.Ledger
	clock *creditkit.ManualClock
	p     *stripe.Provider
	fake  *fakeState
	base  string
	key   string
}

// newEnv opens a ledger on dbURL and serves it with the adapter.
func newEnv(t *testing.T, dbURL, mockURL string, fake *fakeState, tweak func(*stripe.Options)) *env {
	t.Helper()
	return newEnvConfig(t, dbURL, mockURL, fake, nil, tweak)
}

// newEnvConfig is newEnv with a chance to adjust the config.
func newEnvConfig(t *testing.T, dbURL, mockURL string, fake *fakeState, adjust func(*creditkit.Config), tweak func(*stripe.Options)) *env {
	t.Helper()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	if adjust != nil {
		adjust(cfg)
	}
	clock := creditkit.NewManualClock(epoch)
	cfg.Clock = clock
	l, err := creditkit.Open(ctx, dbURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts := &stripe.Options{SecretKey: "sk_test_123", WebhookSecret: whsec, APIURL: mockURL,
		HTTPClient: &http.Client{Transport: fake, Timeout: 30 * time.Second}, PastDueGrace: 48 * time.Hour}
	if tweak != nil {
		tweak(opts)
	}
	p, err := stripe.New(l, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1, Checkout: p})
	if err != nil {
		t.Fatal(err)
	}
	p.Mount(srv)
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
	_, key, err := httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "test", store.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, l: l, clock: clock, p: p, fake: fake, base: "http://" + ln.Addr().String(), key: key}
}

// setup starts stripe-mock and one server on dbURL.
func setup(t *testing.T, dbURL string) *env {
	t.Helper()
	return newEnv(t, dbURL, stripetest.Start(t), newFakeState(), nil)
}

// call sends an API request with the admin key and decodes the answer.
func (e *env) call(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(e.t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s answered %s: %s", req.Method, req.URL.Path, resp.Status, b)
		}
	}
	return resp.StatusCode, out
}

// stripeEvent builds a Stripe event's JSON.
func stripeEvent(id, typ string, obj any) []byte {
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": "2025-01-01",
		"created": time.Now().Unix(), "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": obj}})
	if err != nil {
		panic(err)
	}
	return b
}

// signed returns payload and its Stripe-Signature header, signed at ts
// with secret.
func signed(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}

// post delivers a webhook body with a signature header to base.
func post(t *testing.T, base string, payload []byte, sig string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+stripe.WebhookPath, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	return do(t, req)
}

// send delivers a correctly signed event and wants 200.
func (e *env) send(id, typ string, obj any) map[string]any {
	e.t.Helper()
	payload := stripeEvent(id, typ, obj)
	status, out := post(e.t, e.base, payload, signed(payload, whsec, time.Now()))
	if status != http.StatusOK {
		e.t.Fatalf("event %s %s: %d %v", id, typ, status, out)
	}
	return out
}

// balance returns a customer's available credits (0 for one never seen).
func (e *env) balance(customer string) creditkit.Amount {
	e.t.Helper()
	b, err := e.l.Balance(context.Background(), customer, nil)
	if creditkit.ErrorCodeOf(err) == creditkit.CodeCustomerNotFound {
		return 0
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return b.Available
}

func (e *env) wantBalance(customer string, want creditkit.Amount, when string) {
	e.t.Helper()
	if got := e.balance(customer); got != want {
		e.t.Fatalf("%s: %s has %d available, want %d", when, customer, got, want)
	}
}

// subscriptionObj is a Stripe subscription as Stripe would hold it.
func subscriptionObj(id, stripeCustomer, price, status string, paused bool) map[string]any {
	var pause any
	if paused {
		pause = map[string]any{"behavior": "void"}
	}
	return map[string]any{"id": id, "object": "subscription", "status": status, "customer": stripeCustomer,
		"cancel_at_period_end": false, "pause_collection": pause, "metadata": map[string]any{},
		"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_" + id, "object": "subscription_item",
			"price": map[string]any{"id": price, "object": "price"}}}}}
}

func nowT() time.Time { return time.Now() }

func itoa(n int64) string { return fmt.Sprint(n) }

// mockURL starts stripe-mock for the test.
func mockURL(t *testing.T) string { return stripetest.Start(t) }
