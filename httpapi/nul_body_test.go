package httpapi_test

import (
	"strings"
	"testing"
)

// TestNULInBodyText: text in a JSON body that holds a NUL (\u0000), which
// PostgreSQL cannot store, is 422 invalid_request (invalid_params for
// params) naming the field, on both stores, never a 500: no credit moves,
// no customer, grant, hold or purchase is made, and the audit log still
// records the refused call (its copy of the text is cleaned).
func TestNULInBodyText(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := newEnv(t, url, withStarterPack)
		e.must(201, "POST", "/v1/customers/u3/grants", e.admin, map[string]any{"amount": 100})
		for _, c := range []struct {
			path, body, code, says string
		}{
			{"/v1/customers/u3/spend", `{"amount":1,"metadata":{"k":"v\u0000"}}`, "invalid_request", "metadata.k contains a NUL character"},
			{"/v1/customers/u3/spend", `{"amount":1,"metadata":{"k\u0000":"v"}}`, "invalid_request", `metadata key "k\x00" contains a NUL character`},
			{"/v1/customers/u3/spend", `{"amount":1,"description":"a\u0000b"}`, "invalid_request", "description contains the control character U+0000"},
			{"/v1/customers/u3/spend", `{"operation":"send_email","params":{"model":"\u0000"}}`, "invalid_params", "params.model contains a NUL character"},
			{"/v1/customers/u3/spend", `{"operation":"process_image","params":{"mb":1,"tags":["ok",{"x":"\u0000"}]}}`, "invalid_params", "params.tags[1].x contains a NUL character"},
			{"/v1/customers", `{"id":"n1","name":"a\u0000b"}`, "invalid_request", "name contains a NUL character"},
			{"/v1/customers", `{"id":"n1","metadata":{"k":"\u0000"}}`, "invalid_request", "metadata.k contains a NUL character"},
			{"/v1/customers/u3/grants", `{"amount":5,"metadata":{"k":"v\u0000"}}`, "invalid_request", "metadata.k contains a NUL character"},
			{"/v1/customers/u3/holds", `{"amount":5,"metadata":{"k":"v\u0000"}}`, "invalid_request", "metadata.k contains a NUL character"},
			{"/v1/customers/u3/holds", `{"operation":"send_email","params":{"model":"\u0000"}}`, "invalid_params", "params.model contains a NUL character"},
			{"/v1/customers/u3/purchases", `{"pack":"starter","external_id":"txn_nul","metadata":{"k":"v\u0000"}}`, "invalid_request", "metadata.k contains a NUL character"},
			{"/v1/transfers", `{"from":"u3","to":"n2","amount":5,"metadata":{"k":"v\u0000"}}`, "invalid_request", "metadata.k contains a NUL character"},
		} {
			r := e.do("POST", c.path, e.admin, c.body)
			if r.status != 422 || str(r.body, "code") != c.code || !strings.Contains(str(r.body, "detail"), c.says) {
				t.Errorf("POST %s %s: %d %s, want 422 %s saying %q", c.path, c.body, r.status, r.raw, c.code, c.says)
			}
		}
		if got := e.available("u3"); got != 100 {
			t.Errorf("u3 has %d available after the refused requests, want 100 (nothing moved)", got)
		}
		for _, id := range []string{"n1", "n2"} {
			e.must(404, "GET", "/v1/customers/"+id, e.admin, nil)
		}
		if r := e.must(200, "GET", "/v1/customers/u3/grants", e.admin, nil); len(r.list) != 1 {
			t.Errorf("u3 has %d grants, want the first one only: %s", len(r.list), r.raw)
		}
		if r := e.must(200, "GET", "/v1/customers/u3/purchases", e.admin, nil); len(r.list) != 0 {
			t.Errorf("u3 has purchases after a refused one: %s", r.raw)
		}
		// The audit log recorded the refused create, its text cleaned.
		a := e.must(200, "GET", "/v1/audit?action=customer.create", e.admin, nil)
		refused := 0
		for _, x := range a.list {
			if rec, _ := x.(map[string]any); str(rec, "outcome") == "invalid_request" {
				refused++
			}
		}
		if refused != 2 {
			t.Errorf("audit log has %d refused customer.create rows, want 2: %s", refused, a.raw)
		}
	})
}
