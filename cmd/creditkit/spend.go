package main

import (
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
)

// SpendCmd charges a customer for a priced operation.
type SpendCmd struct {
	Customer  string   `arg:"" help:"Customer ID."`
	Operation string   `arg:"" help:"Operation name from the config."`
	Params    []string `arg:"" optional:"" name:"param" sep:"none" placeholder:"PARAM=VALUE" help:"Operation params, such as mb=5.2."`
	metaFlag
	writeFlags
}

// Run spends the credits.
func (c *SpendCmd) Run(s *session) error {
	params, err := parseParams(c.Params)
	if err != nil {
		return err
	}
	meta, err := parseMeta(c.Meta)
	if err != nil {
		return err
	}
	return s.withLedger(func(l *creditkit.Ledger) error {
		e, err := l.Spend(s.ctx, c.Customer, c.Operation, params, &creditkit.SpendOpts{
			Metadata: meta, IdempotencyKey: c.IdempotencyKey, Actor: actor,
		})
		if err != nil {
			return err
		}
		cfg := l.Config()
		return s.output(e, func(w io.Writer) {
			printEntry(w, cfg, fmt.Sprintf("charged %s %s for %s", e.Customer, cfg.FormatAmount(-e.Amount, e.Currency), c.Operation), e)
		})
	})
}

// DebitCmd takes a raw amount from a customer.
type DebitCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Amount   string `arg:"" help:"Credits to take, a decimal number in the currency's units."`
	Reason   string `name:"reason" placeholder:"R" help:"Ledger category. Defaults to debit."`
	Currency string `name:"currency" placeholder:"C" help:"Currency. Defaults to the config's first currency."`
	metaFlag
	writeFlags
}

// Run debits the credits.
func (c *DebitCmd) Run(s *session) error {
	amount, meta, err := s.amountAndMeta(c.Amount, c.Currency, c.Meta)
	if err != nil {
		return err
	}
	return s.withLedger(func(l *creditkit.Ledger) error {
		e, err := l.Debit(s.ctx, c.Customer, amount, &creditkit.DebitOpts{
			Reason: c.Reason, Currency: c.Currency, Metadata: meta, IdempotencyKey: c.IdempotencyKey, Actor: actor,
		})
		if err != nil {
			return err
		}
		cfg := l.Config()
		return s.output(e, func(w io.Writer) {
			printEntry(w, cfg, fmt.Sprintf("debited %s from %s", cfg.FormatAmount(-e.Amount, e.Currency), e.Customer), e)
		})
	})
}

// EstimateCmd prices an operation. It reads only the config, never the
// database.
type EstimateCmd struct {
	Operation string   `arg:"" help:"Operation name from the config."`
	Params    []string `arg:"" optional:"" name:"param" sep:"none" placeholder:"PARAM=VALUE" help:"Operation params, such as mb=5.2."`
}

// estimateJSON is the --json output of estimate.
type estimateJSON struct {
	Operation string           `json:"operation"`
	Cost      creditkit.Amount `json:"cost"`
	Currency  string           `json:"currency"`
	Formula   string           `json:"formula"`
}

// Run prints the price.
func (c *EstimateCmd) Run(s *session) error {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	params, err := parseParams(c.Params)
	if err != nil {
		return err
	}
	cost, op, err := cfg.Price(c.Operation, params)
	if err != nil {
		return err
	}
	out := estimateJSON{Operation: op.Name, Cost: cost, Currency: op.Currency, Formula: op.Formula}
	return s.output(out, func(w io.Writer) {
		what := op.Name
		if len(params) > 0 {
			what += " " + fmtPairs(params)
		}
		fmt.Fprintf(w, "%s costs %s (%s)\n", what, cfg.FormatAmount(cost, op.Currency), op.Formula)
	})
}
