package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/httpapi"
)

// TestCustomerTokens: a token for alice reads alice's balance, grants,
// ledger and usage, and nothing else.
func TestCustomerTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 10})
		e.must(201, "POST", "/v1/customers/bob/grants", e.write, map[string]any{"amount": 20})
		tok := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil).body, "token")
		// A read key cannot mint tokens.
		e.must(403, "POST", "/v1/customers/alice/tokens", e.read, nil)

		for _, p := range []string{"balance", "grants", "ledger", "usage"} {
			if r := e.must(200, "GET", "/v1/customers/alice/"+p, tok, nil); p == "balance" && num(r.body, "available") != 10 {
				t.Fatalf("alice's balance through her token: %s", r.raw)
			}
			if r := e.do("GET", "/v1/customers/bob/"+p, tok, nil); r.status != 403 || str(r.body, "code") != "forbidden" {
				t.Fatalf("alice's token read bob's %s: %d %s", p, r.status, r.raw)
			}
		}
		for _, c := range []struct{ method, path string }{
			{"POST", "/v1/customers/alice/spend"},
			{"POST", "/v1/customers/alice/grants"},
			{"POST", "/v1/customers/alice/check"},
			{"GET", "/v1/operations"},
			{"GET", "/v1/webhook-endpoints"},
		} {
			if r := e.do(c.method, c.path, tok, map[string]any{"operation": "send_email"}); r.status != 403 {
				t.Fatalf("token may %s %s: %d %s", c.method, c.path, r.status, r.raw)
			}
		}
		if e.available("alice") != 10 {
			t.Fatalf("alice's token moved credits")
		}
		// Tampered and foreign tokens are refused.
		tampered := strings.Replace(tok, tok[5:9], "AAAA", 1)
		if r := e.do("GET", "/v1/customers/alice/balance", tampered, nil); r.status != 401 {
			t.Fatalf("tampered token: %d", r.status)
		}
		other := newEnv(t, storeURLs(t)["sqlite"](t), nil)
		foreign := str(other.must(201, "POST", "/v1/customers/alice/tokens", other.write, nil).body, "token")
		if r := e.do("GET", "/v1/customers/alice/balance", foreign, nil); r.status != 401 {
			t.Fatalf("a token signed by another server's key: %d", r.status)
		}
		if r := e.do("POST", "/v1/customers/alice/tokens", e.write, map[string]any{"ttl": "48h"}); r.status != 422 {
			t.Fatalf("48h token: %d", r.status)
		}
	})
}

// TestExpiredToken: a token stops working when its TTL passes (the ledger's
// clock decides).
func TestExpiredToken(t *testing.T) {
	clock := creditkit.NewManualClock(timeZero())
	e := newEnv(t, storeURLs(t)["sqlite"](t), func(cfg *creditkit.Config, _ *httpapi.Options) { cfg.Clock = clock })
	e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "alice"}) // balances are read of known customers
	tok := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, map[string]any{"ttl": "10m"}).body, "token")
	e.must(200, "GET", "/v1/customers/alice/balance", tok, nil)
	clock.Advance(11 * time.Minute)
	if r := e.do("GET", "/v1/customers/alice/balance", tok, nil); r.status != 401 {
		t.Fatalf("expired token: %d %s", r.status, r.raw)
	}
}

// TestIdempotentReplays: concurrent requests with one key charge once and
// all answer with the first response.
func TestIdempotentReplays(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100}, "Idempotency-Key", "g1")
		// A replayed grant returns the same grant.
		g := e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100}, "Idempotency-Key", "g1")
		if e.available("alice") != 100 {
			t.Fatalf("replayed grant granted again: %d", e.available("alice"))
		}
		var wg sync.WaitGroup
		ids := make([]string, 20)
		statuses := make([]int, 20)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do("POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 3}}, "Idempotency-Key", "s1")
				statuses[i], ids[i] = r.status, str(r.body, "id")
			}()
		}
		wg.Wait()
		for i := range ids {
			if statuses[i] != 200 || ids[i] != ids[0] || ids[0] == "" {
				t.Fatalf("replay %d: status %d id %q, want 200 %q", i, statuses[i], ids[i], ids[0])
			}
		}
		if e.available("alice") != 87 {
			t.Fatalf("available %d after 20 replays of one 13-credit spend, want 87", e.available("alice"))
		}
		// Void and capture replays too.
		v1 := e.must(200, "POST", "/v1/grants/"+str(g.body, "id")+"/void", e.write, nil, "Idempotency-Key", "v1")
		v2 := e.must(200, "POST", "/v1/grants/"+str(g.body, "id")+"/void", e.write, nil, "Idempotency-Key", "v1")
		if str(v1.body, "id") != str(v2.body, "id") {
			t.Fatalf("void replay: %s vs %s", v1.raw, v2.raw)
		}
	})
}

// TestOverloadAnswers503: past the write queue, callers get 503 with
// Retry-After and the code overloaded, and every acknowledged spend is in
// the ledger.
func TestOverloadAnswers503(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), func(cfg *creditkit.Config, _ *httpapi.Options) {
		cfg.Writes = creditkit.WriteConfig{QueueSize: 1, MaxBatch: 1}
	})
	e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100000})
	var mu sync.Mutex
	ok, overloaded := 0, 0
	for round := 0; round < 5 && overloaded == 0; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 128; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do("POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "send_email"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.status == 200:
					ok++
				case r.status == http.StatusServiceUnavailable && str(r.body, "code") == "overloaded" && r.header.Get("Retry-After") == "1":
					overloaded++
				default:
					t.Errorf("unexpected answer %d %s", r.status, r.raw)
				}
			}()
		}
		wg.Wait()
	}
	if overloaded == 0 {
		t.Fatal("no request was refused with 503 past a queue of 1")
	}
	if got := e.available("alice"); got != creditkit.Amount(100000-ok) {
		t.Fatalf("available %d, want %d: acknowledged spends and the ledger disagree", got, 100000-ok)
	}
	t.Logf("%d spends acknowledged, %d refused with 503", ok, overloaded)
}

// TestOpenAPIDocsHealthMetrics: the served document lists the endpoints,
// the docs page loads nothing from elsewhere, and the probes answer.
func TestOpenAPIDocsHealthMetrics(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	r := e.must(200, "GET", "/openapi.json", "", nil)
	if str(r.body, "openapi") != "3.1.0" {
		t.Fatalf("openapi version %q", str(r.body, "openapi"))
	}
	paths := r.body["paths"].(map[string]any)
	for _, p := range []string{
		"/v1/customers/{customer}/balance", "/v1/customers/{customer}/grants", "/v1/grants/{grant}/void",
		"/v1/customers/{customer}/spend", "/v1/customers/{customer}/check", "/v1/estimate", "/v1/customers/{customer}/holds",
		"/v1/holds/{hold}/capture", "/v1/holds/{hold}/release", "/v1/transfers", "/v1/customers/{customer}/ledger",
		"/v1/customers/{customer}/usage", "/v1/events", "/v1/operations", "/v1/webhook-endpoints", "/v1/customers/{customer}/tokens",
	} {
		if paths[p] == nil {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
	docs := e.must(200, "GET", "/docs", "", nil)
	page := string(docs.raw)
	for _, bad := range []string{"<script", "src=\"http", "href=\"http", "@import", "url(http"} {
		if strings.Contains(page, bad) {
			t.Errorf("docs page loads from elsewhere: contains %q", bad)
		}
	}
	if !strings.Contains(page, "/v1/customers/{customer}/spend") {
		t.Error("docs page does not list the spend endpoint")
	}
	e.must(200, "GET", "/healthz", "", nil)
	if r := e.must(200, "GET", "/readyz", "", nil); str(r.body, "status") != "ready" {
		t.Fatalf("readyz: %s", r.raw)
	}
	e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "alice"})
	e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "bob"})
	e.must(200, "GET", "/v1/customers/alice/balance", e.read, nil)
	e.must(200, "GET", "/v1/customers/bob/balance", "", nil, "Authorization", "bearer "+e.read) // the scheme ignores case
	m := e.must(200, "GET", "/metrics", "", nil)
	want := `creditkit_http_requests_total{method="GET",route="/v1/customers/{customer}/balance",status="200"} 2`
	if !strings.Contains(string(m.raw), want) {
		t.Fatalf("metrics lack %s", want)
	}
}

// TestAuthMessages: a Basic credential is told to use a Bearer API key,
// and a key short of its scope is told which key it needs, with the right
// article.
func TestAuthMessages(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	r := e.do("GET", "/v1/customers/alice/balance", "", nil, "Authorization", "Basic YWxpY2U6c2VjcmV0")
	if r.status != 401 || !strings.Contains(str(r.body, "detail"), "use a Bearer API key") || strings.Contains(str(r.body, "detail"), "missing") {
		t.Fatalf("Basic credential: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1/customers/alice/balance", "", nil); r.status != 401 || !strings.Contains(str(r.body, "detail"), "missing API key") {
		t.Fatalf("no credential: %d %s", r.status, r.raw)
	}
	r = e.do("GET", "/v1/webhook-endpoints", e.read, nil)
	if r.status != 403 || !strings.Contains(str(r.body, "detail"), "it needs an admin key") {
		t.Fatalf("read key on an admin route: %d %s", r.status, r.raw)
	}
	r = e.do("POST", "/v1/customers/alice/tokens", e.read, nil)
	if r.status != 403 || !strings.Contains(str(r.body, "detail"), "it needs a write key") {
		t.Fatalf("read key on a write route: %d %s", r.status, r.raw)
	}
}

// TestTokenMintChecksCustomer: a token cannot be minted for a customer ID
// the ledger refuses (here invalid UTF-8, which would have been read back
// as another customer's ID), and a token signature spelled in
// non-canonical base64 is refused.
func TestTokenMintChecksCustomer(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		for _, id := range []string{"victim%FFx", "victim%20x", "victim%0Ax"} {
			r := e.do("POST", "/v1/customers/"+id+"/tokens", e.write, nil)
			if r.status != 422 || str(r.body, "code") != "invalid_request" || !strings.Contains(str(r.body, "detail"), "customer") {
				t.Fatalf("mint a token for %s: %d %s", id, r.status, r.raw)
			}
		}
		// The other customer routes refuse such an ID the same way.
		if r := e.do("GET", "/v1/customers/victim%FFx/balance", e.read, nil); r.status != 422 {
			t.Fatalf("balance of victim\\xffx: %d %s", r.status, r.raw)
		}

		e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "alice"})
		tok := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil).body, "token")
		e.must(200, "GET", "/v1/customers/alice/balance", tok, nil)
		// The 32-byte signature is 43 base64 characters whose last one
		// carries 2 unused bits; setting one spells the same bytes in a
		// non-canonical way.
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, tok[len(tok)-1])
		if last%4 != 0 {
			t.Fatalf("token %s does not end in a canonical character", tok)
		}
		twin := tok[:len(tok)-1] + string(alphabet[last+1])
		if r := e.do("GET", "/v1/customers/alice/balance", twin, nil); r.status != 401 {
			t.Fatalf("a token with a non-canonical signature: %d %s", r.status, r.raw)
		}
	})
}

// TestKeyCacheOnLedgerClock: a key revoked in the database keeps working
// for the cache's TTL on the ledger's clock, then stops, without a sleep.
func TestKeyCacheOnLedgerClock(t *testing.T) {
	clock := creditkit.NewManualClock(timeZero())
	e := newEnv(t, storeURLs(t)["sqlite"](t), func(cfg *creditkit.Config, o *httpapi.Options) {
		cfg.Clock = clock
		o.KeyCacheTTL = 2 * time.Second
	})
	k, secret, err := httpapi.CreateKey(t.Context(), e.st, "cached", "read", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "alice"})
	e.must(200, "GET", "/v1/customers/alice/balance", secret, nil)
	if ok, err := e.st.RevokeAPIKey(t.Context(), k.ID, clock.Now()); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	clock.Advance(time.Second)
	e.must(200, "GET", "/v1/customers/alice/balance", secret, nil)
	clock.Advance(time.Second)
	if r := e.do("GET", "/v1/customers/alice/balance", secret, nil); r.status != 401 {
		t.Fatalf("revoked key after the cache TTL: %d %s", r.status, r.raw)
	}
}

// TestRotateTokenKey: after the signing key is rotated, tokens signed
// before are refused once the server rereads the key (its key cache TTL,
// on the ledger's clock), and new tokens work.
func TestRotateTokenKey(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		clock := creditkit.NewManualClock(timeZero())
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, o *httpapi.Options) {
			cfg.Clock = clock
			o.KeyCacheTTL = 2 * time.Second
		})
		e.must(201, "POST", "/v1/customers", e.write, map[string]any{"id": "alice"})
		old := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil).body, "token")
		e.must(200, "GET", "/v1/customers/alice/balance", old, nil)
		if err := auth.RotateTokenKey(t.Context(), e.st); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second)
		if r := e.do("GET", "/v1/customers/alice/balance", old, nil); r.status != 401 {
			t.Fatalf("a token signed before the rotation: %d %s", r.status, r.raw)
		}
		fresh := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil).body, "token")
		e.must(200, "GET", "/v1/customers/alice/balance", fresh, nil)
	})
}
