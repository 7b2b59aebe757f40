package httpapi_test

import (
	"strings"
	"testing"
)

// TestBodyThatIsNotText: a JSON body with bytes that are not UTF-8, or an
// escaped surrogate without its pair, is 422 and makes nothing; encoding/json
// would have stored U+FFFD in their place. A proper pair, and an escaped
// backslash before "udc00", are text and pass.
func TestBodyThatIsNotText(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := newEnv(t, url, nil)
		for _, c := range []struct{ body, says string }{
			{"{\"id\":\"h1\",\"name\":\"bad\xff\xfe\"}", "not UTF-8"},
			{"{\"id\":\"h1\",\"metadata\":{\"k\":\"a\xc3\x28\"}}", "not UTF-8"},
			{`{"id":"h1","name":"bad\udc00"}`, "surrogate without its pair"},
			{`{"id":"h1","name":"bad\ud83d"}`, "surrogate without its pair"},
			{`{"id":"h1","name":"bad\ud83d\u0041"}`, "surrogate without its pair"},
		} {
			r := e.do("POST", "/v1/customers", e.admin, c.body)
			if r.status != 422 || str(r.body, "code") != "invalid_request" || !strings.Contains(str(r.body, "detail"), c.says) {
				t.Errorf("POST %q: %d %s, want 422 saying %q", c.body, r.status, r.raw, c.says)
			}
		}
		e.must(404, "GET", "/v1/customers/h1", e.admin, nil)
		r := e.must(201, "POST", "/v1/customers", e.admin, `{"id":"h2","name":"smile \ud83d\ude00 \\udc00"}`)
		if got := str(r.body, "name"); got != "smile 😀 \\udc00" {
			t.Fatalf("name %q, want the pair decoded and the escaped backslash kept", got)
		}
	})
}
