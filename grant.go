package creditkit

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

// GrantStatus is the life-cycle state of a grant.
type GrantStatus string

// Grant statuses. A grant's status is derived from its amounts and dates at a
// given instant, so it is always exact, whether or not a sweep has run.
const (
	GrantScheduled GrantStatus = "scheduled" // not yet effective
	GrantActive    GrantStatus = "active"    // effective, credits left
	GrantDepleted  GrantStatus = "depleted"  // nothing left
	GrantExpired   GrantStatus = "expired"   // past expires_at
	GrantVoided    GrantStatus = "voided"    // removed by Void
)

// Source says where a grant's credits came from. It sets the default priority.
type Source string

// Grant sources.
const (
	SourceBonus        Source = "bonus"
	SourceTrial        Source = "trial"
	SourcePromotional  Source = "promotional"
	SourceSubscription Source = "subscription"
	SourcePack         Source = "pack"
	SourcePurchase     Source = "purchase"
	SourceTransfer     Source = "transfer"
	SourceRollover     Source = "rollover"
	SourceAdjustment   Source = "adjustment"
)

// DefaultPriority returns the burn-down priority of a source: bonus, trial and
// promotional credits go first (10), then subscription and rollover credits
// (20), then purchased packs (30). Manual adjustments rank with bonuses.
func (s Source) DefaultPriority() int {
	switch s {
	case SourceSubscription, SourceRollover:
		return 20
	case SourcePack, SourcePurchase:
		return 30
	default:
		return 10
	}
}

// sourceForReason infers a grant's source from its ledger category.
func sourceForReason(reason string) Source {
	switch reason {
	case "signup_bonus", "bonus", "referral_bonus":
		return SourceBonus
	case "trial", "trial_credits":
		return SourceTrial
	case "promotional", "promotion", "promo":
		return SourcePromotional
	case "subscription", "subscription_credits", "subscription_refill":
		return SourceSubscription
	case "pack", "credit_pack", "pack_purchase":
		return SourcePack
	case "purchase":
		return SourcePurchase
	case "rollover":
		return SourceRollover
	case CategoryTransferIn:
		return SourceTransfer
	default:
		return SourceAdjustment
	}
}

// CostBasis is what the customer paid per credit, for revenue reporting.
type CostBasis struct {
	// PerCredit is the price of one whole credit, as a decimal string ("0.049").
	PerCredit string `json:"per_credit"`
	// Currency is the money currency, an ISO 4217 code such as "USD".
	Currency string `json:"currency"`
}

// Grant is one bucket of credits in a wallet.
type Grant struct {
	ID        string    `json:"id"`
	Customer  string    `json:"customer"`
	Currency  string    `json:"currency"`
	Amount    Amount    `json:"amount"`
	Remaining Amount    `json:"remaining"`
	Reason    string    `json:"reason"`
	Source    Source    `json:"source"`
	Priority  int       `json:"priority"`
	CreatedAt time.Time `json:"created_at"`
	// EffectiveAt is when the credits become spendable.
	EffectiveAt time.Time `json:"effective_at"`
	// ExpiresAt is when unspent credits expire; nil never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	// VoidedAt is set once the grant has been voided.
	VoidedAt *time.Time `json:"voided_at,omitempty"`
	// ExpiredAt is set once an expiration entry has been written for the grant.
	ExpiredAt *time.Time        `json:"expired_at,omitempty"`
	CostBasis *CostBasis        `json:"cost_basis,omitempty"`
	Metadata  map[string]string `json:"metadata"`
	// Status is derived at read time from the fields above.
	Status GrantStatus `json:"status"`
}

// snapshot returns a copy of the grant with its status at t, for a caller:
// later requests in the same batch must not change a result already made.
func (g *Grant) snapshot(t time.Time) *Grant {
	out := *g
	out.Metadata = maps.Clone(g.Metadata)
	out.Status = out.StatusAt(t)
	return &out
}

// StatusAt returns the grant's status at instant t.
func (g *Grant) StatusAt(t time.Time) GrantStatus {
	switch {
	case g.VoidedAt != nil:
		return GrantVoided
	case g.ExpiredAt != nil || (g.ExpiresAt != nil && !t.Before(*g.ExpiresAt)):
		if g.Remaining == 0 && g.ExpiredAt == nil {
			return GrantDepleted
		}
		return GrantExpired
	case t.Before(g.EffectiveAt):
		return GrantScheduled
	case g.Remaining == 0:
		return GrantDepleted
	default:
		return GrantActive
	}
}

// checkActive refuses a change at now to a grant that is closed: voided,
// or expired (written off, or past its expiry).
func (g *Grant) checkActive(now time.Time) error {
	switch {
	case g.VoidedAt != nil:
		return &Error{Code: CodeGrantNotActive, Message: fmt.Sprintf("grant %s was voided at %s: it can no longer change", g.ID, fmtTime(*g.VoidedAt))}
	case g.ExpiredAt != nil:
		return &Error{Code: CodeGrantNotActive, Message: fmt.Sprintf("grant %s expired at %s: it can no longer change", g.ID, fmtTime(*g.ExpiredAt))}
	case g.ExpiresAt != nil && !now.Before(*g.ExpiresAt):
		return &Error{Code: CodeGrantNotActive, Message: fmt.Sprintf("grant %s expired at %s: it can no longer change", g.ID, fmtTime(*g.ExpiresAt))}
	}
	return nil
}

// spendableAt reports whether credits may be drawn from g at t.
func (g *Grant) spendableAt(t time.Time) bool {
	return g.VoidedAt == nil && g.ExpiredAt == nil && g.Remaining > 0 &&
		!t.Before(g.EffectiveAt) && (g.ExpiresAt == nil || t.Before(*g.ExpiresAt))
}

// burnsBefore reports whether a is drawn from before b: lower priority first,
// then the one expiring soonest (never-expiring last), then the oldest.
func burnsBefore(a, b *Grant) bool {
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	switch {
	case a.ExpiresAt != nil && b.ExpiresAt == nil:
		return true
	case a.ExpiresAt == nil && b.ExpiresAt != nil:
		return false
	case a.ExpiresAt != nil && !a.ExpiresAt.Equal(*b.ExpiresAt):
		return a.ExpiresAt.Before(*b.ExpiresAt)
	}
	if !a.EffectiveAt.Equal(b.EffectiveAt) {
		return a.EffectiveAt.Before(b.EffectiveAt)
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// GrantFilter narrows Grants. The zero value lists every grant, oldest first.
type GrantFilter struct {
	// Currency limits the list to one currency; empty means all.
	Currency string
	// Status limits the list to grants in this status now; empty means all.
	Status GrantStatus
	// Limit caps the number of grants returned. Defaults to 100; at most 1000.
	Limit int
	// After is a cursor: the ID of the last grant of the previous page.
	After string
}

// GrantOpts are options for Ledger.Grant. Nil means defaults.
type GrantOpts struct {
	// Reason is the ledger category of the grant entry. Defaults to
	// "manual_adjustment".
	Reason string
	// Source says where the credits come from. Defaults to one inferred from
	// Reason ("signup_bonus" is a bonus, "subscription" a subscription...).
	Source Source
	// Currency defaults to the config's default currency.
	Currency string
	// Priority overrides the source's default burn-down priority.
	Priority *int
	// EffectiveAt schedules the credits for later. Defaults to now.
	EffectiveAt time.Time
	// ExpiresAt is when unspent credits expire. Zero never expires.
	ExpiresAt time.Time
	// ExpiresIn sets ExpiresAt relative to when the credits become effective.
	ExpiresIn time.Duration
	// ExpiresAfter sets ExpiresAt relative to when the credits become
	// effective, on the calendar: Span{Months: 1} from January 31 expires on
	// the last day of February. Give at most one of ExpiresAt, ExpiresIn and
	// ExpiresAfter.
	ExpiresAfter Span
	// CostBasis records what the customer paid per credit.
	CostBasis *CostBasis
	// Metadata is stored on the grant and its entry.
	Metadata map[string]string
	// Description is free text for the grant's entry, such as "Welcome
	// bonus". At most 500 characters.
	Description string
	// IdempotencyKey makes the grant safe to retry.
	IdempotencyKey string
	// Actor names who asked, for the audit trail.
	Actor string
}

// SetExpiresIn sets the grant's expiry relative to when it takes effect
// from a span as a user writes it ("30d", "1mo", "P1Y"): a span with months
// goes to ExpiresAfter (calendar months), any other to ExpiresIn (its days
// are whole days in UTC), so an expiry written without months keeps the
// idempotency fingerprint it always had.
func (o *GrantOpts) SetExpiresIn(s Span) {
	o.ExpiresIn, o.ExpiresAfter = 0, Span{}
	if s.Months != 0 {
		o.ExpiresAfter = s
		return
	}
	o.ExpiresIn = time.Duration(s.Days)*24*time.Hour + s.Duration
}

// Grant gives a customer credits: one new grant and one entry in the
// category of its reason.
func (l *Ledger) Grant(ctx context.Context, customer string, amount Amount, opts *GrantOpts) (*Grant, error) {
	if opts == nil {
		opts = &GrantOpts{}
	}
	cur, reason, err := rawMovement{what: "grant", customer: customer, amount: amount, currency: opts.Currency, reason: opts.Reason,
		defaultReason: CategoryManualAdjustment, metadata: opts.Metadata, idemKey: opts.IdempotencyKey}.check(l)
	if err != nil {
		return nil, err
	}
	if opts.CostBasis != nil {
		if _, ok := new(big.Rat).SetString(opts.CostBasis.PerCredit); !ok || strings.HasPrefix(opts.CostBasis.PerCredit, "-") {
			return nil, errorf(CodeInvalidRequest, "cost basis per credit %q is not a non-negative decimal such as 0.049", opts.CostBasis.PerCredit)
		}
		if len(opts.CostBasis.Currency) != 3 {
			return nil, errorf(CodeInvalidRequest, "cost basis currency %q must be a 3-letter ISO 4217 code such as USD", opts.CostBasis.Currency)
		}
	}
	if err := checkDescription(opts.Description); err != nil {
		return nil, err
	}
	if !opts.ExpiresAt.IsZero() && opts.ExpiresIn != 0 {
		return nil, errorf(CodeInvalidRequest, "give expires_at or expires_in, not both")
	}
	if !opts.ExpiresAfter.IsZero() && (!opts.ExpiresAt.IsZero() || opts.ExpiresIn != 0) {
		return nil, errorf(CodeInvalidRequest, "give one of expires_at, expires_in and expires_after, not several")
	}
	if opts.ExpiresIn < 0 {
		return nil, errorf(CodeInvalidRequest, "expires_in must be positive, got %s", showDuration(opts.ExpiresIn))
	}
	if err := checkInstant("effective_at", opts.EffectiveAt); err != nil {
		return nil, err
	}
	if err := checkInstant("expires_at", opts.ExpiresAt); err != nil {
		return nil, err
	}
	if opts.ExpiresAfter.IsNegative() {
		return nil, errorf(CodeInvalidRequest, "expires_after must be positive, got %s", opts.ExpiresAfter.Words())
	}
	// The expiry is computed in the write, from the effective time; check
	// the latest it can be now, so a request that would overflow the
	// horizon is refused before it is queued.
	start := l.Now()
	if opts.EffectiveAt.After(start) {
		start = opts.EffectiveAt.UTC()
	}
	if opts.ExpiresIn > 0 {
		if _, err := addCapped("effective_at + expires_in", start, opts.ExpiresIn); err != nil {
			return nil, err
		}
	}
	if !opts.ExpiresAfter.IsZero() {
		if err := checkInstant("effective_at + expires_after", opts.ExpiresAfter.AddTo(start)); err != nil {
			return nil, err
		}
	}
	source := opts.Source
	if source == "" {
		source = sourceForReason(reason)
	}
	priority := source.DefaultPriority()
	if opts.Priority != nil {
		priority = *opts.Priority
	}
	key := walletKey(customer, cur.Name)
	grantFields := []any{customer, amount, cur.Name, reason, source, priority, opts.EffectiveAt, opts.ExpiresAt, opts.ExpiresIn, opts.CostBasis, opts.Metadata}
	if !opts.ExpiresAfter.IsZero() {
		// Appended only when set, so that keys stored before it existed
		// still match; as a map, so it can never read as a description.
		grantFields = append(grantFields, map[string]Span{"expires_after": opts.ExpiresAfter})
	}
	req := &writeReq{
		kind:        "grant",
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("grant", withText(grantFields, opts.Description)),
		wallets:     staticWallets(key),
		decode:      decodeAs[Grant](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			effective := opts.EffectiveAt.UTC()
			if effective.Before(w.now) {
				effective = w.now
			}
			var expires *time.Time
			switch {
			case !opts.ExpiresAt.IsZero():
				t := opts.ExpiresAt.UTC()
				expires = &t
			case opts.ExpiresIn > 0:
				t, err := addCapped("effective_at + expires_in", effective, opts.ExpiresIn)
				if err != nil {
					return nil, err
				}
				expires = &t
			case !opts.ExpiresAfter.IsZero():
				t := opts.ExpiresAfter.AddTo(effective)
				if err := checkInstant("effective_at + expires_after", t); err != nil {
					return nil, err
				}
				expires = &t
			}
			if expires != nil && !expires.After(w.now) {
				return nil, errorf(CodeInvalidRequest, "expires_at %s is in the past: give a time after now (%s)", fmtTime(*expires), fmtTime(w.now))
			}
			if expires != nil && !expires.After(effective) {
				return nil, errorf(CodeInvalidRequest, "expires_at %s is not after effective_at %s", fmtTime(*expires), fmtTime(effective))
			}
			ws := w.wallet(key)
			g := &Grant{
				ID: w.l.ids.New("grt"), Customer: customer, Currency: cur.Name, Amount: amount, Remaining: amount,
				Reason: reason, Source: source, Priority: priority, CreatedAt: w.now, EffectiveAt: effective,
				ExpiresAt: expires, CostBasis: opts.CostBasis, Metadata: orEmpty(maps.Clone(opts.Metadata)),
			}
			meta := map[string]any{"grant_id": g.ID, "source": string(source)}
			if expires != nil {
				meta["expires_at"] = *expires
			}
			e, err := w.addEntry(ws, &Entry{Type: EntryGrant, Category: reason, Description: opts.Description, Amount: amount, At: effective, Actor: opts.Actor,
				IdempotencyKey: opts.IdempotencyKey, Details: meta, Metadata: maps.Clone(opts.Metadata), Allocations: []Allocation{{GrantID: g.ID, Amount: amount}}})
			if err != nil {
				return nil, err
			}
			w.addGrant(ws, g)
			if err := w.noteRefill(ws, g); err != nil {
				return nil, err
			}
			w.refreshAvailable(ws, e)
			w.event(EventCreditsGranted, key, map[string]any{"grant_id": g.ID, "entry_id": e.ID, "amount": amount, "reason": reason,
				"effective_at": effective, "expires_at": expires})
			return g.snapshot(w.now), nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Grant), nil
}

// Grants lists a customer's grants, oldest first, with their status now.
func (l *Ledger) Grants(ctx context.Context, customer string, f *GrantFilter) ([]*Grant, error) {
	if f == nil {
		f = &GrantFilter{}
	}
	limit := pageLimit(f.Limit)
	switch f.Status {
	case "", GrantScheduled, GrantActive, GrantDepleted, GrantExpired, GrantVoided:
	default:
		return nil, errorf(CodeInvalidRequest, "unknown grant status %q: use active, scheduled, depleted, expired or voided", f.Status)
	}
	now := l.Now()
	var out []*Grant
	after := f.After
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		for len(out) < limit {
			rows, err := tx.Grants(ctx, store.GrantQuery{Customer: customer, Currency: f.Currency, After: after, Limit: limit})
			if err != nil {
				return err
			}
			for _, r := range rows {
				g, err := grantFromRow(r)
				if err != nil {
					return err
				}
				g.Status = g.StatusAt(now)
				if (f.Status == "" || g.Status == f.Status) && len(out) < limit {
					out = append(out, g)
				}
			}
			if len(rows) < limit {
				break
			}
			after = rows[len(rows)-1].ID
		}
		if len(out) == 0 && f.After == "" {
			return requireCustomer(ctx, tx, customer)
		}
		return nil
	})
	if out == nil {
		out = []*Grant{}
	}
	return out, err
}

// GetGrant returns one grant by ID, or a not_found error.
func (l *Ledger) GetGrant(ctx context.Context, id string) (*Grant, error) {
	var g *Grant
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		r, err := tx.Grant(ctx, id)
		if err != nil {
			return err
		}
		if r == nil {
			return errorf(CodeNotFound, "grant %q not found", id)
		}
		g, err = grantFromRow(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	g.Status = g.StatusAt(l.Now())
	return g, nil
}

// pageLimit applies the default (100) and maximum (1000) page sizes.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
