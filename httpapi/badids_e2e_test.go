package httpapi_test

import (
	"testing"
)

// TestIDsThatAreNotText: ids in a path that are not valid UTF-8 or hold a
// NUL (which PostgreSQL refuses) are answered 4xx on every lookup by id,
// never a 500, on both stores.
func TestIDsThatAreNotText(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := newEnv(t, url, withStarterPack)
		for _, bad := range []string{"%00", "%ff", "grt_%00x", "a%c3%28"} {
			for _, c := range []struct{ method, path string }{
				{"GET", "/v1/grants/" + bad},
				{"PATCH", "/v1/grants/" + bad},
				{"POST", "/v1/grants/" + bad + "/void"},
				{"GET", "/v1/holds/" + bad},
				{"POST", "/v1/holds/" + bad + "/capture"},
				{"POST", "/v1/holds/" + bad + "/release"},
				{"POST", "/v1/entries/" + bad + "/reverse"},
				{"GET", "/v1/purchases/manual/" + bad},
				{"POST", "/v1/purchases/manual/" + bad + "/refunds"},
				{"GET", "/v1/customers/" + bad},
				{"GET", "/v1/customers/" + bad + "/balance"},
				{"GET", "/v1/webhook-endpoints/" + bad},
				{"POST", "/v1/webhook-deliveries/" + bad + "/replay"},
				{"GET", "/v1/customers/alice/ledger?after=" + bad},
				{"GET", "/v1/customers?prefix=" + bad},
				{"GET", "/v1/audit?actor=" + bad},
				{"GET", "/v1/customers/alice/purchases?after=" + bad},
			} {
				var body any
				switch c.method {
				case "PATCH":
					body = map[string]any{"expires_at": "2031-01-01T00:00:00Z", "reason": "x"}
				case "POST":
					body = map[string]any{"refunded_total": 1, "reason": "x"}
				}
				r := e.do(c.method, c.path, e.admin, body)
				if r.status >= 500 {
					t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.raw)
				}
				if r.status != 422 && r.status != 404 && r.status != 403 {
					t.Errorf("%s %s: %d, want 422 (or 404) saying ids are text: %s", c.method, c.path, r.status, r.raw)
				}
			}
		}
	})
}
