package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

const customerColumns = "id, name, email, metadata, created_at"

func scanCustomer(row pgx.Row) (*store.Customer, error) {
	var c store.Customer
	var created int64
	if err := row.Scan(&c.ID, &c.Name, &c.Email, &c.Metadata, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

func (r *readTx) Customer(ctx context.Context, id string) (*store.Customer, error) {
	return queryOne(ctx, r.tx, scanCustomer, "read customer", "SELECT "+customerColumns+" FROM customers WHERE id = $1", id)
}

func (r *readTx) Customers(ctx context.Context, q store.CustomerQuery) ([]*store.Customer, error) {
	if end := store.PrefixEnd(q.Prefix); end != "" {
		return queryAll(ctx, r.tx, scanCustomer, "list customers",
			"SELECT "+customerColumns+" FROM customers WHERE id >= $1 AND id > $2 AND id < $3 ORDER BY id LIMIT $4",
			q.Prefix, q.After, end, limitArg(q.Limit))
	}
	return queryAll(ctx, r.tx, scanCustomer, "list customers",
		"SELECT "+customerColumns+" FROM customers WHERE id >= $1 AND id > $2 ORDER BY id LIMIT $3",
		q.Prefix, q.After, limitArg(q.Limit))
}

// applyCustomers creates the customers of c, in one round trip before the
// rest of Apply (customers are written rarely: once each). A new customer
// that exists already lost a race (another transaction created it since
// the domain looked), so the transaction reruns; a customer first seen by
// a write is created unless it exists.
func (w *writeTx) applyCustomers(ctx context.Context, c *store.Changes) error {
	if len(c.NewCustomers) == 0 && len(c.SeenCustomers) == 0 {
		return nil
	}
	const insert = `INSERT INTO customers (` + customerColumns + `)
SELECT id, name, email, COALESCE(metadata::jsonb, '{}'), created_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(id, name, email, metadata, created_at)
ORDER BY id
ON CONFLICT DO NOTHING`
	args := func(rows []*store.Customer) []any {
		return []any{
			column(rows, func(v *store.Customer) string { return v.ID }),
			column(rows, func(v *store.Customer) string { return v.Name }),
			column(rows, func(v *store.Customer) string { return v.Email }),
			column(rows, func(v *store.Customer) *string { return jsonText(v.Metadata) }),
			column(rows, func(v *store.Customer) int64 { return v.CreatedAt.UnixMicro() }),
		}
	}
	batch := &pgx.Batch{}
	if len(c.NewCustomers) > 0 {
		batch.Queue(insert, args(c.NewCustomers)...)
	}
	if len(c.SeenCustomers) > 0 {
		batch.Queue(insert, args(c.SeenCustomers)...)
	}
	br := w.tx.SendBatch(ctx, batch)
	defer br.Close()
	if len(c.NewCustomers) > 0 {
		tag, err := br.Exec()
		if err != nil {
			return translate("create customers", err)
		}
		if tag.RowsAffected() != int64(len(c.NewCustomers)) {
			return fmt.Errorf("postgres: create customers: %d of %d exist already: %w", int64(len(c.NewCustomers))-tag.RowsAffected(), len(c.NewCustomers), store.ErrRetry)
		}
	}
	if len(c.SeenCustomers) > 0 {
		if _, err := br.Exec(); err != nil {
			return translate("create customers", err)
		}
	}
	if err := br.Close(); err != nil {
		return translate("create customers", err)
	}
	return nil
}
