package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/creditkit/creditkit/store"
)

const purchaseCols = `id, customer, currency, pack, provider, external_id, charge_id, payment_intent_id, credits, amount_paid,
money_currency, grant_id, purchased_at, refunded_cents, clawed_back, refund_debt, shortfall, metadata, created_at, updated_at`

var _ store.PurchaseReader = (*txn)(nil)

func scanPurchase(r scanner) (*store.Purchase, error) {
	var p store.Purchase
	var purchased, created, updated int64
	var meta string
	if err := r.Scan(&p.ID, &p.Customer, &p.Currency, &p.Pack, &p.Provider, &p.ExternalID, &p.ChargeID, &p.PaymentIntentID,
		&p.Credits, &p.AmountPaid, &p.MoneyCurrency, &p.GrantID, &purchased, &p.RefundedCents, &p.ClawedBack, &p.RefundDebt,
		&p.Shortfall, &meta, &created, &updated); err != nil {
		return nil, err
	}
	p.PurchasedAt, p.CreatedAt, p.UpdatedAt = fromMicros(purchased), fromMicros(created), fromMicros(updated)
	p.Metadata = []byte(meta)
	return &p, nil
}

func (t *txn) PurchaseByExternalID(ctx context.Context, provider, externalID string) (*store.Purchase, error) {
	return queryOne(ctx, t, "read purchase", scanPurchase,
		`SELECT `+purchaseCols+` FROM purchases WHERE provider = ? AND external_id = ?`, provider, externalID)
}

func (t *txn) PurchaseByCharge(ctx context.Context, provider, chargeID string) (*store.Purchase, error) {
	if chargeID == "" {
		return nil, nil
	}
	return queryOne(ctx, t, "read purchase by charge", scanPurchase,
		`SELECT `+purchaseCols+` FROM purchases WHERE provider = ? AND charge_id = ? AND charge_id <> '' ORDER BY id DESC LIMIT 1`,
		provider, chargeID)
}

func (t *txn) PurchaseByPaymentIntent(ctx context.Context, provider, paymentIntentID string) (*store.Purchase, error) {
	if paymentIntentID == "" {
		return nil, nil
	}
	return queryOne(ctx, t, "read purchase by payment intent", scanPurchase,
		`SELECT `+purchaseCols+` FROM purchases WHERE provider = ? AND payment_intent_id = ? AND payment_intent_id <> ''
ORDER BY id DESC LIMIT 1`, provider, paymentIntentID)
}

func (t *txn) Purchases(ctx context.Context, q store.PurchaseQuery) ([]*store.Purchase, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	return queryAll(ctx, t, "list purchases", scanPurchase,
		`SELECT `+purchaseCols+` FROM purchases WHERE customer = ? AND id > ? ORDER BY id LIMIT ?`, q.Customer, q.After, limit)
}

// applyPurchases saves whole purchase rows, inserted or replacing the row
// of the same ID. A new row whose (provider, external_id) another row has
// is a lost race: the transaction reruns and finds that row.
func (t *txn) applyPurchases(ctx context.Context, c *store.Changes) error {
	for _, p := range c.Purchases {
		st, err := t.stmt(ctx, `INSERT INTO purchases (`+purchaseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET charge_id = excluded.charge_id, payment_intent_id = excluded.payment_intent_id,
refunded_cents = excluded.refunded_cents, clawed_back = excluded.clawed_back, refund_debt = excluded.refund_debt,
shortfall = excluded.shortfall, metadata = excluded.metadata, updated_at = excluded.updated_at`)
		if err != nil {
			return t.s.translate("save purchase", err)
		}
		meta := string(p.Metadata)
		if meta == "" {
			meta = "{}"
		}
		if _, err := st.ExecContext(ctx, p.ID, p.Customer, p.Currency, p.Pack, p.Provider, p.ExternalID, p.ChargeID, p.PaymentIntentID,
			p.Credits, p.AmountPaid, p.MoneyCurrency, p.GrantID, micros(p.PurchasedAt), p.RefundedCents, p.ClawedBack, p.RefundDebt,
			p.Shortfall, meta, micros(p.CreatedAt), micros(p.UpdatedAt)); err != nil {
			var se *sqlite3.Error
			if errors.As(err, &se) && se.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "purchases.provider") {
				return fmt.Errorf("sqlite: save purchase %s/%s: it was fulfilled concurrently: %w", p.Provider, p.ExternalID, store.ErrRetry)
			}
			return t.s.translate("save purchase", err)
		}
	}
	return nil
}
