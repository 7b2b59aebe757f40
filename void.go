package creditkit

import (
	"context"

	"github.com/creditkit/creditkit/store"
)

// VoidOpts are options for Void. Nil means defaults.
type VoidOpts struct {
	// Amount voids only part of what remains, leaving the grant active with
	// the rest. Nil voids all that remains and closes the grant.
	Amount *Amount
	// Reason says why, recorded in the entry's metadata.
	Reason         string
	IdempotencyKey string
	Actor          string
}

// Void removes what is left of a grant (or, with opts.Amount, part of it)
// with a void entry. A whole void closes the grant: credits of it that are
// held by an active hold, or that a reversal gives back later, are voided
// when they return. Voiding a voided or expired grant is a
// grant_not_active error.
func (l *Ledger) Void(ctx context.Context, grantID string, opts *VoidOpts) (*Entry, error) {
	if opts == nil {
		opts = &VoidOpts{}
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	if len(opts.Reason) > maxMetadataValLen {
		return nil, errorf(CodeInvalidRequest, "void reason is longer than %d characters", maxMetadataValLen)
	}
	if err := checkText("void reason", opts.Reason); err != nil {
		return nil, err
	}
	if opts.Amount != nil {
		if err := checkPositive("void amount", *opts.Amount); err != nil {
			return nil, err
		}
	}
	var key WalletKey // the grant's wallet, found by wallets below
	req := &writeReq{
		kind:        "void",
		route:       grantID,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("void", []any{grantID, opts.Reason, opts.Amount}),
		wallets:     grantWallet(grantID, &key),
		decode:      decodeAs[Entry](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws, g, err := w.activeGrant(ctx, key, grantID)
			if err != nil {
				return nil, err
			}
			amount := g.Remaining
			if opts.Amount != nil && *opts.Amount > g.Remaining {
				return nil, errorf(CodeInvalidAmount, "cannot void %d of grant %s: only %d remain unspent and unheld; void at most %d",
					*opts.Amount, g.ID, g.Remaining, g.Remaining)
			}
			meta := map[string]any{"grant_id": g.ID}
			if opts.Amount != nil {
				amount = *opts.Amount
				g.Remaining -= amount
				meta["partial"] = true
				meta["remaining"] = g.Remaining
			} else {
				now := w.now
				g.Remaining = 0
				g.VoidedAt = &now
			}
			w.markGrant(ws, g)
			if opts.Reason != "" {
				meta["reason"] = opts.Reason
			}
			var allocs []Allocation
			if amount > 0 {
				allocs = []Allocation{{GrantID: g.ID, Amount: amount}}
			}
			// A scheduled grant's credits never took effect: its void takes
			// effect when the grant would have, so that balances at any
			// instant see both or neither.
			at := w.now
			if g.EffectiveAt.After(at) {
				at = g.EffectiveAt
			}
			e, err := w.addEntry(ws, &Entry{Type: EntryVoid, Category: CategoryVoid, Amount: -amount, At: at, Actor: opts.Actor,
				IdempotencyKey: opts.IdempotencyKey, Details: meta, Allocations: allocs})
			if err != nil {
				return nil, err
			}
			w.event(EventGrantVoided, ws.key, map[string]any{"grant_id": g.ID, "entry_id": e.ID, "amount": amount, "reason": opts.Reason,
				"remaining": g.Remaining, "partial": opts.Amount != nil})
			return e, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Entry), nil
}

// DueResult counts what RunDue settled.
type DueResult struct {
	ExpiredGrants int `json:"expired_grants"`
	ExpiredHolds  int `json:"expired_holds"`
	// Refills counts the subscription refills written (see refill.go).
	Refills int `json:"refills"`
}

// dueBatch is how many due items RunDue reads at a time.
const dueBatch = 200

// RunDue settles what fell due: it refills the subscriptions whose period
// ended (refill.go), writes expiration entries (stamped with the expiry
// time) for grants that expired with credits left, and releases holds past
// their TTL. It is idempotent and safe to call from several
// processes at once: each wallet is settled under its lock, and what another
// process settled first is simply no longer due.
func (l *Ledger) RunDue(ctx context.Context) (DueResult, error) {
	var res DueResult
	// Subscriptions first: a refill applies its plan's unused_credits at
	// its boundary, before the sweep below writes those grants off.
	refills, refillErr := l.refillDue(ctx)
	res.Refills = refills
	if refillErr != nil && ctx.Err() != nil {
		return res, refillErr
	}
	res, err := l.runDueGrants(ctx, res)
	if err == nil {
		err = refillErr
	}
	return res, err
}

// runDueGrants is RunDue's sweep of expired grants and holds.
func (l *Ledger) runDueGrants(ctx context.Context, res DueResult) (DueResult, error) {
	for {
		now := l.Now()
		var keys []WalletKey
		err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
			seen := map[WalletKey]bool{}
			grants, err := tx.DueGrants(ctx, now, dueBatch)
			if err != nil {
				return err
			}
			holds, err := tx.DueHolds(ctx, now, dueBatch)
			if err != nil {
				return err
			}
			for _, g := range grants {
				seen[walletKey(g.Customer, g.Currency)] = true
			}
			for _, h := range holds {
				seen[walletKey(h.Customer, h.Currency)] = true
			}
			for k := range seen {
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		if len(keys) == 0 {
			return res, nil
		}
		settled := 0
		for _, k := range sortWalletKeys(keys) {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			var got DueResult
			req := &writeReq{
				kind:    "settle",
				route:   k.Customer,
				wallets: staticWallets(k),
				apply: func(ctx context.Context, w *writeState) (any, error) {
					got = w.claimSettled(k)
					return nil, nil
				},
			}
			if _, err := l.exec(ctx, req); err != nil {
				return res, err
			}
			res.ExpiredGrants += got.ExpiredGrants
			res.ExpiredHolds += got.ExpiredHolds
			settled += got.ExpiredGrants + got.ExpiredHolds
		}
		// A full batch may have left more behind; a round that settled
		// nothing (another process was first) ends the run.
		if settled == 0 {
			return res, nil
		}
	}
}
