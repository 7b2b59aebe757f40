package main

import (
	"io"
	"slices"

	"github.com/creditkit/creditkit"
)

// BalanceCmd shows a customer's balance.
type BalanceCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Currency string `name:"currency" placeholder:"C" help:"Currency. Defaults to the config's first currency."`
	At       string `name:"at" placeholder:"T" help:"Balance at this instant (RFC 3339): rebuilt from the ledger if past, projected if future."`
}

// Run prints the balance.
func (c *BalanceCmd) Run(s *session) error {
	at, err := parseTime("at", c.At)
	if err != nil {
		return err
	}
	return s.withBackend(func(be backend) error {
		b, err := be.Balance(s.ctx, c.Customer, &creditkit.BalanceOpts{Currency: c.Currency, At: at})
		if err != nil {
			return err
		}
		return s.output(b, func(w io.Writer) { printBalance(w, s.cfg, b) })
	})
}

// HistoryCmd lists a customer's ledger entries.
type HistoryCmd struct {
	Customer  string `arg:"" help:"Customer ID."`
	Category  string `name:"category" placeholder:"C" help:"Only entries in this category, such as operation_charge or signup_bonus."`
	Operation string `name:"operation" placeholder:"OP" help:"Only charges for this operation."`
	Currency  string `name:"currency" placeholder:"C" help:"Only entries in this currency."`
	Limit     int    `name:"limit" placeholder:"N" help:"Show the last N entries (default 100, at most 1000)."`
}

// Run prints the entries, oldest first.
func (c *HistoryCmd) Run(s *session) error {
	return s.withBackend(func(b backend) error {
		// Read newest first so that --limit keeps the most recent entries,
		// then print them in the order they happened.
		entries, err := b.History(s.ctx, c.Customer, &creditkit.HistoryFilter{
			Category: c.Category, Operation: c.Operation, Currency: c.Currency, Limit: c.Limit, Newest: true,
		})
		if err != nil {
			return err
		}
		if entries == nil {
			entries = []*creditkit.Entry{}
		}
		slices.Reverse(entries)
		return s.output(entries, func(w io.Writer) { printEntries(w, s.cfg, entries) })
	})
}
