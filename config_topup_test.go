package creditkit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// TestConfigAutoTopUp reads the auto_topup default, before or after the
// packs it names.
func TestConfigAutoTopUp(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"packs:\n  starter: { gives: 1000 credits, costs: 49 USD }\nauto_topup:\n  threshold: 100 credits\n  pack: starter\n  target_balance: 500 credits\n  monthly_cap: 200 USD\n  cooldown: 30m\n",
		"auto_topup: { threshold: 100, pack: starter, target_balance: 500, monthly_cap: 200 USD, cooldown: 30 minutes }\npacks:\n  starter: { gives: 1000 credits, costs: 49 USD }\n",
	} {
		cfg, err := creditkit.ParseConfig("creditkit.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		want := creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "starter", TargetBalance: 500, MonthlyCapCents: 20000, Cooldown: 30 * time.Minute}
		if cfg.AutoTopUp == nil || *cfg.AutoTopUp != want {
			t.Fatalf("AutoTopUp = %+v, want %+v", cfg.AutoTopUp, want)
		}
		if cfg.Packs["starter"] == nil || cfg.Packs["starter"].PriceCents != 4900 {
			t.Fatalf("packs = %+v", cfg.Packs)
		}
	}
	cfg, err := creditkit.ParseConfig("creditkit.yaml", []byte("packs:\n  starter: { gives: 1000 credits, costs: 49 USD }\nauto_topup: { threshold: 100, pack: starter, enabled: false }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.AutoTopUpDefault(); d.Enabled || d.Cooldown != time.Hour || d.Pack != "starter" {
		t.Fatalf("default = %+v", d)
	}
}

// TestConfigAutoTopUpErrors: every mistake names the file, the line and
// what to write instead.
func TestConfigAutoTopUpErrors(t *testing.T) {
	t.Parallel()
	packs := "packs:\n  starter: { gives: 1000 credits, costs: 49 USD }\n  free: { gives: 10 credits, costs: 0 USD }\n"
	tests := []struct{ name, src, want string }{
		{"unknown key", packs + "auto_topup:\n  threshold: 100\n  pak: starter\n", `creditkit.yaml:6: auto_topup: unknown key "pak" (did you mean pack?)`},
		{"no threshold", packs + "auto_topup:\n  pack: starter\n", `creditkit.yaml:5: auto_topup: missing threshold`},
		{"zero threshold", packs + "auto_topup:\n  threshold: 0 credits\n  pack: starter\n", `creditkit.yaml:5: auto_topup.threshold: must be above zero`},
		{"no pack", packs + "auto_topup:\n  threshold: 100\n", `creditkit.yaml:5: auto_topup: missing pack`},
		{"unknown pack", packs + "auto_topup:\n  threshold: 100\n  pack: big\n", `creditkit.yaml:6: auto_topup.pack: no pack named "big"; configured packs: free, starter`},
		{"free pack", packs + "auto_topup:\n  threshold: 100\n  pack: free\n", `creditkit.yaml:6: auto_topup: auto top-up pack "free" has no price`},
		{"target under threshold", packs + "auto_topup:\n  threshold: 100\n  pack: starter\n  target_balance: 50\n", `creditkit.yaml:7: auto_topup: auto top-up target_balance 50 must be above the threshold 100`},
		{"cap under price", packs + "auto_topup:\n  threshold: 100\n  pack: starter\n  monthly_cap: 10 USD\n", `creditkit.yaml:7: auto_topup: auto top-up monthly cap 10.00 USD is less than the pack's price 49.00 USD`},
		{"cap other money", packs + "auto_topup:\n  threshold: 100\n  pack: starter\n  monthly_cap: 100 EUR\n", `creditkit.yaml:7: auto_topup.monthly_cap: expected money in USD`},
		{"cooldown too short", packs + "auto_topup:\n  threshold: 100\n  pack: starter\n  cooldown: 5s\n", `creditkit.yaml:7: auto_topup.cooldown: expected a duration of at least 1m0s`},
		{"enabled not a bool", packs + "auto_topup:\n  threshold: 100\n  pack: starter\n  enabled: maybe\n", `creditkit.yaml:7: auto_topup.enabled: expected true or false, got "maybe"`},
		{"not a mapping", packs + "auto_topup: starter\n", `creditkit.yaml:4: auto_topup: expected a mapping like`},
		{"other currency", "currencies: [{ name: credits }, { name: gems }]\npacks:\n  starter: { gives: 1000 credits, costs: 49 USD }\nauto_topup:\n  threshold: 100 gems\n  pack: starter\n", `creditkit.yaml:5: auto_topup.threshold: expected an amount in credits, the currency pack starter gives`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := creditkit.ParseConfig("creditkit.yaml", []byte(tt.src))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant prefix %s", err, tt.want)
			}
			if creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidConfig {
				t.Fatalf("code = %s", creditkit.ErrorCodeOf(err))
			}
		})
	}
	// A config built in Go is checked by Validate.
	cfg := creditkit.DefaultConfig()
	cfg.AutoTopUp = &creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "nope"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `auto_topup: auto top-up pack "nope" is not in the config`) {
		t.Fatalf("Validate = %v", err)
	}
}
