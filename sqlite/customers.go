package sqlite

import (
	"context"
	"fmt"

	"github.com/creditkit/creditkit/store"
)

const customerCols = `id, name, email, metadata, created_at`

func scanCustomer(r scanner) (*store.Customer, error) {
	var c store.Customer
	var meta string
	var created int64
	if err := r.Scan(&c.ID, &c.Name, &c.Email, &meta, &created); err != nil {
		return nil, err
	}
	c.Metadata, c.CreatedAt = []byte(meta), fromMicros(created)
	return &c, nil
}

func (t *txn) Customer(ctx context.Context, id string) (*store.Customer, error) {
	return queryOne(ctx, t, "read customer", scanCustomer, `SELECT `+customerCols+` FROM customers WHERE id = ?`, id)
}

func (t *txn) Customers(ctx context.Context, q store.CustomerQuery) ([]*store.Customer, error) {
	if end := store.PrefixEnd(q.Prefix); end != "" {
		return queryAll(ctx, t, "list customers", scanCustomer,
			`SELECT `+customerCols+` FROM customers WHERE id >= ? AND id > ? AND id < ? ORDER BY id LIMIT ?`, q.Prefix, q.After, end, q.Limit)
	}
	return queryAll(ctx, t, "list customers", scanCustomer,
		`SELECT `+customerCols+` FROM customers WHERE id >= ? AND id > ? ORDER BY id LIMIT ?`, q.Prefix, q.After, q.Limit)
}

// applyCustomers creates the customers of c. A new customer that exists
// already lost a race (another connection created it since the domain
// looked), so the transaction reruns; a customer first seen by a write is
// created unless it exists.
func (t *txn) applyCustomers(ctx context.Context, c *store.Changes) error {
	for _, list := range []struct {
		rows []*store.Customer
		must bool
	}{{c.NewCustomers, true}, {c.SeenCustomers, false}} {
		for _, cu := range list.rows {
			st, err := t.stmt(ctx, `INSERT INTO customers (`+customerCols+`) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
			if err != nil {
				return t.s.translate("create customer", err)
			}
			res, err := st.ExecContext(ctx, cu.ID, cu.Name, cu.Email, string(orObject(cu.Metadata)), micros(cu.CreatedAt))
			if err != nil {
				return t.s.translate("create customer", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return t.s.translate("create customer", err)
			} else if n == 0 && list.must {
				return fmt.Errorf("sqlite: create customer %q: it exists already: %w", cu.ID, store.ErrRetry)
			}
		}
	}
	return nil
}
