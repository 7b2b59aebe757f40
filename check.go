package creditkit

import (
	"context"
	"errors"
	"time"

	"github.com/creditkit/creditkit/store"
)

// CanAfford reports whether the customer has the credits an operation costs
// right now.
func (l *Ledger) CanAfford(ctx context.Context, customer, operation string, params Params) (bool, error) {
	c, err := l.Check(ctx, customer, operation, params)
	if err != nil {
		return false, err
	}
	return c.Allowed, nil
}

// Check is the answer to "can this customer afford this operation (or this
// amount) now?", with the numbers an app shows beside it: what is
// available, held and owed, and the customer's plan allowance and what was
// used of it this period.
type Check struct {
	// Allowed is true when the available credits cover the cost, or the
	// wallet's overage limit covers the rest as debt.
	Allowed bool `json:"allowed"`
	// Operation is the operation priced; empty for a check of a raw
	// amount.
	Operation string `json:"operation,omitempty"`
	Currency  string `json:"currency"`
	// Cost is the operation's price (or the raw amount); Available what
	// the wallet can spend now. When not allowed, Cost - Available is
	// missing.
	Cost      Amount `json:"cost"`
	Available Amount `json:"available"`
	// Held is what active holds reserve: not available, not spent yet.
	Held Amount `json:"held"`
	// Debt is what the wallet owes now (Available is already net of it),
	// OverageLimit how far into debt it may go (0: none), and Overage the
	// part of Cost the operation would draw as debt.
	Debt         Amount `json:"debt"`
	OverageLimit Amount `json:"overage_limit"`
	Overage      Amount `json:"overage"`
	// Plan is the customer's subscription in the currency and what was
	// used of it this period; nil when the customer has no subscription
	// in the currency (or it was canceled).
	Plan *CheckPlan `json:"plan,omitempty"`
}

// CheckPlan is the subscription part of a Check: the plan's allowance for
// the current period and what the customer was charged since the period
// began.
type CheckPlan struct {
	// Name is the plan's name.
	Name   string             `json:"name"`
	Status SubscriptionStatus `json:"status" enum:"trialing,active,paused,past_due,canceled"`
	// Allowance is the credits the plan gives every period (during a
	// trial, the trial's credits); Every is the period, as the config
	// writes it ("month", "15 days").
	Allowance Amount `json:"allowance"`
	Every     string `json:"every,omitempty"`
	// Used is what the customer was charged in the currency since
	// PeriodStart: every charge (operation charges, debits, captures),
	// whichever grant or debt paid for it, counted when it occurred, as
	// Usage counts it. Reversals do not lower it.
	Used Amount `json:"used"`
	// PeriodStart and PeriodEnd bound the subscription's current period.
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	// NextRefillAt is when the plan's credits come again (PeriodEnd); nil
	// when no refill is coming (paused, past due, or canceled at the
	// period's end). At or before now it is due, and the scheduler's next
	// RunDue applies it.
	NextRefillAt *time.Time `json:"next_refill_at,omitempty"`
}

// Check prices an operation and compares it with what the customer can spend
// now, moving nothing. It is CanAfford with the numbers.
func (l *Ledger) Check(ctx context.Context, customer, operation string, params Params) (*Check, error) {
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	cost, op, err := l.cfg.Price(operation, params)
	if err != nil {
		return nil, err
	}
	return l.check(ctx, walletKey(customer, op.Currency), op.Name, cost)
}

// CheckAmount is Check for a raw amount of credits instead of a priced
// operation, as Debit and Hold take one: can the customer spend amount
// now? Currency "" is the config's default currency.
func (l *Ledger) CheckAmount(ctx context.Context, customer string, amount Amount, currency string) (*Check, error) {
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	if err := checkPositive("check amount", amount); err != nil {
		return nil, err
	}
	cur, err := l.currency(currency)
	if err != nil {
		return nil, err
	}
	return l.check(ctx, walletKey(customer, cur.Name), "", amount)
}

// check compares a cost with a wallet, in one read.
func (l *Ledger) check(ctx context.Context, key WalletKey, operation string, cost Amount) (*Check, error) {
	st, bal, err := l.readCheck(ctx, key)
	if err != nil {
		return nil, err
	}
	// A customer never seen is met here: with a default plan in the
	// currency, the check creates the customer on it, so the first check
	// already answers with the plan's credits. Without one it answers with
	// the empty wallet, not customer_not_found. Only a wallet without a
	// row can be such a customer: the common check pays nothing more.
	if st.Wallet == nil {
		met, err := l.meetOnDefaultPlan(ctx, key.Customer, key.Currency)
		if err != nil {
			return nil, err
		}
		if met {
			if st, bal, err = l.readCheck(ctx, key); err != nil {
				return nil, err
			}
		}
	}
	c := &Check{Operation: operation, Currency: key.Currency, Cost: cost, Available: bal.Available, Held: bal.Held, Debt: bal.Debt,
		OverageLimit: bal.overageLimit, Plan: l.checkPlan(st.Subscription, st.Charged)}
	// What the grants hold is Available + Debt; the rest of the cost would
	// be debt, allowed while the debt stays within the limit.
	grants := bal.Available + bal.Debt
	c.Overage = max(cost-max(grants, 0), 0)
	c.Allowed = c.Overage == 0 || (c.OverageLimit > 0 && bal.Debt+c.Overage <= c.OverageLimit)
	return c, nil
}

// readCheck reads a wallet's balance now, its subscription and what was
// charged in the subscription's current period, in one snapshot: one
// pipelined round trip on a store.CheckReader, else one read transaction.
// Only the fallback fills in the state's grants and holds when needed.
func (l *Ledger) readCheck(ctx context.Context, key WalletKey) (*store.CheckState, *Balance, error) {
	now := l.Now()
	if cr, ok := l.store.(store.CheckReader); ok {
		st, err := cr.CheckState(ctx, key)
		if err != nil {
			return nil, nil, err
		}
		b, err := balanceFrom(st.Grants, st.Holds, key, now, func(string) (*store.Grant, error) { return nil, errNeedsGrant })
		switch {
		case err == nil:
			if st.Wallet != nil {
				b.withDebt(Amount(st.Wallet.OverageLimit), Amount(st.Wallet.Debt))
			}
			return st, b, nil
		case !errors.Is(err, errNeedsGrant):
			return nil, nil, err
		}
		// A lapsed hold gives back to a grant it emptied: rare; read
		// everything in one transaction instead.
	}
	st := &store.CheckState{}
	var b *Balance
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		var err error
		if st.Wallet, err = tx.Wallet(ctx, key); err != nil {
			return err
		}
		if b, err = currentBalance(ctx, tx, key, now); err != nil {
			return err
		}
		if st.Wallet != nil {
			b.withDebt(Amount(st.Wallet.OverageLimit), Amount(st.Wallet.Debt))
		}
		if st.Subscription, err = tx.Subscription(ctx, key.Customer, key.Currency); err != nil || st.Subscription == nil {
			return err
		}
		st.Charged, err = sumCharges(ctx, tx, key, st.Subscription.PeriodStart)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return st, b, nil
}

// sumCharges returns what a wallet was charged since a time, as Usage
// counts it: in one query on a store.ChargeSummer, else a page of entries
// at a time.
func sumCharges(ctx context.Context, tx store.ReadTx, key WalletKey, since time.Time) (int64, error) {
	if cs, ok := tx.(store.ChargeSummer); ok {
		return cs.SumCharges(ctx, key, since)
	}
	var sum int64
	q := store.EntryQuery{Customer: key.Customer, Currency: key.Currency, Type: string(EntryCharge), Since: since, ByOccurredAt: true, Limit: usagePage}
	for {
		rows, err := tx.Entries(ctx, q)
		if err != nil {
			return 0, err
		}
		for _, r := range rows {
			if isUsage(r) {
				sum -= r.Amount
			}
		}
		if len(rows) < q.Limit {
			return sum, nil
		}
		q.AfterSeq = rows[len(rows)-1].Seq
	}
}

// checkPlan describes a subscription for a check; nil without one (or
// for a canceled one).
func (l *Ledger) checkPlan(sub *store.Subscription, charged int64) *CheckPlan {
	if sub == nil || SubscriptionStatus(sub.Status) == SubscriptionCanceled {
		return nil
	}
	cp := &CheckPlan{Name: sub.Plan, Status: SubscriptionStatus(sub.Status), Used: Amount(charged),
		PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd}
	if p, err := l.subscriptionPlan(sub.Plan); err == nil {
		// A plan since removed from the config has no allowance to show.
		cp.Allowance, cp.Every = p.Gives, p.Every.String()
		if cp.Status == SubscriptionTrialing {
			cp.Allowance = p.TrialIncludes
		}
	}
	cp.NextRefillAt = nextRefill(cp.Status, sub.CancelAt, sub.PeriodEnd)
	return cp
}

// NextRefill returns when the subscription refills next: the end of its
// period, unless no refill is coming (paused, past due, canceled, or
// canceled at the period's end).
func (s *Subscription) NextRefill() *time.Time {
	return nextRefill(s.Status, s.CancelAt, s.PeriodEnd)
}

func nextRefill(status SubscriptionStatus, cancelAt *time.Time, periodEnd time.Time) *time.Time {
	refills := status == SubscriptionActive || status == SubscriptionTrialing
	if !refills || (cancelAt != nil && !cancelAt.After(periodEnd)) {
		return nil
	}
	return &periodEnd
}
