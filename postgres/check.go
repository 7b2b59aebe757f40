package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

var (
	_ store.CheckReader  = (*Store)(nil)
	_ store.ChargeSummer = (*readTx)(nil)
)

// sumChargesQuery is the negated sum of the wallet's charges (entries of
// type charge with a negative amount) that occurred at or after $3
// (microseconds). Whole hours come from charge_totals (migration 0012, one
// row per wallet and hour, kept by a trigger), the hour $3 falls in is
// summed from its charges through entries_usage: at most one row per hour
// of the range plus one hour of charges, however many charges the range
// holds. The first whole hour is $3 rounded up to the hour (% truncates
// toward zero, so that holds before 1970 too).
const sumChargesQuery = `SELECT ((SELECT COALESCE(SUM(t.charged), 0) FROM charge_totals t
  WHERE t.customer = $1 AND t.currency = $2 AND t.hour >= $3::bigint + (3600000000 - $3::bigint % 3600000000) % 3600000000)
 + (SELECT COALESCE(SUM(-e.amount), 0) FROM entries e
  WHERE e.customer = $1 AND e.currency = $2 AND e.type = 'charge' AND e.amount < 0
   AND e.occurred_at >= $3::bigint AND e.occurred_at < $3::bigint + (3600000000 - $3::bigint % 3600000000) % 3600000000))::bigint`

// periodChargesQuery is sumChargesQuery since the start of the wallet's
// subscription period, read in the same statement (0 without one), so
// that a check needs no second round trip.
const periodChargesQuery = `SELECT COALESCE((SELECT (SELECT COALESCE(SUM(t.charged), 0) FROM charge_totals t
  WHERE t.customer = s.customer AND t.currency = s.currency
   AND t.hour >= s.period_start + (3600000000 - s.period_start % 3600000000) % 3600000000)
 + (SELECT COALESCE(SUM(-e.amount), 0) FROM entries e
  WHERE e.customer = s.customer AND e.currency = s.currency AND e.type = 'charge' AND e.amount < 0
   AND e.occurred_at >= s.period_start AND e.occurred_at < s.period_start + (3600000000 - s.period_start % 3600000000) % 3600000000)
 FROM subscriptions s WHERE s.customer = $1 AND s.currency = $2), 0)::bigint`

// SumCharges sums the wallet's charges since a time.
func (r *readTx) SumCharges(ctx context.Context, key store.WalletKey, since time.Time) (int64, error) {
	var sum int64
	if err := r.tx.QueryRow(ctx, sumChargesQuery, key.Customer, key.Currency, since.UnixMicro()).Scan(&sum); err != nil {
		return 0, translate("sum charges", err)
	}
	return sum, nil
}

// CheckState reads what a check needs of one wallet (its row, live grants,
// active holds, subscription, and the charges of the subscription's
// current period) in one repeatable-read snapshot, sent as one pipelined
// batch as WalletState is.
func (s *Store) CheckState(ctx context.Context, key store.WalletKey) (*store.CheckState, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	b.Queue("SELECT "+walletColumns+" FROM wallets WHERE customer = $1 AND currency = $2", key.Customer, key.Currency)
	b.Queue(oneWalletGrantsQuery, key.Customer, key.Currency)
	b.Queue(oneWalletHoldsQuery, key.Customer, key.Currency)
	b.Queue("SELECT "+subscriptionColumns+" FROM subscriptions WHERE customer = $1 AND currency = $2", key.Customer, key.Currency)
	b.Queue(periodChargesQuery, key.Customer, key.Currency)
	b.Queue("COMMIT")
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, translate("begin check read", err)
	}
	st := &store.CheckState{}
	wallets, err := scanAll(br, scanWallet, "read wallet")
	if err != nil {
		return nil, err
	}
	if len(wallets) > 0 {
		st.Wallet = wallets[0]
	}
	if st.Grants, err = scanAll(br, scanGrant, "read live grants"); err != nil {
		return nil, err
	}
	if st.Holds, err = scanAll(br, scanHold, "read active holds"); err != nil {
		return nil, err
	}
	subs, err := scanAll(br, scanSubscription, "read subscription")
	if err != nil {
		return nil, err
	}
	if len(subs) > 0 {
		st.Subscription = subs[0]
	}
	if err := br.QueryRow().Scan(&st.Charged); err != nil {
		return nil, translate("sum charges", err)
	}
	if _, err := br.Exec(); err != nil {
		return nil, translate("commit check read", err)
	}
	return st, nil
}
