package main

import (
	"context"
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
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

// CheckCmd asks whether a customer can afford an operation, or a raw
// amount, now, moving nothing.
type CheckCmd struct {
	Customer  string   `arg:"" help:"Customer ID."`
	Operation string   `arg:"" optional:"" help:"Operation name from the config; leave it out with --amount."`
	Params    []string `arg:"" optional:"" name:"param" sep:"none" placeholder:"PARAM=VALUE" help:"Operation params, such as mb=5.2."`
	Amount    string   `name:"amount" placeholder:"N" help:"Check a raw amount instead of an operation's price."`
	Currency  string   `name:"currency" placeholder:"C" help:"Currency of --amount. Defaults to the config's first currency."`
}

// checker is what the check verb needs of a backend: the ledger and the
// API client both answer it.
type checker interface {
	Check(ctx context.Context, customer, operation string, params creditkit.Params) (*creditkit.Check, error)
	CheckAmount(ctx context.Context, customer string, amount creditkit.Amount, currency string) (*creditkit.Check, error)
}

var (
	_ checker = (*creditkit.Ledger)(nil)
	_ checker = (*httpapi.Client)(nil)
)

// Run checks and prints the answer; it exits 0 whether or not the
// customer can afford it (read "allowed" from --json).
func (c *CheckCmd) Run(s *session) error {
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	var amount creditkit.Amount
	switch {
	case c.Amount != "" && c.Operation != "":
		return invalid(creditkit.CodeInvalidRequest, "give an operation (priced from the config) or --amount (raw credits), not both")
	case c.Amount != "":
		if amount, err = parseAmount(cfg, c.Amount, c.Currency); err != nil {
			return err
		}
	case c.Operation == "":
		return invalid(creditkit.CodeInvalidRequest, "give an operation (priced from the config) or --amount (raw credits)")
	case c.Currency != "":
		return invalid(creditkit.CodeInvalidRequest, "--currency goes with --amount; an operation has its own currency")
	}
	params, err := parseParams(c.Params)
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		ck, ok := b.(checker)
		if !ok {
			return fmt.Errorf("this backend cannot check")
		}
		var ch *creditkit.Check
		if c.Amount != "" {
			ch, err = ck.CheckAmount(s.ctx, c.Customer, amount, c.Currency)
		} else {
			ch, err = ck.Check(s.ctx, c.Customer, c.Operation, params)
		}
		if err != nil {
			return err
		}
		return s.output(ch, func(w io.Writer) { printCheck(w, cfg, c.Customer, ch) })
	})
}

// printCheck prints a check for people.
func printCheck(w io.Writer, cfg *creditkit.Config, customer string, ch *creditkit.Check) {
	amt := func(a creditkit.Amount) string { return cfg.FormatAmount(a, ch.Currency) }
	verdict, what := "allowed", amt(ch.Cost)
	if !ch.Allowed {
		verdict = "not allowed"
	}
	if ch.Operation != "" {
		what = ch.Operation + " (" + what + ")"
	}
	fmt.Fprintf(w, "%s: %s for %s; available %s, held %s\n", verdict, what, customer, amt(ch.Available), amt(ch.Held))
	if ch.Debt > 0 || ch.OverageLimit > 0 {
		fmt.Fprintf(w, "overage: %s would be debt; debt %s, limit %s\n", amt(ch.Overage), amt(ch.Debt), amt(ch.OverageLimit))
	}
	if p := ch.Plan; p != nil {
		next := "no refill coming"
		if p.NextRefillAt != nil {
			next = "next refill " + fmtTime(*p.NextRefillAt)
		}
		fmt.Fprintf(w, "plan %s (%s): used %s of %s this period (since %s); %s\n", p.Name, p.Status, amt(p.Used), amt(p.Allowance),
			fmtTime(p.PeriodStart), next)
	}
}
