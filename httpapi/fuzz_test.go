package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// fuzzRoutes are the requests the fuzzer mutates: method, path (with {g},
// {h} and {e} standing for a real grant, hold and entry) and a seed body.
var fuzzRoutes = []struct{ method, path, seed string }{
	{"POST", "/v1/customers/fz/grants", `{"amount":5,"expires_in":"1d","effective_at":"2030-01-01T00:00:00Z"}`},
	{"POST", "/v1/customers/fz/spend", `{"operation":"process_image","params":{"mb":1.5}}`},
	{"POST", "/v1/customers/fz/spend", `{"amount":1,"reason":"call"}`},
	{"POST", "/v1/customers/fz/check", `{"operation":"send_email"}`},
	{"POST", "/v1/estimate", `{"operation":"process_image","params":{"mb":"2"}}`},
	{"POST", "/v1/customers/fz/holds", `{"amount":1,"ttl":"5m"}`},
	{"POST", "/v1/holds/{h}/capture", `{"amount":1}`},
	{"POST", "/v1/transfers", `{"from":"fz","to":"fy","amount":1}`},
	{"POST", "/v1/grants/{g}/void", `{"amount":1,"reason":"x"}`},
	{"PATCH", "/v1/grants/{g}", `{"expires_at":"2031-01-01T00:00:00Z","reason":"x"}`},
	{"POST", "/v1/entries/{e}/reverse", `{"amount":1,"reason":"x"}`},
	{"PUT", "/v1/customers/fz/balance-alerts", `{"thresholds":[{"amount":5},{"percent":10}]}`},
	{"POST", "/v1/events", `{"events":[{"customer":"fz","operation":"send_email","idempotency_key":"k1"}]}`},
	{"POST", "/v1/customers/fz/tokens", `{"ttl":"1h"}`},
	{"GET", "/v1/customers/fz/ledger?limit=2&type=charge&since=2020-01-01T00:00:00Z", ``},
	{"GET", "/v1/customers/fz/usage?by=operation&interval=day", ``},
}

// FuzzRequests sends mutated bodies to every write route and mutated query
// strings to reads. Whatever the input, the server answers (no 5xx other
// than 503), and the ledger stays consistent and keeps working.
func FuzzRequests(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), r.seed, "")
	}
	f.Add(uint8(0), `{"amount":1,"effective_at":"9999-12-31T23:59:59Z","expires_in":"1d"}`, "")
	f.Add(uint8(0), `{"amount":1e30}`, "")
	f.Add(uint8(1), `{"operation":"process_image","params":{"mb":1,"foo":"\u0000"}}`, "")
	f.Add(uint8(9), `{"never_expires":true,"expires_at":"0000-01-01T00:00:00Z"}`, "")
	f.Add(uint8(14), ``, "since=9999-99-99&until=x&cursor=%ff")

	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("fuzz.yaml", []byte(testConfig))
	if err != nil {
		f.Fatal(err)
	}
	l, err := creditkit.Open(ctx, "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { l.Close() })
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1})
	if err != nil {
		f.Fatal(err)
	}
	_, key, err := httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "fuzz", store.ScopeAdmin, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	g, err := l.Grant(ctx, "fz", 1_000_000, nil)
	if err != nil {
		f.Fatal(err)
	}
	h, err := l.Hold(ctx, "fz", "", nil, &creditkit.HoldOpts{Amount: ptr[creditkit.Amount](10), TTL: 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	e, err := l.Debit(ctx, "fz", 100, nil)
	if err != nil {
		f.Fatal(err)
	}
	ids := strings.NewReplacer("{g}", g.ID, "{h}", h.ID, "{e}", e.ID)
	handler := srv.Handler()

	f.Fuzz(func(t *testing.T, route uint8, body, query string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := ids.Replace(r.path)
		if query != "" {
			if strings.Contains(target, "?") {
				target += "&" + query
			} else {
				target += "?" + query
			}
		}
		req, err := http.NewRequest(r.method, "http://fuzz"+target, bytes.NewReader([]byte(body)))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: status %d\n%s", r.method, target, body, rec.Code, rec.Body)
		}
		bal, err := l.Balance(ctx, "fz", nil)
		if err != nil {
			t.Fatalf("balance after %s %s: %v", r.method, target, err)
		}
		if bal.Available < 0 {
			t.Fatalf("negative balance %d after %s %s %q", bal.Available, r.method, target, body)
		}
		entries, err := l.History(ctx, "fz", &creditkit.HistoryFilter{Limit: 1, Newest: true})
		if err != nil || len(entries) == 0 {
			t.Fatalf("history: %v", err)
		}
		if got, want := entries[0].BalanceAfter, bal.Available+bal.Held+bal.Scheduled; got != want {
			t.Fatal(fmt.Sprintf("last entry's balance_after %d, balance says %d", got, want))
		}
	})
}

func ptr[T any](v T) *T { return &v }
