package creditkit

import (
	"context"
	"maps"
)

// TransferOpts are options for Transfer. Nil means defaults.
type TransferOpts struct {
	// Currency defaults to the config's default currency.
	Currency string
	// Evergreen makes the transferred credits never expire. By default each
	// transferred bucket keeps the expiry date and priority of the bucket it
	// was drawn from.
	Evergreen bool
	// Metadata is the metadata of both entries, as given.
	Metadata map[string]string
	// Description is free text for both entries. At most 500 characters.
	Description    string
	IdempotencyKey string
	Actor          string
}

// TransferResult is what a transfer wrote.
type TransferResult struct {
	// Out is the transfer_out entry on the sender's wallet.
	Out *Entry `json:"out"`
	// In is the transfer_in entry on the receiver's wallet.
	In *Entry `json:"in"`
	// Grants are the receiver's new grants, one per bucket drawn from.
	Grants []*Grant `json:"grants"`
}

// Transfer moves credits from one customer to another in the same currency.
// It moves only what the sender has available net of its debt (as
// Balance.Available shows it) and never draws debt: credits a wallet in
// debt holds (returned by a released hold or a reversal while it owed) pay
// its debt, and a transfer of them fails with insufficient_credits.
func (l *Ledger) Transfer(ctx context.Context, from, to string, amount Amount, opts *TransferOpts) (*TransferResult, error) {
	if opts == nil {
		opts = &TransferOpts{}
	}
	if err := checkID("from customer", from); err != nil {
		return nil, err
	}
	if err := checkID("to customer", to); err != nil {
		return nil, err
	}
	if from == to {
		return nil, errorf(CodeInvalidRequest, "cannot transfer from %s to the same wallet: give two different customers", from)
	}
	if err := checkPositive("transfer amount", amount); err != nil {
		return nil, err
	}
	cur, err := l.currency(opts.Currency)
	if err != nil {
		return nil, err
	}
	if err := checkMetadata(opts.Metadata); err != nil {
		return nil, err
	}
	if err := checkDescription(opts.Description); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	src, dst := walletKey(from, cur.Name), walletKey(to, cur.Name)
	req := &writeReq{
		kind:        "transfer",
		route:       from,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("transfer", withText([]any{src, dst, amount, opts.Evergreen, opts.Metadata}, opts.Description)),
		wallets:     staticWallets(src, dst),
		decode:      decodeAs[TransferResult](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			sws, dws := w.wallet(src), w.wallet(dst)
			if err := w.checkTransferable(sws, amount); err != nil {
				return nil, err
			}
			allocs, err := w.plan(sws, amount)
			if err != nil {
				return nil, err
			}
			// Check the receiver can hold the credits before moving any.
			if _, err := addAmounts(Amount(dws.row.LedgerBalance), amount); err != nil {
				return nil, err
			}
			w.draw(sws, allocs)
			out, err := w.addEntry(sws, &Entry{Type: EntryTransfer, Category: CategoryTransferOut, Description: opts.Description,
				Amount: -amount, Actor: opts.Actor, IdempotencyKey: opts.IdempotencyKey, Details: map[string]any{"from": from, "to": to},
				Metadata: maps.Clone(opts.Metadata), Allocations: allocs})
			if err != nil {
				return nil, err
			}
			res := &TransferResult{Out: out}
			var inAllocs []Allocation
			for _, a := range allocs {
				srcGrant := sws.grantByID[a.GrantID]
				g := &Grant{
					ID: w.l.ids.New("grt"), Customer: to, Currency: cur.Name, Amount: a.Amount, Remaining: a.Amount,
					Reason: CategoryTransferIn, Source: SourceTransfer, Priority: srcGrant.Priority, CreatedAt: w.now,
					EffectiveAt: w.now, CostBasis: srcGrant.CostBasis,
					Metadata: map[string]string{"transfer_from": from, "source_grant": srcGrant.ID, "transfer_entry": out.ID},
				}
				if !opts.Evergreen {
					g.ExpiresAt = srcGrant.ExpiresAt
				}
				res.Grants = append(res.Grants, g)
				inAllocs = append(inAllocs, Allocation{GrantID: g.ID, Amount: a.Amount})
			}
			in, err := w.addEntry(dws, &Entry{Type: EntryTransfer, Category: CategoryTransferIn, Description: opts.Description,
				Amount: amount, Actor: opts.Actor, IdempotencyKey: opts.IdempotencyKey, Details: map[string]any{"from": from, "to": to},
				Metadata: maps.Clone(opts.Metadata), Allocations: inAllocs})
			if err != nil {
				return nil, err
			}
			// The grants join the wallet after their entry, so that a
			// repayment of debt they make comes after it.
			for _, g := range res.Grants {
				w.addGrant(dws, g)
			}
			w.refreshAvailable(dws, in)
			res.In = in
			for i, g := range res.Grants {
				res.Grants[i] = g.snapshot(w.now)
			}
			w.event(EventCreditsTransferred, src, map[string]any{"entry_id": out.ID, "to": to, "amount": amount})
			w.event(EventCreditsGranted, dst, map[string]any{"entry_id": in.ID, "from": from, "amount": amount, "reason": CategoryTransferIn})
			return res, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*TransferResult), nil
}

// checkTransferable refuses a transfer of more than the sender has net of
// its debt. Credits a wallet holds while it owes (a hold released, a charge
// reversed after the wallet went into debt) are what its debt is netted
// against, as Balance.Available shows: a new grant pays the debt first
// (debt.go), and a transfer may not move them away instead, nor draw debt
// of its own. So a transfer never takes a wallet's available balance below
// zero, with or without an overage limit.
func (w *writeState) checkTransferable(ws *walletState, amount Amount) error {
	debt := Amount(ws.row.Debt)
	if debt <= 0 {
		return nil // w.plan refuses what the grants do not hold
	}
	if net := w.availableNet(ws); amount > net {
		cur, _ := w.l.cfg.Currency(ws.key.Currency)
		return &InsufficientCreditsError{Customer: ws.key.Customer, Currency: ws.key.Currency, Needed: amount, Available: max(net, 0),
			Decimals: cur.Decimals, OverageLimit: Amount(ws.row.OverageLimit), Debt: debt}
	}
	return nil
}
