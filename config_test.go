package creditkit

import (
	"context"
	"errors"
	"io/fs"
	"math/big"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigLoads(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("creditkit.example.yaml")
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if c.Path != "creditkit.example.yaml" {
		t.Errorf("Path = %q", c.Path)
	}
	if want := []Currency{{Name: "credits", Decimals: 0}}; !reflect.DeepEqual(c.Currencies, want) {
		t.Errorf("Currencies = %+v, want %+v", c.Currencies, want)
	}
	if c.Rounding != RoundCeil || c.LowBalance != 100 || c.Clock != nil {
		t.Errorf("Rounding %q, LowBalance %d, Clock %v; want ceil, 100, nil", c.Rounding, c.LowBalance, c.Clock)
	}

	wantOps := map[string]string{
		"send_email":     "1 credit",
		"process_image":  "10 credits + 1 credit per mb",
		"generate_video": "100 credits + 10 credits per second",
		"small_model":    "1 credit per 10 tokens",
		"analyze_data":   "20 credits",
	}
	if len(c.Operations) != len(wantOps) {
		t.Errorf("%d operations, want %d", len(c.Operations), len(wantOps))
	}
	for name, formula := range wantOps {
		op := c.Operations[name]
		if op == nil || op.Name != name || op.Formula != formula || op.Currency != "credits" {
			t.Errorf("operation %s = %+v, want formula %q in credits", name, op, formula)
		}
	}
	ad := c.Operations["analyze_data"]
	if !reflect.DeepEqual(ad.Meta, map[string]any{"category": "analytics"}) {
		t.Errorf("analyze_data meta = %v", ad.Meta)
	}
	if l := ad.Limits["prompt_chars"]; l == nil || l.Cmp(big.NewRat(1000, 1)) != 0 || len(ad.Limits) != 1 {
		t.Errorf("analyze_data limits = %v", ad.Limits)
	}

	prices := []struct {
		op     string
		params Params
		want   Amount
	}{
		{"send_email", nil, 1},
		{"process_image", Params{"mb": 5}, 15},
		{"process_image", Params{"mb": 5.2}, 16},
		{"process_image", Params{"size": 5452595}, 16},
		{"generate_video", Params{"seconds": 2}, 120},
		{"small_model", Params{"tokens": 15}, 2},
		{"analyze_data", Params{"prompt_chars": 999}, 20},
	}
	for _, p := range prices {
		if got, _, err := c.Price(p.op, p.params); err != nil || got != p.want {
			t.Errorf("Price(%s, %v) = %d, %v; want %d", p.op, p.params, got, err, p.want)
		}
	}
	if _, _, err := c.Price("analyze_data", Params{"prompt_chars": 1200}); err == nil ||
		err.Error() != "prompt_chars is 1200, above the limit of 1000 for analyze_data" {
		t.Errorf("over the limit: %v", err)
	}

	wantPlans := map[string]*Plan{
		"free": {
			Name: "free", Default: true, Gives: 500, Currency: "credits",
			Every: Period{Count: 1, Unit: "month"}, UnusedCredits: "expire",
		},
		"pro": {
			Name: "pro", Gives: 10000, Currency: "credits",
			Every: Period{Count: 1, Unit: "month"}, UnusedCredits: "rollover",
			SignupBonus: 1000, TrialIncludes: 500, ExpireAfter: Span{Days: 30},
			Overage: 10000, OverageSet: true,
			StripePrice:  map[string]string{"month": "price_pro_m", "year": "price_pro_y"},
			Price:        &Price{Cents: 10000, Currency: "USD", Every: Period{Count: 1, Unit: "month"}},
			OveragePrice: &OveragePrice{Cents: 100, Currency: "USD", Per: 100},
		},
	}
	if !reflect.DeepEqual(c.Plans, wantPlans) {
		for name, want := range wantPlans {
			t.Errorf("plan %s = %+v\nwant %+v", name, c.Plans[name], want)
		}
	}
	wantPacks := map[string]*Pack{
		"starter": {Name: "starter", Gives: 1000, Currency: "credits", PriceCents: 4900, PriceCurrency: "USD"},
		"large":   {Name: "large", Gives: 10000, Currency: "credits", PriceCents: 39900, PriceCurrency: "USD", ExpiresAfter: Span{Months: 12}},
	}
	if !reflect.DeepEqual(c.Packs, wantPacks) {
		for name, want := range wantPacks {
			t.Errorf("pack %s = %+v\nwant %+v", name, c.Packs[name], want)
		}
	}
}

func TestMultiCurrencyConfigLoads(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(filepath.Join("testdata", "config", "multi_currency.yaml"))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if want := []Currency{{"credits", 0}, {"usd_credits", 2}}; !reflect.DeepEqual(c.Currencies, want) {
		t.Errorf("Currencies = %+v", c.Currencies)
	}
	if c.DefaultCurrency().Name != "credits" || c.Rounding != RoundHalfUp || c.LowBalance != 50 {
		t.Errorf("default %v, rounding %q, low balance %d", c.DefaultCurrency(), c.Rounding, c.LowBalance)
	}
	chat := c.Operations["chat"]
	if chat.Currency != "usd_credits" || chat.Fixed.Cmp(big.NewRat(50, 1)) != 0 || chat.Terms[0].Rate.Cmp(big.NewRat(1, 5)) != 0 {
		t.Errorf("chat = %+v", chat)
	}
	// 50 + 0.2*1234 = 296.8, rounded half up.
	if got, _, err := c.Price("chat", Params{"tokens": 1234}); err != nil || got != 297 {
		t.Errorf("chat price = %d, %v; want 297", got, err)
	}
	// 1 usd_credit per 10 minutes, 15 minutes given in seconds: 150 cents.
	if got, _, err := c.Price("transcribe", Params{"seconds": 900}); err != nil || got != 150 {
		t.Errorf("transcribe price = %d, %v; want 150", got, err)
	}
	if _, _, err := c.Price("ocr", Params{"pages": 101}); ErrorCodeOf(err) != CodeInvalidParams {
		t.Errorf("ocr over the pages limit: %v", err)
	}
	if _, _, err := c.Price("ocr", Params{"pages": 1, "prompt": strings.Repeat("x", 21)}); ErrorCodeOf(err) != CodeInvalidParams {
		t.Errorf("ocr over the prompt length limit: %v", err)
	}
	want := &Plan{
		Name: "team", Gives: 2550, Currency: "usd_credits", Every: Period{Count: 2, Unit: "week"},
		UnusedCredits: "rollover", RolloverCap: 10000, OverageSet: true, ExpireAfter: Span{Duration: 12 * time.Hour},
		StripePrice: map[string]string{"week": "price_team"},
	}
	if !reflect.DeepEqual(c.Plans["team"], want) {
		t.Errorf("team = %+v\nwant %+v", c.Plans["team"], want)
	}
	if p := c.Packs["euro"]; p.PriceCents != 499 || p.PriceCurrency != "EUR" || p.Gives != 1000 || p.Currency != "usd_credits" || !p.ExpiresAfter.IsZero() || p.StripePrice != "price_euro" {
		t.Errorf("euro = %+v", p)
	}
	if p := c.Packs["yen"]; p.PriceCents != 500 || p.PriceCurrency != "JPY" {
		t.Errorf("yen = %+v (JPY has no minor unit)", p)
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want string // the whole message
	}{
		{"malformed.yaml", `malformed.yaml:4: invalid YAML: did not find expected ',' or ']'`},
		{"unknown_key.yaml", `unknown_key.yaml:9: plans.free: unknown key "unused_credit" (did you mean unused_credits?); allowed keys: default, gives, price, unused_credits, stripe_price, signup_bonus, trial_includes, expire_after, overage, overage_price, on_upgrade, catch_up`},
		{"unknown_top_key.yaml", `unknown_top_key.yaml:2: unknown key "operation" (did you mean operations?); allowed keys: currency, currencies, rounding, low_balance, usage_window, operations, plans, packs`},
		{"bad_formula.yaml", `bad_formula.yaml:6: operations.process_image: expected a price like "10 credits + 1 credit per mb", got "ten credits"`},
		{"unknown_currency.yaml", `unknown_currency.yaml:3: operations.send_email: unknown currency "coin" in "1 coin"; configured currencies: credits (singular forms like "credit" work too)`},
		{"mixed_currencies.yaml", `mixed_currencies.yaml:7: operations.process_image.cost: "10 credits" is in credits but "0.01 usd_credits per mb" is in usd_credits: all terms of an operation must be in one currency`},
		{"two_defaults.yaml", `two_defaults.yaml:8: plans.pro.default: only one plan can be the default, and free already is (line 3)`},
		{"currency_and_currencies.yaml", `currency_and_currencies.yaml:3: use either currency: (one currency) or currencies: (a list), not both`},
		{"bad_duration.yaml", `bad_duration.yaml:4: plans.pro.expire_after: expected a duration like "30 days", "1 month", "12h" or "1 year", got "30 fortnights"`},
		{"bad_pack_duration.yaml", `bad_pack_duration.yaml:3: packs.large.expires_after: expected a duration like "30 days", "1 month", "12h" or "1 year", got "soon"`},
		{"duplicate_operation.yaml", `duplicate_operation.yaml:4: operations.send_email: defined twice (first at line 2); remove one`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "config", tt.file)
			c, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("LoadConfig(%s) = %+v, want an error", path, c)
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidConfig || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v is not an invalid_config *Error", err)
			}
			want := filepath.Join("testdata", "config", tt.want)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // a prefix of the message
	}{
		{"not a mapping", "- a\n- b\n", `creditkit.yaml:1: expected a mapping with keys currency, currencies`},
		{"two documents", "rounding: ceil\n---\nrounding: floor\n", `creditkit.yaml:2: expected one YAML document`},
		{"tab indentation", "operations:\n\tsend_email: 1 credit\n", `creditkit.yaml:2: invalid YAML: found character that cannot start any token`},
		{"bad indentation", "operations:\n  a: 1 credit\n b: 2 credits\n", `creditkit.yaml:3: invalid YAML: did not find expected key`},
		{"unknown anchor", "rounding: ceil\noperations:\n  a: *price\n", `creditkit.yaml:3: invalid YAML: unknown anchor "price" referenced`},
		{"currency name with a space", "currency: { name: my credits }\n", `creditkit.yaml:1: currency.name: expected a currency name of letters, digits and underscores`},
		{"currency decimals too many", "currency:\n  name: credits\n  decimals: 19\n", `creditkit.yaml:3: currency.decimals: expected decimals from 0 to 18, got "19"`},
		{"currency decimals not a number", "currency: { name: credits, decimals: two }\n", `creditkit.yaml:1: currency.decimals: expected decimals from 0 to 18, got "two"`},
		{"currency without name", "currency:\n  decimals: 2\n", `creditkit.yaml:2: currency: missing name`},
		{"currency unknown key", "currency: { name: credits, symbol: C }\n", `creditkit.yaml:1: currency: unknown key "symbol"; allowed keys: name, decimals`},
		{"currencies empty", "currencies: []\n", `creditkit.yaml:1: currencies: expected a list like [{ name: credits, decimals: 0 }], got an empty list`},
		{"currencies currenciesConfusable", "currencies:\n  - { name: credits }\n  - { name: credit, decimals: 2 }\n", `creditkit.yaml:3: currencies[1]: credit can be confused with currency credits`},
		{"rounding unknown", "rounding: up\n", `creditkit.yaml:1: rounding: expected ceil, floor or round, got "up"`},
		{"rounding empty", "rounding:\n", `creditkit.yaml:1: rounding: expected ceil, floor or round, got nothing`},
		{"low_balance not an amount", "low_balance: lots\n", `creditkit.yaml:1: low_balance: expected an amount like "100 credits", got "lots"`},
		{"low_balance negative", "low_balance: -5 credits\n", `creditkit.yaml:1: low_balance: expected an amount like "100 credits", got "-5 credits": amounts must not be negative`},
		{"usage_window unknown key", "usage_window: { ahead: 5m, behind: 1d }\n", `creditkit.yaml:1: usage_window: unknown key "behind"`},
		{"usage_window zero", "usage_window:\n  back: 0s\n", `creditkit.yaml:2: usage_window.back: expected a duration above zero like "5m" or "35d", got "0s"`},
		{"usage_window months", "usage_window:\n  back: 1mo\n", `creditkit.yaml:2: usage_window.back: expected a duration above zero`},
		{"low_balance other currency", "currencies: [{ name: credits }, { name: gems }]\nlow_balance: 5 gems\n", `creditkit.yaml:2: low_balance: expected an amount in the default currency credits, got "5 gems"`},
		{"operations a list", "operations:\n  - send_email\n", `creditkit.yaml:2: operations: expected a mapping of operation names to prices`},
		{"formula a number", "operations:\n  send_email: 1\n", `creditkit.yaml:2: operations.send_email: expected a price like "10 credits + 1 credit per mb", got "1"`},
		{"formula empty", "operations:\n  send_email:\n", `creditkit.yaml:2: operations.send_email: expected a price like "10 credits + 1 credit per mb", got nothing`},
		{"fixed too large", "operations:\n  a: 99999999999999999999 credits\n", `creditkit.yaml:2: operations.a: the fixed part of "99999999999999999999 credits" is too large`},
		{"operation mapping without cost", "operations:\n  analyze:\n    meta: { a: b }\n", `creditkit.yaml:2: operations.analyze: missing cost`},
		{"operation unknown key", "operations:\n  analyze:\n    cost: 1 credit\n    costs: 2 credits\n", `creditkit.yaml:4: operations.analyze: unknown key "costs" (did you mean cost?); allowed keys: cost, meta, limits, params`},
		{"meta not a mapping", "operations:\n  analyze:\n    cost: 1 credit\n    meta: analytics\n", `creditkit.yaml:4: operations.analyze.meta: expected a mapping like { category: analytics }, got "analytics"`},
		{"limit not a number", "operations:\n  analyze:\n    cost: 1 credit\n    limits:\n      prompt_chars: lots\n", `creditkit.yaml:5: operations.analyze.limits.prompt_chars: expected a number of zero or more such as 1000, got "lots"`},
		{"limit negative", "operations:\n  analyze:\n    cost: 1 credit\n    limits: { prompt_chars: -1 }\n", `creditkit.yaml:4: operations.analyze.limits.prompt_chars: expected a number of zero or more`},
		{"two terms of one quantity", "operations:\n  send_email: 1 credit\n  process_image: 1 credit per mb + 1 credit per gb\n", `creditkit.yaml:3: operations.process_image: "1 credit per mb" and "1 credit per gb" measure the same quantity, so one param would pay for both: write one term per quantity`},
		{"two terms of one time", "operations:\n  video: 1 credit + 2 credits per second + 1 credit per minute\n", `creditkit.yaml:2: operations.video: "2 credits per second" and "1 credit per minute" measure the same quantity`},
		{"a custom unit twice", "operations:\n  seats:\n    cost: 1 credit per seat + 2 credits per seats\n", `creditkit.yaml:3: operations.seats.cost: "1 credit per seat" and "2 credits per seats" measure the same quantity`},
		{"params not a list", "operations:\n  analyze:\n    cost: 1 credit\n    params: model\n", `creditkit.yaml:4: operations.analyze.params: expected a list of param names kept for the record, like [model, user_agent], got "model"`},
		{"params twice", "operations:\n  analyze:\n    cost: 1 credit\n    params:\n      - model\n      - model\n", `creditkit.yaml:6: operations.analyze.params: model is listed twice; remove one`},
		{"params paid by the price", "operations:\n  img:\n    cost: 1 credit per mb\n    params: [model, size]\n", `creditkit.yaml:4: operations.img.params: size measures what the price is paid by, so it is accepted already and would be charged for`},
		{"params name too long", "operations:\n  analyze:\n    cost: 1 credit\n    params: [a_very_long_param_name_that_goes_on_and_on_]\n", `creditkit.yaml:4: operations.analyze.params: param name "a_very_long_param_name_that_goes_on_and_on_" must be 1 to 40 characters`},
		{"params empty name", "operations:\n  analyze:\n    cost: 1 credit\n    params: [\"\"]\n", `creditkit.yaml:4: operations.analyze.params[0]: expected a param name such as model, got ""`},
		{"plan not a mapping", "plans:\n  free: yes\n", `creditkit.yaml:2: plans.free: expected a plan with keys default, gives`},
		{"plan gives without every", "plans:\n  free:\n    gives: 500 credits each month\n", `creditkit.yaml:3: plans.free.gives: expected an amount and a period like "500 credits every month" or "100 credits every 2 weeks", got "500 credits each month"`},
		{"plan gives bad period", "plans:\n  free:\n    gives: 500 credits every fortnight\n", `creditkit.yaml:3: plans.free.gives: expected a period of day, week, month, quarter or year (like "every month" or "every 15 days"), got "every fortnight"`},
		{"plan gives zero periods", "plans:\n  free:\n    gives: 500 credits every 0 months\n", `creditkit.yaml:3: plans.free.gives: expected a whole number of periods from 1 to 1000 after every, got "0"`},
		{"plan gives zero", "plans:\n  free:\n    gives: 0 credits every month\n", `creditkit.yaml:3: plans.free.gives: a plan must give more than zero credits`},
		{"plan gives fraction of a credit", "plans:\n  free:\n    gives: 1.5 credits every month\n", `creditkit.yaml:3: plans.free.gives: expected an amount like "500 credits every month", got "1.5 credits" (amount "1.5" has more than 0 decimal places)`},
		{"plan default not a bool", "plans:\n  free:\n    default: maybe\n", `creditkit.yaml:3: plans.free.default: expected true or false, got "maybe"`},
		{"plan unused_credits unknown", "plans:\n  free:\n    unused_credits: keep\n", `creditkit.yaml:3: plans.free.unused_credits: expected expire, rollover, or "rollover up to 5000 credits", got "keep"`},
		{"plan rollover cap zero", "plans:\n  pro:\n    unused_credits: rollover up to 0 credits\n", `creditkit.yaml:3: plans.pro.unused_credits: a rollover cap must be more than zero`},
		{"plan stripe_price period unknown", "plans:\n  pro:\n    stripe_price: { quarter: price_q }\n", `creditkit.yaml:3: plans.pro.stripe_price: unknown key "quarter"; allowed keys: day, week, month, year`},
		{"plan overage unknown", "plans:\n  pro:\n    overage: unlimited\n", `creditkit.yaml:3: plans.pro.overage: expected none or "up to 10000 credits", got "unlimited"`},
		{"plan mixed currencies", "currencies: [{ name: credits }, { name: gems }]\nplans:\n  pro:\n    gives: 100 credits every month\n    signup_bonus: 5 gems\n", `creditkit.yaml:5: plans.pro.signup_bonus: is in gems but the plan's other amounts are in credits (line 4); use one currency per plan`},
		{"plan negative duration", "plans:\n  pro:\n    expire_after: -5 days\n", `creditkit.yaml:3: plans.pro.expire_after: expected a duration like "30 days", "1 month", "12h" or "1 year", got "-5 days": durations must not be negative`},
		{"plan duplicate key", "plans:\n  pro:\n    gives: 1 credit every day\n    gives: 2 credits every day\n", `creditkit.yaml:4: plans.pro.gives: defined twice (first at line 3); remove one`},
		{"pack without costs", "packs:\n  starter: { gives: 1000 credits }\n", `creditkit.yaml:2: packs.starter: missing costs; write it like costs: 49 USD`},
		{"pack without gives", "packs:\n  starter: { costs: 49 USD }\n", `creditkit.yaml:2: packs.starter: missing gives; write it like gives: 1000 credits`},
		{"pack gives zero", "packs:\n  starter: { gives: 0 credits, costs: 1 USD }\n", `creditkit.yaml:2: packs.starter.gives: a pack must give more than zero credits`},
		{"pack costs without currency", "packs:\n  starter: { gives: 1000 credits, costs: 49 }\n", `creditkit.yaml:2: packs.starter.costs: expected a price like "49 USD" or "4.99 EUR", got "49"`},
		{"pack costs bad currency", "packs:\n  starter: { gives: 1000 credits, costs: 49 dollars }\n", `creditkit.yaml:2: packs.starter.costs: expected a price like "49 USD" or "4.99 EUR" with an ISO 4217 currency code, got "49 dollars"`},
		{"pack costs too precise", "packs:\n  starter: { gives: 1000 credits, costs: 4.999 USD }\n", `creditkit.yaml:2: packs.starter.costs: expected a price like "49 USD" or "4.99 EUR", got "4.999 USD" (amount "4.999" has more than 2 decimal places)`},
		{"pack unknown key", "packs:\n  starter:\n    gives: 1000 credits\n    price: 49 USD\n", `creditkit.yaml:4: packs.starter: unknown key "price"; allowed keys: gives, costs, expires_after, stripe_price`},
		{"pack unknown currency", "packs:\n  starter: { gives: 1000 coins, costs: 1 USD }\n", `creditkit.yaml:2: packs.starter.gives: expected an amount like "1000 credits", got "1000 coins" (unknown currency "coins"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseConfig("creditkit.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("ParseConfig = %+v, want an error", c)
			}
			if ErrorCodeOf(err) != CodeInvalidConfig {
				t.Errorf("code = %s, want invalid_config", ErrorCodeOf(err))
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseConfigWithoutName(t *testing.T) {
	t.Parallel()
	_, err := ParseConfig("", []byte("rounding: up\n"))
	if err == nil || err.Error() != `line 1: rounding: expected ceil, floor or round, got "up"` {
		t.Errorf("error = %v", err)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := LoadConfig(path)
	if ErrorCodeOf(err) != CodeInvalidConfig {
		t.Fatalf("code = %s, want invalid_config (%v)", ErrorCodeOf(err), err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name the file", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "# only a comment\n", "operations:\nplans:\npacks:\n"} {
		c, err := ParseConfig("creditkit.yaml", []byte(src))
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", src, err)
		}
		if !reflect.DeepEqual(c.Currencies, []Currency{{"credits", 0}}) || c.Rounding != RoundCeil || c.LowBalance != 0 ||
			len(c.Operations) != 0 || c.Operations == nil || c.Plans == nil || c.Packs == nil || c.Path != "creditkit.yaml" {
			t.Errorf("ParseConfig(%q) = %+v, want the defaults", src, c)
		}
	}
	d := DefaultConfig()
	if d.DefaultCurrency() != (Currency{"credits", 0}) || d.Rounding != RoundCeil || d.Path != "" || d.Clock != nil {
		t.Errorf("DefaultConfig() = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	// A zero Config acts as the default one.
	var z Config
	if z.DefaultCurrency() != (Currency{"credits", 0}) {
		t.Errorf("zero Config default currency = %v", z.DefaultCurrency())
	}
	if err := z.AddOperation("send_email", "1 credit"); err != nil {
		t.Fatalf("AddOperation on a zero Config: %v", err)
	}
	if got, _, err := z.Price("send_email", nil); err != nil || got != 1 {
		t.Errorf("Price on a zero Config = %d, %v", got, err)
	}
	if err := z.Validate(); err != nil {
		t.Errorf("zero Config Validate = %v", err)
	}
}

func TestConfigCurrencyAndAmounts(t *testing.T) {
	t.Parallel()
	c := &Config{Currencies: []Currency{{"credits", 0}, {"usd_credits", 2}}}
	currencies := []struct {
		name string
		want Currency
		ok   bool
	}{
		{"", Currency{"credits", 0}, true},
		{"credits", Currency{"credits", 0}, true},
		{"credit", Currency{"credits", 0}, true},
		{"usd_credit", Currency{"usd_credits", 2}, true},
		{"USD_CREDITS", Currency{"usd_credits", 2}, true},
		{"gems", Currency{}, false},
	}
	for _, tt := range currencies {
		if got, ok := c.Currency(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Currency(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}

	formats := []struct {
		a        Amount
		currency string
		want     string
	}{
		{42, "credits", "42 credits"},
		{42, "", "42 credits"},
		{1, "credits", "1 credit"},
		{1250, "usd_credits", "12.50 usd_credits"},
		{1, "usd_credits", "0.01 usd_credits"},
		{7, "gems", "7 gems"},
	}
	for _, tt := range formats {
		if got := c.FormatAmount(tt.a, tt.currency); got != tt.want {
			t.Errorf("FormatAmount(%d, %q) = %q, want %q", tt.a, tt.currency, got, tt.want)
		}
	}

	parses := []struct {
		s        string
		want     Amount
		currency string
		code     ErrorCode
	}{
		{"1000 credits", 1000, "credits", ""},
		{"1 credit", 1, "credits", ""},
		{"12.5 usd_credits", 1250, "usd_credits", ""},
		{"0.01 usd_credit", 1, "usd_credits", ""},
		{"  77  ", 77, "credits", ""},
		{"1.5 credits", 0, "", CodeInvalidAmount},
		{"1.234 usd_credits", 0, "", CodeInvalidAmount},
		{"5 gems", 0, "", CodeInvalidAmount},
		{"five credits", 0, "", CodeInvalidAmount},
		{"", 0, "", CodeInvalidAmount},
		{"1 2 credits", 0, "", CodeInvalidAmount},
	}
	for _, tt := range parses {
		a, cur, err := c.ParseAmountWithUnit(tt.s)
		if tt.code != "" {
			if ErrorCodeOf(err) != tt.code {
				t.Errorf("ParseAmountWithUnit(%q) = %d, %q, %v; want code %s", tt.s, a, cur, err, tt.code)
			}
			continue
		}
		if err != nil || a != tt.want || cur != tt.currency {
			t.Errorf("ParseAmountWithUnit(%q) = %d, %q, %v; want %d, %q", tt.s, a, cur, err, tt.want, tt.currency)
		}
	}
}

func TestConfigValidateGoBuilt(t *testing.T) {
	t.Parallel()
	good := func() *Config {
		c := DefaultConfig()
		if err := c.AddOperation("send_email", "1 credit"); err != nil {
			t.Fatal(err)
		}
		c.Plans["free"] = &Plan{Name: "free", Default: true, Gives: 500, Currency: "credits", Every: Period{1, "month"}, UnusedCredits: "expire"}
		c.Packs["starter"] = &Pack{Name: "starter", Gives: 1000, Currency: "credits", PriceCents: 4900, PriceCurrency: "USD"}
		return c
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("Validate of a good config: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"bad currency name", func(c *Config) { c.Currencies = []Currency{{"my credits", 0}} }, "currencies[0]: expected a currency name"},
		{"decimals out of range", func(c *Config) { c.Currencies = []Currency{{"credits", 19}} }, "currencies[0]: expected decimals from 0 to 18, got 19"},
		{"currenciesConfusable currencies", func(c *Config) { c.Currencies = []Currency{{"credits", 0}, {"Credit", 0}} }, "currencies: credits and Credit can be confused"},
		{"bad rounding", func(c *Config) { c.Rounding = "up" }, `rounding: expected ceil, floor or round, got "up"`},
		{"negative low balance", func(c *Config) { c.LowBalance = -1 }, "low_balance: must not be negative"},
		{"nil operation", func(c *Config) { c.Operations["x"] = nil }, "operations.x: operation is nil"},
		{"operation name mismatch", func(c *Config) { c.Operations["x"] = &Operation{Name: "y"} }, `operations.x: operation is named "y"`},
		{"operation unknown currency", func(c *Config) { c.Operations["x"] = &Operation{Currency: "gems"} }, `operations.x: unknown currency "gems"`},
		{"negative fixed", func(c *Config) { c.Operations["x"] = &Operation{Fixed: big.NewRat(-1, 1)} }, "operations.x: the fixed cost must not be negative"},
		{"per zero", func(c *Config) {
			c.Operations["x"] = &Operation{Terms: []PriceTerm{{Rate: big.NewRat(1, 1), Per: new(big.Rat), Unit: "mb"}}}
		}, "operations.x: term 1 needs a per quantity more than zero"},
		{"bad unit", func(c *Config) {
			c.Operations["x"] = &Operation{Terms: []PriceTerm{{Rate: big.NewRat(1, 1), Per: big.NewRat(1, 1), Unit: "Mega Bytes"}}}
		}, `operations.x: term 1 has unit "Mega Bytes"`},
		{"negative limit", func(c *Config) { c.Operations["x"] = &Operation{Limits: map[string]*big.Rat{"n": big.NewRat(-1, 1)}} }, "operations.x.limits.n: expected a number of zero or more"},
		{"two terms of one quantity", func(c *Config) {
			one := big.NewRat(1, 1)
			c.Operations["x"] = &Operation{Terms: []PriceTerm{{Rate: one, Per: one, Unit: "mb"}, {Rate: one, Per: one, Unit: "byte"}}}
		}, "operations.x: terms 1 (per mb) and 2 (per byte) measure the same quantity"},
		{"record param paid by the price", func(c *Config) {
			one := big.NewRat(1, 1)
			c.Operations["x"] = &Operation{Terms: []PriceTerm{{Rate: one, Per: one, Unit: "second"}}, Params: []string{"minutes"}}
		}, "operations.x.params: minutes measures what the price is paid by"},
		{"record param with a space", func(c *Config) { c.Operations["x"] = &Operation{Params: []string{"user agent"}} }, `operations.x.params: param name "user agent" contains spaces`},
		{"two default plans", func(c *Config) { c.Plans["pro"] = &Plan{Default: true} }, "plans: free and pro are both the default plan; at most one plan can be the default"},
		{"plan without period", func(c *Config) { c.Plans["pro"] = &Plan{Gives: 10} }, "plans.pro: a plan that gives credits needs a period"},
		{"plan bad unused credits", func(c *Config) { c.Plans["pro"] = &Plan{UnusedCredits: "keep"} }, `plans.pro.unused_credits: expected expire or rollover, got "keep"`},
		{"plan cap without rollover", func(c *Config) { c.Plans["pro"] = &Plan{RolloverCap: 5} }, "plans.pro: a rollover cap needs unused_credits: rollover"},
		{"plan negative bonus", func(c *Config) { c.Plans["pro"] = &Plan{SignupBonus: -5} }, "plans.pro: signup_bonus must not be negative"},
		{"pack gives nothing", func(c *Config) { c.Packs["p"] = &Pack{PriceCents: 1} }, "packs.p.gives: a pack must give more than zero credits"},
		{"pack bad money code", func(c *Config) { c.Packs["p"] = &Pack{Gives: 1, PriceCurrency: "usd"} }, `packs.p.costs: expected an ISO 4217 currency code such as USD, got "usd"`},
		{"pack negative expiry", func(c *Config) { c.Packs["p"] = &Pack{Gives: 1, ExpiresAfter: Span{Months: -1}} }, "packs.p.expires_after: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			tt.change(c)
			err := c.Validate()
			if ErrorCodeOf(err) != CodeInvalidConfig || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want invalid_config starting %q", err, tt.want)
			}
		})
	}
}

// usage_window in the config sets the ledger's window for usage times.
func TestConfigUsageWindow(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig("creditkit.yaml", []byte("usage_window: { ahead: 1m, back: 7d }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UsageWindow != (UsageWindow{Ahead: time.Minute, Back: 7 * 24 * time.Hour}) {
		t.Fatalf("usage window = %+v", cfg.UsageWindow)
	}
	l := openPanicLedgerWith(t, cfg)
	now := l.Now()
	if _, err := l.Grant(context.Background(), "ann", 10, nil); err != nil {
		t.Fatal(err)
	}
	_, err = l.Debit(context.Background(), "ann", 1, &DebitOpts{OccurredAt: now.Add(-8 * 24 * time.Hour)})
	if ErrorCodeOf(err) != CodeInvalidRequest {
		t.Fatalf("a usage time 8 days back with a 7-day window: %v", err)
	}
	if _, err := l.Debit(context.Background(), "ann", 1, &DebitOpts{OccurredAt: now.Add(-6 * 24 * time.Hour)}); err != nil {
		t.Fatalf("a usage time 6 days back: %v", err)
	}
}
