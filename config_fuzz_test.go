package creditkit_test

import (
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// FuzzParseConfig feeds mutated YAML configs to ParseConfig: it never
// panics, and a config it accepts validates again, and prices a sample
// call of each of its operations, formats its plans' and packs' amounts,
// walks its plans' periods and reads its auto top-up default without
// panicking. The seeds are creditkit.example.yaml, the configs under
// testdata/config, and configs with refund_debt, auto_topup, plans
// (overage, prices, rollover, trials) and packs.
//
//	go test -run '^$' -fuzz FuzzParseConfig -fuzztime 60s .
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	files = append(files, "creditkit.example.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"",
		"refund_debt: allow\n",
		"refund_debt: FORBID\npacks:\n  starter: { gives: 1000 credits, costs: 49 USD }\n",
		"refund_debt: maybe\n",
		"packs:\n  starter: { gives: 1000 credits, costs: 49 USD }\nauto_topup:\n  threshold: 100 credits\n  pack: starter\n  target_balance: 500 credits\n  monthly_cap: 200 USD\n  cooldown: 30m\n",
		"auto_topup: { threshold: 100, pack: starter, target_balance: 500, monthly_cap: 200 USD, cooldown: 30 minutes, enabled: false }\npacks:\n  starter: { gives: 1000 credits, costs: 49 USD }\n",
		"auto_topup: { threshold: 100, pack: free }\npacks:\n  free: { gives: 10 credits }\n",
		"currencies:\n  - { name: credits, decimals: 0 }\n  - { name: usd_credits, decimals: 2 }\nplans:\n  pro:\n    gives: 1000 usd_credits every month\n    overage: up to 500 usd_credits\n    overage_price: 1 USD per 100 usd_credits\n    price: 20 USD every month\n    on_upgrade: full\n    catch_up: all\n",
		"plans:\n  basic:\n    stripe_price: { month: price_basic_m, year: price_basic_y }\n    gives: 100 credits every 2 weeks\n    unused_credits: rollover up to 500 credits\n    signup_bonus: 10 credits\n    trial_includes: 5 credits\n    expire_after: 30 days\n    default: true\npacks:\n  big: { gives: 10000 credits, costs: 399.99 EUR, expires_after: 1 year, stripe_price: price_big }\n",
		"plans:\n  q:\n    gives: 1 credit every 1000 quarters\n    overage: unlimited\n",
		"operations:\n  a: 0.000001 credits per 1000000000 tokens\n  b: 99999999999999999999 credits\n  c:\n    cost: 1 credit per 0.001 mb\n    limits: { mb: 1e3 }\n    params: [model]\n    meta: { k: v }\n",
		"currency: { name: credits, decimals: 18 }\noperations:\n  x: 1 credit + 1 credit per token\n",
		"operations:\n  x: &a 1 credit\n  y: *a\n",
		"low_balance: -1\n",
		"plans:\n  free:\n    gives: 500 credits every month\n---\nplans: {}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := creditkit.ParseConfig("creditkit.yaml", []byte(src))
		if err != nil {
			if cfg != nil {
				t.Fatalf("an error (%v) came with a config", err)
			}
			if creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidConfig {
				t.Fatalf("error code %q, want invalid_config: %v", creditkit.ErrorCodeOf(err), err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("an accepted config does not validate: %v\n%s", err, src)
		}
		for _, name := range slices.Sorted(fuzzKeys(cfg.Operations)) {
			op := cfg.Operations[name]
			for _, v := range []string{"", "0", "1", "1000000", "1e300", "-1", "0.5"} {
				params := creditkit.Params{}
				for _, term := range op.Terms {
					params[term.Unit] = v
					if v == "" && term.Per != nil {
						params[term.Unit] = new(big.Rat).Set(term.Per).FloatString(6)
					}
				}
				if a, _, err := cfg.Price(name, params); err == nil {
					_ = cfg.FormatAmount(a, op.Currency)
				}
			}
		}
		anchor := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
		for _, name := range slices.Sorted(fuzzKeys(cfg.Plans)) {
			p := cfg.Plans[name]
			_ = cfg.FormatAmount(p.Gives, p.Currency)
			_ = cfg.RefillCostBasis(p)
			_ = p.ExpireAfter.AddTo(anchor)
			for _, n := range []int{0, 1, 12, 1000} {
				b := p.Every.Boundary(anchor, n)
				_ = p.Every.Index(anchor, b)
			}
		}
		for _, name := range slices.Sorted(fuzzKeys(cfg.Packs)) {
			p := cfg.Packs[name]
			_ = cfg.FormatAmount(p.Gives, p.Currency)
			_ = p.ExpiresAfter.AddTo(anchor)
		}
		_ = cfg.AutoTopUpDefault()
		for _, s := range []string{"100", "12.5 usd_credits", "1 credit", "-3"} {
			_, _, _ = cfg.ParseAmountWithUnit(s)
		}
	})
}

// fuzzKeys iterates over a map's keys.
func fuzzKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
