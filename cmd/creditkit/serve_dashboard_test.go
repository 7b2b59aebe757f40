package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestServeDemoDashboard: serve --demo prints the dashboard's URL and a key
// that signs in to it, and the overview shows the seeded customers.
func TestServeDemoDashboard(t *testing.T) {
	t.Parallel()
	base, out, stop := startServe(t, &Main{Dir: t.TempDir()}, "serve", "--demo", "--addr", "127.0.0.1:0")
	defer stop()
	dash := regexp.MustCompile(`dashboard: (http://\S+/dashboard/) \(sign in with the demo admin key below\)`).FindStringSubmatch(out.String())
	key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())
	if dash == nil || key == nil || dash[1] != base+"/dashboard/" {
		t.Fatalf("serve --demo printed no dashboard URL or key:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	res, err := client.PostForm(base+"/dashboard/login", url.Values{"key": {key[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	// The demo seeds alice, bob and carol, and maybe more.
	var customers int
	if m := regexp.MustCompile(`id="stat-customers">(\d+)<`).FindSubmatch(body); m != nil {
		customers, _ = strconv.Atoi(string(m[1]))
	}
	if err != nil || res.StatusCode != http.StatusOK || res.Request.URL.Path != "/dashboard/" || customers < 3 {
		t.Fatalf("sign in with the demo key: %d at %s, %v\n%s", res.StatusCode, res.Request.URL, err, body)
	}

	// A grant from the dashboard lands in the server's audit log, which
	// GET /v1/audit lists.
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if csrf == nil {
		t.Fatalf("no CSRF token on the overview")
	}
	res, err = client.PostForm(base+"/dashboard/customers/alice/grant", url.Values{"csrf": {string(csrf[1])}, "amount": {"5"},
		"reason": {"demo goodwill"}, "idem": {"demo-dash-1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("grant from the dashboard: %d", res.StatusCode)
	}
	status, rs, err := call(client, "GET", base+"/v1/audit?action=grant.create&customer=alice", key[1], nil)
	data, _ := rs["data"].([]any)
	if err != nil || status != http.StatusOK || len(data) == 0 {
		t.Fatalf("GET /v1/audit: %d %v %v", status, rs, err)
	}
	rec, _ := data[0].(map[string]any)
	if rec["actor_kind"] != "dashboard" || rec["reason"] != "demo goodwill" || rec["request_id"] == "" {
		t.Fatalf("the dashboard's audit record: %v", rec)
	}
}
