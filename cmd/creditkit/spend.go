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
	return s.withBackend(func(b backend) error {
		e, err := b.Spend(s.ctx, c.Customer, c.Operation, params, &creditkit.SpendOpts{
			Metadata: meta, IdempotencyKey: c.IdempotencyKey, Actor: actor,
		})
		if err != nil {
			return err
		}
		cfg := s.cfg
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
	// The amount is in the backend's currencies: load its config first.
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	amount, meta, err := s.amountAndMeta(c.Amount, c.Currency, c.Meta)
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		e, err := b.Debit(s.ctx, c.Customer, amount, &creditkit.DebitOpts{
			Reason: c.Reason, Currency: c.Currency, Metadata: meta, IdempotencyKey: c.IdempotencyKey, Actor: actor,
		})
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(e, func(w io.Writer) {
			printEntry(w, cfg, fmt.Sprintf("debited %s from %s", cfg.FormatAmount(-e.Amount, e.Currency), e.Customer), e)
		})
	})
}

// EstimateCmd prices an operation. On --db it reads only the config, never
// the database; on --server the server prices it.
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
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	params, err := parseParams(c.Params)
	if err != nil {
		return err
	}
	var out estimateJSON
	if s.isRemote() {
		out, err = c.remote(s, params)
	} else {
		out, err = c.local(cfg, params)
	}
	if err != nil {
		return err
	}
	return s.output(out, func(w io.Writer) {
		what := out.Operation
		if len(params) > 0 {
			what += " " + fmtPairs(params)
		}
		fmt.Fprintf(w, "%s costs %s (%s)\n", what, cfg.FormatAmount(out.Cost, out.Currency), out.Formula)
	})
}

// local prices the operation with the config.
func (c *EstimateCmd) local(cfg *creditkit.Config, params creditkit.Params) (estimateJSON, error) {
	cost, op, err := cfg.Price(c.Operation, params)
	if err != nil {
		return estimateJSON{}, err
	}
	return estimateJSON{Operation: op.Name, Cost: cost, Currency: op.Currency, Formula: op.Formula}, nil
}

// remote prices the operation on --server; the server's catalog names its
// currency and formula.
func (c *EstimateCmd) remote(s *session, params creditkit.Params) (estimateJSON, error) {
	cl, err := s.client()
	if err != nil {
		return estimateJSON{}, err
	}
	cost, err := cl.Estimate(s.ctx, c.Operation, params)
	if err != nil {
		return estimateJSON{}, err
	}
	cat, err := s.serverCatalog()
	if err != nil {
		return estimateJSON{}, err
	}
	for _, op := range cat.Operations {
		if op.Name == c.Operation {
			return estimateJSON{Operation: op.Name, Cost: cost, Currency: op.Currency, Formula: op.Formula}, nil
		}
	}
	return estimateJSON{}, fmt.Errorf("the server priced %s but its catalog does not list it", c.Operation)
}
