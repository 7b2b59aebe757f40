package main

import (
	"context"
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// overageBackend is what the overage verbs call, on --db or --server.
type overageBackend interface {
	SetOverageLimit(ctx context.Context, customer string, limit creditkit.Amount, opts *creditkit.OverageOpts) (*creditkit.Overage, error)
	GetOverage(ctx context.Context, customer, currency string) (*creditkit.Overage, error)
	SettleDebt(ctx context.Context, customer string, opts *creditkit.SettleOpts) (*creditkit.Settlement, error)
}

var (
	_ overageBackend = (*creditkit.Ledger)(nil)
	_ overageBackend = (*httpapi.Client)(nil)
)

// OverageCmd shows a customer's overage limit and debt, or sets the limit.
type OverageCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Limit    string `arg:"" optional:"" placeholder:"LIMIT" help:"New overage limit: how far into debt the wallet may go (0 turns overage off)."`
	Currency string `name:"currency" placeholder:"C" help:"Currency; defaults to the first configured one."`
	writeFlags
}

// Run shows or sets the limit.
func (c *OverageCmd) Run(s *session) error {
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	var limit creditkit.Amount
	if c.Limit != "" {
		var err error
		if limit, err = parseAmount(s.cfg, c.Limit, c.Currency); err != nil {
			return err
		}
	}
	return s.withBackend(func(b backend) error {
		ob, ok := b.(overageBackend)
		if !ok {
			return fmt.Errorf("this backend cannot manage overage")
		}
		var (
			o   *creditkit.Overage
			err error
		)
		if c.Limit != "" {
			o, err = ob.SetOverageLimit(s.ctx, c.Customer, limit, &creditkit.OverageOpts{Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor})
		} else {
			o, err = ob.GetOverage(s.ctx, c.Customer, c.Currency)
		}
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(o, func(w io.Writer) {
			fmt.Fprintf(w, "overage of %s (%s): limit %s, debt %s\n", o.Customer, o.Currency,
				cfg.FormatAmount(o.Limit, o.Currency), cfg.FormatAmount(o.Debt, o.Currency))
		})
	})
}

// SettleCmd settles a customer's overage debt.
type SettleCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Price    string `name:"price" placeholder:"PRICE" help:"Overage price of the settled credits, such as \"1 USD per 100 credits\". Without it the debt is settled without money."`
	At       string `name:"at" placeholder:"TIME" help:"When the settlement takes effect (a billing period end), at or before now; defaults to now."`
	Currency string `name:"currency" placeholder:"C" help:"Currency; defaults to the first configured one."`
	writeFlags
}

// Run settles the debt.
func (c *SettleCmd) Run(s *session) error {
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	opts := &creditkit.SettleOpts{Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor}
	if c.Price != "" {
		p, _, err := s.cfg.ParseOveragePrice(c.Price)
		if err != nil {
			return err
		}
		opts.OveragePrice = p
	}
	if c.At != "" {
		at, err := parseTime("at", c.At)
		if err != nil {
			return err
		}
		opts.At = at
	}
	return s.withBackend(func(b backend) error {
		ob, ok := b.(overageBackend)
		if !ok {
			return fmt.Errorf("this backend cannot settle debt")
		}
		st, err := ob.SettleDebt(s.ctx, c.Customer, opts)
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(st, func(w io.Writer) {
			if st.Credits == 0 {
				fmt.Fprintf(w, "%s owes nothing in %s: nothing to settle\n", st.Customer, st.Currency)
				return
			}
			fmt.Fprintf(w, "settled %s of %s's debt", cfg.FormatAmount(st.Credits, st.Currency), st.Customer)
			if st.Money != "" {
				fmt.Fprintf(w, ": %s %s billed", st.Money, st.MoneyCurrency)
			}
			fmt.Fprintln(w)
		})
	})
}
