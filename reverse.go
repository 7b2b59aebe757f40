package creditkit

import (
	"context"

	"github.com/creditkit/creditkit/store"
)

// CategoryReversal is the category of an entry that gives back a charge.
const CategoryReversal = "reversal"

// ReverseOpts are options for Reverse.
type ReverseOpts struct {
	// Amount gives back only part of the charge. Nil gives back all of it
	// that has not been given back yet.
	Amount *Amount
	// Reason says why (required): support's note for the audit trail.
	Reason         string
	IdempotencyKey string
	Actor          string
}

// Reverse gives back all or part of a charge (an operation charge, a debit,
// or a capture) to the grants it was drawn from, with a reversal entry whose
// allocations name them. Across several reversals, never more than was
// charged comes back. The charge's own grants take the credits back in the
// reverse order of the draw (the last credits drawn return first), so a
// partial reversal undoes the end of the charge, and they keep their own
// expiry and priority.
//
// Credits that come back to a grant that has since been voided or has
// expired are written off at once, with a void or expiration entry, as
// credits of a released hold are: a reversal never revives dead credits.
// Give a new grant for goodwill instead.
//
// Grants, expirations, voids, transfers and reversals themselves cannot be
// reversed: void a grant, and transfer credits back.
func (l *Ledger) Reverse(ctx context.Context, entryID string, opts *ReverseOpts) (*Entry, error) {
	if opts == nil {
		opts = &ReverseOpts{}
	}
	if opts.Reason == "" {
		return nil, errorf(CodeInvalidRequest, "a reversal needs a reason: say why the charge is given back")
	}
	if len(opts.Reason) > maxMetadataValLen {
		return nil, errorf(CodeInvalidRequest, "reason is longer than %d characters", maxMetadataValLen)
	}
	if err := checkText("reason", opts.Reason); err != nil {
		return nil, err
	}
	if opts.Amount != nil {
		if err := checkPositive("reversal amount", *opts.Amount); err != nil {
			return nil, err
		}
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	var (
		key    WalletKey
		charge *Entry
	)
	req := &writeReq{
		kind:        "reverse",
		route:       entryID,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("reverse", []any{entryID, opts.Amount, opts.Reason}),
		wallets: func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error) {
			r, err := tx.Entry(ctx, entryID)
			if err != nil {
				return nil, err
			}
			if r == nil {
				return nil, errorf(CodeNotFound, "entry %q not found", entryID)
			}
			if charge, err = entryFromRow(r); err != nil {
				return nil, err
			}
			if err := reversible(charge); err != nil {
				return nil, err
			}
			key = walletKey(r.Customer, r.Currency)
			return []WalletKey{key}, nil
		},
		decode: decodeAs[Entry](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(key)
			given, err := w.reversedOf(ctx, charge)
			if err != nil {
				return nil, err
			}
			var left Amount
			for _, a := range charge.Allocations {
				left += a.Amount - given[a.GrantID]
			}
			amount := left
			if opts.Amount != nil {
				amount = *opts.Amount
			}
			if left == 0 {
				return nil, errorf(CodeInvalidAmount, "entry %s was already reversed in full (%d): nothing is left to give back", charge.ID, -charge.Amount)
			}
			if amount > left {
				return nil, errorf(CodeInvalidAmount, "cannot give back %d: entry %s charged %d and %d of it is left to reverse; give back at most %d",
					amount, charge.ID, -charge.Amount, left, left)
			}
			// The last credits drawn come back first.
			var allocs []Allocation
			rest := amount
			for i := len(charge.Allocations) - 1; i >= 0 && rest > 0; i-- {
				a := charge.Allocations[i]
				back := min(rest, a.Amount-given[a.GrantID])
				if back <= 0 {
					continue
				}
				allocs = append(allocs, Allocation{GrantID: a.GrantID, Amount: back})
				rest -= back
			}
			grants := make([]*Grant, len(allocs))
			for i, a := range allocs {
				if grants[i], err = w.grant(ctx, ws, a.GrantID); err != nil {
					return nil, err
				}
			}
			meta := map[string]any{"reversed_entry_id": charge.ID, "reason": opts.Reason, "reversed_category": charge.Category}
			e, err := w.addEntry(ws, &Entry{Type: EntryReversal, Category: CategoryReversal, Operation: charge.Operation, Amount: amount,
				Actor: opts.Actor, IdempotencyKey: opts.IdempotencyKey, Details: meta, Allocations: allocs})
			if err != nil {
				return nil, err
			}
			for i, a := range allocs {
				if err := w.giveBack(ws, grants[i], a.Amount, "reversal_entry_id", e.ID, "reversed charge"); err != nil {
					return nil, err
				}
				given[a.GrantID] += a.Amount
			}
			w.refreshAvailable(ws, e)
			w.event(EventCreditsReversed, ws.key, map[string]any{"entry_id": e.ID, "reversed_entry_id": charge.ID,
				"amount": amount, "reason": opts.Reason, "available": w.available(ws)})
			return e, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Entry), nil
}

// reversible refuses entries that are not charges.
func reversible(e *Entry) error {
	switch {
	case e.Amount >= 0:
		return errorf(CodeInvalidRequest, "entry %s adds credits (%s), it is not a charge: void the grant instead", e.ID, e.Category)
	case e.Category == CategoryExpiration, e.Category == CategoryVoid, e.Category == CategoryTransferOut:
		return errorf(CodeInvalidRequest, "entry %s is a %s, not a charge: only charges can be reversed (transfer credits back, or give a new grant)", e.ID, e.Category)
	case len(e.Allocations) == 0:
		return errorf(CodeInvalidRequest, "entry %s drew from no grant: there is nothing to give back", e.ID)
	}
	return nil
}

// reversedOf returns how much of charge each of its grants already got back
// through reversals: those committed (read once per write) and those made
// earlier in this write.
func (w *writeState) reversedOf(ctx context.Context, charge *Entry) (map[string]Amount, error) {
	if given, ok := w.reversed[charge.ID]; ok {
		return given, nil
	}
	given := map[string]Amount{}
	q := store.EntryQuery{Customer: charge.Customer, Currency: charge.Currency, Category: CategoryReversal, Limit: 1000}
	for {
		rows, err := w.tx.Entries(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			e, err := entryFromRow(r)
			if err != nil {
				return nil, err
			}
			if id, _ := e.Details["reversed_entry_id"].(string); id != charge.ID || e.Amount <= 0 {
				continue
			}
			for _, a := range e.Allocations {
				given[a.GrantID] += a.Amount
			}
		}
		if len(rows) < q.Limit {
			break
		}
		q.AfterSeq = rows[len(rows)-1].Seq
	}
	if w.reversed == nil {
		w.reversed = map[string]map[string]Amount{}
	}
	w.reversed[charge.ID] = given
	return given, nil
}
