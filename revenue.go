package creditkit

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
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
// Transfers cancel out in a report over every customer (but for a refund
// of credits transferred away, below). A refund entry's
// allocations take credits back out of their grants: negative sales,
// inside sold (and shown again, positive, on the refunds line). The part
// of a refund the wallet no longer had (its debt or shortfall: credits the
// refunded money paid for that left the purchase grant) is a negative sale
// too, at the purchase grant's cost basis, and reverses the line those
// credits left by: recognized when they were consumed, breakage when they
// expired, voided when voided, transferred out when transferred (see
// refundOutflow). Sold and that line drop by the same value, so the report
// still reconciles, and a later grant that repays a debt of consumed
// credits recognizes it again, once.
//
// Totals are summed exactly (math/big), so no amount the ledger accepted
// can overflow the sums; only a total that does not fit the report's
// 64-bit credit fields is an error, which says how to narrow the report.

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
	// the cost basis of the grants they came from) and less the credits
	// they recorded as debt or shortfall (at the purchase's cost basis).
	// Sold + Refunds is what was sold before refunds.
	Sold RevenueLine `json:"sold"`
	// OverageBilled is the value of overage settled in the range
	// (SettleDebt at an overage price); it is recognized at once, so it
	// is part of Recognized too.
	OverageBilled RevenueLine `json:"overage_billed"`
	// TransferredIn is the value that came in with transfers from
	// customers outside the report; it equals TransferredOut in a report
	// over every customer, unless refunds took back credits transferred
	// away (see TransferredOut).
	TransferredIn RevenueLine `json:"transferred_in"`
	// Recognized is the value of the credits drawn by charges and
	// repayments in the range, plus overage billed, less what reversals
	// gave back and less the consumption refunds paid back (the part of
	// their debt or shortfall that the purchase grant had lost to charges,
	// at the purchase's cost basis).
	Recognized RevenueLine `json:"recognized"`
	// Breakage is the value of the credits that expired unused, less
	// the part of refunds' debt or shortfall that the purchase grant had
	// lost to expiry.
	Breakage RevenueLine `json:"breakage"`
	// Voided is the value of the credits removed by voids, less the part
	// of refunds' debt or shortfall that the purchase grant had lost to
	// voids.
	Voided RevenueLine `json:"voided"`
	// TransferredOut is the value that left with transfers, less the part
	// of refunds' debt or shortfall that the purchase grant had
	// transferred away (the receiver keeps those credits, deferred at the
	// cost basis they came with, so over every customer TransferredIn can
	// exceed TransferredOut by that much).
	TransferredOut RevenueLine `json:"transferred_out"`
	// ClosingDeferred is the value of the credits bought and not yet
	// consumed, expired or voided at To.
	ClosingDeferred RevenueLine `json:"closing_deferred"`
	// Refunds is the value, at their grants' cost basis, of the credits
	// refunds took back in the range (refund entries), with the part the
	// wallet no longer had (debt or shortfall) at the purchase grant's
	// cost basis. It is already in Sold, as negative sales, so it is not a
	// line of the reconciliation; the debt or shortfall part is taken off
	// the line the purchase grant's credits left by (Recognized, Breakage,
	// Voided or TransferredOut). Its value is not the money refunded when
	// credits were taken back from other grants, at their cost basis.
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

// lineNames are the lines' JSON names, for messages.
var lineNames = [lineCount]string{"opening_deferred", "sold", "overage_billed", "transferred_in", "recognized", "breakage", "voided",
	"transferred_out", "closing_deferred", "refunds"}

// uncostedNames are the uncosted lines' JSON names, for messages.
var uncostedNames = [lineCount]string{"opening", "granted", "", "transferred_in", "consumed", "expired", "voided", "transferred_out", "closing", ""}

// revenueAcc sums the report. Credits are summed in big.Int: a sum over
// many wallets may pass what one Amount holds even though every wallet's
// own amounts fit.
type revenueAcc struct {
	money    map[string]*[lineCount]lineAcc
	uncosted map[string]*[lineCount]big.Int
	// left counts, per grant of the customer being added, the credits
	// that left it up to the entry being added, per line they left by
	// (recognized net of reversals, breakage, voided, transferred out),
	// less those refunds already counted as debt or shortfall. Keyed by
	// grant ID, which is unique across customers.
	left map[string]*[lineCount]Amount
}

// refundOutflow is the order a refund's debt or shortfall is taken from
// the lines its purchase grant's credits left by: consumed first (the
// usual case: the credits were spent), then expired, voided, transferred
// out. It matters only when the credits left by more than one line and
// the refund recovered some of them.
var refundOutflow = [...]revenueLine{lineRecognized, lineBreakage, lineVoided, lineTransferOut}

type lineAcc struct {
	value   big.Rat
	credits map[string]*big.Int
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
//
// Sums are exact at any size; a credit total that does not fit an Amount
// (a sum over many wallets) is invalid_request, naming the line and saying
// to report one customer at a time or a shorter range.
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
	acc := &revenueAcc{money: map[string]*[lineCount]lineAcc{}, uncosted: map[string]*[lineCount]big.Int{}, left: map[string]*[lineCount]Amount{}}
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
	return acc.report(from, to, opts.Customer)
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
			if err := acc.addEntry(e, r.Details, grants, from, to); err != nil {
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
// the line of its type when it is in the range. details is the entry's
// details as stored (JSON), read for a refund's debt or shortfall.
func (acc *revenueAcc) addEntry(e *Entry, details []byte, grants map[string]*costedGrant, from, to time.Time) error {
	inRange := !e.At.Before(from) && e.At.Before(to)
	if e.Type == EntryOverageSettlement && inRange {
		return acc.addOverage(e)
	}
	if !e.At.Before(to) {
		return nil
	}
	if e.Type == EntryRefund {
		// Every refund up to to, so that the credits a refund before
		// from counted are not counted again.
		if err := acc.addRefundUnrecovered(e, details, grants, inRange); err != nil {
			return err
		}
	}
	if len(e.Allocations) == 0 {
		return nil
	}
	line, sign, err := entryLine(e)
	if err != nil {
		return err
	}
	for _, a := range e.Allocations {
		g := grants[a.GrantID]
		if g == nil {
			return fmt.Errorf("entry %s draws from grant %s, which is not a grant of %s", e.ID, a.GrantID, e.Customer)
		}
		if line != lineSold && line != lineTransferIn {
			// Credits leaving the grant (sign -1) or coming back to it.
			acc.leftBy(a.GrantID)[line] -= Amount(sign) * a.Amount
		}
		// A reversal gives back recognized revenue: it counts on the
		// recognized line with the opposite sign of a charge.
		lineSign := 1
		if e.Type == EntryReversal || e.Type == EntryRefund {
			lineSign = -1
		}
		if g.money == "" {
			acc.addUncosted(g.currency, a.Amount, sign, lineSign, line, inRange)
			continue
		}
		lines := acc.moneyLines(g.money)
		v := new(big.Rat).Mul(g.rate, new(big.Rat).SetInt64(int64(a.Amount)))
		lines[lineClosing].add(v, g.currency, a.Amount, sign)
		target := lineOpening
		s := sign
		if inRange {
			target, s = line, lineSign
		}
		lines[target].add(v, g.currency, a.Amount, s)
		if inRange && e.Type == EntryRefund {
			// The same money again, positive, on the informative line.
			lines[lineRefunds].add(v, g.currency, a.Amount, 1)
		}
	}
	return nil
}

// moneyLines returns the lines of a money currency, made on first use.
func (acc *revenueAcc) moneyLines(code string) *[lineCount]lineAcc {
	lines := acc.money[code]
	if lines == nil {
		lines = new([lineCount]lineAcc)
		acc.money[code] = lines
	}
	return lines
}

// refundDetails is what the report reads of a refund entry's details.
// Amount decodes the stored integers exactly (a float64 would round past
// 2^53).
type refundDetails struct {
	GrantID   string `json:"grant_id"`
	Debt      Amount `json:"debt"`
	Shortfall Amount `json:"shortfall"`
}

// leftBy returns the credits that left a grant, per line, made on first
// use.
func (acc *revenueAcc) leftBy(grant string) *[lineCount]Amount {
	l := acc.left[grant]
	if l == nil {
		l = new([lineCount]Amount)
		acc.left[grant] = l
	}
	return l
}

// addRefundUnrecovered adds the part of a refund that the wallet no longer
// had: the credits recorded as debt (refund_debt: allow) or as shortfall
// (forbid). The refunded money paid for them, and they left the purchase
// grant by one of its lines: consumed, expired, voided or transferred out.
// Their value at the purchase grant's cost basis is a negative sale (on
// the refunds line too) and comes off the line they left by, taken in
// refundOutflow's order from what is left of each (net of earlier
// refunds); whatever no line accounts for (credits still held when
// refunded) comes off recognized, as held credits are consumed when
// captured. A debt of consumed credits is recognized again when a later
// grant repays it. It moves no grant, so the deferred lines do not change.
// Out of the range it only updates what is left of each line.
func (acc *revenueAcc) addRefundUnrecovered(e *Entry, details []byte, grants map[string]*costedGrant, inRange bool) error {
	var d refundDetails
	if err := json.Unmarshal(orJSON(details, "{}"), &d); err != nil {
		return fmt.Errorf("entry %s: decode refund details: %w", e.ID, err)
	}
	n := d.Debt + d.Shortfall
	if n <= 0 {
		return nil
	}
	g := grants[d.GrantID]
	if g == nil {
		return fmt.Errorf("refund entry %s names purchase grant %q, which is not a grant of %s", e.ID, d.GrantID, e.Customer)
	}
	left := acc.leftBy(d.GrantID)
	var parts [lineCount]Amount
	for _, l := range refundOutflow {
		take := min(n, max(left[l], 0))
		parts[l], left[l], n = take, left[l]-take, n-take
	}
	parts[lineRecognized] += n
	if g.money == "" || !inRange {
		// Worth 0 (the uncosted counts have no refunds line), or not in
		// the report.
		return nil
	}
	lines := acc.moneyLines(g.money)
	for _, l := range refundOutflow {
		if parts[l] == 0 {
			continue
		}
		v := new(big.Rat).Mul(g.rate, new(big.Rat).SetInt64(int64(parts[l])))
		lines[lineSold].add(v, g.currency, parts[l], -1)
		lines[l].add(v, g.currency, parts[l], -1)
		lines[lineRefunds].add(v, g.currency, parts[l], 1)
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
	lines := acc.moneyLines(code)
	lines[lineOverage].add(v, e.Currency, e.Amount, 1)
	lines[lineRecognized].add(v, e.Currency, e.Amount, 1)
	return nil
}

// add adds sign × (v, credits) to the line.
func (la *lineAcc) add(v *big.Rat, currency string, credits Amount, sign int) {
	if la.credits == nil {
		la.credits = map[string]*big.Int{}
	}
	c := la.credits[currency]
	if c == nil {
		c = new(big.Int)
		la.credits[currency] = c
	}
	n := big.NewInt(int64(credits))
	if sign < 0 {
		la.value.Sub(&la.value, v)
		c.Sub(c, n)
	} else {
		la.value.Add(&la.value, v)
		c.Add(c, n)
	}
}

// addUncosted adds credits of a grant without a cost basis.
func (acc *revenueAcc) addUncosted(currency string, credits Amount, sign, lineSign int, line revenueLine, inRange bool) {
	u := acc.uncosted[currency]
	if u == nil {
		u = new([lineCount]big.Int)
		acc.uncosted[currency] = u
	}
	n := big.NewInt(int64(credits))
	add := func(l revenueLine, s int) {
		if s < 0 {
			u[l].Sub(&u[l], n)
		} else {
			u[l].Add(&u[l], n)
		}
	}
	add(lineClosing, sign)
	if inRange {
		add(line, lineSign)
		return
	}
	add(lineOpening, sign)
}

// report rounds the sums into a report. A credit total that does not fit
// an Amount (a sum over many wallets, or a long range of large grants) is
// an error that says how to narrow the report: the report's credit fields
// are 64-bit integers.
func (acc *revenueAcc) report(from, to time.Time, customer string) (*RevenueReport, error) {
	out := &RevenueReport{From: from, To: to, Customer: customer, Money: []*MoneyRevenue{}, Uncosted: []*UncostedCredits{}}
	for _, code := range sortedKeys(acc.money) {
		lines := acc.money[code]
		dec := moneyDecimals(code)
		var rendered [lineCount]RevenueLine
		for l := range lineCount {
			r, err := lines[l].out(dec)
			if err != nil {
				return nil, narrowReport(fmt.Sprintf("the credits behind the %s %s line %s", code, lineNames[l], err), customer)
			}
			rendered[l] = r
		}
		out.Money = append(out.Money, &MoneyRevenue{
			Currency: code, Decimals: dec,
			OpeningDeferred: rendered[lineOpening], Sold: rendered[lineSold], OverageBilled: rendered[lineOverage],
			TransferredIn: rendered[lineTransferIn], Recognized: rendered[lineRecognized], Breakage: rendered[lineBreakage],
			Voided: rendered[lineVoided], TransferredOut: rendered[lineTransferOut], ClosingDeferred: rendered[lineClosing],
			Refunds: rendered[lineRefunds],
		})
	}
	for _, cur := range sortedKeys(acc.uncosted) {
		u := acc.uncosted[cur]
		var a [lineCount]Amount
		for l := range lineCount {
			if !u[l].IsInt64() {
				return nil, narrowReport(fmt.Sprintf("the %s %s without a cost basis add up to %s", uncostedNames[l], cur, u[l].String()), customer)
			}
			a[l] = Amount(u[l].Int64())
		}
		out.Uncosted = append(out.Uncosted, &UncostedCredits{
			Currency: cur, Opening: a[lineOpening], Granted: a[lineSold], TransferredIn: a[lineTransferIn], Consumed: a[lineRecognized],
			Expired: a[lineBreakage], Voided: a[lineVoided], TransferredOut: a[lineTransferOut], Closing: a[lineClosing],
		})
	}
	return out, nil
}

// narrowReport is the error of a report whose credit total does not fit
// an Amount: what overflowed, and how to get a report that fits.
func narrowReport(what, customer string) error {
	how := "report one customer at a time (customer=ID, --customer ID) or a shorter range"
	if customer != "" {
		how = "report a shorter range"
	}
	return errorf(CodeInvalidRequest, "revenue report: %s, more than a report's credit count holds (at most %d, 64 bits): %s",
		what, int64(math.MaxInt64), how)
}

// out renders a line: rounded once to dec digits, and exact. It fails when
// a credit total does not fit an Amount.
func (la *lineAcc) out(dec int) (RevenueLine, error) {
	credits := map[string]Amount{}
	for _, cur := range sortedKeys(la.credits) {
		n := la.credits[cur]
		if !n.IsInt64() {
			return RevenueLine{}, fmt.Errorf("add up to %s %s", n.String(), cur)
		}
		if n.Sign() != 0 {
			credits[cur] = Amount(n.Int64())
		}
	}
	return RevenueLine{Value: la.value.FloatString(dec), Exact: exactDecimal(&la.value), Credits: credits}, nil
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
