package creditkit

import (
	"fmt"
	"math/big"
	"time"
)

// This file holds the semantics of the config's plans that do not depend on
// a subscription: the arithmetic of periods, and the cost basis of a
// plan's credits.

// Span returns n periods as a calendar span: days and weeks are whole
// days, months and years calendar months.
func (p Period) Span(n int) Span {
	c := p.Count * n
	switch p.Unit {
	case "day":
		return Span{Days: c}
	case "week":
		return Span{Days: 7 * c}
	case "month":
		return Span{Months: c}
	case "year":
		return Span{Months: 12 * c}
	}
	return Span{}
}

// Boundary returns the start of period n after anchor (n = 0 is anchor).
// It counts from the anchor every time instead of from the previous
// boundary, so monthly periods keep their day and only clamp to a short
// month's end: an anchor of January 31 gives February 28 (29 in a leap
// year), then March 31.
func (p Period) Boundary(anchor time.Time, n int) time.Time {
	return p.Span(n).AddTo(anchor)
}

// Index returns the number of the period that t falls in, counted from
// anchor (0 for [anchor, Boundary(anchor, 1))); -1 before anchor.
func (p Period) Index(anchor, t time.Time) int {
	if t.Before(anchor) || p.Count < 1 {
		return -1
	}
	// Estimate from the average length, then correct: calendar periods
	// vary by a few days, so the estimate is off by at most one or two.
	avg := p.Span(1).AddTo(anchor).Sub(anchor)
	n := max(0, int(t.Sub(anchor)/avg)-1)
	for !p.Boundary(anchor, n+1).After(t) {
		n++
	}
	for n > 0 && p.Boundary(anchor, n).After(t) {
		n--
	}
	return n
}

// String describes the period as the config writes it: "month", "2 weeks".
func (p Period) String() string {
	if p.Count == 1 {
		return p.Unit
	}
	return fmt.Sprintf("%d %ss", p.Count, p.Unit)
}

// RefillCostBasis returns the cost basis of one of plan p's refill
// credits: the plan's price per billing interval divided by the whole
// credits that interval gives (a yearly price with monthly refills spreads
// over twelve refills). It is nil for a plan without a price, or that
// gives nothing. Periods of months and years compare exactly; a period of
// days against one of months uses the Gregorian average month (146097 days
// in 4800 months).
func (c *Config) RefillCostBasis(p *Plan) *CostBasis {
	if p.Price == nil || p.Gives <= 0 || p.Every.Count < 1 {
		return nil
	}
	decimals := 0
	if cur, ok := c.Currency(p.Currency); ok {
		decimals = cur.Decimals
	}
	refills := ratio(p.Price.Every, p.Every)
	whole := new(big.Rat).SetFrac64(int64(p.Gives), 1)
	whole.Quo(whole, ratPow10(decimals))
	credits := new(big.Rat).Mul(refills, whole)
	perCredit := new(big.Rat).SetFrac64(p.Price.Cents, 1)
	perCredit.Quo(perCredit, ratPow10(moneyDecimals(p.Price.Currency)))
	perCredit.Quo(perCredit, credits)
	return &CostBasis{PerCredit: costBasisString(perCredit), Currency: p.Price.Currency}
}

// costBasisString writes a cost basis exactly when it has a finite decimal
// form, else rounded half up at 12 decimals: well below a millionth of a
// cent per credit.
func costBasisString(r *big.Rat) string {
	if s := ratDecimalString(r); len(s) < 20 || r.IsInt() {
		if exact, ok := new(big.Rat).SetString(s); ok && exact.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(12)
}

// ratio returns how many b periods make one a period, exactly.
func ratio(a, b Period) *big.Rat {
	days := func(p Period) *big.Rat {
		s := p.Span(1)
		// 4800 months are 146097 days over the Gregorian 400-year cycle.
		r := new(big.Rat).SetFrac64(int64(s.Months)*146097, 4800)
		return r.Add(r, new(big.Rat).SetInt64(int64(s.Days)))
	}
	return new(big.Rat).Quo(days(a), days(b))
}
