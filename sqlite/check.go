package sqlite

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

var _ store.ChargeSummer = (*txn)(nil)

// hourMicros is the width of a charge_totals row: one hour.
const hourMicros = int64(time.Hour / time.Microsecond)

// SumCharges sums the wallet's charges (entries of type charge with a
// negative amount) since a time. Whole hours come from charge_totals
// (migration 0012, one row per wallet and hour, kept by a trigger), the
// hour since falls in is summed from its charges through the entries_usage
// index: at most one row per hour plus one hour of charges, however many
// charges the range holds.
func (t *txn) SumCharges(ctx context.Context, key store.WalletKey, since time.Time) (int64, error) {
	from := micros(since)
	edge := ceilHour(from)
	var sum int64
	err := t.q.QueryRowContext(ctx, `SELECT
 (SELECT COALESCE(SUM(charged), 0) FROM charge_totals WHERE customer = ?1 AND currency = ?2 AND hour >= ?4)
 + (SELECT COALESCE(SUM(-amount), 0) FROM entries
    WHERE customer = ?1 AND currency = ?2 AND type = 'charge' AND occurred_at >= ?3 AND occurred_at < ?4 AND amount < 0)`,
		key.Customer, key.Currency, from, edge).Scan(&sum)
	return sum, t.s.translate("sum charges", err)
}

// ceilHour rounds microseconds since the epoch up to a whole hour (before
// 1970 too: % truncates toward zero).
func ceilHour(us int64) int64 {
	return us + (hourMicros-us%hourMicros)%hourMicros
}
