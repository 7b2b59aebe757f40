package creditkit

import (
	"context"
	"math/big"
	"slices"

	"github.com/creditkit/creditkit/store"
)

// This file is refunds: money given back for a purchase takes back the
// credits it paid for. Providers report refunds cumulatively (Stripe's
// charge.amount_refunded), possibly several times and out of order, so a
// refund names the total refunded so far; the credits it owes are
//
//	ceil(credits × refunded_total ÷ amount_paid)
//
// minus what earlier refunds of the purchase already accounted for. The
// same refund delivered twice therefore moves nothing, and a stale one
// (a smaller total) neither.
//
// The credits are clawed back first from the purchase's own grant, then
// from the wallet's other spendable grants in burn-down order. What the
// wallet no longer has (it was spent) follows the config's refund_debt:
// allow records it as debt (beyond the wallet's overage limit if need be:
// the limit bounds what a customer may spend on credit, not what they owe
// back; debt above the limit only stops further spending on credit until
// it is repaid), forbid reports it as a shortfall. One refund entry (type
// refund) records the claw-back, with the provider's charge and refund IDs
// in its details, and credits.refunded tells the world.

// RefundOpts describe a refund for Ledger.Refund.
type RefundOpts struct {
	// Provider names who took the payment (required).
	Provider string
	// One of these finds the purchase, tried in this order: the payment's
	// external ID, the charge ID, the payment intent ID.
	ExternalID, ChargeID, PaymentIntentID string
	// RefundID is the provider's refund ID (or event ID); recorded on the
	// entry.
	RefundID string
	// RefundedTotal is the money refunded on the payment so far,
	// cumulative, in minor units (Stripe: charge.amount_refunded). At most
	// the purchase's AmountPaid.
	RefundedTotal int64
	// Reason is free text recorded on the entry (at most 500 characters).
	Reason string
	// Actor names who asked, for the audit trail.
	Actor string
	// IdempotencyKey makes the call safe to retry like any write (the
	// cumulative total already makes a repeated refund move nothing).
	IdempotencyKey string
}

// Refund is what one Refund call did.
type Refund struct {
	// Purchase is the purchase after the refund.
	Purchase *Purchase `json:"purchase"`
	// ClawedBack is the credits this call took back from grants.
	ClawedBack Amount `json:"clawed_back"`
	// Debt is the credits this call recorded as debt (refund_debt: allow).
	Debt Amount `json:"debt"`
	// Shortfall is the credits this call could not recover (refund_debt:
	// forbid).
	Shortfall Amount `json:"shortfall"`
	// Entries are the ledger entries this call wrote: one refund entry, or
	// none when the refund owed no new credits.
	Entries []*Entry `json:"entries"`
}

// Refund records money refunded on a purchase and claws back the credits
// it paid for (see the top of refund.go). A refund whose total was already
// recorded moves nothing and answers the purchase as it is.
func (l *Ledger) Refund(ctx context.Context, opts RefundOpts) (*Refund, error) {
	if err := checkProvider(opts.Provider); err != nil {
		return nil, err
	}
	if opts.ExternalID == "" && opts.ChargeID == "" && opts.PaymentIntentID == "" {
		return nil, errorf(CodeInvalidRequest, "a refund names its purchase: give external_id, charge_id or payment_intent_id")
	}
	for _, f := range []struct{ what, v string }{{"external_id", opts.ExternalID}, {"charge_id", opts.ChargeID},
		{"payment_intent_id", opts.PaymentIntentID}, {"refund_id", opts.RefundID}} {
		if err := checkOptionalID(f.what, f.v); err != nil {
			return nil, err
		}
	}
	if opts.RefundedTotal < 0 {
		return nil, errorf(CodeInvalidAmount, "refunded_total %d is negative: give the money refunded so far on the payment, in minor units (cents)", opts.RefundedTotal)
	}
	if err := checkDescription(opts.Reason); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	policy := l.cfg.refundDebt()
	// find looks the purchase up the way the caller named it.
	find := func(ctx context.Context, pr store.PurchaseReader) (*store.Purchase, error) {
		switch {
		case opts.ExternalID != "":
			return pr.PurchaseByExternalID(ctx, opts.Provider, opts.ExternalID)
		case opts.ChargeID != "":
			return pr.PurchaseByCharge(ctx, opts.Provider, opts.ChargeID)
		default:
			return pr.PurchaseByPaymentIntent(ctx, opts.Provider, opts.PaymentIntentID)
		}
	}
	notFound := func() error {
		named := "external_id " + opts.ExternalID
		switch {
		case opts.ExternalID != "":
		case opts.ChargeID != "":
			named = "charge_id " + opts.ChargeID
		default:
			named = "payment_intent_id " + opts.PaymentIntentID
		}
		return errorf(CodeNotFound, "no %s purchase with %s: the purchase must be fulfilled before it can be refunded", opts.Provider, named)
	}
	var found *store.Purchase
	req := &writeReq{
		kind:  "refund",
		route: opts.Provider + "/" + opts.ExternalID + opts.ChargeID + opts.PaymentIntentID,
		// The lane must not depend on what the database holds; the wallet
		// lock orders refunds and purchases of one customer.
		idemKey: opts.IdempotencyKey,
		fingerprint: fingerprint("refund", []any{opts.Provider, opts.ExternalID, opts.ChargeID, opts.PaymentIntentID, opts.RefundID,
			opts.RefundedTotal, opts.Reason}),
		wallets: func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error) {
			pr, err := purchaseReaderOf(tx)
			if err != nil {
				return nil, err
			}
			row, err := find(ctx, pr)
			if err != nil {
				return nil, err
			}
			if row == nil {
				return nil, notFound()
			}
			found = row
			return []WalletKey{walletKey(row.Customer, row.Currency)}, nil
		},
		decode: decodeAs[Refund](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			// Read the row again under the wallet's lock: an earlier
			// request of this batch, or another process, may have changed
			// it since wallets read it.
			row, err := w.findPurchase(ctx, found.Provider, found.ExternalID)
			if err != nil {
				return nil, err
			}
			if row == nil {
				return nil, notFound()
			}
			return w.refund(ctx, row, opts, policy)
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Refund), nil
}

// refund applies a refund to a purchase row inside a write. It checks
// everything before it changes anything.
func (w *writeState) refund(ctx context.Context, row *store.Purchase, opts RefundOpts, policy string) (*Refund, error) {
	if row.AmountPaid == 0 && opts.RefundedTotal > 0 {
		return nil, errorf(CodeInvalidAmount, "purchase %s paid nothing (a free purchase, such as a 100%% coupon): there is no money to refund; "+
			"to take its credits back, void its grant %s instead", row.ID, row.GrantID)
	}
	if opts.RefundedTotal > row.AmountPaid {
		return nil, errorf(CodeInvalidAmount, "refunded_total %d is more than the %d paid for purchase %s (%s): give the total refunded so far, in minor units",
			opts.RefundedTotal, row.AmountPaid, row.ID, FormatMoney(row.AmountPaid, row.MoneyCurrency))
	}
	out := &Refund{Entries: []*Entry{}}
	answer := func(r *store.Purchase) (*Refund, error) {
		p, err := purchaseFromRow(r)
		if err != nil {
			return nil, err
		}
		p.CostBasis = w.l.rowCostBasis(r)
		out.Purchase = p
		return out, nil
	}
	if opts.RefundedTotal <= row.RefundedCents {
		// Already recorded (a redelivery), or older than what was (out of
		// order): nothing to do.
		return answer(row)
	}
	owed := refundCredits(row.Credits, opts.RefundedTotal, row.AmountPaid)
	need := owed - Amount(row.ClawedBack+row.RefundDebt+row.Shortfall)
	next := *row
	next.RefundedCents = opts.RefundedTotal
	next.UpdatedAt = w.now
	// A refund may be the first to learn the provider's charge or payment
	// ID (a checkout fulfilled before its charge existed): keep them, so
	// that later refunds can name the purchase by them.
	if next.ChargeID == "" {
		next.ChargeID = opts.ChargeID
	}
	if next.PaymentIntentID == "" {
		next.PaymentIntentID = opts.PaymentIntentID
	}
	if need <= 0 {
		w.savePurchase(&next)
		return answer(&next)
	}
	key := walletKey(row.Customer, row.Currency)
	ws := w.wallet(key)
	own, err := w.grant(ctx, ws, row.GrantID)
	if err != nil {
		return nil, err
	}
	allocs := w.clawBackPlan(ws, own, need)
	var taken Amount
	for _, a := range allocs {
		taken += a.Amount
	}
	rest := need - taken
	details := map[string]any{"purchase_id": row.ID, "pack": row.Pack, "provider": row.Provider, "external_id": row.ExternalID,
		"grant_id": row.GrantID, "refund_id": opts.RefundID, "charge_id": row.ChargeID, "payment_intent_id": row.PaymentIntentID,
		"refunded_total": opts.RefundedTotal, "refunded": opts.RefundedTotal - row.RefundedCents, "amount_paid": row.AmountPaid,
		"money_currency": row.MoneyCurrency, "credits_owed": need, "clawed_back": taken, "refund_debt": policy}
	details["charge_id"], details["payment_intent_id"] = next.ChargeID, next.PaymentIntentID
	if opts.Reason != "" {
		details["reason"] = opts.Reason
	}
	amount := -taken
	switch policy {
	case RefundDebtForbid:
		out.Shortfall = rest
		details["shortfall"] = rest
	default:
		out.Debt = rest
		details["debt"] = rest
		amount -= rest
	}
	out.ClawedBack = taken
	w.draw(ws, allocs)
	// A refund's debt ignores the overage limit (see the top of the file).
	w.drawDebt(ws, out.Debt)
	e, err := w.addEntry(ws, &Entry{Type: EntryRefund, Category: CategoryRefund, Description: opts.Reason, Amount: amount, At: w.now,
		Actor: opts.Actor, IdempotencyKey: opts.IdempotencyKey, Details: details, Allocations: allocs})
	if err != nil {
		return nil, err
	}
	out.Entries = append(out.Entries, e)
	next.ClawedBack += int64(taken)
	next.RefundDebt += int64(out.Debt)
	next.Shortfall += int64(out.Shortfall)
	w.savePurchase(&next)
	w.event(EventCreditsRefunded, key, map[string]any{"purchase_id": row.ID, "entry_id": e.ID, "pack": row.Pack, "provider": row.Provider,
		"external_id": row.ExternalID, "charge_id": details["charge_id"], "refund_id": opts.RefundID, "refunded_total": opts.RefundedTotal,
		"money_currency": row.MoneyCurrency, "credits_owed": need, "clawed_back": taken, "debt": out.Debt, "shortfall": out.Shortfall,
		"refund_debt": policy})
	return answer(&next)
}

// refundCredits is ceil(credits × refunded ÷ paid), exactly.
func refundCredits(credits, refunded, paid int64) Amount {
	if paid <= 0 || refunded <= 0 {
		return 0
	}
	num := new(big.Int).Mul(big.NewInt(credits), big.NewInt(refunded))
	q, m := new(big.Int).QuoRem(num, big.NewInt(paid), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return Amount(q.Int64()) // at most credits, since refunded <= paid
}

// clawBackPlan chooses the grants a refund takes up to need credits from:
// the purchase's own grant first, then the wallet's other spendable grants
// in burn-down order. It changes nothing and may cover less than need.
func (w *writeState) clawBackPlan(ws *walletState, own *Grant, need Amount) []Allocation {
	var allocs []Allocation
	if own.spendableAt(w.now) {
		take := min(need, own.Remaining)
		allocs = append(allocs, Allocation{GrantID: own.ID, Amount: take})
		need -= take
	}
	var others []*Grant
	for _, g := range ws.grants {
		if g.ID != own.ID && g.spendableAt(w.now) {
			others = append(others, g)
		}
	}
	slices.SortFunc(others, func(a, b *Grant) int {
		if burnsBefore(a, b) {
			return -1
		}
		return 1
	})
	for _, g := range others {
		if need == 0 {
			break
		}
		take := min(need, g.Remaining)
		allocs = append(allocs, Allocation{GrantID: g.ID, Amount: take})
		need -= take
	}
	return allocs
}
