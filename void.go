package creditkit

import (
	"context"

	"github.com/creditkit/creditkit/store"
)

// VoidOpts are options for Void. Nil means defaults.
type VoidOpts struct {
	// Reason says why, recorded in the entry's metadata.
	Reason         string
	IdempotencyKey string
	Actor          string
}

// Void removes what is left of a grant with a void entry. Credits of the
// grant that are held by an active hold are voided when the hold returns
// them.
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
	var key WalletKey // the grant's wallet, found by wallets below
	req := &writeReq{
		kind:        "void",
		route:       grantID,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("void", []any{grantID, opts.Reason}),
		wallets: func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error) {
			r, err := tx.Grant(ctx, grantID)
			if err != nil {
				return nil, err
			}
			if r == nil {
				return nil, errorf(CodeNotFound, "grant %q not found", grantID)
			}
			key = walletKey(r.Customer, r.Currency)
			return []WalletKey{key}, nil
		},
		decode: decodeAs[Entry](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(key)
			g, err := w.grant(ctx, ws, grantID)
			if err != nil {
				return nil, err
			}
			switch {
			case g.VoidedAt != nil:
				return nil, errorf(CodeInvalidRequest, "grant %s was already voided at %s", g.ID, fmtTime(*g.VoidedAt))
			case g.ExpiredAt != nil:
				return nil, errorf(CodeInvalidRequest, "grant %s expired at %s: there is nothing left to void", g.ID, fmtTime(*g.ExpiredAt))
			}
			amount := g.Remaining
			now := w.now
			g.Remaining = 0
			g.VoidedAt = &now
			w.markGrant(ws, g)
			meta := map[string]any{"grant_id": g.ID}
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
			w.event(EventGrantVoided, ws.key, map[string]any{"grant_id": g.ID, "entry_id": e.ID, "amount": amount, "reason": opts.Reason})
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
}

// dueBatch is how many due items RunDue reads at a time.
const dueBatch = 200

// RunDue settles what fell due: it writes expiration entries (stamped with
// the expiry time) for grants that expired with credits left, and releases
// holds past their TTL. It is idempotent and safe to call from several
// processes at once: each wallet is settled under its lock, and what another
// process settled first is simply no longer due.
func (l *Ledger) RunDue(ctx context.Context) (DueResult, error) {
	var res DueResult
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
