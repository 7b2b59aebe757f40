package creditkit

import (
	"fmt"
	"regexp"
	"strings"
)

// Currency is a kind of credit, such as "credits" or "usd_credits", with the
// number of decimals its amounts carry: Amount(1250) is 12.50 usd_credits
// with Decimals 2.
type Currency struct {
	// Name is one word of letters, digits and underscores, such as "credits".
	// Formulas accept it and its singular form ("credit").
	Name string
	// Decimals is the number of decimal places, from 0 to 18.
	Decimals int
}

// maxCurrencyDecimals is the largest number of decimals a currency may have.
const maxCurrencyDecimals = 18

// currencies returns the configured currencies, or the default one.
func (c *Config) currencies() []Currency {
	if len(c.Currencies) == 0 {
		return []Currency{{Name: "credits", Decimals: 0}}
	}
	return c.Currencies
}

// DefaultCurrency returns the first configured currency, or "credits" with
// 0 decimals when none is configured.
func (c *Config) DefaultCurrency() Currency {
	return c.currencies()[0]
}

// Currency returns the currency with the given name or its singular form
// ("credit" finds "credits"); "" returns the default currency.
func (c *Config) Currency(name string) (Currency, bool) {
	if name == "" {
		return c.DefaultCurrency(), true
	}
	return resolveCurrency(name, c.currencies())
}

// FormatAmount prints a in the named currency ("" is the default currency):
// "42 credits", "12.50 usd_credits", "1 credit".
func (c *Config) FormatAmount(a Amount, currency string) string {
	cur, ok := c.Currency(currency)
	if !ok {
		return FormatAmount(a, 0, currency)
	}
	return FormatAmount(a, cur.Decimals, cur.Name)
}

// ParseAmountWithUnit parses an amount with an optional currency word into
// smallest units: "1000 credits" is (1000, "credits"), "12.5 usd_credits" is
// (1250, "usd_credits") with 2 decimals, "1 credit" is (1, "credits"), and a
// bare number is in the default currency. Errors have code invalid_amount.
func (c *Config) ParseAmountWithUnit(s string) (Amount, string, error) {
	f := strings.Fields(s)
	var cur Currency
	switch len(f) {
	case 1:
		cur = c.DefaultCurrency()
	case 2:
		var ok bool
		cur, ok = resolveCurrency(f[1], c.currencies())
		if !ok {
			return 0, "", errorf(CodeInvalidAmount, "unknown currency %q in %q; configured currencies: %s", f[1], s, currencyNames(c.currencies()))
		}
	default:
		return 0, "", errorf(CodeInvalidAmount, "amount %q is not valid: give a number and a currency, such as \"1000 %s\"", s, c.DefaultCurrency().Name)
	}
	a, err := ParseAmount(f[0], cur.Decimals)
	if err != nil {
		return 0, "", err
	}
	return a, cur.Name, nil
}

// currencyNameRE matches a currency name.
var currencyNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// validateCurrencies checks currency names and decimals and that no two
// currencies can be confused.
func validateCurrencies(cs []Currency) error {
	for i, cur := range cs {
		if err := checkCurrency(cur); err != nil {
			return errorf(CodeInvalidConfig, "currencies[%d]: %s", i, err)
		}
		for _, prev := range cs[:i] {
			if currenciesConfusable(prev.Name, cur.Name) {
				return errorf(CodeInvalidConfig, "currencies: %s and %s can be confused; give currencies distinct names", prev.Name, cur.Name)
			}
		}
	}
	return nil
}

// checkCurrency checks one currency and returns a message, not yet wrapped.
func checkCurrency(cur Currency) error {
	if !currencyNameRE.MatchString(cur.Name) {
		return fmt.Errorf("expected a currency name of letters, digits and underscores starting with a letter, such as credits, got %q", cur.Name)
	}
	if cur.Decimals < 0 || cur.Decimals > maxCurrencyDecimals {
		return fmt.Errorf("expected decimals from 0 to %d, got %d", maxCurrencyDecimals, cur.Decimals)
	}
	return nil
}

// currenciesConfusable reports whether two currency names would be read as the same
// word in a formula.
func currenciesConfusable(a, b string) bool {
	return strings.EqualFold(a, b) || strings.EqualFold(singularName(a), singularName(b)) ||
		strings.EqualFold(singularName(a), b) || strings.EqualFold(a, singularName(b))
}

// singularName strips one trailing "s": "credits" -> "credit".
func singularName(name string) string {
	if len(name) > 1 && strings.HasSuffix(name, "s") {
		return name[:len(name)-1]
	}
	return name
}

// resolveCurrency finds the currency a word names: its name or its singular
// form, case-insensitively.
func resolveCurrency(word string, currencies []Currency) (Currency, bool) {
	for _, c := range currencies {
		if word == c.Name {
			return c, true
		}
	}
	for _, c := range currencies {
		if strings.EqualFold(word, c.Name) || (singularName(c.Name) != c.Name && strings.EqualFold(word, singularName(c.Name))) {
			return c, true
		}
	}
	return Currency{}, false
}

// currencyNames lists currency names for messages.
func currencyNames(currencies []Currency) string {
	names := make([]string, len(currencies))
	for i, c := range currencies {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
