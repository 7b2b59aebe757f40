package sqlite

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

var _ store.ChargeSummer = (*txn)(nil)

// SumCharges sums the wallet's charges since a time through the
// entries_usage index.
func (t *txn) SumCharges(ctx context.Context, key store.WalletKey, since time.Time) (int64, error) {
	var sum int64
	err := t.q.QueryRowContext(ctx, `SELECT COALESCE(SUM(-amount), 0) FROM entries
WHERE customer = ? AND currency = ? AND type = 'charge' AND occurred_at >= ? AND amount < 0`,
		key.Customer, key.Currency, micros(since)).Scan(&sum)
	return sum, t.s.translate("sum charges", err)
}
