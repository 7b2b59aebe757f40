package creditkit

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Amount is a number of credits in the currency's smallest unit: with
// decimals 2, Amount(1250) is 12.50 credits. Amounts are exact integers and
// every addition is checked for overflow.
type Amount int64

// addAmounts returns a+b, or an error when the sum overflows int64.
func addAmounts(a, b Amount) (Amount, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, errorf(CodeInvalidAmount, "amount overflows: %d + %d does not fit in 64 bits", a, b)
	}
	return s, nil
}

// subAmounts returns a-b, or an error when the difference overflows int64.
func subAmounts(a, b Amount) (Amount, error) {
	if b == math.MinInt64 {
		return 0, errorf(CodeInvalidAmount, "amount overflows: %d - %d does not fit in 64 bits", a, b)
	}
	return addAmounts(a, -b)
}

// FormatAmount prints a in units of a currency with the given number of
// decimals and name: FormatAmount(1250, 2, "usd_credits") is "12.50 usd_credits";
// FormatAmount(1, 0, "credits") is "1 credit".
func FormatAmount(a Amount, decimals int, name string) string {
	num := formatDecimal(int64(a), decimals)
	if decimals == 0 && (a == 1 || a == -1) {
		name = strings.TrimSuffix(name, "s")
	}
	if name == "" {
		return num
	}
	return num + " " + name
}

// formatDecimal prints v / 10^decimals with exactly decimals digits after the point.
func formatDecimal(v int64, decimals int) string {
	if decimals <= 0 {
		return fmt.Sprintf("%d", v)
	}
	r := new(big.Rat).SetFrac(big.NewInt(v), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
	return r.FloatString(decimals)
}

// ParseAmount parses a decimal string such as "12.5" into the smallest unit
// of a currency with the given decimals (1250 for 2 decimals). It rejects
// more fractional digits than the currency has, and values that overflow.
func ParseAmount(s string, decimals int) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errorf(CodeInvalidAmount, "amount is empty: give a number such as 100")
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, "/eE") {
		return 0, errorf(CodeInvalidAmount, "amount %q is not a number: give a number such as 100 or 12.50", s)
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	if !scaled.IsInt() {
		return 0, errorf(CodeInvalidAmount, "amount %q has more than %d decimal places", s, decimals)
	}
	n := scaled.Num()
	if !n.IsInt64() {
		return 0, errorf(CodeInvalidAmount, "amount %q is too large", s)
	}
	return Amount(n.Int64()), nil
}

// UnmarshalJSON reads a JSON number that is a whole number in the range of
// an Amount. A number out of range or with a fraction is an invalid_amount
// error that gives the range, not a decoder message about Go types (the
// HTTP API recognises these messages to answer invalid_amount).
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil // like encoding/json: null leaves the value unchanged
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*a = Amount(n)
		return nil
	}
	// 128 bits hold every int64 exactly; a number they cannot hold exactly
	// is either out of range or has a fraction.
	f, ok := new(big.Float).SetPrec(128).SetString(s)
	if !ok || strings.HasPrefix(s, "\"") {
		return errorf(CodeInvalidAmount, "amount %s is not a number: give a whole number such as 100", s)
	}
	if f.Cmp(new(big.Float).SetInt64(math.MinInt64)) < 0 || f.Cmp(new(big.Float).SetInt64(math.MaxInt64)) > 0 {
		return errorf(CodeInvalidAmount, "amount %s is out of range: amounts are integers in the currency's smallest unit, from %d to %d",
			s, int64(math.MinInt64), int64(math.MaxInt64))
	}
	if !f.IsInt() || f.Acc() != big.Exact {
		return errorf(CodeInvalidAmount, "amount %s is not a whole number: amounts are integers in the currency's smallest unit", s)
	}
	n, _ := f.Int64()
	*a = Amount(n)
	return nil
}
