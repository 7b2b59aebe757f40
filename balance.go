package creditkit

import (
	"context"
	"errors"
	"time"

	"github.com/creditkit/creditkit/store"
)

// Balance returns what a customer has in one currency. It is exact in real
// time: expired and not-yet-effective grants never count and expired holds
// count as released, whether or not RunDue has run. A customer never seen
// (no write named it, CreateCustomer did not create it) is
// customer_not_found. With opts.At in the past the balance is rebuilt from the
// ledger as it was then; in the future it is projected from today's grants
// and holds (scheduled grants start, grants expire, holds lapse).
func (l *Ledger) Balance(ctx context.Context, customer string, opts *BalanceOpts) (*Balance, error) {
	return l.balance(ctx, customer, opts, true)
}

// balance is Balance; with mustExist, an empty balance of a customer never
// seen is customer_not_found instead (Check answers a new customer's empty
// wallet).
func (l *Ledger) balance(ctx context.Context, customer string, opts *BalanceOpts, mustExist bool) (*Balance, error) {
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
	if !at.Before(now) {
		if sr, ok := l.store.(store.WalletStateReader); ok {
			wallets, grants, holds, err := sr.WalletState(ctx, []WalletKey{key})
			if err != nil {
				return nil, err
			}
			b, err := balanceFrom(grants, holds, key, at, func(string) (*store.Grant, error) { return nil, errNeedsGrant })
			if err == nil && len(wallets) == 1 {
				// Debt comes from the same snapshot as the grants, so
				// available never mixes two moments.
				b.withDebt(Amount(wallets[0].OverageLimit), Amount(wallets[0].Debt))
			}
			switch {
			case err == nil && mustExist && b.empty():
				// An empty wallet, or a customer never seen: the read
				// below tells which.
			case !errors.Is(err, errNeedsGrant):
				return b, err
			}
			// A lapsed hold gives back to a grant it emptied: rare; read
			// everything in one transaction instead.
		}
	}
	var b *Balance
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		if at.Before(now) {
			b, err = pastBalance(ctx, tx, key, at)
		} else if b, err = currentBalance(ctx, tx, key, at); err == nil {
			var row *store.Wallet
			if row, err = tx.Wallet(ctx, key); err == nil && row != nil {
				b.withDebt(Amount(row.OverageLimit), Amount(row.Debt))
			}
		}
		if err == nil && mustExist && b.empty() {
			return requireCustomer(ctx, tx, customer)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// errNeedsGrant says a balance needs a grant outside the live set.
var errNeedsGrant = errors.New("balance needs a grant that is not live")

// balanceFrom computes a balance at now or later from a wallet's live
// grants and active holds. A hold that lapses by then gives its credits
// back to its grants; one of those that is no longer live (the hold emptied
// it) is read with lookup, which may answer errNeedsGrant.
func balanceFrom(grantRows []*store.Grant, holdRows []*store.Hold, key WalletKey, at time.Time, lookup func(id string) (*store.Grant, error)) (*Balance, error) {
	grants := make(map[string]*Grant, len(grantRows))
	for _, r := range grantRows {
		g, err := grantFromRow(r)
		if err != nil {
			return nil, err
		}
		grants[g.ID] = g
	}
	b := &Balance{Customer: key.Customer, Currency: key.Currency, At: at}
	for _, r := range holdRows {
		h, err := holdFromRow(r)
		if err != nil {
			return nil, err
		}
		if h.activeAt(at) {
			b.Held += h.Amount
			continue
		}
		// A lapsed hold's debt part is owed no more.
		b.releasedDebt += h.Debt
		for _, a := range h.Allocations {
			g, ok := grants[a.GrantID]
			if !ok {
				r, err := lookup(a.GrantID)
				if err != nil {
					return nil, err
				}
				if r == nil {
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
	addGrantCredits(b, grants, at)
	return b, nil
}

// addGrantCredits adds up what the grants hold at instant at.
func addGrantCredits(b *Balance, grants map[string]*Grant, at time.Time) {
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

// currentBalance computes a balance at now or later in a read transaction.
func currentBalance(ctx context.Context, tx store.ReadTx, key WalletKey, at time.Time) (*Balance, error) {
	grantRows, err := tx.LiveGrants(ctx, []WalletKey{key})
	if err != nil {
		return nil, err
	}
	holdRows, err := tx.ActiveHolds(ctx, []WalletKey{key})
	if err != nil {
		return nil, err
	}
	return balanceFrom(grantRows, holdRows, key, at, func(id string) (*store.Grant, error) { return tx.Grant(ctx, id) })
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
	if b.Available < 0 {
		// Only debt takes the ledger below zero. The past debt is not
		// kept per instant: a negative balance is read as debt, which is
		// exact while the debt's grants were empty (new grants repay
		// debt first).
		b.Debt = -b.Available
	}
	return b, nil
}

// withDebt nets a wallet's debt out of what its grants hold: Available
// becomes negative only by the debt.
func (b *Balance) withDebt(limit, debt Amount) {
	b.overageLimit = limit
	b.Debt = max(debt-b.releasedDebt, 0)
	b.Available -= b.Debt
}
