package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/widgets"
)

// get fetches a URL with optional headers as name, value pairs.
func get(t *testing.T, client *http.Client, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestServeDemoWidgets: serve --demo serves /widgets.js and a demo page
// under a strict CSP whose embedded token reads alice and only alice, and
// lets pages on other origins read through CORS.
func TestServeDemoWidgets(t *testing.T) {
	t.Parallel()
	base, _, stop := startServe(t, &Main{Dir: t.TempDir()}, "serve", "--demo", "--addr", "127.0.0.1:0")
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	res, page := get(t, client, base+widgets.DemoPath)
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != widgets.DemoCSP || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s: %d %v", widgets.DemoPath, res.StatusCode, res.Header)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
		t.Errorf("the demo page has inline script or style:\n%s", page)
	}
	m := regexp.MustCompile(`<creditkit-balance customer="alice" token="(ckt_[^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token for alice in the demo page:\n%s", page)
	}
	tok := m[1]
	if status, body, err := call(client, "GET", base+"/v1/customers/alice/balance", tok, nil); err != nil || status != 200 || body["available"] != 1482.0 {
		t.Errorf("the demo token on alice: %d %v %v", status, body, err)
	}
	if status, _, err := call(client, "GET", base+"/v1/customers/bob/balance", tok, nil); err != nil || status != 403 {
		t.Errorf("the demo token on bob: %d %v, want 403", status, err)
	}
	if status, _, err := call(client, "POST", base+"/v1/customers/alice/spend", tok, map[string]any{"operation": "send_email"}); err != nil || status != 403 {
		t.Errorf("the demo token spending: %d %v, want 403", status, err)
	}
	res, _ = get(t, client, base+"/v1/customers/alice/balance", "Origin", "http://localhost:3000", "Authorization", "Bearer "+tok)
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("--widget-origins defaults to *: got Access-Control-Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
	}

	res, script := get(t, client, base+widgets.ScriptPath)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || res.Header.Get("ETag") == "" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age") || !strings.Contains(script, `customElements.define("creditkit-usage-chart"`) {
		t.Fatalf("GET /widgets.js: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get(t, client, base+widgets.ScriptPath, "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET /widgets.js with its ETag: %d, want 304", res.StatusCode)
	}
	for _, p := range []string{"/widgets/demo.js", "/widgets/demo.css", widgets.ConfigPath} {
		if res, _ := get(t, client, base+p); res.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	_, cfg := get(t, client, base+widgets.ConfigPath)
	if !strings.Contains(cfg, `"name":"starter","gives":1000`) {
		t.Errorf("config.json lists no starter pack: %s", cfg)
	}
	if code := stop(); code != ExitOK {
		t.Fatalf("serve exited %d", code)
	}
}

// TestServeWidgetsWithoutDemo: without --demo the demo page mints nothing
// and says how to get a token; --widget-origins narrows CORS to the origins
// listed, and a malformed origin stops serve with a clear error.
func TestServeWidgetsWithoutDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, _, stop := startServe(t, &Main{Dir: dir}, "serve", "--addr", "127.0.0.1:0", "--no-scheduler",
		"--widget-origins", "https://app.example, http://localhost:3000")
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	_, page := get(t, client, base+widgets.DemoPath)
	if strings.Contains(page, "ckt_") && !strings.Contains(page, `placeholder="ckt_..."`) || !strings.Contains(page, "/tokens") ||
		!strings.Contains(page, `id="token-form"`) {
		t.Errorf("the demo page without --demo:\n%s", page)
	}
	for origin, want := range map[string]string{"http://localhost:3000": "http://localhost:3000", "https://evil.example": ""} {
		res, _ := get(t, client, base+"/v1/customers/alice/balance", "Origin", origin)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	stop()

	m := &Main{Dir: dir, Getenv: func(string) string { return "" }}
	var out, errOut strings.Builder
	m.Stdout, m.Stderr = &out, &errOut
	code := m.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--widget-origins", "app.example"})
	if code == ExitOK || !strings.Contains(errOut.String(), `widget origin "app.example"`) {
		t.Errorf("a malformed --widget-origins: exit %d, stderr %s", code, errOut.String())
	}
}
