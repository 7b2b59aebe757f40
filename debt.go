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

// This file is overage and debt. A wallet may have an overage limit N
// (store.Wallet.OverageLimit, set by SetOverageLimit): a charge beyond what
// its grants hold then draws the rest as debt (store.Wallet.Debt), as long
// as the debt stays at most N. The accounting stays append-only and exact:
//
//   - A charge that is partly debt is one charge entry for its whole cost:
//     its allocations cover only the credits drawn from grants, and
//     Details["debt"] is the part drawn as debt. The ledger balance (the sum
//     of entries) goes negative by the debt.
//   - A grant that arrives while the wallet owes pays the debt first: a
//     repayment entry of amount 0 whose allocations take the repaid credits
//     from the new grant (its remaining drops by as much), with
//     Details["repaid"] and Details["debt_after"]. It moves no balance: the
//     grant's entry added the credits, and the debt they pay was already
//     subtracted by the charge.
//   - SettleDebt writes an overage_settlement entry of +debt (no
//     allocations: the debt is forgiven in credits) that brings the debt to
//     0, with the money owed at the overage price in its details, and emits
//     credits.overage.billed.
//
// So for every wallet: sum of entries = grants' remaining + held − debt.

// OverageOpts are options for SetOverageLimit. Nil means defaults.
type OverageOpts struct {
	// Currency defaults to the config's default currency.
	Currency       string
	IdempotencyKey string
	Actor          string
}

// Overage is a wallet's overage limit and debt.
type Overage struct {
	Customer string `json:"customer"`
	Currency string `json:"currency"`
	// Limit is how far into debt the wallet may go; 0 means never negative.
	Limit Amount `json:"limit"`
	// Debt is what the wallet owes now, at most Limit when it was drawn.
	Debt Amount `json:"debt"`
}

// SetOverageLimit sets how far into debt a customer's wallet may go: with a
// limit N > 0, a spend or debit beyond the available credits draws the rest
// as debt, down to −N. A limit of 0 turns overage off. Lowering the limit
// below the current debt is allowed: it only refuses further debt until the
// debt is repaid or settled. The subscription code calls it when a customer
// subscribes to a plan with "overage: up to N credits".
func (l *Ledger) SetOverageLimit(ctx context.Context, customer string, limit Amount, opts *OverageOpts) (*Overage, error) {
	if opts == nil {
		opts = &OverageOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, errorf(CodeInvalidAmount, "overage limit %d is negative: give 0 (no overage) or more", limit)
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	cur, err := l.currency(opts.Currency)
	if err != nil {
		return nil, err
	}
	key := walletKey(customer, cur.Name)
	req := &writeReq{
		kind:        "set_overage",
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("set_overage", []any{key, limit}),
		wallets:     staticWallets(key),
		decode:      decodeAs[Overage](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(key)
			w.setOverageLimit(ws, limit)
			return &Overage{Customer: customer, Currency: cur.Name, Limit: limit, Debt: Amount(ws.row.Debt)}, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Overage), nil
}

// GetOverage returns a wallet's overage limit and debt (currency "" is the
// default currency). A customer never seen is customer_not_found.
func (l *Ledger) GetOverage(ctx context.Context, customer, currency string) (*Overage, error) {
	b, err := l.Balance(ctx, customer, &BalanceOpts{Currency: currency})
	if err != nil {
		return nil, err
	}
	limit, debt, err := l.walletOverage(ctx, walletKey(customer, b.Currency))
	if err != nil {
		return nil, err
	}
	return &Overage{Customer: customer, Currency: b.Currency, Limit: limit, Debt: debt}, nil
}

// walletOverage reads a wallet row's overage limit and debt (0, 0 when the
// wallet has no row).
func (l *Ledger) walletOverage(ctx context.Context, key WalletKey) (limit, debt Amount, err error) {
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		row, err := tx.Wallet(ctx, key)
		if err != nil || row == nil {
			return err
		}
		limit, debt = Amount(row.OverageLimit), Amount(row.Debt)
		return nil
	})
	return limit, debt, err
}

// planCharge chooses the grants a charge draws from, and the part it draws
// as debt when the grants do not cover it and the wallet's overage limit
// allows. It changes nothing. Past the limit it fails with
// *InsufficientCreditsError naming the limit.
func (w *writeState) planCharge(ws *walletState, amount Amount) ([]Allocation, Amount, error) {
	avail := w.available(ws)
	if avail >= amount {
		allocs, err := w.plan(ws, amount)
		return allocs, 0, err
	}
	need := amount - avail
	limit, debt := Amount(ws.row.OverageLimit), Amount(ws.row.Debt)
	if limit <= 0 || debt > limit || need > limit-debt {
		cur, _ := w.l.cfg.Currency(ws.key.Currency)
		return nil, 0, &InsufficientCreditsError{Customer: ws.key.Customer, Currency: ws.key.Currency, Needed: amount, Available: avail,
			Decimals: cur.Decimals, OverageLimit: limit, Debt: debt}
	}
	allocs, err := w.plan(ws, avail)
	if err != nil {
		return nil, 0, err
	}
	return allocs, need, nil
}

// availableNet is what a wallet's grants can spend now less its debt, as
// Balance reports Available: negative only by the debt.
func (w *writeState) availableNet(ws *walletState) Amount {
	return w.available(ws) - Amount(ws.row.Debt)
}

// drawDebt adds a charge's debt part to the wallet's debt.
func (w *writeState) drawDebt(ws *walletState, debt Amount) {
	if debt <= 0 {
		return
	}
	w.muts++
	ws.row.Debt += int64(debt)
	ws.rowDirty = true
	ws.touched = true
}

// repayDebt makes a grant that just arrived pay the wallet's debt first:
// the repaid credits leave the grant through a repayment entry of amount
// 0 whose allocation names the grant. A grant that is not spendable yet
// (scheduled) repays nothing.
func (w *writeState) repayDebt(ws *walletState, g *Grant) error {
	owed := Amount(ws.row.Debt) - heldDebt(ws)
	if owed <= 0 || g.Remaining <= 0 || !g.spendableAt(w.now) {
		return nil
	}
	repaid := min(owed, g.Remaining)
	g.Remaining -= repaid
	w.markGrant(ws, g)
	ws.row.Debt -= int64(repaid)
	ws.rowDirty = true
	_, err := w.addEntry(ws, &Entry{Type: EntryRepayment, Category: CategoryRepayment, Amount: 0, Actor: "system",
		Details:     map[string]any{"grant_id": g.ID, "repaid": repaid, "debt_after": ws.row.Debt},
		Allocations: []Allocation{{GrantID: g.ID, Amount: repaid}}})
	return err
}

// debtAllocation is the grant ID a hold row's allocations use for the
// hold's debt part (store.Hold has no column of its own for it); Hold.Debt
// carries it in memory and in the API.
const debtAllocation = "debt"

// splitHoldDebt takes a stored hold's debt part out of its allocations.
func splitHoldDebt(allocs []Allocation) ([]Allocation, Amount) {
	var debt Amount
	out := allocs[:0:0]
	for _, a := range allocs {
		if a.GrantID == debtAllocation {
			debt += a.Amount
			continue
		}
		out = append(out, a)
	}
	if len(out) == len(allocs) {
		return allocs, 0
	}
	return out, debt
}

// joinHoldDebt adds a hold's debt part to its allocations, for its row.
func joinHoldDebt(allocs []Allocation, debt Amount) []Allocation {
	if debt <= 0 {
		return allocs
	}
	return append(slices.Clone(allocs), Allocation{GrantID: debtAllocation, Amount: debt})
}

// returnHoldDebt resolves a hold's debt part: what the capture did not
// take of it (*keep is what is left to capture after the grants' part) is
// owed no more.
func (w *writeState) returnHoldDebt(ws *walletState, h *Hold, keep *Amount) {
	if h.Debt <= 0 {
		return
	}
	back := h.Debt - min(*keep, h.Debt)
	if back <= 0 {
		return
	}
	w.muts++
	ws.row.Debt -= int64(back)
	ws.rowDirty = true
	ws.touched = true
}

// heldDebt is the debt the wallet's active holds reserve: it is not settled
// or repaid, since releasing the hold gives it back.
func heldDebt(ws *walletState) Amount {
	var d Amount
	for _, h := range ws.holds {
		if h.Status == HoldActive {
			d += h.Debt
		}
	}
	return d
}

// SettleOpts are options for SettleDebt. Nil means defaults.
type SettleOpts struct {
	// Currency defaults to the config's default currency.
	Currency string
	// At stamps the settlement entry (the billing period's end); zero
	// means now. It may not be in the future.
	At time.Time
	// OveragePrice prices the settled credits. Nil means the overage_price
	// of the plan of the customer's subscription in that currency (live or
	// canceled); a customer without one, or whose plan has no
	// overage_price, is settled without money.
	OveragePrice *OveragePrice
	// IdempotencyKey makes the settlement safe to retry.
	IdempotencyKey string
	Actor          string
}

// Settlement is the result of SettleDebt.
type Settlement struct {
	Customer string `json:"customer"`
	Currency string `json:"currency"`
	// Credits is the debt settled, in smallest units; 0 when the wallet
	// owed nothing (then Entry is nil and no event is written).
	Credits Amount `json:"credits"`
	// Money is what the credits cost at the overage price, rounded once
	// to the money currency's minor units, such as "25.00"; MoneyCents is
	// the same in minor units and MoneyExact unrounded. Empty without a
	// price.
	Money         string `json:"money,omitempty"`
	MoneyCents    int64  `json:"money_cents,omitempty"`
	MoneyExact    string `json:"money_exact,omitempty"`
	MoneyCurrency string `json:"money_currency,omitempty"`
	Entry         *Entry `json:"entry,omitempty"`
}

// SettleDebt settles a wallet's debt: an overage_settlement entry forgives
// the debt in credits (bringing the wallet back to 0 debt) and records the
// money owed at the overage price, and credits.overage.billed carries the
// credits and the money. The subscription code calls it at each billing
// period end, before the refill. A wallet without debt settles nothing.
// Without opts.OveragePrice the customer's plan's overage_price applies.
func (l *Ledger) SettleDebt(ctx context.Context, customer string, opts *SettleOpts) (*Settlement, error) {
	if opts == nil {
		opts = &SettleOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	if p := opts.OveragePrice; p != nil {
		if p.Per < 1 || p.Cents < 0 || len(p.Currency) != 3 {
			return nil, errorf(CodeInvalidRequest, "overage price %d %s per %d credits: give cents >= 0, a 3-letter currency and per >= 1", p.Cents, p.Currency, p.Per)
		}
	}
	cur, err := l.currency(opts.Currency)
	if err != nil {
		return nil, err
	}
	key := walletKey(customer, cur.Name)
	fp := []any{key, opts.OveragePrice}
	if !opts.At.IsZero() {
		fp = append(fp, opts.At.UTC())
	}
	req := &writeReq{
		kind:        "settle_debt",
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("settle_debt", fp),
		wallets:     staticWallets(key),
		decode:      decodeAs[Settlement](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			o := opts
			if o.OveragePrice == nil {
				// Without a price, the customer's plan prices the debt:
				// a plan customer's overage is not forgiven for free.
				sub, err := w.subscription(ctx, key)
				if err != nil {
					return nil, err
				}
				if sub != nil {
					if p := l.cfg.Plans[sub.Plan]; p != nil && p.OveragePrice != nil {
						c := *opts
						c.OveragePrice = p.OveragePrice
						o = &c
					}
				}
			}
			return w.settleDebt(w.wallet(key), o)
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Settlement), nil
}

// settleDebt settles a locked wallet's debt inside a write (SettleDebt's
// body; a refill at a billing period end calls it in its own write, before
// it adds the refill grant). opts.Currency is ignored: ws names the wallet.
// It checks everything before it changes anything.
func (w *writeState) settleDebt(ws *walletState, opts *SettleOpts) (*Settlement, error) {
	at := opts.At.UTC()
	if opts.At.IsZero() {
		at = w.now
	}
	if at.After(w.now) {
		return nil, errorf(CodeInvalidRequest, "settlement at %s is in the future: give a time at or before now (%s)", fmtTime(at), fmtTime(w.now))
	}
	// Debt that active holds reserve is settled once they are captured (a
	// release gives it back).
	s := &Settlement{Customer: ws.key.Customer, Currency: ws.key.Currency, Credits: Amount(ws.row.Debt) - heldDebt(ws)}
	if s.Credits <= 0 {
		s.Credits = 0
		return s, nil
	}
	details := map[string]any{"debt": s.Credits}
	data := map[string]any{"credits": s.Credits}
	if p := opts.OveragePrice; p != nil {
		s.MoneyCurrency = strings.ToUpper(p.Currency)
		s.MoneyCents, s.Money, s.MoneyExact = overageMoney(s.Credits, p)
		price := map[string]any{"cents": p.Cents, "currency": s.MoneyCurrency, "per": p.Per}
		details["overage_price"] = price
		details["money"] = s.Money
		details["money_cents"] = s.MoneyCents
		details["money_exact"] = s.MoneyExact
		details["money_currency"] = s.MoneyCurrency
		data["money"] = s.Money
		data["money_cents"] = s.MoneyCents
		data["money_currency"] = s.MoneyCurrency
		data["overage_price"] = price
	}
	w.muts++
	ws.row.Debt -= int64(s.Credits)
	ws.rowDirty = true
	e, err := w.addEntry(ws, &Entry{Type: EntryOverageSettlement, Category: CategoryOverageSettlement, Amount: s.Credits, At: at,
		Actor: opts.Actor, IdempotencyKey: opts.IdempotencyKey, Details: details})
	if err != nil {
		return nil, err
	}
	data["entry_id"] = e.ID
	w.event(EventOverageBilled, ws.key, data)
	s.Entry = e
	return s, nil
}

// overageMoney prices credits at an overage price: the exact money in
// major units, and the same rounded once (half away from zero) to minor
// units.
func overageMoney(credits Amount, p *OveragePrice) (cents int64, value, exact string) {
	dec := moneyDecimals(strings.ToUpper(p.Currency))
	minor := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(credits)), big.NewInt(p.Cents)), big.NewInt(int64(p.Per)))
	major := new(big.Rat).Quo(minor, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil)))
	value = major.FloatString(dec) // FloatString rounds half away from zero
	rounded, _ := new(big.Rat).SetString(value)
	c := new(big.Rat).Mul(rounded, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil)))
	return c.Num().Int64(), value, exactDecimal(major)
}

// overageEntryMoney reads the exact money of an overage_settlement entry.
func overageEntryMoney(e *Entry) (currency string, v *big.Rat, err error) {
	cur, _ := e.Details["money_currency"].(string)
	ex, _ := e.Details["money_exact"].(string)
	if cur == "" || ex == "" {
		return "", nil, nil
	}
	v, ok := new(big.Rat).SetString(ex)
	if !ok {
		return "", nil, fmt.Errorf("entry %s: money_exact %q is not a number", e.ID, ex)
	}
	return cur, v, nil
}

// ParseOveragePrice reads an overage price as the config writes it: "1 USD
// per 100 credits", "0.01 USD per credit" (the credits in the config's
// currencies; a bare number is in the default currency). It returns the
// price and the credit currency it is per.
func (c *Config) ParseOveragePrice(s string) (*OveragePrice, string, error) {
	expected := fmt.Sprintf("a price like %q", "1 USD per 100 "+c.DefaultCurrency().Name)
	f := strings.Fields(s)
	if (len(f) != 4 && len(f) != 5) || !strings.EqualFold(f[2], "per") {
		return nil, "", errorf(CodeInvalidRequest, "overage price %q: expected %s", s, expected)
	}
	code := strings.ToUpper(f[1])
	if !moneyCodeRE.MatchString(code) {
		return nil, "", errorf(CodeInvalidRequest, "overage price %q: %q is not an ISO 4217 currency code such as USD", s, f[1])
	}
	cents, err := ParseAmount(f[0], moneyDecimals(code))
	if err != nil || cents < 0 {
		return nil, "", errorf(CodeInvalidRequest, "overage price %q: %q is not a money amount such as 1 or 0.50", s, f[0])
	}
	credits := strings.Join(f[3:], " ")
	if len(f) == 4 {
		credits = "1 " + f[3] // "per credit"
	}
	per, cur, err := c.ParseAmountWithUnit(credits)
	if err != nil {
		return nil, "", err
	}
	if per < 1 {
		return nil, "", errorf(CodeInvalidRequest, "overage price %q: the number of credits must be at least 1", s)
	}
	return &OveragePrice{Cents: int64(cents), Currency: code, Per: per}, cur, nil
}
