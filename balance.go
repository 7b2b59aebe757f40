package creditkit

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

// Balance returns what a customer has in one currency. It is exact in real
// time: expired and not-yet-effective grants never count and expired holds
// count as released, whether or not RunDue has run. An unknown customer has
// an empty balance. With opts.At in the past the balance is rebuilt from the
// ledger as it was then; in the future it is projected from today's grants
// and holds (scheduled grants start, grants expire, holds lapse).
func (l *Ledger) Balance(ctx context.Context, customer string, opts *BalanceOpts) (*Balance, error) {
	if opts == nil {
		opts = &BalanceOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	cur, err := l.currency(opts.Currency)
	if err != nil {
		return nil, err
	}
	now := l.Now()
	at := now
	if !opts.At.IsZero() {
		at = opts.At.UTC()
	}
	key := walletKey(customer, cur.Name)
	var b *Balance
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		if at.Before(now) {
			b, err = pastBalance(ctx, tx, key, at)
		} else {
			b, err = currentBalance(ctx, tx, key, at)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Balances returns the customer's balance in every configured currency.
func (l *Ledger) Balances(ctx context.Context, customer string) ([]*Balance, error) {
	out := make([]*Balance, 0, len(l.cfg.currencies()))
	for _, c := range l.cfg.currencies() {
		b, err := l.Balance(ctx, customer, &BalanceOpts{Currency: c.Name})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// currentBalance computes a balance at now or later from the live grants and
// active holds: a hold that lapses by then gives its credits back.
func currentBalance(ctx context.Context, tx store.ReadTx, key WalletKey, at time.Time) (*Balance, error) {
	grantRows, err := tx.LiveGrants(ctx, []WalletKey{key})
	if err != nil {
		return nil, err
	}
	holdRows, err := tx.ActiveHolds(ctx, []WalletKey{key})
	if err != nil {
		return nil, err
	}
	grants := make(map[string]*Grant, len(grantRows))
	for _, r := range grantRows {
		g, err := grantFromRow(r)
		if err != nil {
			return nil, err
		}
		grants[g.ID] = g
	}
	b := &Balance{Customer: key.Customer, Currency: key.Currency, At: at}
	var returned []Allocation
	for _, r := range holdRows {
		h, err := holdFromRow(r)
		if err != nil {
			return nil, err
		}
		if h.activeAt(at) {
			b.Held += h.Amount
		} else {
			returned = append(returned, h.Allocations...)
		}
	}
	if len(returned) > 0 {
		// Lapsed holds give back to grants that may be depleted (not live).
		for _, a := range returned {
			g, ok := grants[a.GrantID]
			if !ok {
				r, err := tx.Grant(ctx, a.GrantID)
				if err != nil {
					return nil, err
				}
				if r == nil || r.VoidedAt != nil || r.ExpiredAt != nil {
					continue
				}
				if g, err = grantFromRow(r); err != nil {
					return nil, err
				}
				grants[g.ID] = g
			}
			g.Remaining += a.Amount
		}
	}
	for _, g := range grants {
		switch {
		case g.VoidedAt != nil || g.ExpiredAt != nil:
		case g.ExpiresAt != nil && !at.Before(*g.ExpiresAt):
		case at.Before(g.EffectiveAt):
			b.Scheduled += g.Remaining
		default:
			b.Available += g.Remaining
		}
	}
	return b, nil
}

// pastBalance rebuilds a balance at a past instant from the ledger: the sum
// of entries up to then, less what holds reserved then and less grants that
// had expired by then but whose expiration entry was not written yet.
func pastBalance(ctx context.Context, tx store.ReadTx, key WalletKey, at time.Time) (*Balance, error) {
	sum, err := tx.SumEntries(ctx, key, at)
	if err != nil {
		return nil, err
	}
	b := &Balance{Customer: key.Customer, Currency: key.Currency, At: at}
	holds, err := tx.HoldsAt(ctx, key, at)
	if err != nil {
		return nil, err
	}
	for _, h := range holds {
		b.Held += Amount(h.Amount)
	}
	grants, err := tx.LiveGrants(ctx, []WalletKey{key})
	if err != nil {
		return nil, err
	}
	var unswept Amount
	for _, g := range grants {
		if g.ExpiresAt != nil && !at.Before(*g.ExpiresAt) {
			unswept += Amount(g.Remaining)
		}
	}
	b.Available = Amount(sum) - b.Held - unswept
	return b, nil
}
