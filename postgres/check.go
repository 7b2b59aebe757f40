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

// sumChargesQuery reads entries_usage: the wallet's charges since $3.
const sumChargesQuery = `SELECT COALESCE(SUM(-amount), 0)::bigint FROM entries
WHERE customer = $1 AND currency = $2 AND type = 'charge' AND occurred_at >= $3 AND amount < 0`

// periodChargesQuery is sumChargesQuery since the start of the wallet's
// subscription period, read in the same statement (0 without one), so
// that a check needs no second round trip.
const periodChargesQuery = `SELECT COALESCE(SUM(-e.amount), 0)::bigint FROM subscriptions s
JOIN entries e ON e.customer = s.customer AND e.currency = s.currency AND e.type = 'charge'
 AND e.occurred_at >= s.period_start AND e.amount < 0
WHERE s.customer = $1 AND s.currency = $2`

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
