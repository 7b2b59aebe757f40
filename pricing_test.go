package creditkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
)

// pricingConfig builds a config from YAML for a pricing test.
func pricingConfig(t *testing.T, src string) *Config {
	t.Helper()
	c, err := ParseConfig("pricing.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return c
}

const usageCreditsYAML = `
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  generate_video: 100 credits + 10 credits per second
  small_model: 1 credit per 10 tokens
  per_minute: 1 credit per minute
  widgets: 2 credits per widget
  analyze_data:
    cost: 20 credits
    meta: { category: analytics }
    limits: { prompt_chars: 1000, prompt: 10 }
    params: [model, tags]
`

func TestPriceUsageCreditsExamples(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	tests := []struct {
		name   string
		op     string
		params Params
		want   Amount
	}{
		{"fixed only", "send_email", nil, 1},
		{"5 mb", "process_image", Params{"mb": 5}, 15},
		{"5.2 mb float", "process_image", Params{"mb": 5.2}, 16},
		{"5.2 mb float32", "process_image", Params{"mb": float32(5.2)}, 16},
		{"5.2 mb json.Number", "process_image", Params{"mb": json.Number("5.2")}, 16},
		{"5.2 mb string", "process_image", Params{"mb": "5.2"}, 16},
		{"MB upper case", "process_image", Params{"MB": 5}, 15},
		{"megabytes long form", "process_image", Params{"megabytes": 5}, 15},
		{"size in bytes 5.2 mb", "process_image", Params{"size": 5452595}, 16},
		{"size in bytes exactly 5 mb", "process_image", Params{"size": 5242880}, 15},
		{"bytes", "process_image", Params{"bytes": int64(5242880)}, 15},
		{"kb", "process_image", Params{"kb": 5120}, 15},
		{"gb", "process_image", Params{"gb": 0.5}, 10 + 512},
		{"zero mb", "process_image", Params{"mb": 0}, 10},
		{"params kept for the record", "analyze_data", Params{"prompt_chars": 10, "model": "m1", "tags": []string{"a"}}, 20},
		{"seconds", "generate_video", Params{"seconds": 3}, 130},
		{"custom unit singular", "widgets", Params{"widget": 3}, 6},
		{"custom unit plural", "widgets", Params{"widgets": uint8(3)}, 6},
		{"limited op under limit", "analyze_data", Params{"prompt_chars": 1000, "prompt": "short"}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, op, err := c.Price(tt.op, tt.params)
			if err != nil {
				t.Fatalf("Price: %v", err)
			}
			if got != tt.want {
				t.Errorf("Price(%s, %v) = %d, want %d", tt.op, tt.params, got, tt.want)
			}
			if op == nil || op.Name != tt.op {
				t.Errorf("Price returned operation %+v, want %s", op, tt.op)
			}
		})
	}
}

func TestPriceTimeConversions(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	tests := []struct {
		name   string
		op     string
		params Params
		want   Amount
	}{
		{"minutes for a per-second price", "generate_video", Params{"minutes": 2.5}, 100 + 1500},
		{"mins alias", "generate_video", Params{"mins": 1}, 100 + 600},
		{"hours for a per-second price", "generate_video", Params{"hours": 0.01}, 100 + 360},
		{"secs alias", "generate_video", Params{"secs": 2}, 120},
		{"seconds for a per-minute price rounds up", "per_minute", Params{"seconds": 90}, 2},
		{"hours for a per-minute price", "per_minute", Params{"hour": 1}, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := c.Price(tt.op, tt.params)
			if err != nil {
				t.Fatalf("Price: %v", err)
			}
			if got != tt.want {
				t.Errorf("Price(%s, %v) = %d, want %d", tt.op, tt.params, got, tt.want)
			}
		})
	}
}

func TestPriceRounding(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	op, err := c.Operation("small_model")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tokens any
		r      Rounding
		want   Amount
	}{
		{15, RoundCeil, 2},
		{15, "", 2}, // the default is ceil
		{15, RoundFloor, 1},
		{15, RoundHalfUp, 2},
		{14, RoundHalfUp, 1},
		{11, RoundCeil, 2},
		{19, RoundFloor, 1},
		{10, RoundCeil, 1},
		{10, RoundFloor, 1},
		{0, RoundCeil, 0},
	}
	for _, tt := range tests {
		got, err := op.Cost(Params{"tokens": tt.tokens}, tt.r)
		if err != nil {
			t.Fatalf("Cost(tokens=%v, %q): %v", tt.tokens, tt.r, err)
		}
		if got != tt.want {
			t.Errorf("Cost(tokens=%v, %q) = %d, want %d", tt.tokens, tt.r, got, tt.want)
		}
	}
	if _, err := op.Cost(Params{"tokens": 1}, "up"); ErrorCodeOf(err) != CodeInvalidConfig {
		t.Errorf("Cost with rounding %q: err = %v, want invalid_config", "up", err)
	}

	// The config's rounding is the one Price uses.
	floor := pricingConfig(t, "rounding: floor\noperations:\n  small_model: 1 credit per 10 tokens\n")
	if got, _, err := floor.Price("small_model", Params{"tokens": 15}); err != nil || got != 1 {
		t.Errorf("Price with rounding: floor = %d, %v; want 1", got, err)
	}
	round := pricingConfig(t, "rounding: round\noperations:\n  small_model: 1 credit per 10 tokens\n")
	if got, _, err := round.Price("small_model", Params{"tokens": 15}); err != nil || got != 2 {
		t.Errorf("Price with rounding: round = %d, %v; want 2", got, err)
	}
}

func TestRoundRatNegativeHalves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x    string
		r    Rounding
		want int64
	}{
		{"-3/2", RoundCeil, -1},
		{"-3/2", RoundFloor, -2},
		{"-3/2", RoundHalfUp, -2},
		{"-7/5", RoundHalfUp, -1},
		{"5/2", RoundHalfUp, 3},
		{"12/5", RoundHalfUp, 2},
		{"4", RoundCeil, 4},
	}
	for _, tt := range tests {
		x, _ := new(big.Rat).SetString(tt.x)
		if got := roundRatWith(x, tt.r).Int64(); got != tt.want {
			t.Errorf("roundRatWith(%s, %q) = %d, want %d", tt.x, tt.r, got, tt.want)
		}
	}
}

func TestPriceDecimalRatesAreExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		yaml   string
		params Params
		r      Rounding
		want   Amount
	}{
		// 0.1 * 3 is 0.30000000000000004 in float64: ceil would give 4.
		{"0.1 per token x3, 1 decimal, ceil", "currency: { name: credits, decimals: 1 }\noperations:\n  op: 0.1 credits per token\n", Params{"tokens": 3}, RoundCeil, 3},
		{"0.1 per token x3, 1 decimal, floor", "currency: { name: credits, decimals: 1 }\noperations:\n  op: 0.1 credits per token\n", Params{"tokens": 3}, RoundFloor, 3},
		{"float param 0.3 read as 0.3", "currency: { name: credits, decimals: 1 }\noperations:\n  op: 1 credit per second\n", Params{"seconds": 0.3}, RoundFloor, 3},
		{"0.001 per token x1000", "operations:\n  op: 0.001 credits per token\n", Params{"tokens": 1000}, RoundFloor, 1},
		{"0.001 per token x999 floors to 0", "operations:\n  op: 0.001 credits per token\n", Params{"tokens": 999}, RoundFloor, 0},
		{"fractional fixed part summed before rounding", "operations:\n  op: 0.5 credits + 0.5 credits per token\n", Params{"tokens": 1}, RoundFloor, 1},
		{"cents currency", "currency: { name: usd_credits, decimals: 2 }\noperations:\n  op: 0.5 usd_credits + 0.002 usd_credits per token\n", Params{"tokens": 1000}, RoundCeil, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := pricingConfig(t, tt.yaml)
			op, err := c.Operation("op")
			if err != nil {
				t.Fatal(err)
			}
			got, err := op.Cost(tt.params, tt.r)
			if err != nil {
				t.Fatalf("Cost: %v", err)
			}
			if got != tt.want {
				t.Errorf("Cost = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPriceBadParams(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	tests := []struct {
		name   string
		op     string
		params Params
		code   ErrorCode
		want   []string
	}{
		{"missing data param", "process_image", nil, CodeInvalidParams, []string{`process_image needs param "mb"`, "size", "bytes", "kb"}},
		{"missing time param", "generate_video", nil, CodeInvalidParams, []string{`generate_video needs param "seconds"`, "minutes", "hours"}},
		{"missing count param", "small_model", Params{}, CodeInvalidParams, []string{`small_model needs param "tokens"`}},
		{"negative", "process_image", Params{"mb": -1}, CodeInvalidParams, []string{"mb is -1", "zero or more"}},
		{"negative string", "process_image", Params{"mb": "-0.5"}, CodeInvalidParams, []string{"mb is -0.5"}},
		{"non-numeric string", "process_image", Params{"mb": "five"}, CodeInvalidParams, []string{`mb is "five", not a number`}},
		{"fraction string", "process_image", Params{"mb": "1/2"}, CodeInvalidParams, []string{"not a number"}},
		{"hex string", "process_image", Params{"mb": "0x10"}, CodeInvalidParams, []string{"not a number"}},
		{"exponent string", "process_image", Params{"mb": "1e3"}, CodeInvalidParams, []string{"not a number"}},
		{"bool", "process_image", Params{"mb": true}, CodeInvalidParams, []string{"mb is true (bool), not a number"}},
		{"nil", "process_image", Params{"mb": nil}, CodeInvalidParams, []string{"mb is empty"}},
		{"NaN", "process_image", Params{"mb": math.NaN()}, CodeInvalidParams, []string{"mb is NaN"}},
		{"Inf", "process_image", Params{"mb": math.Inf(1)}, CodeInvalidParams, []string{"mb is +Inf"}},
		{"two of one dimension", "process_image", Params{"mb": 1, "size": 100}, CodeInvalidParams, []string{"give only one of mb, size for process_image"}},
		{"two time params", "generate_video", Params{"seconds": 1, "minutes": 1}, CodeInvalidParams, []string{"give only one of minutes, seconds"}},
		{"over numeric limit", "analyze_data", Params{"prompt_chars": 1200}, CodeInvalidParams, []string{"prompt_chars is 1200, above the limit of 1000 for analyze_data"}},
		{"over numeric limit, numeric string", "analyze_data", Params{"prompt_chars": "1000.5"}, CodeInvalidParams, []string{"prompt_chars is 1000.5, above the limit of 1000 for analyze_data"}},
		{"over length limit", "analyze_data", Params{"prompt": "héllo world"}, CodeInvalidParams, []string{"prompt is 11 characters long, above the limit of 10 for analyze_data"}},
		{"limit on a non-number", "analyze_data", Params{"prompt_chars": true}, CodeInvalidParams, []string{"prompt_chars is true (bool)"}},
		{"unknown operation", "resize", Params{}, CodeUnknownOperation, []string{`unknown operation "resize"`, "analyze_data, generate_video, per_minute, process_image, send_email, small_model, widgets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := c.Price(tt.op, tt.params)
			if err == nil {
				t.Fatalf("Price(%s, %v) = %d, want an error", tt.op, tt.params, got)
			}
			if code := ErrorCodeOf(err); code != tt.code {
				t.Errorf("code = %s, want %s (%v)", code, tt.code, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, _, err := c.Price("resize", nil); !errors.Is(err, ErrUnknownOperation) {
		t.Errorf("unknown operation error %v does not match ErrUnknownOperation", err)
	}
	if _, _, err := c.Price("process_image", nil); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("missing param error %v does not match ErrInvalidParams", err)
	}
	empty := DefaultConfig()
	if _, err := empty.Operation("x"); ErrorCodeOf(err) != CodeUnknownOperation || !strings.Contains(err.Error(), "no operations are configured") {
		t.Errorf("Operation on an empty config: %v", err)
	}
}

func TestPriceOverflow(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, `operations:
  per_token: 1 credit per token
  max_fixed: 9223372036854775807 credits
  max_plus: 9223372036854775807 credits + 1 credit per token
`)
	tests := []struct {
		name   string
		op     string
		params Params
		want   Amount
		code   ErrorCode
	}{
		{"huge param", "per_token", Params{"tokens": "100000000000000000000000"}, 0, CodeInvalidAmount},
		{"huge json.Number", "per_token", Params{"tokens": json.Number("1e30")}, 0, CodeInvalidAmount},
		{"max uint64", "per_token", Params{"tokens": uint64(math.MaxUint64)}, 0, CodeInvalidAmount},
		{"max int64 fits", "max_fixed", nil, math.MaxInt64, ""},
		{"max int64 plus fraction rounds over", "max_plus", Params{"tokens": 0.1}, 0, CodeInvalidAmount},
		{"max int64 plus zero fits", "max_plus", Params{"tokens": 0}, math.MaxInt64, ""},
	}
	huge, _ := new(big.Rat).SetString("99999999999999999999")
	c.Operations["huge_fixed"] = &Operation{Name: "huge_fixed", Fixed: huge}
	tests = append(tests, struct {
		name   string
		op     string
		params Params
		want   Amount
		code   ErrorCode
	}{"huge fixed built in Go", "huge_fixed", nil, 0, CodeInvalidAmount})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := c.Price(tt.op, tt.params)
			if tt.code == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Price = %d, %v; want %d", got, err, tt.want)
				}
				return
			}
			if ErrorCodeOf(err) != tt.code {
				t.Fatalf("Price = %d, %v; want code %s", got, err, tt.code)
			}
			if !errors.Is(err, ErrInvalidAmount) {
				t.Errorf("error %v does not match ErrInvalidAmount", err)
			}
		})
	}
}

func TestParamRatTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string // as a big.Rat RatString; "" means not a number
	}{
		{int(5), "5"}, {int8(-5), "-5"}, {int16(5), "5"}, {int32(5), "5"}, {int64(5), "5"},
		{uint(5), "5"}, {uint8(5), "5"}, {uint16(5), "5"}, {uint32(5), "5"}, {uint64(5), "5"},
		{5.2, "26/5"}, {float32(5.2), "26/5"}, {0.1, "1/10"},
		{json.Number("5.2"), "26/5"}, {json.Number("1e3"), "1000"},
		{"5.2", "26/5"}, {" 7 ", "7"}, {".5", "1/2"},
		{big.NewRat(1, 3), "1/3"}, {big.NewInt(9), "9"},
		{"", ""}, {"abc", ""}, {"1/2", ""}, {"0x10", ""}, {"1e3", ""}, {"Inf", ""}, {"NaN", ""},
		{math.NaN(), ""}, {math.Inf(-1), ""}, {float32(math.Inf(1)), ""}, {true, ""}, {nil, ""},
		{json.Number("1e99999"), ""}, {[]int{1}, ""},
	}
	for _, tt := range tests {
		r, ok := paramRat(tt.v)
		switch {
		case tt.want == "" && ok:
			t.Errorf("paramRat(%#v) = %v, want not a number", tt.v, r)
		case tt.want != "" && !ok:
			t.Errorf("paramRat(%#v) is not a number, want %s", tt.v, tt.want)
		case ok && r.RatString() != tt.want:
			t.Errorf("paramRat(%#v) = %s, want %s", tt.v, r.RatString(), tt.want)
		}
	}
}

func TestFormulaParsing(t *testing.T) {
	t.Parallel()
	type term struct{ rate, per, unit string }
	tests := []struct {
		formula  string
		decimals int
		currency string
		fixed    string
		terms    []term
	}{
		{"1 credit", 0, "credits", "1", nil},
		{"10 credits + 1 credit per mb", 0, "credits", "10", []term{{"1", "1", "mb"}}},
		{"1 credit per 10 tokens", 0, "credits", "0", []term{{"1", "10", "token"}}},
		{"0.25 credits per second", 0, "credits", "0", []term{{"1/4", "1", "second"}}},
		{"0.5 credits", 2, "credits", "50", nil},
		{"1 credit per 1.5 minutes", 1, "credits", "0", []term{{"10", "3/2", "minute"}}},
		{"2 Credits PER Megabytes + 3 credits per sec", 0, "credits", "0", []term{{"2", "1", "mb"}, {"3", "1", "second"}}},
		{"1 credit per size", 0, "credits", "0", []term{{"1", "1", "byte"}}},
		{"1 credit per widget + 1 credit per chars", 0, "credits", "0", []term{{"1", "1", "widget"}, {"1", "1", "character"}}},
		{"1 credit + 2 credits", 0, "credits", "3", nil},
	}
	for _, tt := range tests {
		c := &Config{Currencies: []Currency{{Name: "credits", Decimals: tt.decimals}}}
		if err := c.AddOperation("op", tt.formula); err != nil {
			t.Errorf("AddOperation(%q): %v", tt.formula, err)
			continue
		}
		op := c.Operations["op"]
		if op.Currency != tt.currency || op.Formula != tt.formula || op.Fixed.RatString() != tt.fixed || len(op.Terms) != len(tt.terms) {
			t.Errorf("AddOperation(%q) = currency %s, formula %q, fixed %s, %d terms; want %s, %s, %d terms",
				tt.formula, op.Currency, op.Formula, op.Fixed.RatString(), len(op.Terms), tt.currency, tt.fixed, len(tt.terms))
			continue
		}
		for i, w := range tt.terms {
			got := op.Terms[i]
			if got.Rate.RatString() != w.rate || got.Per.RatString() != w.per || got.Unit != w.unit {
				t.Errorf("AddOperation(%q) term %d = %s per %s %s, want %s per %s %s", tt.formula, i, got.Rate.RatString(), got.Per.RatString(), got.Unit, w.rate, w.per, w.unit)
			}
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate after AddOperation(%q): %v", tt.formula, err)
		}
	}
}

func TestFormulaErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		formula string
		want    string
	}{
		{"", `expected a price like "10 credits + 1 credit per mb", got ""`},
		{"ten credits", `got "ten credits"`},
		{"10", `got "10"`},
		{"10 credits +", `got "10 credits +"`},
		{"-10 credits", `got "-10 credits"`},
		{"1e3 credits", `got "1e3 credits"`},
		{"1 credit for mb", `got "1 credit for mb"`},
		{"1 credit per", `got "1 credit per"`},
		{"1 credit per 10 big tokens", `got "1 credit per 10 big tokens"`},
		{"1 credit per 10 $", `got "1 credit per 10 $"`},
		{"1 credit per 0 tokens", "the quantity after per must be more than zero"},
		{"10 coins", `unknown currency "coins" in "10 coins"; configured currencies: credits, usd_credits`},
		{"10 credits + 1 usd_credit per mb", `all terms of an operation must be in one currency`},
	}
	for _, tt := range tests {
		c := &Config{Currencies: []Currency{{Name: "credits"}, {Name: "usd_credits", Decimals: 2}}}
		err := c.AddOperation("op", tt.formula)
		if err == nil {
			t.Errorf("AddOperation(%q) succeeded, want an error", tt.formula)
			continue
		}
		if ErrorCodeOf(err) != CodeInvalidConfig || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "operation op: ") {
			t.Errorf("AddOperation(%q) = %v, want invalid_config containing %q", tt.formula, err, tt.want)
		}
	}
	c := DefaultConfig()
	if err := c.AddOperation("op", "1 credit"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddOperation("op", "2 credits"); ErrorCodeOf(err) != CodeInvalidConfig {
		t.Errorf("adding op twice: %v, want invalid_config", err)
	}
	if err := c.AddOperation("my op", "2 credits"); ErrorCodeOf(err) != CodeInvalidConfig {
		t.Errorf("adding an operation with a space in its name: %v, want invalid_config", err)
	}
}

func TestUnitAliases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unit  string // the unit of the price term
		param string // the param given
		value any
		want  Amount // at 1 credit per unit, ceil
	}{
		{"byte", "size", 10, 10},
		{"bytes", "kilobytes", 1, 1024},
		{"kb", "mb", 1, 1024},
		{"kilobyte", "gigabyte", 1, 1048576},
		{"gb", "bytes", 1073741824, 1},
		{"gigabytes", "gbs", 2, 2},
		{"second", "sec", 5, 5},
		{"minute", "seconds", 30, 1},
		{"minutes", "hours", 2, 120},
		{"hour", "minutes", 30, 1},
		{"token", "Token", 3, 3},
		{"tokens", "tokens", 3, 3},
		{"page", "pages", 2, 2},
		{"unit", "units", 2, 2},
		{"request", "request", 2, 2},
		{"image", "images", 2, 2},
		{"character", "chars", 7, 7},
		{"char", "characters", 7, 7},
		{"seat", "seats", 4, 4},
		{"seats", "seat", 4, 4},
		{"seat", "SEAT", 4, 4},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		if err := c.AddOperation("op", "1 credit per "+tt.unit); err != nil {
			t.Fatalf("AddOperation(per %s): %v", tt.unit, err)
		}
		got, _, err := c.Price("op", Params{tt.param: tt.value})
		if err != nil || got != tt.want {
			t.Errorf("1 credit per %s with %s=%v = %d, %v; want %d", tt.unit, tt.param, tt.value, got, err, tt.want)
		}
	}
	// Params of another dimension do not count.
	c := DefaultConfig()
	if err := c.AddOperation("op", "1 credit per token"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Price("op", Params{"pages": 3, "mb": 2}); ErrorCodeOf(err) != CodeInvalidParams {
		t.Errorf("per token with pages and mb: %v, want invalid_params", err)
	}
	if err := c.AddOperation("seats", "1 credit per seat"); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Price("seats", Params{"seatz": 3})
	if ErrorCodeOf(err) != CodeInvalidParams || !strings.Contains(err.Error(), `unknown param "seatz" for seats: it takes seat (also accepted: seats)`) {
		t.Errorf("custom unit with a wrong param: %v", err)
	}
}

func TestOperationCostNilAndBrokenTerms(t *testing.T) {
	t.Parallel()
	var nilOp *Operation
	if _, err := nilOp.Cost(nil, RoundCeil); err == nil {
		t.Error("Cost on a nil operation succeeded")
	}
	broken := &Operation{Name: "broken", Terms: []PriceTerm{{Rate: big.NewRat(1, 1), Per: new(big.Rat), Unit: "token"}}}
	if _, err := broken.Cost(Params{"tokens": 1}, RoundCeil); ErrorCodeOf(err) != CodeInvalidConfig {
		t.Errorf("Cost with per 0: %v, want invalid_config", err)
	}
	// An operation built by hand, with no fixed part, works.
	op := &Operation{Name: "hand", Terms: []PriceTerm{{Rate: big.NewRat(3, 1), Per: big.NewRat(2, 1), Unit: "page"}}}
	if got, err := op.Cost(Params{"pages": 3}, RoundFloor); err != nil || got != 4 {
		t.Errorf("hand-built Cost = %d, %v; want 4", got, err)
	}
}

// TestUnknownParamsAreRefused: a param is known when a term is paid by it
// (in any alias of the term's unit), when it has a limit, or when it is
// declared under params:; any other is invalid_params naming the accepted
// ones.
func TestUnknownParamsAreRefused(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	tests := []struct {
		name   string
		op     string
		params Params
		want   string // the whole message
	}{
		{"extra param", "process_image", Params{"mb": 1, "foo": 2},
			`unknown param "foo" for process_image: it takes mb (also accepted: size (in bytes), bytes, kb, gb); put other context in metadata, or list the param under params: in the operation's config`},
		{"several extra params", "generate_video", Params{"seconds": 1, "user": "bob", "fps": 30},
			`unknown params "fps", "user" for generate_video: it takes seconds (also accepted: minutes, hours); put other context in metadata, or list the param under params: in the operation's config`},
		{"a fixed price takes none", "send_email", Params{"mb": 1},
			`send_email takes no params, got param "mb"; put free-form context in metadata`},
		{"another dimension", "small_model", Params{"tokens": 10, "pages": 1},
			`unknown param "pages" for small_model: it takes tokens (also accepted: token); put other context in metadata, or list the param under params: in the operation's config`},
		{"limits and record params are listed", "analyze_data", Params{"prompt_chars": 1, "modle": "m1"},
			`unknown param "modle" for analyze_data: it takes model, prompt, prompt_chars, tags; put other context in metadata, or list the param under params: in the operation's config`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := c.Price(tt.op, tt.params)
			if ErrorCodeOf(err) != CodeInvalidParams || !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Price(%s, %v) = %d, %v; want invalid_params", tt.op, tt.params, got, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
	// Every alias of a term's unit is known, in any case.
	for _, k := range []string{"size", "bytes", "byte", "kb", "kilobytes", "MB", "megabyte", "gb", "gigabytes"} {
		if _, _, err := c.Price("process_image", Params{k: 1}); err != nil {
			t.Errorf("process_image with %s: %v", k, err)
		}
	}
	// Go-built operations follow the same rule.
	op := &Operation{Name: "op", Fixed: big.NewRat(1, 1), Params: []string{"model"}}
	if _, err := op.Cost(Params{"model": "m"}, RoundCeil); err != nil {
		t.Errorf("declared param: %v", err)
	}
	if _, err := op.Cost(Params{"mdl": "m"}, RoundCeil); ErrorCodeOf(err) != CodeInvalidParams || !strings.Contains(err.Error(), "it takes model") {
		t.Errorf("undeclared param: %v", err)
	}
}

// TestSizeAndMBCostTheSame: an mb is 1024² bytes, so size 5242880 (bytes)
// and mb 5 cost the same, in every param form.
func TestSizeAndMBCostTheSame(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	want, _, err := c.Price("process_image", Params{"mb": 5})
	if err != nil || want != 15 {
		t.Fatalf("mb 5 = %d, %v; want 15", want, err)
	}
	for _, p := range []Params{{"size": 5242880}, {"size": "5242880"}, {"bytes": json.Number("5242880")}, {"kb": 5120}, {"gb": "0.0048828125"}} {
		if got, _, err := c.Price("process_image", p); err != nil || got != want {
			t.Errorf("%v = %d, %v; want %d, as mb 5", p, got, err, want)
		}
	}
	// One byte more is a fraction of an mb more, rounded up.
	if got, _, err := c.Price("process_image", Params{"size": 5242881}); err != nil || got != want+1 {
		t.Errorf("size 5242881 = %d, %v; want %d", got, err, want+1)
	}
}

// TestParamsSizeLimits: params are bounded like metadata: 50 keys, names
// of 1 to 40 characters, values of 500 characters.
func TestParamsSizeLimits(t *testing.T) {
	t.Parallel()
	c := pricingConfig(t, usageCreditsYAML)
	many := Params{"prompt_chars": 1}
	for i := range 50 {
		many[fmt.Sprintf("p%d", i)] = 1
	}
	long := strings.Repeat("é", 501)
	tests := []struct {
		name   string
		params Params
		want   string
	}{
		{"51 keys", many, "params has 51 keys; the limit is 50"},
		{"long name", Params{strings.Repeat("k", 41): 1}, "must be 1 to 40 characters"},
		{"empty name", Params{"": 1}, `param name "" must be 1 to 40 characters`},
		{"long string", Params{"model": long}, "param model is 501 characters long; the limit is 500"},
		{"long list", Params{"tags": strings.Split(strings.Repeat("ab,", 200), ",")}, "param tags is 1004 characters long; the limit is 500"},
		{"long number", Params{"prompt_chars": json.Number("1" + strings.Repeat("0", 500))}, "param prompt_chars is 501 characters long"},
		{"no JSON form", Params{"model": math.NaN()}, "param model is NaN, which cannot be stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := c.Price("analyze_data", tt.params)
			if ErrorCodeOf(err) != CodeInvalidParams || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Price = %v, want invalid_params containing %q", err, tt.want)
			}
		})
	}
	// At the limits exactly, params are fine (as far as size goes).
	ok := Params{"prompt_chars": 1, "model": strings.Repeat("é", 500), "tags": []string{strings.Repeat("a", 496)}}
	if _, _, err := c.Price("analyze_data", ok); err != nil {
		t.Errorf("params at the limits: %v", err)
	}
}
