package httpapi_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestCustomerTokenForbiddenSaysWhatItReads: the 403 a customer token gets
// for a call it may not make lists what it can read, and that list is
// true: every path it names answers the token (not 403), including
// /subscription, /purchases and /auto-topup, which the old message left
// out.
func TestCustomerTokenForbiddenSaysWhatItReads(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), withFuzzPlans(t))
	e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 5})
	tok := str(e.must(201, "POST", "/v1/customers/alice/tokens", e.write, nil).body, "token")
	r := e.must(403, "POST", "/v1/customers/alice/spend", tok, map[string]any{"amount": 1})
	detail := str(r.body, "detail")
	const prefix = "a customer token can only read its own customer: GET /v1/customers/{customer} and its "
	if !strings.HasPrefix(detail, prefix) {
		t.Fatalf("detail %q, want it to start %q", detail, prefix)
	}
	subs := regexp.MustCompile(`/[a-z-]+`).FindAllString(strings.TrimPrefix(detail, prefix), -1)
	for _, want := range []string{"/balance", "/grants", "/ledger", "/usage", "/subscription", "/purchases", "/auto-topup"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail %q does not name %s", detail, want)
		}
	}
	for _, sub := range append([]string{""}, subs...) {
		if r := e.do("GET", "/v1/customers/alice"+sub, tok, nil); r.status == 403 || r.status == 401 {
			t.Errorf("GET /v1/customers/alice%s with the token: %d %s, but the 403 says it can read it", sub, r.status, r.raw)
		}
	}
	if got := e.available("alice"); got != 5 {
		t.Errorf("alice has %d, want 5: the token spent nothing", got)
	}
}
