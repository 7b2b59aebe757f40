package creditkit

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

// This file is purchases: a payment for a pack, taken by any provider
// (Stripe, Paddle, an app store, or by hand), turned into credits exactly
// once. A purchase is one write on the write path: the purchase row and
// the pack's grant commit together, and the row's unique (provider,
// external_id) makes a second fulfilment of the same payment find the
// first, even on another process (the loser of an insert race reruns its
// transaction and finds the winner's row).

// Event types of purchases and refunds.
const (
	// EventPurchaseCompleted is emitted once per purchase, when its credits
	// are granted.
	EventPurchaseCompleted = "credits.purchase.completed"
	// EventCreditsRefunded is emitted by each refund that moves the
	// credits of a purchase (clawed back, recorded as debt, or reported as
	// a shortfall).
	EventCreditsRefunded = "credits.refunded"
)

// CodePurchaseConflict says a purchase named a provider's payment
// (provider and external ID) already fulfilled for another customer or
// pack, or with another amount paid, money currency or credits given
// explicitly. The API answers it 409.
const CodePurchaseConflict ErrorCode = "purchase_conflict"

// ProviderManual is the provider of purchases recorded by hand or by an
// app that takes payments itself; the HTTP API and the CLI default to it.
const ProviderManual = "manual"

// providerRE is what a provider name looks like.
var providerRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// purchaseMetadataKeys are the keys a purchase writes into its grant's
// metadata; the caller's metadata may not use them.
var purchaseMetadataKeys = []string{"purchase_id", "pack", "provider", "external_id", "amount_paid", "money_currency",
	"cost_basis", "charge_id", "payment_intent_id", "purchased_at"}

// MaxPurchaseCents is the most money one purchase records, in minor units
// (10^13: a hundred billion dollars), so that revenue sums stay far from
// overflowing.
const MaxPurchaseCents = 10_000_000_000_000

// PurchaseOpts describe a purchase for Ledger.Purchase.
type PurchaseOpts struct {
	// Pack is the pack's name in the config (required).
	Pack string
	// Provider names who took the payment: "stripe", "paddle", "manual"...
	// Required, [a-z0-9_]{1,32}.
	Provider string
	// ExternalID is the provider's ID of this payment (Stripe: the checkout
	// session ID or the payment intent ID). A purchase is fulfilled once
	// per (Provider, ExternalID). Required.
	ExternalID string
	// Credits is how many credits (smallest units) the purchase gives; 0
	// means the pack's Gives (auto top-up's target_balance mode sets it).
	Credits Amount
	// AmountPaid is the money paid, in minor units of MoneyCurrency; 0
	// means the pack's price, scaled to Credits when Credits is set (see
	// Pack.PriceFor), unless Free is set.
	AmountPaid int64
	// Free says nothing was paid (a 100% coupon, a free checkout):
	// AmountPaid must be 0, and the purchase records 0 paid, no cost
	// basis (its credits count as uncosted in the revenue report), and no
	// money a refund could give back.
	Free bool
	// MoneyCurrency is the ISO 4217 code of AmountPaid; empty means the
	// pack's price currency. Another currency needs AmountPaid.
	MoneyCurrency string
	// ChargeID is the provider's charge ID, when known; a refund can find
	// the purchase by it.
	ChargeID string
	// PaymentIntentID is the provider's payment ID, when known; a refund
	// can find the purchase by it.
	PaymentIntentID string
	// PurchasedAt is when the customer paid; zero means now. The credits
	// are granted now either way.
	PurchasedAt time.Time
	// Metadata is the caller's, recorded on the grant and its entry. The
	// keys the purchase records itself (pack, provider, ...) are reserved.
	Metadata map[string]string
	// Actor names who asked, for the audit trail.
	Actor string
	// IdempotencyKey makes the call safe to retry like any write. The
	// purchase is exactly once per (Provider, ExternalID) without it.
	IdempotencyKey string
}

// Purchase is a fulfilled payment of a pack and what its refunds did.
type Purchase struct {
	ID              string `json:"id"`
	Customer        string `json:"customer"`
	Pack            string `json:"pack"`
	Provider        string `json:"provider"`
	ExternalID      string `json:"external_id"`
	ChargeID        string `json:"charge_id,omitempty"`
	PaymentIntentID string `json:"payment_intent_id,omitempty"`
	// Credits is what the purchase gave, in smallest units of Currency.
	Credits Amount `json:"credits"`
	// Currency is the credit currency.
	Currency string `json:"currency"`
	// AmountPaid is the money paid, in minor units of MoneyCurrency.
	AmountPaid    int64  `json:"amount_paid"`
	MoneyCurrency string `json:"money_currency"`
	// CostBasis is AmountPaid ÷ Credits per whole credit; nil when
	// nothing was paid.
	CostBasis *CostBasis `json:"cost_basis,omitempty"`
	// GrantID is the grant that holds the purchased credits.
	GrantID     string    `json:"grant_id"`
	PurchasedAt time.Time `json:"purchased_at"`
	// RefundedCents is the money refunded so far, in minor units
	// (cumulative).
	RefundedCents int64 `json:"refunded_cents"`
	// ClawedBack is the credits refunds took back from grants
	// (cumulative).
	ClawedBack Amount `json:"clawed_back"`
	// RefundDebt is the credits refunds recorded as debt because they were
	// spent (refund_debt: allow), cumulative.
	RefundDebt Amount `json:"refund_debt"`
	// Shortfall is the credits refunds could not recover because they
	// were spent (refund_debt: forbid), cumulative.
	Shortfall Amount `json:"shortfall"`
	// Metadata is the caller's metadata given with the purchase.
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	// Replayed is set when this call found the purchase already
	// fulfilled: it moved nothing.
	Replayed bool `json:"replayed"`
}

// PriceFor returns what credits cost at the pack's unit price, in minor
// units of its price currency, rounded half up to a whole minor unit: the
// pack's price for its Gives, scaled.
func (p *Pack) PriceFor(credits Amount) int64 {
	if credits == p.Gives || p.Gives <= 0 {
		return p.PriceCents
	}
	num := new(big.Int).Mul(big.NewInt(p.PriceCents), big.NewInt(int64(credits)))
	r := new(big.Rat).SetFrac(num, big.NewInt(int64(p.Gives)))
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return -1
	}
	return q.Int64()
}

// purchaseCostBasis is paid money per whole credit, exactly (as a plan's
// refill cost basis): nil when nothing was paid.
func purchaseCostBasis(paid int64, money string, credits Amount, decimals int) *CostBasis {
	if paid <= 0 || credits <= 0 {
		return nil
	}
	r := new(big.Rat).SetFrac64(paid, 1)
	r.Quo(r, ratPow10(moneyDecimals(money)))
	whole := new(big.Rat).SetFrac64(int64(credits), 1)
	whole.Quo(whole, ratPow10(decimals))
	r.Quo(r, whole)
	return &CostBasis{PerCredit: costBasisString(r), Currency: money}
}

// packNames lists the configured packs, for error messages.
func (c *Config) packNames() string {
	names := slices.Sorted(maps.Keys(c.Packs))
	if len(names) == 0 {
		return "none are configured; add one under packs: in the config, like starter: { gives: 1000 credits, costs: 49 USD }"
	}
	return strings.Join(names, ", ")
}

// pack returns a configured pack, or an error listing the packs.
func (l *Ledger) pack(name string) (*Pack, error) {
	if name == "" {
		return nil, errorf(CodeInvalidRequest, "pack is empty: name one of the configured packs (%s)", l.cfg.packNames())
	}
	p, ok := l.cfg.Packs[name]
	if !ok || p == nil {
		return nil, errorf(CodeInvalidRequest, "unknown pack %q: the configured packs are %s", name, l.cfg.packNames())
	}
	return p, nil
}

// checkProvider validates a provider name.
func checkProvider(p string) error {
	if !providerRE.MatchString(p) {
		return errorf(CodeInvalidRequest, "provider %q must be 1 to 32 lowercase letters, digits or underscores, such as stripe or manual", p)
	}
	return nil
}

// checkOptionalID validates an ID that may be empty.
func checkOptionalID(what, id string) error {
	if id == "" {
		return nil
	}
	return checkID(what, id)
}

// Purchase fulfils a payment for a pack: one grant of the pack's credits
// (source pack, the pack's expires_after, a cost basis of the price paid
// per credit) and the purchase row, in one write. A second call with the
// same (Provider, ExternalID) returns the first purchase with Replayed set
// and moves nothing, even on another process at the same moment; with
// another customer or pack, or an amount paid, money currency or credits
// given explicitly that differ from the recorded ones, it is a
// purchase_conflict error.
func (l *Ledger) Purchase(ctx context.Context, customer string, opts PurchaseOpts) (*Purchase, error) {
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	pack, err := l.pack(opts.Pack)
	if err != nil {
		return nil, err
	}
	if err := checkProvider(opts.Provider); err != nil {
		return nil, err
	}
	if err := checkID("external_id", opts.ExternalID); err != nil {
		return nil, err
	}
	if err := checkOptionalID("charge_id", opts.ChargeID); err != nil {
		return nil, err
	}
	if err := checkOptionalID("payment_intent_id", opts.PaymentIntentID); err != nil {
		return nil, err
	}
	if opts.Credits < 0 {
		return nil, errorf(CodeInvalidAmount, "credits %d is negative: give the credits bought, or 0 for the pack's %d", opts.Credits, pack.Gives)
	}
	if opts.AmountPaid < 0 {
		return nil, errorf(CodeInvalidAmount, "amount_paid %d is negative: give the money paid in minor units (cents), or 0 for the pack's price", opts.AmountPaid)
	}
	if opts.Free && opts.AmountPaid != 0 {
		return nil, errorf(CodeInvalidAmount, "amount_paid %d with free: a free purchase paid nothing; give amount_paid 0 or leave free unset", opts.AmountPaid)
	}
	if opts.AmountPaid > MaxPurchaseCents {
		return nil, errorf(CodeInvalidAmount, "amount_paid %d is more than a purchase records (at most %d minor units): give the money paid in minor units (cents)", opts.AmountPaid, int64(MaxPurchaseCents))
	}
	money := strings.ToUpper(opts.MoneyCurrency)
	if money == "" {
		money = pack.PriceCurrency
	}
	if !moneyCodeRE.MatchString(money) {
		return nil, errorf(CodeInvalidRequest, "currency %q is not an ISO 4217 code such as USD", opts.MoneyCurrency)
	}
	// amountGiven: the caller said what was paid (possibly nothing),
	// rather than leaving it to the pack's price.
	amountGiven := opts.AmountPaid != 0 || opts.Free
	if money != pack.PriceCurrency && !amountGiven {
		return nil, errorf(CodeInvalidRequest, "pack %s costs %s: give amount_paid for a payment in %s", pack.Name, pack.FormatPrice(), money)
	}
	if err := checkMetadata(opts.Metadata); err != nil {
		return nil, err
	}
	for _, k := range purchaseMetadataKeys {
		if _, ok := opts.Metadata[k]; ok {
			return nil, errorf(CodeInvalidRequest, "metadata key %q is reserved: the purchase records it on the grant itself; rename your key", k)
		}
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	if err := checkInstant("purchased_at", opts.PurchasedAt); err != nil {
		return nil, err
	}
	credits := opts.Credits
	if credits == 0 {
		credits = pack.Gives
	}
	paid := opts.AmountPaid
	if !amountGiven {
		if paid = pack.PriceFor(credits); paid < 0 {
			return nil, errorf(CodeInvalidAmount, "%d credits of pack %s cost more than the largest amount of money: give fewer credits", credits, pack.Name)
		}
	}
	cur, ok := l.cfg.Currency(pack.Currency)
	if !ok {
		return nil, errorf(CodeInvalidConfig, "pack %s gives %s, which is not a configured currency", pack.Name, pack.Currency)
	}
	if pack.ExpiresAfter.IsNegative() {
		return nil, errorf(CodeInvalidConfig, "pack %s: expires_after must not be negative", pack.Name)
	}
	basis := purchaseCostBasis(paid, money, credits, cur.Decimals)
	key := walletKey(customer, cur.Name)
	fp := []any{customer, opts.Pack, opts.Provider, opts.ExternalID, opts.Credits, opts.AmountPaid, opts.MoneyCurrency,
		opts.ChargeID, opts.PaymentIntentID, opts.PurchasedAt.UTC(), opts.Metadata}
	if opts.Free {
		// Appended only when set, so that the fingerprints of purchases
		// without it stay what they were.
		fp = append(fp, "free")
	}
	req := &writeReq{
		kind:        "purchase",
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("purchase", fp),
		wallets: func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error) {
			// Fail before locking anything on a store without purchases.
			if _, err := purchaseReaderOf(tx); err != nil {
				return nil, err
			}
			return []WalletKey{key}, nil
		},
		decode: decodeAs[Purchase](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			prev, err := w.findPurchase(ctx, opts.Provider, opts.ExternalID)
			if err != nil {
				return nil, err
			}
			if prev != nil {
				if prev.Customer != customer || prev.Pack != pack.Name {
					return nil, errorf(CodePurchaseConflict, "%s payment %q was already fulfilled as purchase %s of pack %s for customer %q: "+
						"an external_id names one payment; use a new one for a new payment", opts.Provider, opts.ExternalID, prev.ID, prev.Pack, prev.Customer)
				}
				// An amount given without a currency is in the pack's
				// currency (money): it asserts that currency too.
				if diff := purchaseDiff(prev, amountGiven, paid, opts.MoneyCurrency != "" || amountGiven, money, opts.Credits); diff != "" {
					return nil, errorf(CodePurchaseConflict, "%s payment %q was already fulfilled as purchase %s with %s: "+
						"an external_id names one payment, recorded once; replay it with what was recorded (or without amount_paid, currency and credits), "+
						"or use a new external_id for a new payment", opts.Provider, opts.ExternalID, prev.ID, diff)
				}
				p, err := purchaseFromRow(prev)
				if err != nil {
					return nil, err
				}
				p.CostBasis = l.rowCostBasis(prev)
				p.Replayed = true
				return p, nil
			}
			purchasedAt := opts.PurchasedAt.UTC()
			if opts.PurchasedAt.IsZero() {
				purchasedAt = w.now
			}
			var expires *time.Time
			if !pack.ExpiresAfter.IsZero() {
				t := pack.ExpiresAfter.AddTo(w.now)
				if err := checkInstant("the pack's expiry (now + expires_after)", t); err != nil {
					return nil, err
				}
				expires = &t
			}
			ws := w.wallet(key)
			id := w.l.ids.New("pur")
			g := &Grant{
				ID: w.l.ids.New("grt"), Customer: customer, Currency: cur.Name, Amount: credits, Remaining: credits,
				Reason: CategoryPackPurchase, Source: SourcePack, Priority: SourcePack.DefaultPriority(), CreatedAt: w.now,
				EffectiveAt: w.now, ExpiresAt: expires, CostBasis: basis, Metadata: maps.Clone(orEmpty(opts.Metadata)),
			}
			facts := map[string]string{"purchase_id": id, "pack": pack.Name, "provider": opts.Provider, "external_id": opts.ExternalID,
				"amount_paid": strconv.FormatInt(paid, 10), "money_currency": money, "purchased_at": purchasedAt.Format(time.RFC3339Nano)}
			if basis != nil {
				facts["cost_basis"] = basis.PerCredit
			}
			if opts.ChargeID != "" {
				facts["charge_id"] = opts.ChargeID
			}
			if opts.PaymentIntentID != "" {
				facts["payment_intent_id"] = opts.PaymentIntentID
			}
			maps.Copy(g.Metadata, facts)
			details := map[string]any{"grant_id": g.ID, "source": string(SourcePack)}
			for k, v := range facts {
				details[k] = v
			}
			details["amount_paid"] = paid
			if expires != nil {
				details["expires_at"] = *expires
			}
			e, err := w.addEntry(ws, &Entry{Type: EntryGrant, Category: CategoryPackPurchase, Amount: credits, At: w.now, Actor: opts.Actor,
				IdempotencyKey: opts.IdempotencyKey, Details: details, Metadata: maps.Clone(opts.Metadata),
				Allocations: []Allocation{{GrantID: g.ID, Amount: credits}}})
			if err != nil {
				return nil, err
			}
			w.addGrant(ws, g)
			w.refreshAvailable(ws, e)
			row := &store.Purchase{ID: id, Customer: customer, Currency: cur.Name, Pack: pack.Name, Provider: opts.Provider,
				ExternalID: opts.ExternalID, ChargeID: opts.ChargeID, PaymentIntentID: opts.PaymentIntentID, Credits: int64(credits),
				AmountPaid: paid, MoneyCurrency: money, GrantID: g.ID, PurchasedAt: purchasedAt, Metadata: mustJSON(orEmpty(opts.Metadata)),
				CreatedAt: w.now, UpdatedAt: w.now}
			w.savePurchase(row)
			w.event(EventCreditsGranted, key, map[string]any{"grant_id": g.ID, "entry_id": e.ID, "amount": credits, "reason": CategoryPackPurchase,
				"effective_at": w.now, "expires_at": expires})
			w.event(EventPurchaseCompleted, key, map[string]any{"purchase_id": id, "grant_id": g.ID, "entry_id": e.ID, "pack": pack.Name,
				"provider": opts.Provider, "external_id": opts.ExternalID, "credits": credits, "amount_paid": paid, "money_currency": money,
				"charge_id": opts.ChargeID, "payment_intent_id": opts.PaymentIntentID, "purchased_at": purchasedAt})
			p, err := purchaseFromRow(row)
			if err != nil {
				return nil, err
			}
			p.CostBasis = basis
			return p, nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Purchase), nil
}

// purchaseDiff describes what a replayed purchase gives explicitly that
// differs from the recorded one (amount paid, money currency, credits),
// or "" when nothing given differs. What the replay leaves out is not
// compared: it defaults to the pack's, which may have changed since.
func purchaseDiff(prev *store.Purchase, amountGiven bool, paid int64, moneyGiven bool, money string, credits Amount) string {
	var diffs []string
	if amountGiven && paid != prev.AmountPaid {
		diffs = append(diffs, fmt.Sprintf("amount_paid %d (%s) recorded, not the %d given", prev.AmountPaid,
			FormatMoney(prev.AmountPaid, prev.MoneyCurrency), paid))
	}
	if moneyGiven && money != prev.MoneyCurrency {
		diffs = append(diffs, fmt.Sprintf("currency %s recorded, not the %s given", prev.MoneyCurrency, money))
	}
	if credits != 0 && int64(credits) != prev.Credits {
		diffs = append(diffs, fmt.Sprintf("credits %d recorded, not the %d given", prev.Credits, credits))
	}
	return strings.Join(diffs, " and ")
}

// GetPurchase returns the purchase of a provider's payment, or a not_found
// error.
func (l *Ledger) GetPurchase(ctx context.Context, provider, externalID string) (*Purchase, error) {
	if err := checkProvider(provider); err != nil {
		return nil, err
	}
	if err := checkID("external_id", externalID); err != nil {
		return nil, err
	}
	var row *store.Purchase
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		pr, err := purchaseReaderOf(tx)
		if err != nil {
			return err
		}
		row, err = pr.PurchaseByExternalID(ctx, provider, externalID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, errorf(CodeNotFound, "no purchase of %s payment %q: check the provider and external_id", provider, externalID)
	}
	p, err := purchaseFromRow(row)
	if err != nil {
		return nil, err
	}
	p.CostBasis = l.rowCostBasis(row)
	return p, nil
}

// PurchaseFilter pages Purchases. The zero value lists the first 100.
type PurchaseFilter struct {
	// Limit caps the number of purchases. Defaults to 100; at most 1000.
	Limit int
	// After is a cursor: the ID of the last purchase of the previous page.
	After string
}

// Purchases lists a customer's purchases, oldest first. A customer never
// seen is customer_not_found.
func (l *Ledger) Purchases(ctx context.Context, customer string, f *PurchaseFilter) ([]*Purchase, error) {
	if f == nil {
		f = &PurchaseFilter{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	var rows []*store.Purchase
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		pr, err := purchaseReaderOf(tx)
		if err != nil {
			return err
		}
		rows, err = pr.Purchases(ctx, store.PurchaseQuery{Customer: customer, After: f.After, Limit: pageLimit(f.Limit)})
		if err != nil {
			return err
		}
		if len(rows) == 0 && f.After == "" {
			return requireCustomer(ctx, tx, customer)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Purchase, 0, len(rows))
	for _, r := range rows {
		p, err := purchaseFromRow(r)
		if err != nil {
			return nil, err
		}
		p.CostBasis = l.rowCostBasis(r)
		out = append(out, p)
	}
	return out, nil
}

// purchaseReaderOf returns the purchase queries of a store's transaction.
func purchaseReaderOf(tx store.ReadTx) (store.PurchaseReader, error) {
	pr, ok := tx.(store.PurchaseReader)
	if !ok {
		// Not CodeInternal: that would abort the whole batch, and only the
		// purchase requests of it need to fail.
		return nil, &Error{Code: CodeInvalidConfig, Message: fmt.Sprintf("this store (%T) does not keep purchases: it lacks store.PurchaseReader", tx)}
	}
	return pr, nil
}

// findPurchase returns the purchase of a provider's payment as this write
// sees it: saved earlier in the same batch, or in the database.
func (w *writeState) findPurchase(ctx context.Context, provider, externalID string) (*store.Purchase, error) {
	for i := len(w.changes.Purchases) - 1; i >= 0; i-- {
		if p := w.changes.Purchases[i]; p.Provider == provider && p.ExternalID == externalID {
			return p, nil
		}
	}
	pr, err := purchaseReaderOf(w.tx)
	if err != nil {
		return nil, err
	}
	return pr.PurchaseByExternalID(ctx, provider, externalID)
}

// savePurchase queues a purchase row to save with the write.
func (w *writeState) savePurchase(row *store.Purchase) {
	w.muts++
	w.changes.Purchases = append(w.changes.Purchases, row)
}

// rowCostBasis recomputes a stored purchase's cost basis.
func (l *Ledger) rowCostBasis(r *store.Purchase) *CostBasis {
	decimals := 0
	if cur, ok := l.cfg.Currency(r.Currency); ok {
		decimals = cur.Decimals
	}
	return purchaseCostBasis(r.AmountPaid, r.MoneyCurrency, Amount(r.Credits), decimals)
}

func purchaseFromRow(r *store.Purchase) (*Purchase, error) {
	p := &Purchase{
		ID: r.ID, Customer: r.Customer, Pack: r.Pack, Provider: r.Provider, ExternalID: r.ExternalID, ChargeID: r.ChargeID,
		PaymentIntentID: r.PaymentIntentID, Credits: Amount(r.Credits), Currency: r.Currency, AmountPaid: r.AmountPaid,
		MoneyCurrency: r.MoneyCurrency, GrantID: r.GrantID, PurchasedAt: r.PurchasedAt, RefundedCents: r.RefundedCents,
		ClawedBack: Amount(r.ClawedBack), RefundDebt: Amount(r.RefundDebt), Shortfall: Amount(r.Shortfall), CreatedAt: r.CreatedAt,
	}
	if err := unmarshalObject(r.Metadata, &p.Metadata); err != nil {
		return nil, fmt.Errorf("purchase %s: decode metadata: %w", r.ID, err)
	}
	return p, nil
}
