package httpapi_test

import (
	"strings"
	"testing"
)

// TestWebhookNumericHostsRefused: an endpoint URL whose host is a number in
// a form other than a dotted quad (127.1, 0x7f000001, 2130706433, 0,
// 0177.0.0.1: resolvers read them as loopback addresses) is 422 at
// creation, saying it is not a public host name, and nothing is stored;
// with private webhooks allowed it is accepted.
func TestWebhookNumericHostsRefused(t *testing.T) {
	hosts := []string{"127.1", "0x7f000001", "2130706433", "0", "0177.0.0.1"}
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	for _, h := range hosts {
		r := e.do("POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": "http://" + h + "/hook"})
		if r.status != 422 || str(r.body, "code") != "invalid_request" || !strings.Contains(str(r.body, "detail"), "is not a public host name") {
			t.Errorf("http://%s/hook: %d %s, want 422 saying it is not a public host name", h, r.status, r.raw)
		}
	}
	if r := e.must(200, "GET", "/v1/webhook-endpoints", e.admin, nil); len(r.list) != 0 {
		t.Errorf("endpoints were stored: %s", r.raw)
	}
	dev := newEnv(t, storeURLs(t)["sqlite"](t), allowPrivate)
	for _, h := range hosts {
		dev.must(201, "POST", "/v1/webhook-endpoints", dev.admin, map[string]any{"url": "http://" + h + "/hook"})
	}
}
