package main

import (
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
)

// TransferCmd moves credits between customers.
type TransferCmd struct {
	From      string `arg:"" help:"Customer to take the credits from."`
	To        string `arg:"" help:"Customer to give the credits to."`
	Amount    string `arg:"" help:"Credits to move, a decimal number in the currency's units."`
	Evergreen bool   `name:"evergreen" help:"The moved credits never expire (by default they keep their expiry)."`
	Currency  string `name:"currency" placeholder:"C" help:"Currency. Defaults to the config's first currency."`
	metaFlag
	writeFlags
}

// Run moves the credits.
func (c *TransferCmd) Run(s *session) error {
	// The amount is in the backend's currencies: load its config first.
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	amount, meta, err := s.amountAndMeta(c.Amount, c.Currency, c.Meta)
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		res, err := b.Transfer(s.ctx, c.From, c.To, amount, &creditkit.TransferOpts{
			Evergreen: c.Evergreen, Currency: c.Currency, Metadata: meta, IdempotencyKey: c.IdempotencyKey, Actor: actor,
		})
		if err != nil {
			return err
		}
		if res.Grants == nil {
			res.Grants = []*creditkit.Grant{}
		}
		cfg := s.cfg
		return s.output(res, func(w io.Writer) {
			fmt.Fprintf(w, "transferred %s from %s to %s\n", cfg.FormatAmount(res.In.Amount, res.In.Currency), c.From, c.To)
			t := newTable(w)
			t.row("out entry", res.Out.ID)
			t.row("in entry", res.In.ID)
			t.flush()
			fmt.Fprintf(w, "new grants of %s:\n", c.To)
			printGrants(w, cfg, res.Grants)
		})
	})
}
