package creditkit

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

// This file is the revenue report: a read model over grants, entries and
// their allocations. It writes nothing. Every allocation of every entry
// moves credits into or out of one grant; a grant with a cost basis turns
// those credits into money (credits × per-credit price), and the entry's
// type says which line of the report the money goes to. Because each
// allocation lands on exactly one line, the report reconciles:
//
//	opening deferred + sold + overage billed + transferred in
//	  = recognized + breakage + voided + transferred out + closing deferred
//
// Transfers cancel out in a report over every customer. A refund entry's
// allocations take credits back out of their grants: negative sales,
// inside sold (and shown again, positive, on the refunds line).

// RevenueOpts selects what Revenue reports on.
type RevenueOpts struct {
	// From and To bound the entries' At: From <= at < To. Both are
	// required.
	From, To time.Time
	// Customer limits the report to one customer; empty means every
	// customer.
	Customer string
}

// RevenueReport is money in and out of the ledger over a range, per money
// currency (the cost bases' currencies), and the credits that carry no cost
// basis, per credit currency.
type RevenueReport struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Customer string    `json:"customer,omitempty"`
	// Money has one element per money currency, by ISO 4217 code.
	Money []*MoneyRevenue `json:"money"`
	// Uncosted counts, per credit currency, the credits of grants with no
	// cost basis (bonuses, trials, free grants): they are worth 0.
	Uncosted []*UncostedCredits `json:"uncosted"`
}

// MoneyRevenue is the report of one money currency. Its lines reconcile:
// OpeningDeferred + Sold + OverageBilled + TransferredIn = Recognized +
// Breakage + Voided + TransferredOut + ClosingDeferred, exactly in the
// Exact values (the rounded Values may differ by a few minor units).
type MoneyRevenue struct {
	// Currency is the ISO 4217 code, such as "USD".
	Currency string `json:"currency"`
	// Decimals is the number of minor-unit digits Values are rounded to.
	Decimals int `json:"decimals"`
	// OpeningDeferred is the value of the credits bought and not yet
	// consumed, expired or voided at From.
	OpeningDeferred RevenueLine `json:"opening_deferred"`
	// Sold is the value of the grants with a cost basis that took effect
	// in the range, less the credits refunds took back (negative sales at
	// the cost basis of the grants they came from).
	Sold RevenueLine `json:"sold"`
	// OverageBilled is the value of overage settled in the range
	// (SettleDebt at an overage price); it is recognized at once, so it
	// is part of Recognized too.
	OverageBilled RevenueLine `json:"overage_billed"`
	// TransferredIn is the value that came in with transfers from
	// customers outside the report; it equals TransferredOut in a report
	// over every customer.
	TransferredIn RevenueLine `json:"transferred_in"`
	// Recognized is the value of the credits drawn by charges in the
	// range, less what reversals gave back.
	Recognized RevenueLine `json:"recognized"`
	// Breakage is the value of the credits that expired unused.
	Breakage RevenueLine `json:"breakage"`
	// Voided is the value of the credits removed by voids.
	Voided RevenueLine `json:"voided"`
	// TransferredOut is the value that left with transfers.
	TransferredOut RevenueLine `json:"transferred_out"`
	// ClosingDeferred is the value of the credits bought and not yet
	// consumed, expired or voided at To.
	ClosingDeferred RevenueLine `json:"closing_deferred"`
	// Refunds is the value, at their grants' cost basis, of the credits
	// refunds took back in the range (refund entries). It is already in
	// Sold, as negative sales, so it is not a line of the reconciliation;
	// credits a refund recorded as debt (refund_debt: allow) carry no
	// value until a later grant repays them.
	Refunds RevenueLine `json:"refunds"`
}

// RevenueLine is one line of a money currency's report.
type RevenueLine struct {
	// Value is the money rounded once, to the currency's minor units (half
	// away from zero), such as "12.35".
	Value string `json:"value"`
	// Exact is the unrounded money as a decimal string, such as
	// "12.3456"; a cost basis given as a fraction that has no finite
	// decimal makes it a fraction, such as "10/3". Exact values add up.
	Exact string `json:"exact"`
	// Credits are the credits behind the value, in smallest units, per
	// credit currency.
	Credits map[string]Amount `json:"credits"`
}

// Rat returns the line's exact value.
func (l RevenueLine) Rat() (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(l.Exact)
	if !ok {
		return nil, fmt.Errorf("revenue line: %q is not a number", l.Exact)
	}
	return r, nil
}

// UncostedCredits counts the credits without a cost basis of one credit
// currency, in smallest units. They reconcile like money: Opening + Granted
// + TransferredIn = Consumed + Expired + Voided + TransferredOut + Closing.
type UncostedCredits struct {
	Currency       string `json:"currency"`
	Opening        Amount `json:"opening"`
	Granted        Amount `json:"granted"`
	TransferredIn  Amount `json:"transferred_in"`
	Consumed       Amount `json:"consumed"`
	Expired        Amount `json:"expired"`
	Voided         Amount `json:"voided"`
	TransferredOut Amount `json:"transferred_out"`
	Closing        Amount `json:"closing"`
}

// revenuePage is how many rows Revenue reads per query.
const revenuePage = 1000

// revenueLine names a line of the report.
type revenueLine int

const (
	lineOpening revenueLine = iota
	lineSold
	lineOverage
	lineTransferIn
	lineRecognized
	lineBreakage
	lineVoided
	lineTransferOut
	lineClosing
	lineRefunds
	lineCount
)

// costedGrant is what the report needs of a grant.
type costedGrant struct {
	currency string   // credit currency
	money    string   // "" without a cost basis
	rate     *big.Rat // money per smallest unit of credit
}

// revenueAcc sums the report.
type revenueAcc struct {
	money    map[string]*[lineCount]lineAcc
	uncosted map[string]*[lineCount]Amount
}

type lineAcc struct {
	value   big.Rat
	credits map[string]Amount
}

// Revenue reports, per money currency, the value of the credits sold,
// recognized on consumption, broken on expiry and voided in [From, To), and
// the value deferred (bought, not yet used up) at both ends. It reads every
// entry up to To of the customers in the report (every customer with a
// wallet, or opts.Customer), so give it a reporting replica or a quiet hour
// on a large ledger.
//
// An entry counts at its At: a grant when it takes effect, an expiration
// at the grant's expiry (written by RunDue, so a report over a range that
// ends after the last RunDue may still change). Held credits stay deferred
// until captured.
func (l *Ledger) Revenue(ctx context.Context, opts *RevenueOpts) (*RevenueReport, error) {
	if opts == nil || opts.From.IsZero() || opts.To.IsZero() {
		return nil, errorf(CodeInvalidRequest, "a revenue report needs both from and to: give the range, such as from 2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z")
	}
	from, to := opts.From.UTC(), opts.To.UTC()
	if !to.After(from) {
		return nil, errorf(CodeInvalidRequest, "to (%s) must be after from (%s)", fmtTime(to), fmtTime(from))
	}
	if opts.Customer != "" {
		if err := checkID("customer", opts.Customer); err != nil {
			return nil, err
		}
	}
	acc := &revenueAcc{money: map[string]*[lineCount]lineAcc{}, uncosted: map[string]*[lineCount]Amount{}}
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		customers := []string{opts.Customer}
		if opts.Customer != "" {
			// A typo in the id is customer_not_found, not an empty report.
			if err := requireCustomer(ctx, tx, opts.Customer); err != nil {
				return err
			}
		} else {
			var err error
			if customers, err = revenueCustomers(ctx, tx); err != nil {
				return err
			}
		}
		for _, c := range customers {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := l.addCustomerRevenue(ctx, tx, acc, c, from, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return acc.report(from, to, opts.Customer), nil
}

// revenueCustomers lists every customer with a wallet, in order.
func revenueCustomers(ctx context.Context, tx store.ReadTx) ([]string, error) {
	var out []string
	var after store.WalletKey
	for {
		ws, err := tx.Wallets(ctx, after, revenuePage)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			if len(out) == 0 || out[len(out)-1] != w.Customer {
				out = append(out, w.Customer)
			}
		}
		if len(ws) < revenuePage {
			return out, nil
		}
		after = store.WalletKey{Customer: ws[len(ws)-1].Customer, Currency: ws[len(ws)-1].Currency}
	}
}

// addCustomerRevenue adds one customer's entries up to to. Allocations
// always name grants of the entry's own wallet, so one customer's grants
// are all the report needs to price them.
func (l *Ledger) addCustomerRevenue(ctx context.Context, tx store.ReadTx, acc *revenueAcc, customer string, from, to time.Time) error {
	grants := map[string]*costedGrant{}
	gq := store.GrantQuery{Customer: customer, Limit: revenuePage}
	for {
		rows, err := tx.Grants(ctx, gq)
		if err != nil {
			return err
		}
		for _, r := range rows {
			cg, err := l.costedGrant(r)
			if err != nil {
				return err
			}
			grants[r.ID] = cg
		}
		if len(rows) < revenuePage {
			break
		}
		gq.After = rows[len(rows)-1].ID
	}
	eq := store.EntryQuery{Customer: customer, Until: to, Limit: revenuePage}
	for {
		rows, err := tx.Entries(ctx, eq)
		if err != nil {
			return err
		}
		for _, r := range rows {
			e, err := entryFromRow(r)
			if err != nil {
				return err
			}
			if err := acc.addEntry(e, grants, from, to); err != nil {
				return err
			}
		}
		if len(rows) < revenuePage {
			return nil
		}
		eq.AfterSeq = rows[len(rows)-1].Seq
	}
}

// costedGrant reads what the report needs of a grant row: its credit
// currency and, with a cost basis, the money one smallest unit is worth.
func (l *Ledger) costedGrant(r *store.Grant) (*costedGrant, error) {
	g, err := grantFromRow(r)
	if err != nil {
		return nil, err
	}
	cg := &costedGrant{currency: g.Currency}
	if g.CostBasis == nil {
		return cg, nil
	}
	rate, ok := new(big.Rat).SetString(g.CostBasis.PerCredit)
	if !ok {
		return nil, fmt.Errorf("grant %s: cost basis per credit %q is not a number", g.ID, g.CostBasis.PerCredit)
	}
	cur, ok := l.cfg.Currency(g.Currency)
	if !ok {
		return nil, errorf(CodeInvalidRequest, "grant %s is in currency %q, which the config no longer has: add it back to price its credits", g.ID, g.Currency)
	}
	// PerCredit prices one whole credit; amounts are in smallest units.
	rate.Quo(rate, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Decimals)), nil)))
	cg.money, cg.rate = strings.ToUpper(g.CostBasis.Currency), rate
	return cg, nil
}

// entryLine returns the line of the report an entry's allocations go to,
// and whether they add credits to their grants (+1) or take them (-1).
func entryLine(e *Entry) (revenueLine, int, error) {
	switch e.Type {
	case EntryGrant:
		return lineSold, 1, nil
	case EntryCharge, EntryRepayment:
		// A repayment consumes the grant's credits (they paid for usage
		// already charged as debt).
		return lineRecognized, -1, nil
	case EntryReversal:
		return lineRecognized, 1, nil
	case EntryExpiration:
		return lineBreakage, -1, nil
	case EntryVoid:
		return lineVoided, -1, nil
	case EntryRefund:
		// A refund takes credits back out of grants: a negative sale at
		// their cost basis.
		return lineSold, -1, nil
	case EntryTransfer:
		if e.Category == CategoryTransferIn {
			return lineTransferIn, 1, nil
		}
		return lineTransferOut, -1, nil
	}
	return 0, 0, fmt.Errorf("entry %s of type %q moves credits the revenue report does not know how to count", e.ID, e.Type)
}

// addEntry adds one entry's allocations: to the deferred balances, and to
// the line of its type when it is in the range.
func (acc *revenueAcc) addEntry(e *Entry, grants map[string]*costedGrant, from, to time.Time) error {
	if e.Type == EntryOverageSettlement && !e.At.Before(from) && e.At.Before(to) {
		return acc.addOverage(e)
	}
	if len(e.Allocations) == 0 || !e.At.Before(to) {
		return nil
	}
	line, sign, err := entryLine(e)
	if err != nil {
		return err
	}
	inRange := !e.At.Before(from)
	for _, a := range e.Allocations {
		g := grants[a.GrantID]
		if g == nil {
			return fmt.Errorf("entry %s draws from grant %s, which is not a grant of %s", e.ID, a.GrantID, e.Customer)
		}
		// A reversal gives back recognized revenue: it counts on the
		// recognized line with the opposite sign of a charge.
		lineSign := 1
		if e.Type == EntryReversal || e.Type == EntryRefund {
			lineSign = -1
		}
		if g.money == "" {
			if err := acc.addUncosted(g.currency, a.Amount, sign, lineSign, line, inRange); err != nil {
				return fmt.Errorf("entry %s: %w", e.ID, err)
			}
			continue
		}
		lines := acc.money[g.money]
		if lines == nil {
			lines = new([lineCount]lineAcc)
			acc.money[g.money] = lines
		}
		v := new(big.Rat).Mul(g.rate, new(big.Rat).SetInt64(int64(a.Amount)))
		if err := lines[lineClosing].add(v, g.currency, a.Amount, sign); err != nil {
			return fmt.Errorf("entry %s: %w", e.ID, err)
		}
		target := lineOpening
		s := sign
		if inRange {
			target, s = line, lineSign
		}
		if err := lines[target].add(v, g.currency, a.Amount, s); err != nil {
			return fmt.Errorf("entry %s: %w", e.ID, err)
		}
		if inRange && e.Type == EntryRefund {
			// The same money again, positive, on the informative line.
			if err := lines[lineRefunds].add(v, g.currency, a.Amount, 1); err != nil {
				return fmt.Errorf("entry %s: %w", e.ID, err)
			}
		}
	}
	return nil
}

// addOverage adds an overage settlement in the range: its money is both
// billed (overage) and recognized (the debt's credits were consumed), so
// the report still reconciles. A settlement without a price adds nothing.
func (acc *revenueAcc) addOverage(e *Entry) error {
	code, v, err := overageEntryMoney(e)
	if err != nil || v == nil {
		return err
	}
	lines := acc.money[code]
	if lines == nil {
		lines = new([lineCount]lineAcc)
		acc.money[code] = lines
	}
	if err := lines[lineOverage].add(v, e.Currency, e.Amount, 1); err != nil {
		return fmt.Errorf("entry %s: %w", e.ID, err)
	}
	if err := lines[lineRecognized].add(v, e.Currency, e.Amount, 1); err != nil {
		return fmt.Errorf("entry %s: %w", e.ID, err)
	}
	return nil
}

// add adds sign × (v, credits) to the line.
func (la *lineAcc) add(v *big.Rat, currency string, credits Amount, sign int) error {
	if la.credits == nil {
		la.credits = map[string]Amount{}
	}
	if sign < 0 {
		la.value.Sub(&la.value, v)
		credits = -credits
	} else {
		la.value.Add(&la.value, v)
	}
	sum, err := addAmounts(la.credits[currency], credits)
	if err != nil {
		return err
	}
	la.credits[currency] = sum
	return nil
}

// addUncosted adds credits of a grant without a cost basis.
func (acc *revenueAcc) addUncosted(currency string, credits Amount, sign, lineSign int, line revenueLine, inRange bool) error {
	u := acc.uncosted[currency]
	if u == nil {
		u = new([lineCount]Amount)
		acc.uncosted[currency] = u
	}
	add := func(l revenueLine, s int) error {
		d := credits
		if s < 0 {
			d = -d
		}
		sum, err := addAmounts(u[l], d)
		u[l] = sum
		return err
	}
	if err := add(lineClosing, sign); err != nil {
		return err
	}
	if inRange {
		return add(line, lineSign)
	}
	return add(lineOpening, sign)
}

// report rounds the sums into a report.
func (acc *revenueAcc) report(from, to time.Time, customer string) *RevenueReport {
	out := &RevenueReport{From: from, To: to, Customer: customer, Money: []*MoneyRevenue{}, Uncosted: []*UncostedCredits{}}
	for _, code := range sortedKeys(acc.money) {
		lines := acc.money[code]
		dec := moneyDecimals(code)
		line := func(l revenueLine) RevenueLine { return lines[l].out(dec) }
		out.Money = append(out.Money, &MoneyRevenue{
			Currency: code, Decimals: dec,
			OpeningDeferred: line(lineOpening), Sold: line(lineSold), OverageBilled: line(lineOverage), TransferredIn: line(lineTransferIn),
			Recognized: line(lineRecognized), Breakage: line(lineBreakage), Voided: line(lineVoided), TransferredOut: line(lineTransferOut),
			ClosingDeferred: line(lineClosing), Refunds: line(lineRefunds),
		})
	}
	for _, cur := range sortedKeys(acc.uncosted) {
		u := acc.uncosted[cur]
		out.Uncosted = append(out.Uncosted, &UncostedCredits{
			Currency: cur, Opening: u[lineOpening], Granted: u[lineSold], TransferredIn: u[lineTransferIn], Consumed: u[lineRecognized],
			Expired: u[lineBreakage], Voided: u[lineVoided], TransferredOut: u[lineTransferOut], Closing: u[lineClosing],
		})
	}
	return out
}

// out renders a line: rounded once to dec digits, and exact.
func (la *lineAcc) out(dec int) RevenueLine {
	credits := map[string]Amount{}
	for cur, n := range la.credits {
		if n != 0 {
			credits[cur] = n
		}
	}
	return RevenueLine{Value: la.value.FloatString(dec), Exact: exactDecimal(&la.value), Credits: credits}
}

// exactDecimal prints r as a decimal with as many digits as it needs, or
// as a fraction when it has no finite decimal (its denominator has a prime
// factor other than 2 and 5).
func exactDecimal(r *big.Rat) string {
	den := new(big.Int).Set(r.Denom())
	two, five := big.NewInt(2), big.NewInt(5)
	var twos, fives int
	m := new(big.Int)
	for {
		if q, rem := new(big.Int).QuoRem(den, two, m); rem.Sign() == 0 {
			den, twos = q, twos+1
			continue
		}
		break
	}
	for {
		if q, rem := new(big.Int).QuoRem(den, five, m); rem.Sign() == 0 {
			den, fives = q, fives+1
			continue
		}
		break
	}
	if den.Cmp(big.NewInt(1)) != 0 {
		return r.RatString()
	}
	return r.FloatString(max(twos, fives))
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
