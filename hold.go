package creditkit

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/creditkit/creditkit/store"
)

// HoldStatus is the life-cycle state of a hold.
type HoldStatus string

// Hold statuses.
const (
	HoldActive   HoldStatus = "active"
	HoldCaptured HoldStatus = "captured"
	HoldReleased HoldStatus = "released"
	HoldExpired  HoldStatus = "expired"
)

// Hold reserves credits for an operation in flight. The reserved credits are
// taken out of their grants when the hold is placed, so no other spend can
// use them; a capture turns some or all of them into a charge and returns the
// rest; a release or expiry returns them all.
type Hold struct {
	ID        string     `json:"id"`
	Customer  string     `json:"customer"`
	Currency  string     `json:"currency"`
	Operation string     `json:"operation,omitempty"`
	Params    Params     `json:"params,omitempty"`
	Amount    Amount     `json:"amount"`
	Captured  Amount     `json:"captured"`
	Status    HoldStatus `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	// ResolvedAt is when the hold was captured, released or expired.
	ResolvedAt  *time.Time   `json:"resolved_at,omitempty"`
	Allocations []Allocation `json:"allocations"`
	// Debt is the part of Amount reserved as overage debt (the wallet's
	// overage limit allowed it); Allocations cover the rest.
	Debt     Amount            `json:"debt,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// EntryID is the charge written by a capture.
	EntryID string `json:"entry_id,omitempty"`
}

// snapshot returns a copy of the hold for a caller, so later requests in
// the same batch cannot change a result already made.
func (h *Hold) snapshot() *Hold {
	out := *h
	out.Allocations = slices.Clone(h.Allocations)
	return &out
}

// activeAt reports whether the hold still reserves credits at t.
func (h *Hold) activeAt(t time.Time) bool {
	return h.Status == HoldActive && t.Before(h.ExpiresAt)
}

// HoldOpts are options for Ledger.Hold. Nil means defaults.
type HoldOpts struct {
	// Amount holds a raw amount instead of pricing an operation (then the
	// operation name is only recorded and may be empty).
	Amount *Amount
	// Currency is the currency of a raw Amount. Defaults to the default currency.
	Currency string
	// TTL is how long the hold lives before it releases itself. Defaults to
	// 10 minutes; at most 7 days.
	TTL            time.Duration
	Metadata       map[string]string
	IdempotencyKey string
	Actor          string
}

// CaptureOpts are options for Capture and Release. Nil means defaults.
type CaptureOpts struct {
	Metadata       map[string]string
	IdempotencyKey string
	Actor          string
}

// DefaultHoldTTL is how long a hold lives when no TTL is given.
const DefaultHoldTTL = 10 * time.Minute

// Bounds of a hold's life.
const (
	minHoldTTL = time.Second
	maxHoldTTL = 7 * 24 * time.Hour
)

// CheckHoldTTL refuses a hold TTL outside 1s to 7 days. HoldOpts.TTL zero
// means the default, but a transport that was given an explicit zero (the
// API's "ttl": "0s", the CLI's --ttl 0s) refuses it with this same error:
// to get the default, leave the TTL out.
func CheckHoldTTL(ttl time.Duration) error {
	if ttl < minHoldTTL || ttl > maxHoldTTL {
		return errorf(CodeInvalidRequest, "hold ttl %s is out of range: give 1s to 7d, or leave it out for the default %s", ttl, DefaultHoldTTL)
	}
	return nil
}

// Hold reserves the cost of an operation (or a raw amount) for an operation
// in flight. Held credits are taken from the wallet's grants in burn-down
// order and are not available to other spends until the hold is captured,
// released or expires.
func (l *Ledger) Hold(ctx context.Context, customer, operation string, params Params, opts *HoldOpts) (*Hold, error) {
	if opts == nil {
		opts = &HoldOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	var (
		amount   Amount
		currency string
	)
	if opts.Amount != nil {
		if err := checkPositive("hold amount", *opts.Amount); err != nil {
			return nil, err
		}
		cur, err := l.currency(opts.Currency)
		if err != nil {
			return nil, err
		}
		amount, currency = *opts.Amount, cur.Name
		if err := checkParamsSize(params); err != nil {
			return nil, err
		}
	} else {
		cost, op, err := l.cfg.Price(operation, params)
		if err != nil {
			return nil, err
		}
		if cost == 0 {
			return nil, errorf(CodeInvalidAmount, "operation %s costs 0 with these params: there is nothing to hold", operation)
		}
		amount, currency = cost, op.Currency
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultHoldTTL
	}
	if err := CheckHoldTTL(ttl); err != nil {
		return nil, err
	}
	if err := checkMetadata(opts.Metadata); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	key := walletKey(customer, currency)
	req := &writeReq{
		kind:        "hold",
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("hold", []any{key, operation, params, amount, ttl, opts.Metadata}),
		wallets:     staticWallets(key),
		decode:      decodeAs[Hold](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(key)
			allocs, debt, err := w.planCharge(ws, amount)
			if err != nil {
				return nil, err
			}
			w.draw(ws, allocs)
			w.drawDebt(ws, debt)
			h := &Hold{
				ID: w.l.ids.New("hld"), Customer: customer, Currency: currency, Operation: operation, Params: params,
				Amount: amount, Status: HoldActive, CreatedAt: w.now, ExpiresAt: w.now.Add(ttl), Allocations: allocs,
				Debt: debt, Metadata: opts.Metadata,
			}
			w.addHold(ws, h)
			return h.snapshot(), nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Hold), nil
}

// Capture charges a hold: amount (nil means all of it, and it may be lower
// than held, as when a streamed AI call stops early) becomes an
// operation_charge entry, and the rest returns to the wallet.
func (l *Ledger) Capture(ctx context.Context, holdID string, amount *Amount, opts *CaptureOpts) (*Entry, error) {
	if opts == nil {
		opts = &CaptureOpts{}
	}
	if amount != nil && *amount < 0 {
		return nil, errorf(CodeInvalidAmount, "capture amount must not be negative, got %d", *amount)
	}
	if err := checkMetadata(opts.Metadata); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	req := &writeReq{
		kind:        "capture",
		route:       holdID,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("capture", []any{holdID, amount, opts.Metadata}),
		wallets:     l.holdWallet(holdID),
		decode:      decodeAs[Entry](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws, h, err := w.activeHold(ctx, holdID)
			if err != nil {
				return nil, err
			}
			captured := h.Amount
			if amount != nil {
				captured = *amount
			}
			if captured > h.Amount {
				return nil, errorf(CodeInvalidAmount, "capture of %d is more than the %d held by %s: capture at most the held amount", captured, h.Amount, holdID)
			}
			// The captured credits are the hold's first allocations.
			var allocs []Allocation
			keep := captured
			for _, a := range h.Allocations {
				if keep == 0 {
					break
				}
				take := min(keep, a.Amount)
				allocs = append(allocs, Allocation{GrantID: a.GrantID, Amount: take})
				keep -= take
			}
			meta := map[string]any{"cost": captured, "params": orEmpty(h.Params), "hold_id": h.ID, "held": h.Amount}
			if keep > 0 {
				// The captured credits beyond the grants' are the hold's
				// debt: they stay debt.
				meta["debt"] = keep
			}
			if op, err := w.l.cfg.Operation(h.Operation); err == nil && len(op.Meta) > 0 {
				meta["operation_meta"] = op.Meta
			}
			md := h.Metadata
			if len(opts.Metadata) > 0 {
				md = opts.Metadata
			}
			category := captureCategory(h.Operation)
			e, err := w.addEntry(ws, &Entry{Type: EntryCharge, Category: category, Operation: h.Operation, Amount: -captured, Actor: opts.Actor,
				IdempotencyKey: opts.IdempotencyKey, Details: meta, Metadata: maps.Clone(md), Allocations: allocs})
			if err != nil {
				return nil, err
			}
			if err := w.returnHold(ctx, ws, h, captured, HoldCaptured); err != nil {
				return nil, err
			}
			w.refreshAvailable(ws, e)
			h.EntryID = e.ID
			w.event(EventCreditsSpent, ws.key, map[string]any{"entry_id": e.ID, "operation": h.Operation, "category": category,
				"amount": captured, "hold_id": h.ID, "available": w.availableNet(ws)})
			return e, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Entry), nil
}

// Release cancels a hold: every held credit returns to the wallet.
func (l *Ledger) Release(ctx context.Context, holdID string, opts *CaptureOpts) (*Hold, error) {
	if opts == nil {
		opts = &CaptureOpts{}
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	req := &writeReq{
		kind:        "release",
		route:       holdID,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("release", []any{holdID}),
		wallets:     l.holdWallet(holdID),
		decode:      decodeAs[Hold](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws, h, err := w.activeHold(ctx, holdID)
			if err != nil {
				return nil, err
			}
			if err := w.returnHold(ctx, ws, h, 0, HoldReleased); err != nil {
				return nil, err
			}
			return h.snapshot(), nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Hold), nil
}

// GetHold returns a hold by ID, or a not_found error. A hold past its
// expiry shows as expired even before the sweep has run.
func (l *Ledger) GetHold(ctx context.Context, holdID string) (*Hold, error) {
	var h *Hold
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		r, err := tx.Hold(ctx, holdID)
		if err != nil {
			return err
		}
		if r == nil {
			return errorf(CodeNotFound, "hold %q not found", holdID)
		}
		h, err = holdFromRow(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	if h.Status == HoldActive && !l.Now().Before(h.ExpiresAt) {
		h.Status = HoldExpired
	}
	return h, nil
}

// holdWallet finds the wallet of a hold, for locking.
func (l *Ledger) holdWallet(holdID string) func(context.Context, store.ReadTx) ([]WalletKey, error) {
	return func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error) {
		r, err := tx.Hold(ctx, holdID)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, errorf(CodeNotFound, "hold %q not found", holdID)
		}
		return []WalletKey{walletKey(r.Customer, r.Currency)}, nil
	}
}

// activeHold returns a hold of the write that is still active now. Expired
// holds were already released when the wallet was loaded.
func (w *writeState) activeHold(ctx context.Context, holdID string) (*walletState, *Hold, error) {
	for _, k := range w.order {
		ws := w.wallets[k]
		for _, h := range ws.holds {
			if h.ID != holdID {
				continue
			}
			if h.Status != HoldActive {
				return nil, nil, errorf(CodeHoldNotActive, "hold %s is %s: only an active hold can be captured or released", holdID, h.Status)
			}
			return ws, h, nil
		}
	}
	// Not among the active holds: tell the caller what it is instead.
	r, err := w.tx.Hold(ctx, holdID)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		return nil, nil, errorf(CodeNotFound, "hold %q not found", holdID)
	}
	return nil, nil, errorf(CodeHoldNotActive, "hold %s is %s: only an active hold can be captured or released", holdID, r.Status)
}

// replayedEntry returns the entry stored under an idempotency key, if any.
func (l *Ledger) replayedEntry(ctx context.Context, key string) (*Entry, bool, error) {
	var rec *store.Idempotency
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		var err error
		rec, err = tx.Idempotency(ctx, key)
		return err
	})
	if err != nil || rec == nil {
		return nil, false, err
	}
	v, err := decodeAs[Entry]()(rec.Result)
	if err != nil {
		return nil, false, err
	}
	return v.(*Entry), true, nil
}
