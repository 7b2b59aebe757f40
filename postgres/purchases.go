package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/creditkit/creditkit/store"
)

const purchaseColumns = `id, customer, currency, pack, provider, external_id, charge_id, payment_intent_id, credits, amount_paid,
money_currency, grant_id, purchased_at, refunded_cents, clawed_back, refund_debt, shortfall, metadata, created_at, updated_at`

// purchasesExternalKey is the name of the unique constraint on
// (provider, external_id).
const purchasesExternalKey = "purchases_external"

var _ store.PurchaseReader = (*readTx)(nil)

func scanPurchase(row pgx.Row) (*store.Purchase, error) {
	var p store.Purchase
	var purchased, created, updated int64
	var meta string
	if err := row.Scan(&p.ID, &p.Customer, &p.Currency, &p.Pack, &p.Provider, &p.ExternalID, &p.ChargeID, &p.PaymentIntentID,
		&p.Credits, &p.AmountPaid, &p.MoneyCurrency, &p.GrantID, &purchased, &p.RefundedCents, &p.ClawedBack, &p.RefundDebt,
		&p.Shortfall, &meta, &created, &updated); err != nil {
		return nil, err
	}
	p.PurchasedAt, p.CreatedAt, p.UpdatedAt = fromMicros(purchased), fromMicros(created), fromMicros(updated)
	p.Metadata = []byte(meta)
	return &p, nil
}

func (r *readTx) PurchaseByExternalID(ctx context.Context, provider, externalID string) (*store.Purchase, error) {
	return queryOne(ctx, r.tx, scanPurchase, "read purchase",
		"SELECT "+purchaseColumns+" FROM purchases WHERE provider = $1 AND external_id = $2", provider, externalID)
}

func (r *readTx) PurchaseByCharge(ctx context.Context, provider, chargeID string) (*store.Purchase, error) {
	if chargeID == "" {
		return nil, nil
	}
	return queryOne(ctx, r.tx, scanPurchase, "read purchase by charge",
		"SELECT "+purchaseColumns+` FROM purchases WHERE provider = $1 AND charge_id = $2 AND charge_id <> ''
ORDER BY id DESC LIMIT 1`, provider, chargeID)
}

func (r *readTx) PurchaseByPaymentIntent(ctx context.Context, provider, paymentIntentID string) (*store.Purchase, error) {
	if paymentIntentID == "" {
		return nil, nil
	}
	return queryOne(ctx, r.tx, scanPurchase, "read purchase by payment intent",
		"SELECT "+purchaseColumns+` FROM purchases WHERE provider = $1 AND payment_intent_id = $2 AND payment_intent_id <> ''
ORDER BY id DESC LIMIT 1`, provider, paymentIntentID)
}

func (r *readTx) Purchases(ctx context.Context, q store.PurchaseQuery) ([]*store.Purchase, error) {
	return queryAll(ctx, r.tx, scanPurchase, "list purchases",
		"SELECT "+purchaseColumns+" FROM purchases WHERE customer = $1 AND id > $2 ORDER BY id LIMIT $3",
		q.Customer, q.After, limitArg(q.Limit))
}

// applyPurchases saves whole purchase rows, inserted or replacing the row
// of the same ID (the last of a list that names one twice). A new row
// whose (provider, external_id) another transaction inserted is a lost
// race: the transaction reruns and finds that row.
func (w *writeTx) applyPurchases(ctx context.Context, c *store.Changes) error {
	rows := lastByKey(c.Purchases, func(v *store.Purchase) string { return v.ID })
	for _, p := range rows {
		meta := string(p.Metadata)
		if meta == "" {
			meta = "{}"
		}
		if _, err := w.tx.Exec(ctx, `INSERT INTO purchases (`+purchaseColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
ON CONFLICT (id) DO UPDATE SET charge_id = excluded.charge_id, payment_intent_id = excluded.payment_intent_id,
refunded_cents = excluded.refunded_cents, clawed_back = excluded.clawed_back, refund_debt = excluded.refund_debt,
shortfall = excluded.shortfall, metadata = excluded.metadata, updated_at = excluded.updated_at`,
			p.ID, p.Customer, p.Currency, p.Pack, p.Provider, p.ExternalID, p.ChargeID, p.PaymentIntentID, p.Credits, p.AmountPaid,
			p.MoneyCurrency, p.GrantID, p.PurchasedAt.UnixMicro(), p.RefundedCents, p.ClawedBack, p.RefundDebt, p.Shortfall, meta,
			p.CreatedAt.UnixMicro(), p.UpdatedAt.UnixMicro()); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == purchasesExternalKey {
				return fmt.Errorf("postgres: save purchase %s/%s: it was fulfilled concurrently: %w: %w", p.Provider, p.ExternalID, store.ErrRetry, err)
			}
			return translate("save purchase", err)
		}
	}
	return nil
}
