package creditkit

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/creditkit/creditkit/store"
)

// This file is the refill: at the end of each period an active
// subscription gets its plan's credits again. A refill is one write on the
// one write path: under the wallet's lock it re-reads the subscription,
// checks that the period is still due (so that two processes never refill
// one period twice: the second finds the period advanced), applies the
// plan's unused_credits to what is left of the previous periods, writes the
// refill grant and advances the period, all in one transaction.

// refill writes plan p's refill for the period that starts at at (a
// boundary counted from the subscription's anchor) and makes it the
// subscription's current period. The refill expires at the period's end on
// a plan whose unused credits expire; on a rollover plan it does not (the
// next boundary rolls it over, capped as the plan says).
func (w *writeState) refill(ws *walletState, sub *store.Subscription, p *Plan, at time.Time, actor string) error {
	k := p.Every.Index(sub.Anchor, at)
	if k < 0 {
		k = 0
	}
	end := p.Every.Boundary(sub.Anchor, k+1)
	if err := checkInstant("next refill", end); err != nil {
		return err
	}
	// The plan's overage applies to the wallet from its first period on;
	// debt left at a billing period's end is settled at its overage price
	// before the new period's credits arrive.
	w.setOverageLimit(ws, p.Overage)
	if ws.row.Debt > 0 && isBillingBoundary(p, sub.Anchor, at) && at.After(sub.Anchor) {
		if _, err := w.settleDebt(ws, &SettleOpts{At: at, OveragePrice: p.OveragePrice, Actor: actor}); err != nil {
			return err
		}
	}
	if p.Gives > 0 {
		var exp *time.Time
		if p.UnusedCredits != unusedRollover {
			exp = &end
		}
		if err := w.subscriptionGrant(ws, sub, p.Gives, SourceSubscription, CategorySubscription, at, exp, w.l.cfg.RefillCostBasis(p), actor); err != nil {
			return err
		}
	}
	sub.PeriodStart, sub.PeriodEnd = at, end
	return nil
}

// isBillingBoundary reports whether at ends a billing period of plan p
// counted from anchor: a boundary of its price's interval, or of its
// refill period when it has no price.
func isBillingBoundary(p *Plan, anchor, at time.Time) bool {
	every := p.Every
	if p.Price != nil {
		every = p.Price.Every
	}
	n := every.Index(anchor, at)
	return n > 0 && every.Boundary(anchor, n).Equal(at)
}

// setOverageLimit makes a wallet's overage limit limit.
func (w *writeState) setOverageLimit(ws *walletState, limit Amount) {
	if ws.row.OverageLimit != int64(limit) {
		w.muts++
		ws.row.OverageLimit = int64(limit)
		ws.rowDirty = true
	}
}

// subscriptionGrant writes one grant of a subscription, effective at at:
// a refill, a signup bonus or a trial's credits. Its metadata names the
// subscription and the plan.
func (w *writeState) subscriptionGrant(ws *walletState, sub *store.Subscription, amount Amount, source Source, reason string,
	at time.Time, exp *time.Time, basis *CostBasis, actor string) error {
	if exp != nil && !exp.After(at) {
		return errorf(CodeInvalidRequest, "%s credits would expire at %s, not after they take effect at %s", reason, fmtTime(*exp), fmtTime(at))
	}
	if actor == "" {
		actor = "system"
	}
	meta := map[string]string{subscriptionMeta: sub.ID, "plan": sub.Plan}
	g := &Grant{
		ID: w.l.ids.New("grt"), Customer: ws.key.Customer, Currency: ws.key.Currency, Amount: amount, Remaining: amount,
		Reason: reason, Source: source, Priority: source.DefaultPriority(), CreatedAt: w.now, EffectiveAt: at,
		ExpiresAt: exp, CostBasis: basis, Metadata: meta,
	}
	details := map[string]any{"grant_id": g.ID, "source": string(source), subscriptionMeta: sub.ID, "plan": sub.Plan}
	if exp != nil {
		details["expires_at"] = *exp
	}
	e, err := w.addEntry(ws, &Entry{Type: EntryGrant, Category: reason, Amount: amount, At: at, Actor: actor,
		Details: details, Metadata: maps.Clone(meta), Allocations: []Allocation{{GrantID: g.ID, Amount: amount}}})
	if err != nil {
		return err
	}
	w.addGrant(ws, g)
	if err := w.noteRefill(ws, g); err != nil {
		return err
	}
	w.refreshAvailable(ws, e)
	w.event(EventCreditsGranted, ws.key, map[string]any{"grant_id": g.ID, "entry_id": e.ID, "amount": amount, "reason": reason,
		"source": string(source), "effective_at": at, "expires_at": exp, subscriptionMeta: sub.ID, "plan": sub.Plan})
	return nil
}

// lineage returns the subscription's grants that still hold credits: its
// refills (and proration grants), which the plan's unused_credits and a
// cancellation's expire_after apply to.
func (w *writeState) lineage(ws *walletState, sub *store.Subscription) []*Grant {
	var out []*Grant
	for _, g := range ws.grants {
		if (g.Source == SourceSubscription || g.Source == SourceRollover) && g.Metadata[subscriptionMeta] == sub.ID &&
			g.Remaining > 0 && g.ExpiredAt == nil && g.VoidedAt == nil {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *Grant) int {
		if burnsBefore(a, b) {
			return -1
		}
		return 1
	})
	return out
}

// applyUnused applies plan p's unused_credits at instant at to the
// subscription's credits that took effect by then. expire: they expire at
// at (or at their own earlier expiry), with an expiration entry each.
// rollover: they stay where they are, in their own grants (so they keep
// their cost basis and burn first, being the oldest of their priority);
// with a cap, the part over the cap expires at at, oldest credits first,
// with one expiration entry whose reason is rollover_cap. The entries name
// actor: the caller whose write applied the plan (a plan change, a
// resume), or the system ("") at a period end.
func (w *writeState) applyUnused(ws *walletState, sub *store.Subscription, p *Plan, at time.Time, actor string) error {
	var gs []*Grant
	for _, g := range w.lineage(ws, sub) {
		if !g.EffectiveAt.After(at) {
			gs = append(gs, g)
		}
	}
	if p.UnusedCredits != unusedRollover {
		for _, g := range gs {
			if g.ExpiresAt == nil || g.ExpiresAt.After(at) {
				t := at
				g.ExpiresAt = &t
			}
			if err := w.expireGrant(ws, g, actor); err != nil {
				return err
			}
		}
		return nil
	}
	if p.RolloverCap <= 0 {
		return nil
	}
	var total Amount
	for _, g := range gs {
		total += g.Remaining
	}
	excess := total - p.RolloverCap
	if excess <= 0 {
		return nil
	}
	var allocs []Allocation
	left := excess
	for _, g := range gs {
		if left == 0 {
			break
		}
		take := min(left, g.Remaining)
		left -= take
		g.Remaining -= take
		if g.Remaining == 0 {
			t := at
			g.ExpiredAt = &t
		}
		w.markGrant(ws, g)
		allocs = append(allocs, Allocation{GrantID: g.ID, Amount: take})
	}
	if actor == "" {
		actor = "system"
	}
	e, err := w.addEntry(ws, &Entry{Type: EntryExpiration, Category: CategoryExpiration, Amount: -excess, At: at, Actor: actor,
		Details: map[string]any{"reason": "rollover_cap", subscriptionMeta: sub.ID, "plan": p.Name, "rollover_cap": p.RolloverCap,
			"carried": p.RolloverCap, "expired_at": at},
		Allocations: allocs})
	if err != nil {
		return err
	}
	for _, a := range allocs {
		w.event(EventGrantExpired, ws.key, map[string]any{"grant_id": a.GrantID, "amount": a.Amount, "expired_at": at,
			"reason": "rollover_cap", "entry_id": e.ID})
	}
	return nil
}

// advanceSubscription applies every period end of the subscription that
// is due at the write's now, in order, each stamped with its own boundary:
// a cancellation at period end, a trial's conversion, a scheduled
// downgrade, and the refills (each missed period once with catch_up: all;
// only the latest with catch_up: latest). It returns the number of
// refills written. The caller saves the subscription.
func (w *writeState) advanceSubscription(ctx context.Context, ws *walletState, sub *store.Subscription, actor string) (int, error) {
	n := 0
	for sub.Status == string(SubscriptionActive) || sub.Status == string(SubscriptionTrialing) || sub.Status == string(SubscriptionPastDue) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		boundary := sub.PeriodEnd
		if boundary.After(w.now) {
			break
		}
		// A past_due subscription refills only the period ends within its
		// grace (PausedAt holds the grace's end).
		// A cancellation at that period end takes effect all the same, at
		// its date.
		if sub.Status == string(SubscriptionPastDue) && (sub.PausedAt == nil || !boundary.Before(*sub.PausedAt)) {
			if sub.CancelAt != nil && !sub.CancelAt.After(boundary) {
				p, err := w.l.subscriptionPlan(sub.Plan)
				if err != nil {
					return n, err
				}
				if err := w.cancelSubscription(ws, sub, p, *sub.CancelAt); err != nil {
					return n, err
				}
			}
			break
		}
		p, err := w.l.subscriptionPlan(sub.Plan)
		if err != nil {
			return n, err
		}
		switch {
		case sub.CancelAt != nil && !sub.CancelAt.After(boundary):
			if err := w.cancelSubscription(ws, sub, p, *sub.CancelAt); err != nil {
				return n, err
			}
		case sub.Status == string(SubscriptionTrialing):
			// The trial converts: its credits expire at its end (they
			// were the trial's allowance), and the first paid period
			// starts there with the plan's full allowance.
			sub.Status = string(SubscriptionActive)
			sub.Anchor = boundary
			if err := w.refill(ws, sub, p, boundary, actor); err != nil {
				return n, err
			}
			n++
			w.event(EventSubscriptionUpdated, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "change": "trial_converted",
				"effective_at": boundary})
		case sub.ScheduledPlan != "":
			np, err := w.l.subscriptionPlan(sub.ScheduledPlan)
			if err != nil {
				return n, err
			}
			if err := w.applyUnused(ws, sub, p, boundary, actor); err != nil {
				return n, err
			}
			from := sub.Plan
			sub.Plan, sub.ScheduledPlan = np.Name, ""
			sub.Anchor = boundary
			if err := w.signupBonus(ws, sub, np, boundary, actor); err != nil {
				return n, err
			}
			if err := w.refill(ws, sub, np, boundary, actor); err != nil {
				return n, err
			}
			n++
			w.event(EventSubscriptionUpdated, ws.key, map[string]any{"subscription_id": sub.ID, "from": from, "to": np.Name, "plan": np.Name,
				"change": "downgrade", "effective_at": boundary})
		default:
			at := boundary
			if p.CatchUp == CatchUpLatest {
				if latest := p.Every.Boundary(sub.Anchor, p.Every.Index(sub.Anchor, w.now)); latest.After(at) {
					at = latest
				}
			}
			if err := w.applyUnused(ws, sub, p, at, actor); err != nil {
				return n, err
			}
			if err := w.refill(ws, sub, p, at, actor); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// refillDue applies the period ends of every subscription that fell due,
// one write per subscription. A subscription another process brought up to
// date first is simply no longer due when its write re-reads it. A
// subscription that cannot refill (its plan left the config) is logged and
// skipped; the first such error is returned after the others ran.
func (l *Ledger) refillDue(ctx context.Context) (int, error) {
	total := 0
	var firstErr error
	failed := map[WalletKey]bool{}
	for {
		now := l.Now()
		var due []*store.Subscription
		limit := dueBatch + len(failed)
		err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
			var err error
			due, err = tx.DueSubscriptions(ctx, now, limit)
			return err
		})
		if err != nil {
			return total, err
		}
		progress := 0
		for _, s := range due {
			key := walletKey(s.Customer, s.Currency)
			if failed[key] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
			got := 0
			req := &writeReq{
				kind:    "refill",
				route:   s.Customer,
				wallets: staticWallets(key),
				apply: func(ctx context.Context, w *writeState) (any, error) {
					row, err := w.subscription(ctx, key)
					if err != nil || row == nil {
						return nil, err
					}
					sub := *row
					ws := w.wallet(key)
					n, err := w.advanceSubscription(ctx, ws, &sub, "scheduler")
					if err != nil {
						return nil, err
					}
					if sub != *row {
						w.saveSubscription(&sub)
					}
					got = n
					return nil, nil
				},
			}
			if _, err := l.exec(ctx, req); err != nil {
				if ctx.Err() != nil || errors.Is(err, ErrClosed) {
					return total, err
				}
				l.logger.Error("subscription refill failed; skipping it in this run", "customer", s.Customer, "currency", s.Currency, "err", err)
				failed[key] = true
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			total += got
			progress++
			if s.Status == string(SubscriptionPastDue) {
				// A past_due subscription past its grace stays due
				// until it is paid: look at it once per run.
				failed[key] = true
			}
		}
		if len(due) < limit || progress == 0 {
			return total, firstErr
		}
	}
}
