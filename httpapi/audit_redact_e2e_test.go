package httpapi_test

import (
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestAuditKeepsURLSecretsFromReadKeys: GET /v1/audit answers read keys,
// so no URL in a recorded request keeps more than its scheme and host,
// whatever its field's name and depth: a Slack-style webhook URL's path
// (its secret), a checkout success_url's user info and query, a URL in a
// grant's metadata.
func TestAuditKeepsURLSecretsFromReadKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(_ *creditkit.Config, o *httpapi.Options) { o.AllowPrivateWebhooks = true })
		e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": "http://127.0.0.1:9/services/T0001/B0001/SuperSecretPathToken123"})
		e.must(403, "GET", "/v1/webhook-endpoints", e.read, nil)
		co := e.do("POST", "/v1/customers/alice/checkout", e.write, map[string]any{"pack": "nope",
			"success_url": "https://admin:hunter2@app.example/ok?session_token=SECRET1#frag",
			"cancel_url":  "https://app.example/cancel/SECRET2"})
		if co.status < 400 {
			t.Fatalf("checkout of an unknown pack: %d %s", co.status, co.raw)
		}
		e.must(201, "POST", "/v1/customers/alice/grants", e.admin, map[string]any{"amount": 5,
			"metadata": map[string]any{"ticket": "https://u:pw@support.example/t/SECRET3?x=SECRET4"}})

		raw := string(e.auditList("").raw)
		for _, secret := range []string{"SuperSecretPathToken123", "/services/", "hunter2", "admin:", "SECRET1", "SECRET2", "SECRET3", "SECRET4", "pw@", "frag"} {
			if strings.Contains(raw, secret) {
				t.Errorf("GET /v1/audit (read key) shows %q:\n%s", secret, raw)
			}
		}
		rows := e.auditList("").list
		if len(rows) != 3 {
			t.Fatalf("rows = %v", rows)
		}
		request := func(i int) map[string]any {
			d, _ := rows[i].(map[string]any)["details"].(map[string]any)
			r, _ := d["request"].(map[string]any)
			return r
		}
		if got := request(2)["url"]; got != "http://127.0.0.1:9" {
			t.Errorf("endpoint url = %v, want http://127.0.0.1:9", got)
		}
		if got := request(1)["success_url"]; got != "https://app.example" {
			t.Errorf("success_url = %v, want https://app.example", got)
		}
		if got := request(1)["cancel_url"]; got != "https://app.example" {
			t.Errorf("cancel_url = %v, want https://app.example", got)
		}
		meta, _ := request(0)["metadata"].(map[string]any)
		if got := meta["ticket"]; got != "https://support.example" {
			t.Errorf("metadata.ticket = %v, want https://support.example", got)
		}
	})
}
