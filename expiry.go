package creditkit

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

// CategoryExpirationChange is the category of the entry that records a
// moved expiry. It moves no credits (amount 0).
const CategoryExpirationChange = "expiration_change"

// ChangeExpiryOpts are options for ChangeExpiry. Nil means defaults.
type ChangeExpiryOpts struct {
	// Reason says why, recorded in the entry's metadata.
	Reason         string
	IdempotencyKey string
	Actor          string
}

// ChangeExpiry moves a grant's expiry to expiresAt, earlier or later; a zero
// expiresAt makes the grant never expire. The change is recorded as an
// expiration_change entry of amount 0 (the ledger stays append-only, and
// shows who moved what from when to when), and announced with
// credits.grant.updated. The new expiry must be after now and after the
// grant takes effect. A voided or expired grant cannot change
// (grant_not_active): its credits are gone, give a new grant instead.
//
// A credits.grant.expiring notice already sent for the old expiry is not
// sent again for the new one.
func (l *Ledger) ChangeExpiry(ctx context.Context, grantID string, expiresAt time.Time, opts *ChangeExpiryOpts) (*Grant, error) {
	if opts == nil {
		opts = &ChangeExpiryOpts{}
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	if len(opts.Reason) > maxMetadataValLen {
		return nil, errorf(CodeInvalidRequest, "reason is longer than %d characters", maxMetadataValLen)
	}
	if err := checkText("reason", opts.Reason); err != nil {
		return nil, err
	}
	if err := checkInstant("expires_at", expiresAt); err != nil {
		return nil, err
	}
	var key WalletKey
	req := &writeReq{
		kind:        "change_expiry",
		route:       grantID,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("change_expiry", []any{grantID, expiresAt.UTC(), opts.Reason}),
		wallets:     grantWallet(grantID, &key),
		decode:      decodeAs[Grant](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws, g, err := w.activeGrant(ctx, key, grantID)
			if err != nil {
				return nil, err
			}
			var next *time.Time
			if !expiresAt.IsZero() {
				t := expiresAt.UTC()
				if !t.After(w.now) {
					return nil, errorf(CodeInvalidRequest, "expires_at %s is not in the future: give a time after now (%s), or void the grant", fmtTime(t), fmtTime(w.now))
				}
				if !t.After(g.EffectiveAt) {
					return nil, errorf(CodeInvalidRequest, "expires_at %s is not after the grant's effective_at %s", fmtTime(t), fmtTime(g.EffectiveAt))
				}
				next = &t
			}
			prev := g.ExpiresAt
			meta := map[string]any{"grant_id": g.ID, "previous_expires_at": prev, "expires_at": next}
			if opts.Reason != "" {
				meta["reason"] = opts.Reason
			}
			e, err := w.addEntry(ws, &Entry{Type: EntryAdjustment, Category: CategoryExpirationChange, Amount: 0, Actor: opts.Actor,
				IdempotencyKey: opts.IdempotencyKey, Details: meta})
			if err != nil {
				return nil, err
			}
			g.ExpiresAt = next
			w.markGrant(ws, g)
			w.event(EventGrantUpdated, ws.key, map[string]any{"grant_id": g.ID, "entry_id": e.ID,
				"previous_expires_at": prev, "expires_at": next, "reason": opts.Reason})
			out := g.snapshot(w.now)
			return out, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Grant), nil
}

// activeGrant returns a grant of a locked wallet that may still change:
// not voided, not expired.
func (w *writeState) activeGrant(ctx context.Context, key WalletKey, grantID string) (*walletState, *Grant, error) {
	ws := w.wallet(key)
	g, err := w.grant(ctx, ws, grantID)
	if err != nil {
		return nil, nil, err
	}
	if err := g.checkActive(w.now); err != nil {
		return nil, nil, err
	}
	return ws, g, nil
}

// grantWallet returns a wallets func for a request on one grant: it reads
// the grant to find its wallet and stores the wallet's key in *key.
func grantWallet(grantID string, key *WalletKey) func(context.Context, store.ReadTx) ([]WalletKey, error) {
	return func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error) {
		r, err := tx.Grant(ctx, grantID)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, errorf(CodeNotFound, "grant %q not found", grantID)
		}
		*key = walletKey(r.Customer, r.Currency)
		return []WalletKey{*key}, nil
	}
}
