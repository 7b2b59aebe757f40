package creditkit

import (
	"context"
	"fmt"
	"time"
)

// SpendOpts are options for Spend and SpendOn. Nil means defaults.
type SpendOpts struct {
	// Metadata is recorded on the entry under "metadata".
	Metadata map[string]string
	// IdempotencyKey makes the spend safe to retry: a replay returns the
	// first entry and moves no credit.
	IdempotencyKey string
	// Actor names who asked, for the audit trail.
	Actor string
	// HoldTTL bounds how long SpendOn reserves the credits while its
	// function runs. Defaults to 10 minutes.
	HoldTTL time.Duration
}

// DebitOpts are options for Debit. Nil means defaults.
type DebitOpts struct {
	// Reason is the ledger category. Defaults to "debit".
	Reason string
	// Currency defaults to the config's default currency.
	Currency       string
	Metadata       map[string]string
	IdempotencyKey string
	Actor          string
}

// Estimate prices an operation without touching any wallet.
func (l *Ledger) Estimate(ctx context.Context, operation string, params Params) (Amount, error) {
	cost, _, err := l.cfg.Price(operation, params)
	return cost, err
}

// CanAfford reports whether the customer has the credits an operation costs
// right now.
func (l *Ledger) CanAfford(ctx context.Context, customer, operation string, params Params) (bool, error) {
	c, err := l.Check(ctx, customer, operation, params)
	if err != nil {
		return false, err
	}
	return c.Allowed, nil
}

// Spend charges a customer for an operation: it prices the operation, draws
// the cost from the customer's grants in burn-down order, and writes one
// operation_charge entry whose metadata records the operation, cost, params,
// the caller's metadata and executed_at.
func (l *Ledger) Spend(ctx context.Context, customer, operation string, params Params, opts *SpendOpts) (*Entry, error) {
	if opts == nil {
		opts = &SpendOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	cost, op, err := l.cfg.Price(operation, params)
	if err != nil {
		return nil, err
	}
	if err := checkMetadata(opts.Metadata); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	key := walletKey(customer, op.Currency)
	return l.charge(ctx, &chargeReq{
		kind: "spend", key: key, amount: cost, category: CategoryOperationCharge, idemKey: opts.IdempotencyKey,
		actor: opts.Actor, operation: op, params: params, metadata: opts.Metadata,
	})
}

// Debit removes a raw amount of credits from a customer, with a reason
// (the ledger category, "debit" by default).
func (l *Ledger) Debit(ctx context.Context, customer string, amount Amount, opts *DebitOpts) (*Entry, error) {
	if opts == nil {
		opts = &DebitOpts{}
	}
	cur, reason, err := rawMovement{what: "debit", customer: customer, amount: amount, currency: opts.Currency, reason: opts.Reason,
		defaultReason: CategoryDebit, metadata: opts.Metadata, idemKey: opts.IdempotencyKey}.check(l)
	if err != nil {
		return nil, err
	}
	return l.charge(ctx, &chargeReq{
		kind: "debit", key: walletKey(customer, cur.Name), amount: amount, category: reason,
		idemKey: opts.IdempotencyKey, actor: opts.Actor, metadata: opts.Metadata,
	})
}

// chargeReq is a validated spend or debit.
type chargeReq struct {
	kind      string
	key       WalletKey
	amount    Amount
	category  string
	idemKey   string
	actor     string
	operation *Operation // nil for a raw debit
	params    Params
	metadata  map[string]string
}

func (c *chargeReq) entryMetadata(now time.Time) map[string]any {
	meta := map[string]any{"executed_at": now}
	if c.operation != nil {
		meta["operation"] = c.operation.Name
		meta["cost"] = c.amount
		meta["params"] = orEmpty(c.params)
		if len(c.operation.Meta) > 0 {
			meta["operation_meta"] = c.operation.Meta
		}
	}
	if len(c.metadata) > 0 {
		meta["metadata"] = c.metadata
	}
	return meta
}

// charge draws a priced or raw amount from a wallet in one entry.
func (l *Ledger) charge(ctx context.Context, c *chargeReq) (*Entry, error) {
	opName := ""
	if c.operation != nil {
		opName = c.operation.Name
	}
	req := &writeReq{
		kind:        c.kind,
		route:       c.key.Customer,
		idemKey:     c.idemKey,
		fingerprint: fingerprint(c.kind, []any{c.key, opName, c.params, c.amount, c.category, c.metadata}),
		wallets:     staticWallets(c.key),
		decode:      decodeAs[Entry](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(c.key)
			allocs, err := w.plan(ws, c.amount)
			if err != nil {
				return nil, err
			}
			w.draw(ws, allocs)
			e, err := w.addEntry(ws, &Entry{Category: c.category, Amount: -c.amount, Actor: c.actor,
				IdempotencyKey: c.idemKey, Metadata: c.entryMetadata(w.now), Allocations: allocs})
			if err != nil {
				return nil, err
			}
			w.event(EventCreditsSpent, c.key, map[string]any{"entry_id": e.ID, "operation": opName, "category": c.category,
				"amount": c.amount, "available": w.available(ws)})
			return e, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Entry), nil
}

// SpendOn reserves an operation's cost, runs fn with no database lock held,
// and charges the reserved credits only if fn succeeds. If fn returns an
// error or panics, the credits are released and nothing is spent (a panic
// is re-raised after the release).
func (l *Ledger) SpendOn(ctx context.Context, customer, operation string, params Params, fn func(ctx context.Context) error, opts *SpendOpts) (entry *Entry, err error) {
	if opts == nil {
		opts = &SpendOpts{}
	}
	if opts.IdempotencyKey != "" {
		// A replay of a spend that already happened returns its entry
		// without running fn again.
		if e, ok, err := l.replayedEntry(ctx, opts.IdempotencyKey); err != nil || ok {
			return e, err
		}
	}
	holdKey := ""
	if opts.IdempotencyKey != "" {
		holdKey = opts.IdempotencyKey + ":hold"
	}
	h, err := l.Hold(ctx, customer, operation, params, &HoldOpts{TTL: opts.HoldTTL, Metadata: opts.Metadata, IdempotencyKey: holdKey, Actor: opts.Actor})
	if err != nil {
		return nil, err
	}
	released := false
	defer func() {
		if p := recover(); p != nil {
			if !released {
				if rerr := l.releaseQuietly(h.ID); rerr != nil {
					l.logger.Error("release hold after panic", "hold", h.ID, "err", rerr)
				}
			}
			panic(p)
		}
	}()
	if ferr := fn(ctx); ferr != nil {
		released = true
		if rerr := l.releaseQuietly(h.ID); rerr != nil {
			return nil, fmt.Errorf("%w (and releasing hold %s failed: %v)", ferr, h.ID, rerr)
		}
		return nil, ferr
	}
	released = true
	return l.Capture(ctx, h.ID, nil, &CaptureOpts{IdempotencyKey: opts.IdempotencyKey, Actor: opts.Actor})
}

// releaseQuietly releases a hold even when the caller's context is done.
func (l *Ledger) releaseQuietly(holdID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := l.Release(ctx, holdID, nil)
	return err
}

// Check is the answer to "can this customer afford this operation now?".
type Check struct {
	// Allowed is true when the available credits cover the cost.
	Allowed   bool   `json:"allowed"`
	Operation string `json:"operation"`
	Currency  string `json:"currency"`
	// Cost is the operation's price; Available what the wallet can spend
	// now. When not allowed, Cost - Available is missing.
	Cost      Amount `json:"cost"`
	Available Amount `json:"available"`
}

// Check prices an operation and compares it with what the customer can spend
// now, moving nothing. It is CanAfford with the numbers.
func (l *Ledger) Check(ctx context.Context, customer, operation string, params Params) (*Check, error) {
	cost, op, err := l.cfg.Price(operation, params)
	if err != nil {
		return nil, err
	}
	bal, err := l.Balance(ctx, customer, &BalanceOpts{Currency: op.Currency})
	if err != nil {
		return nil, err
	}
	return &Check{Allowed: bal.Available >= cost, Operation: op.Name, Currency: op.Currency, Cost: cost, Available: bal.Available}, nil
}
