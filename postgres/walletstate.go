package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

var _ store.WalletStateReader = (*Store)(nil)

// WalletState reads the wallets' rows, live grants and active holds in one
// repeatable-read snapshot, sent as one pipelined batch: BEGIN, the three
// queries and COMMIT travel in a single round trip. A connection left in a
// failed transaction is closed by the pool, not reused.
func (s *Store) WalletState(ctx context.Context, keys []store.WalletKey) ([]*store.Wallet, []*store.Grant, []*store.Hold, error) {
	if len(keys) == 0 {
		return nil, nil, nil, nil
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	{
		customers, currencies := keyArrays(keys)
		b.Queue("SELECT "+walletColumns+" FROM wallets WHERE (customer, currency) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
			customers, currencies)
	}
	if len(keys) == 1 {
		b.Queue(oneWalletGrantsQuery, keys[0].Customer, keys[0].Currency)
		b.Queue(oneWalletHoldsQuery, keys[0].Customer, keys[0].Currency)
	} else {
		customers, currencies := keyArrays(keys)
		b.Queue(liveGrantsQuery, customers, currencies)
		b.Queue(activeHoldsQuery, customers, currencies)
	}
	b.Queue("COMMIT")
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, nil, nil, translate("begin wallet read", err)
	}
	wallets, err := scanAll(br, scanWallet, "read wallets")
	if err != nil {
		return nil, nil, nil, err
	}
	grants, err := scanAll(br, scanGrant, "read live grants")
	if err != nil {
		return nil, nil, nil, err
	}
	holds, err := scanAll(br, scanHold, "read active holds")
	if err != nil {
		return nil, nil, nil, err
	}
	grants = onlyKeys(grants, keys, func(g *store.Grant) store.WalletKey {
		return store.WalletKey{Customer: g.Customer, Currency: g.Currency}
	})
	holds = onlyKeys(holds, keys, func(h *store.Hold) store.WalletKey {
		return store.WalletKey{Customer: h.Customer, Currency: h.Currency}
	})
	if _, err := br.Exec(); err != nil {
		return nil, nil, nil, translate("commit wallet read", err)
	}
	return wallets, grants, holds, nil
}

// scanAll reads every row of the batch's next query.
func scanAll[T any](br pgx.BatchResults, scan func(pgx.Row) (*T, error), op string) ([]*T, error) {
	rows, err := br.Query()
	return collect(rows, err, scan, op)
}
