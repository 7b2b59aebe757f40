package creditkit

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rounding is the strategy applied once to an operation's total cost, after
// every term has been added up exactly.
type Rounding string

// Rounding strategies. The default is RoundCeil.
const (
	// RoundCeil rounds any fraction up: 15.01 costs 16.
	RoundCeil Rounding = "ceil"
	// RoundFloor drops any fraction: 15.99 costs 15.
	RoundFloor Rounding = "floor"
	// RoundHalfUp rounds to the nearest integer, halves away from zero:
	// 15.5 costs 16, 15.49 costs 15.
	RoundHalfUp Rounding = "round"
)

// valid reports whether r is a known strategy; "" means the default.
func (r Rounding) valid() bool {
	switch r {
	case "", RoundCeil, RoundFloor, RoundHalfUp:
		return true
	}
	return false
}

// Operation is something that costs credits, priced by a formula such as
// "10 credits + 1 credit per mb".
type Operation struct {
	// Name is the operation's name, as in the config.
	Name string
	// Currency is the currency the operation is priced in, taken from the
	// currency word of its terms ("credits", "usd_credits").
	Currency string
	// Formula is the source text of the price, e.g. "10 credits + 1 credit per mb".
	Formula string
	// Fixed is the fixed part of the price in smallest units, exact. Nil is zero.
	Fixed *big.Rat
	// Terms are the per-unit parts of the price.
	Terms []PriceTerm
	// Meta is copied into the metadata of ledger entries charging the operation.
	Meta map[string]any
	// Limits maps a param name to the largest value allowed for it; for a
	// string param that is not a number, the largest length in characters.
	Limits map[string]*big.Rat
	// Params names the params kept only for the record: accepted and stored
	// with the charge, but neither priced nor limited. Cost refuses any
	// param that is not one of these, a limit, or a unit the terms are paid
	// by (in any of its aliases: size, bytes, kb, mb or gb for a term per mb).
	Params []string
}

// PriceTerm is one per-unit part of a price: Rate smallest units per Per
// units of Unit ("1 credit per 10 tokens" is Rate 1, Per 10, Unit "token").
type PriceTerm struct {
	// Rate is the price in smallest units of the operation's currency for
	// Per units.
	Rate *big.Rat
	// Per is how many units Rate pays for; it is more than zero.
	Per *big.Rat
	// Unit is the canonical unit, such as "mb", "second", "token", or a
	// custom word.
	Unit string
}

// priceExample is shown in every error about a malformed price.
const priceExample = `10 credits + 1 credit per mb`

// Cost returns the price of one run of the operation with params p: the fixed
// part plus every term's rate times the param value in the term's unit,
// computed exactly and rounded once with r ("" means RoundCeil). It checks
// the operation's limits first. Errors are invalid_params for missing or bad
// params and invalid_amount when the cost does not fit in 64 bits.
func (o *Operation) Cost(p Params, r Rounding) (Amount, error) {
	if o == nil {
		return 0, errorf(CodeUnknownOperation, "operation is nil")
	}
	if !r.valid() {
		return 0, errorf(CodeInvalidConfig, "unknown rounding %q: use ceil, floor or round", r)
	}
	if err := checkParamsSize(p); err != nil {
		return 0, err
	}
	if err := o.checkKnownParams(p); err != nil {
		return 0, err
	}
	if err := o.checkLimits(p); err != nil {
		return 0, err
	}
	total := new(big.Rat)
	if o.Fixed != nil {
		total.Set(o.Fixed)
	}
	for _, t := range o.Terms {
		if t.Rate == nil || t.Per == nil || t.Per.Sign() <= 0 {
			return 0, errorf(CodeInvalidConfig, "operation %s has a price term without a rate or with a per quantity that is not more than zero", o.Name)
		}
		q, err := o.quantity(t, p)
		if err != nil {
			return 0, err
		}
		part := new(big.Rat).Mul(t.Rate, q)
		part.Quo(part, t.Per)
		total.Add(total, part)
	}
	n := roundRatWith(total, r)
	if !n.IsInt64() {
		return 0, errorf(CodeInvalidAmount, "the cost of %s with these params is too large to fit in 64 bits; check the params", o.Name)
	}
	return Amount(n.Int64()), nil
}

// quantity finds the param that term t is paid by and returns its value in
// t's unit.
func (o *Operation) quantity(t PriceTerm, p Params) (*big.Rat, error) {
	want := unitOf(t.Unit)
	var keys []string
	for k := range p {
		if _, ok := paramUnit(k, want); ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	switch len(keys) {
	case 0:
		msg := fmt.Sprintf("%s needs param %q", o.Name, want.paramName())
		if alts := want.alternatives(); alts != "" {
			msg += " (also accepted: " + alts + ")"
		}
		return nil, errorf(CodeInvalidParams, "%s", msg)
	case 1:
	default:
		return nil, errorf(CodeInvalidParams, "give only one of %s for %s: they measure the same thing", strings.Join(keys, ", "), o.Name)
	}
	k := keys[0]
	v, err := paramNumber(k, p[k])
	if err != nil {
		return nil, err
	}
	if v.Sign() < 0 {
		return nil, errorf(CodeInvalidParams, "param %s is %s: it must be zero or more", k, ratDecimalString(v))
	}
	from, _ := paramUnit(k, want)
	q := new(big.Rat).Mul(v, from.factor)
	return q.Quo(q, want.factor), nil
}

// knowsParam reports whether the operation accepts a param named key: a
// unit one of its terms is paid by, a limit, or a param declared for the
// record.
func (o *Operation) knowsParam(key string) bool {
	if o.paidBy(key) {
		return true
	}
	if _, ok := o.Limits[key]; ok {
		return true
	}
	return slices.Contains(o.Params, key)
}

// paidBy reports whether a param named key measures the unit of one of the
// operation's terms.
func (o *Operation) paidBy(key string) bool {
	for _, t := range o.Terms {
		if _, ok := paramUnit(key, unitOf(t.Unit)); ok {
			return true
		}
	}
	return false
}

// acceptedParams describes the params the operation accepts, for messages:
// `mb (also accepted: size (in bytes), bytes, kb, gb), prompt_chars`.
func (o *Operation) acceptedParams() string {
	var out []string
	for _, t := range o.Terms {
		u := unitOf(t.Unit)
		s := u.paramName()
		if alts := u.alternatives(); alts != "" {
			s += " (also accepted: " + alts + ")"
		}
		out = append(out, s)
	}
	var rest []string
	for _, k := range slices.Concat(sortedConfigKeys(o.Limits), o.Params) {
		if !slices.Contains(rest, k) && !o.paidBy(k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return strings.Join(append(out, rest...), ", ")
}

// checkKnownParams refuses params the operation does not know, naming the
// ones it accepts, so that a misspelled or misplaced param is never
// recorded as if it meant something.
func (o *Operation) checkKnownParams(p Params) error {
	var unknown []string
	for k := range p {
		if !o.knowsParam(k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	what := "param " + unknown[0]
	if len(unknown) > 1 {
		what = "params " + strings.Join(unknown, ", ")
	}
	accepted := o.acceptedParams()
	if accepted == "" {
		return errorf(CodeInvalidParams, "%s takes no params, got %s; put free-form context in metadata", o.Name, what)
	}
	return errorf(CodeInvalidParams, "unknown %s for %s: it takes %s; put other context in metadata, or list the param under params: in the operation's config", what, o.Name, accepted)
}

// checkLimits rejects params above the operation's limits.
func (o *Operation) checkLimits(p Params) error {
	names := make([]string, 0, len(o.Limits))
	for n := range o.Limits {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		limit := o.Limits[name]
		v, ok := p[name]
		if !ok || limit == nil {
			continue
		}
		if r, ok := paramRat(v); ok {
			if r.Cmp(limit) > 0 {
				return errorf(CodeInvalidParams, "%s is %s, above the limit of %s for %s", name, ratDecimalString(r), ratDecimalString(limit), o.Name)
			}
			continue
		}
		if s, ok := v.(string); ok {
			n := utf8.RuneCountInString(s)
			if new(big.Rat).SetInt64(int64(n)).Cmp(limit) > 0 {
				return errorf(CodeInvalidParams, "%s is %d characters long, above the limit of %s for %s", name, n, ratDecimalString(limit), o.Name)
			}
			continue
		}
		return errorf(CodeInvalidParams, "param %s is %s: give a number, or a string whose length is limited, at most %s", name, describeParam(v), ratDecimalString(limit))
	}
	return nil
}

// paramNumber reads a param value as an exact number, or explains why it
// is not one.
func paramNumber(name string, v any) (*big.Rat, error) {
	if r, ok := paramRat(v); ok {
		return r, nil
	}
	return nil, errorf(CodeInvalidParams, "param %s is %s, not a number: give a number such as 5 or 5.2", name, describeParam(v))
}

// describeParam prints a param value for an error message.
func describeParam(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			return strconv.Quote(x[:40] + "...")
		}
		return strconv.Quote(x)
	case nil:
		return "empty"
	case float64, float32:
		return fmt.Sprint(x)
	default:
		return fmt.Sprintf("%v (%T)", x, x)
	}
}

// paramRat converts a param value to an exact number. Floats go through
// their shortest decimal form, so 5.2 is exactly 5.2. Strings must be plain
// decimals; json.Number may also carry an exponent.
func paramRat(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int8:
		return new(big.Rat).SetInt64(int64(x)), true
	case int16:
		return new(big.Rat).SetInt64(int64(x)), true
	case int32:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	case uint:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint8:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint16:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint32:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint64:
		return new(big.Rat).SetUint64(x), true
	case uintptr:
		return new(big.Rat).SetUint64(uint64(x)), true
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return new(big.Rat).SetString(strconv.FormatFloat(f, 'f', -1, 32))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		return new(big.Rat).SetString(strconv.FormatFloat(x, 'f', -1, 64))
	case json.Number:
		return parseDecimalParam(string(x), true)
	case string:
		return parseDecimalParam(x, false)
	case *big.Rat:
		if x == nil {
			return nil, false
		}
		return new(big.Rat).Set(x), true
	case *big.Int:
		if x == nil {
			return nil, false
		}
		return new(big.Rat).SetInt(x), true
	}
	return nil, false
}

var (
	// decimalRE matches a plain decimal number.
	decimalRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)$`)
	// decimalExpRE matches a decimal number with an optional, bounded exponent.
	decimalExpRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$`)
	// unsignedDecimalRE matches the numbers a formula may contain.
	unsignedDecimalRE = regexp.MustCompile(`^(\d+(\.\d+)?|\.\d+)$`)
)

// maxParamNumberLen bounds the length of numbers read from strings.
const maxParamNumberLen = 400

// parseDecimalParam reads a decimal string exactly. It refuses fractions, hex and
// other forms big.Rat would accept, so only plain numbers pass.
func parseDecimalParam(s string, allowExp bool) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if len(s) > maxParamNumberLen {
		return nil, false
	}
	re := decimalRE
	if allowExp {
		re = decimalExpRE
	}
	if !re.MatchString(s) {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// roundRatWith rounds x to an integer with strategy r ("" is ceil).
func roundRatWith(x *big.Rat, r Rounding) *big.Int {
	num, den := x.Num(), x.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() == 0 {
		return q
	}
	one := big.NewInt(1)
	switch r {
	case RoundFloor:
		if num.Sign() < 0 {
			q.Sub(q, one)
		}
	case RoundHalfUp:
		twice := new(big.Int).Abs(m)
		twice.Lsh(twice, 1)
		if twice.Cmp(den) >= 0 {
			if num.Sign() < 0 {
				q.Sub(q, one)
			} else {
				q.Add(q, one)
			}
		}
	default:
		if num.Sign() > 0 {
			q.Add(q, one)
		}
	}
	return q
}

// ratDecimalString prints r as a decimal: exactly when its decimal expansion ends
// within 40 digits, rounded to 6 digits otherwise.
func ratDecimalString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	p := big.NewInt(1)
	ten := big.NewInt(10)
	for digits := 1; digits <= 40; digits++ {
		p.Mul(p, ten)
		if new(big.Int).Rem(p, r.Denom()).Sign() == 0 {
			return r.FloatString(digits)
		}
	}
	return r.FloatString(6)
}

// formulaError is a problem with a price formula. syntax is true when the
// formula does not have the shape of a price at all.
type formulaError struct {
	msg    string
	syntax bool
}

func (e *formulaError) Error() string { return e.msg }

// parsedFormula is the result of parsing a price formula.
type parsedFormula struct {
	currency Currency
	fixed    *big.Rat
	terms    []PriceTerm
}

// parseFormula parses a price such as "10 credits + 1 credit per mb" against
// the configured currencies.
func parseFormula(formula string, currencies []Currency) (*parsedFormula, *formulaError) {
	syntax := &formulaError{msg: fmt.Sprintf("expected a price like %q, got %q", priceExample, formula), syntax: true}
	if strings.TrimSpace(formula) == "" {
		return nil, syntax
	}
	out := &parsedFormula{fixed: new(big.Rat)}
	var firstTerm string
	var termTexts []string // the source of each of out.terms
	haveCurrency := false
	for _, raw := range strings.Split(formula, "+") {
		term := strings.TrimSpace(raw)
		f := strings.Fields(term)
		if len(f) != 2 && len(f) != 4 && len(f) != 5 {
			return nil, syntax
		}
		if len(f) > 2 && !strings.EqualFold(f[2], "per") {
			return nil, syntax
		}
		if !unsignedDecimalRE.MatchString(f[0]) || len(f[0]) > maxParamNumberLen {
			return nil, syntax
		}
		n, ok := new(big.Rat).SetString(f[0])
		if !ok {
			return nil, syntax
		}
		cur, ok := resolveCurrency(f[1], currencies)
		if !ok {
			return nil, &formulaError{msg: fmt.Sprintf("unknown currency %q in %q; configured currencies: %s (singular forms like %q work too)",
				f[1], term, currencyNames(currencies), singularName(currencies[0].Name))}
		}
		if haveCurrency && cur.Name != out.currency.Name {
			return nil, &formulaError{msg: fmt.Sprintf("%q is in %s but %q is in %s: all terms of an operation must be in one currency",
				firstTerm, out.currency.Name, term, cur.Name)}
		}
		if !haveCurrency {
			out.currency, firstTerm, haveCurrency = cur, term, true
		}
		amount := new(big.Rat).Mul(n, ratPow10(cur.Decimals))
		if len(f) == 2 {
			out.fixed.Add(out.fixed, amount)
			continue
		}
		per := big.NewRat(1, 1)
		unitWord := f[len(f)-1]
		if len(f) == 5 {
			if !unsignedDecimalRE.MatchString(f[3]) || len(f[3]) > maxParamNumberLen {
				return nil, syntax
			}
			per, _ = new(big.Rat).SetString(f[3])
			if per.Sign() <= 0 {
				return nil, &formulaError{msg: fmt.Sprintf("in %q the quantity after per must be more than zero", term)}
			}
		}
		w := strings.ToLower(unitWord)
		if !unitWordRE.MatchString(w) {
			return nil, syntax
		}
		unit := unitOf(w)
		for i, prev := range out.terms {
			if sameQuantity(unitOf(prev.Unit), unit) {
				return nil, &formulaError{msg: fmt.Sprintf("%q and %q measure the same quantity, so one param would pay for both: write one term per quantity", termTexts[i], term)}
			}
		}
		out.terms = append(out.terms, PriceTerm{Rate: amount, Per: per, Unit: unit.canonical})
		termTexts = append(termTexts, term)
	}
	if !roundRatWith(out.fixed, RoundCeil).IsInt64() {
		return nil, &formulaError{msg: fmt.Sprintf("the fixed part of %q is too large to fit in 64 bits", formula)}
	}
	return out, nil
}

// ratPow10 returns 10^n as a big.Rat.
func ratPow10(n int) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
}
