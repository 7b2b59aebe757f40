package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// CustomersCmd groups the customer subcommands.
type CustomersCmd struct {
	Create CustomersCreateCmd `cmd:"" help:"Create a customer with a name, email and metadata."`
	List   CustomersListCmd   `cmd:"" help:"List customers by ID."`
	Show   CustomersShowCmd   `cmd:"" help:"Show a customer and its balance in every currency."`
}

// customerBackend is what the customer verbs call, on --db or --server.
type customerBackend interface {
	CreateCustomer(ctx context.Context, id string, opts *creditkit.CustomerOpts) (*creditkit.Customer, error)
	GetCustomer(ctx context.Context, id string) (*creditkit.Customer, error)
	Customers(ctx context.Context, f *creditkit.CustomerFilter) ([]*creditkit.Customer, error)
}

var (
	_ customerBackend = (*creditkit.Ledger)(nil)
	_ customerBackend = (*httpapi.Client)(nil)
)

// withCustomers runs fn on the backend's customer verbs.
func (s *session) withCustomers(fn func(b customerBackend) error) error {
	return s.withBackend(func(b backend) error {
		cb, ok := b.(customerBackend)
		if !ok {
			return fmt.Errorf("the %T backend has no customer verbs", b)
		}
		return fn(cb)
	})
}

// CustomersCreateCmd creates a customer.
type CustomersCreateCmd struct {
	ID    string `arg:"" name:"id" help:"The customer's ID in your system."`
	Name  string `name:"name" placeholder:"NAME" help:"A display name."`
	Email string `name:"email" placeholder:"ADDR" help:"A plain email address."`
	metaFlag
	writeFlags
}

// Run creates the customer.
func (c *CustomersCreateCmd) Run(s *session) error {
	meta, err := parseMeta(c.Meta)
	if err != nil {
		return err
	}
	return s.withCustomers(func(b customerBackend) error {
		cu, err := b.CreateCustomer(s.ctx, c.ID, &creditkit.CustomerOpts{Name: c.Name, Email: c.Email, Metadata: meta,
			IdempotencyKey: c.IdempotencyKey, Actor: actor})
		if err != nil {
			return err
		}
		return s.output(cu, func(w io.Writer) {
			fmt.Fprintf(w, "customer %s\n", cu.ID)
			printCustomer(w, s.cfg, cu)
		})
	})
}

// CustomersListCmd lists customers.
type CustomersListCmd struct {
	Prefix string `name:"prefix" placeholder:"P" help:"Only customers whose ID starts with P."`
	Limit  int    `name:"limit" placeholder:"N" help:"List at most N customers (default 100, at most 1000)."`
	After  string `name:"after" placeholder:"ID" help:"Start after this customer ID (the last of the previous page)."`
}

// Run lists the customers.
func (c *CustomersListCmd) Run(s *session) error {
	return s.withCustomers(func(b customerBackend) error {
		cs, err := b.Customers(s.ctx, &creditkit.CustomerFilter{Prefix: c.Prefix, Limit: c.Limit, After: c.After})
		if err != nil {
			return err
		}
		if cs == nil {
			cs = []*creditkit.Customer{}
		}
		return s.output(cs, func(w io.Writer) {
			if len(cs) == 0 {
				fmt.Fprintln(w, "no customers")
				return
			}
			t := newTable(w)
			t.row("ID", "NAME", "EMAIL", "CREATED")
			for _, cu := range cs {
				t.row(cu.ID, cu.Name, cu.Email, fmtTime(cu.CreatedAt))
			}
			t.flush()
		})
	})
}

// CustomersShowCmd shows one customer.
type CustomersShowCmd struct {
	ID string `arg:"" name:"id" help:"Customer ID."`
}

// Run shows the customer.
func (c *CustomersShowCmd) Run(s *session) error {
	return s.withCustomers(func(b customerBackend) error {
		cu, err := b.GetCustomer(s.ctx, c.ID)
		if err != nil {
			return err
		}
		return s.output(cu, func(w io.Writer) {
			fmt.Fprintf(w, "customer %s\n", cu.ID)
			printCustomer(w, s.cfg, cu)
		})
	})
}

// printCustomer prints a customer's details and balances as key-value
// lines.
func printCustomer(w io.Writer, cfg *creditkit.Config, cu *creditkit.Customer) {
	t := newTable(w)
	t.row("name", cu.Name)
	t.row("email", cu.Email)
	t.row("created", fmtTime(cu.CreatedAt))
	keys := make([]string, 0, len(cu.Metadata))
	for k := range cu.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.row("meta "+k, cu.Metadata[k])
	}
	for _, b := range cu.Balances {
		t.row("available "+b.Currency, cfg.FormatAmount(b.Available, b.Currency))
		if b.Held != 0 {
			t.row("held "+b.Currency, cfg.FormatAmount(b.Held, b.Currency))
		}
	}
	t.flush()
}
