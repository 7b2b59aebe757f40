package httpapi_test

import (
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestSettleUsesPlanOveragePrice: POST .../settle {} on a plan customer
// bills the debt at the plan's overage_price instead of forgiving it
// without money.
func TestSettleUsesPlanOveragePrice(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) {
			month := creditkit.Period{Count: 1, Unit: "month"}
			cfg.Plans = map[string]*creditkit.Plan{
				"metered": {Name: "metered", Gives: 1000, Currency: "credits", Every: month, Overage: 5000,
					OveragePrice: &creditkit.OveragePrice{Cents: 100, Currency: "USD", Per: 100}},
			}
		})
		w := e.write
		e.must(200, "PUT", "/v1/customers/pc/subscription", w, map[string]any{"plan": "metered"})
		e.must(200, "POST", "/v1/customers/pc/spend", w, map[string]any{"amount": 3500})
		s := e.must(200, "POST", "/v1/customers/pc/settle", w, map[string]any{})
		if num(s.body, "credits") != 2500 || str(s.body, "money") != "25.00" || str(s.body, "money_currency") != "USD" {
			t.Fatalf("settle at the plan's price: %s", s.raw)
		}
	})
}
