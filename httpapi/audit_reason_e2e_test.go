package httpapi_test

import (
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestAuditReasonOnPlanAndHolds: PUT /v1/customers/{c}/subscription and an
// admin's hold capture and release take an optional reason (at most 500
// characters, as elsewhere), recorded in the audit row.
func TestAuditReasonOnPlanAndHolds(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			cfg.Plans = map[string]*creditkit.Plan{
				"basic": {Name: "basic", Gives: 100, Currency: "credits", Every: creditkit.Period{Count: 1, Unit: "month"}},
			}
		})
		e.must(200, "PUT", "/v1/customers/erin/subscription", e.admin, map[string]any{"plan": "basic", "reason": "sales deal #42"})
		e.must(422, "PUT", "/v1/customers/erin/subscription", e.admin, map[string]any{"plan": "basic", "reason": strings.Repeat("x", 501)})
		e.must(201, "POST", "/v1/customers/bob/grants", e.admin, map[string]any{"amount": 100})
		h1 := str(e.must(201, "POST", "/v1/customers/bob/holds", e.write, map[string]any{"amount": 10}).body, "id")
		h2 := str(e.must(201, "POST", "/v1/customers/bob/holds", e.write, map[string]any{"amount": 10}).body, "id")
		// A reason that is not plain text is refused, and the hold stays.
		e.must(422, "PUT", "/v1/customers/erin/subscription", e.admin, `{"plan":"basic","reason":"r\u0000"}`)
		e.must(422, "POST", "/v1/holds/"+h1+"/capture", e.admin, `{"amount":2,"reason":"part\u0000ial"}`)
		e.must(422, "POST", "/v1/holds/"+h2+"/release", e.admin, `{"reason":"x\u0000"}`)
		e.must(200, "POST", "/v1/holds/"+h1+"/capture", e.admin, map[string]any{"amount": 4, "reason": "support call"})
		e.must(200, "POST", "/v1/holds/"+h2+"/release", e.admin, map[string]any{"reason": "stuck job"})

		for _, w := range []struct{ action, reason string }{
			{"subscription.change", "sales deal #42"}, {"hold.capture", "support call"}, {"hold.release", "stuck job"},
		} {
			rows := e.auditList("action=" + w.action).list
			found := false
			for _, r := range rows {
				if m := r.(map[string]any); str(m, "outcome") == "ok" && str(m, "reason") == w.reason {
					found = true
				}
			}
			if !found {
				t.Errorf("%s rows = %v, want one with reason %q", w.action, rows, w.reason)
			}
		}
	})
}
