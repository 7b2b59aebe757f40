package httpapi_test

import (
	"strings"
	"testing"
)

// TestAuditBadCursor: a cursor that is not an audit record ID is refused
// with 422 and a message that says what to give, not answered with an
// empty page that reads as "no more rows".
func TestAuditBadCursor(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		e.must(201, "POST", "/v1/customers/alice/grants", e.admin, map[string]any{"amount": 1})
		for _, c := range []string{"bogus", "aud_", "grt_01M8V51DC4CSNZ4ERQRQ8Z4WK2", "aud_01M8V51DC4CSNZ4ERQRQ8Z4WK"} {
			r := e.must(422, "GET", "/v1/audit?cursor="+c, e.read, nil)
			if !strings.Contains(string(r.raw), "next_cursor") {
				t.Errorf("cursor %q: %s, want a message naming next_cursor", c, r.raw)
			}
		}
		first := e.auditList("limit=1")
		if len(first.list) != 1 {
			t.Fatalf("first page = %s", first.raw)
		}
		// A real cursor still pages.
		e.auditList("cursor=" + str(first.list[0].(map[string]any), "id"))
	})
}
