package httpapi_test

import (
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// withFuzzPlans adds fuzzConfig's plan (basic) to the test config.
func withFuzzPlans(t *testing.T) func(cfg *creditkit.Config, o *httpapi.Options) {
	return func(cfg *creditkit.Config, _ *httpapi.Options) {
		fc, err := creditkit.ParseConfig("fuzz.yaml", []byte(fuzzConfig))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Plans = fc.Plans
	}
}

// TestMessagesInTheAPIsWords: error details never show Go's syntax (a map
// as map[a:1], a duration as -120h0m0s, a span as -P5D): an unknown body
// field is named with the fields the object takes, a negative expires_in
// and a trial out of range echo what was sent, and an unknown plan lists
// the configured plans.
func TestMessagesInTheAPIsWords(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), withFuzzPlans(t))
	for _, c := range []struct {
		method, path string
		body         any
		says         string
	}{
		{"POST", "/v1/customers/u1/spend", `{"amount":1,"foo":2}`,
			`body.foo: unknown field "foo"; the fields here are amount, currency, description, metadata, operation, params, reason`},
		{"POST", "/v1/customers/u1/settle", `{"overage_price":{"cents":100,"currency":"USD","per":100,"bogus":1}}`,
			`body.overage_price.bogus: unknown field "bogus"; the fields here are cents, currency, per`},
		{"POST", "/v1/customers/u1/grants", map[string]any{"amount": 5, "expires_in": "-5d"}, `expires_in must be positive, got "-5d"`},
		{"PUT", "/v1/customers/u1/subscription", map[string]any{"plan": "basic", "trial": "100y"},
			`trial must be more than 0 and at most 1 year (365 days, 12 months), got "100y"`},
		{"PUT", "/v1/customers/u1/subscription", map[string]any{"plan": "basic", "trial": "0d"}, `got "0d"`},
		{"PUT", "/v1/customers/u1/subscription", map[string]any{"plan": "basic", "trial": "-5d"}, `got "-5d"`},
		{"PUT", "/v1/customers/u1/subscription", map[string]any{"plan": "gold"}, `unknown plan "gold": the configured plans are basic`},
	} {
		r := e.do(c.method, c.path, e.admin, c.body)
		detail := str(r.body, "detail")
		if r.status != 422 || !strings.Contains(detail, c.says) {
			t.Errorf("%s %s %v: %d %s, want 422 saying %s", c.method, c.path, c.body, r.status, r.raw, c.says)
		}
		for _, goSyntax := range []string{"map[", "h0m0s", "P5D", "P100Y"} {
			if strings.Contains(detail, goSyntax) {
				t.Errorf("%s %s: detail %q shows Go's syntax (%s)", c.method, c.path, detail, goSyntax)
			}
		}
	}
	// Nothing was written: u1 was never even seen.
	e.must(404, "GET", "/v1/customers/u1", e.admin, nil)
}
