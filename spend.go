package creditkit

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// SpendOpts are options for Spend and SpendOn. Nil means defaults.
type SpendOpts struct {
	// Metadata is the entry's metadata, as given.
	Metadata map[string]string
	// Description is free text for the entry. At most 500 characters.
	// SpendOn ignores it.
	Description string
	// OccurredAt is when the usage happened, if not now (a usage event's
	// timestamp). It is recorded as the entry's OccurredAt, and Usage sums
	// by it; the entry's At stays the write time. It must lie within the
	// ledger's UsageWindow (by default at most 5 minutes ahead and 35 days
	// back). Zero means now. SpendOn ignores it.
	OccurredAt time.Time
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
	// Reason is the ledger category, which Usage groups raw debits by.
	// Defaults to "debit".
	Reason string
	// Currency defaults to the config's default currency.
	Currency string
	// Metadata is the entry's metadata, as given.
	Metadata map[string]string
	// Description is free text for the entry. At most 500 characters.
	Description string
	// OccurredAt is when the usage happened, as in SpendOpts. Zero means now.
	OccurredAt     time.Time
	IdempotencyKey string
	Actor          string
}

// Estimate prices an operation without touching any wallet.
func (l *Ledger) Estimate(ctx context.Context, operation string, params Params) (Amount, error) {
	cost, _, err := l.cfg.Price(operation, params)
	return cost, err
}

// Spend charges a customer for an operation: it prices the operation, draws
// the cost from the customer's grants in burn-down order, and writes one
// charge entry (category operation_charge) that names the operation and
// records its cost and params in Details and the caller's metadata as its
// Metadata.
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
	if err := checkDescription(opts.Description); err != nil {
		return nil, err
	}
	if err := l.checkOccurredAt(opts.OccurredAt); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	key := walletKey(customer, op.Currency)
	return l.charge(ctx, &chargeReq{
		kind: "spend", key: key, amount: cost, category: CategoryOperationCharge, idemKey: opts.IdempotencyKey,
		actor: opts.Actor, operation: op, params: params, metadata: opts.Metadata, description: opts.Description,
		occurredAt: opts.OccurredAt,
	})
}

// Debit removes a raw amount of credits from a customer, with a reason
// (the ledger category, "debit" by default). It is a charge: Usage counts
// it, grouped under its reason.
func (l *Ledger) Debit(ctx context.Context, customer string, amount Amount, opts *DebitOpts) (*Entry, error) {
	if opts == nil {
		opts = &DebitOpts{}
	}
	cur, reason, err := rawMovement{what: "debit", customer: customer, amount: amount, currency: opts.Currency, reason: opts.Reason,
		defaultReason: CategoryDebit, metadata: opts.Metadata, idemKey: opts.IdempotencyKey}.check(l)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(opts.Description); err != nil {
		return nil, err
	}
	if err := l.checkOccurredAt(opts.OccurredAt); err != nil {
		return nil, err
	}
	return l.charge(ctx, &chargeReq{
		kind: "debit", key: walletKey(customer, cur.Name), amount: amount, category: reason,
		idemKey: opts.IdempotencyKey, actor: opts.Actor, metadata: opts.Metadata, description: opts.Description,
		occurredAt: opts.OccurredAt,
	})
}

// captureCategory is the category of a hold's charge: operation_charge,
// or "debit" (the documented default reason of raw charges) for a hold
// placed for a raw amount without an operation name.
func captureCategory(operation string) string {
	if operation == "" {
		return CategoryDebit
	}
	return CategoryOperationCharge
}

// chargeReq is a validated spend or debit.
type chargeReq struct {
	kind        string
	key         WalletKey
	amount      Amount
	category    string
	idemKey     string
	actor       string
	operation   *Operation // nil for a raw debit
	params      Params
	metadata    map[string]string
	description string
	occurredAt  time.Time // zero: now
}

// details are the library's own facts about a charge, kept apart from the
// caller's metadata so that neither can shadow the other.
func (c *chargeReq) details() map[string]any {
	d := map[string]any{}
	if c.operation != nil {
		d["cost"] = c.amount
		d["params"] = orEmpty(c.params)
		if len(c.operation.Meta) > 0 {
			d["operation_meta"] = c.operation.Meta
		}
	}
	return d
}

// charge draws a priced or raw amount from a wallet in one entry.
func (l *Ledger) charge(ctx context.Context, c *chargeReq) (*Entry, error) {
	opName := ""
	if c.operation != nil {
		opName = c.operation.Name
	}
	fp := []any{c.key, opName, c.params, c.amount, c.category, c.metadata}
	if !c.occurredAt.IsZero() {
		fp = append(fp, c.occurredAt.UTC())
	}
	req := &writeReq{
		kind:        c.kind,
		route:       c.key.Customer,
		idemKey:     c.idemKey,
		fingerprint: fingerprint(c.kind, withText(fp, c.description)),
		wallets:     staticWallets(c.key),
		decode:      decodeAs[Entry](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(c.key)
			allocs, debt, err := w.planCharge(ws, c.amount)
			if err != nil {
				return nil, err
			}
			w.draw(ws, allocs)
			w.drawDebt(ws, debt)
			details := c.details()
			if debt > 0 {
				// The part no grant covered: allocations name only grants.
				details["debt"] = debt
			}
			e, err := w.addEntry(ws, &Entry{Type: EntryCharge, Category: c.category, Operation: opName, Description: c.description,
				Amount: -c.amount, Actor: c.actor, IdempotencyKey: c.idemKey, Details: details, Metadata: maps.Clone(c.metadata),
				Allocations: allocs, OccurredAt: c.occurredAt.UTC()})
			if err != nil {
				return nil, err
			}
			data := map[string]any{"entry_id": e.ID, "operation": opName, "category": c.category,
				"amount": c.amount, "available": w.availableNet(ws)}
			if debt > 0 {
				data["debt"] = debt
			}
			w.event(EventCreditsSpent, c.key, data)
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
