package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// corsCall sends a request with an Origin header, outside the contract
// checker (a preflight is not an API operation), and returns the answer.
func corsCall(t *testing.T, method, url, origin, token string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	client.CloseIdleConnections()
	return res
}

// preflight asks, as a browser does, whether origin may call method on url
// with an Authorization header.
func preflight(t *testing.T, method, url, origin string) *http.Response {
	t.Helper()
	return corsCall(t, http.MethodOptions, url, origin, "",
		"Access-Control-Request-Method", method, "Access-Control-Request-Headers", "authorization")
}

// TestCORSForCustomerTokenReads: pages on an allowed origin may read the
// endpoints a customer token may call (GET, Authorization, no cookies), and
// nothing else; without AllowWidgetOrigins no answer carries CORS headers.
func TestCORSForCustomerTokenReads(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := newEnv(t, url, nil)
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100})
		tok := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil).body, "token")
		const app = "http://app.example:3000"
		reads := []string{"/v1/customers/alice/balance", "/v1/customers/alice/grants", "/v1/customers/alice/ledger",
			"/v1/customers/alice/usage", "/v1/customers/alice"}

		// Off by default.
		if res := corsCall(t, "GET", e.base+reads[0], app, tok); res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("without AllowWidgetOrigins: %d, Access-Control-Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		if res := preflight(t, "GET", e.base+reads[0], app); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("a preflight without AllowWidgetOrigins was allowed")
		}

		// Any origin.
		if err := e.srv.AllowWidgetOrigins([]string{"*"}); err != nil {
			t.Fatal(err)
		}
		for _, path := range reads {
			res := preflight(t, "GET", e.base+path, app)
			if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
				res.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
				t.Errorf("preflight of GET %s: %d %v", path, res.StatusCode, res.Header)
			}
			res = corsCall(t, "GET", e.base+path, app, tok)
			if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("GET %s from %s: %d, Access-Control-Allow-Origin %q", path, app, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
			}
		}
		// A refusal is readable too, so that a widget can say why.
		res := corsCall(t, "GET", e.base+"/v1/customers/bob/balance", app, tok)
		if res.StatusCode != 403 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("alice's token on bob: %d, Access-Control-Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		// Never with credentials, never for writes or other endpoints.
		for _, c := range []struct{ method, path string }{
			{"POST", "/v1/customers/alice/spend"},
			{"POST", "/v1/customers/alice/grants"},
			{"POST", "/v1/customers/alice/tokens"},
			{"POST", "/v1/customers/alice/check"},
			{"GET", "/v1/customers"},
			{"GET", "/v1/webhooks/endpoints"},
			{"GET", "/v1/operations"},
			{"DELETE", "/v1/customers/alice/subscription"},
		} {
			res := preflight(t, c.method, e.base+c.path, app)
			if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("preflight of %s %s allowed: %v", c.method, c.path, res.Header)
			}
		}
		if res := corsCall(t, "GET", e.base+"/v1/customers", app, e.read); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET /v1/customers carries Access-Control-Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
		res = preflight(t, "GET", e.base+reads[0], app)
		if res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("Access-Control-Allow-Credentials sent")
		}
		res = corsCall(t, http.MethodOptions, e.base+reads[0], app, "",
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization, x-custom")
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("a preflight asking for an unknown header was allowed")
		}

		// A list of origins: the one listed is echoed, another gets nothing.
		if err := e.srv.AllowWidgetOrigins([]string{"https://app.example", app}); err != nil {
			t.Fatal(err)
		}
		res = corsCall(t, "GET", e.base+reads[0], app, tok)
		if res.Header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("listed origin: Access-Control-Allow-Origin %q, Vary %q", res.Header.Get("Access-Control-Allow-Origin"), res.Header.Values("Vary"))
		}
		res = corsCall(t, "GET", e.base+reads[0], "https://evil.example", tok)
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("an origin not listed got Access-Control-Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
		if res := preflight(t, "GET", e.base+reads[0], "https://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("a preflight from an origin not listed was allowed")
		}

		// Bad origins are refused with a message that says what to write.
		for _, bad := range []string{"app.example", "https://app.example/path", "ftp://app.example", "https://"} {
			err := e.srv.AllowWidgetOrigins([]string{bad})
			if err == nil || !strings.Contains(err.Error(), "such as https://app.example.com") {
				t.Errorf("AllowWidgetOrigins(%q): %v", bad, err)
			}
		}
		// An empty list turns CORS off again.
		if err := e.srv.AllowWidgetOrigins(nil); err != nil {
			t.Fatal(err)
		}
		if res := corsCall(t, "GET", e.base+reads[0], app, tok); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("CORS still on after AllowWidgetOrigins(nil)")
		}
	})
}
