package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/creditkit/creditkit"
)

// ReverseCmd gives back all or part of a charge.
type ReverseCmd struct {
	EntryID string `arg:"" name:"entry-id" help:"ID of the charge entry to give back."`
	Amount  string `name:"amount" placeholder:"N" help:"Give back only this much; all that is left to reverse by default."`
	Reason  string `name:"reason" required:"" placeholder:"R" help:"Why the charge is given back (required)."`
	writeFlags
}

// Run reverses the charge.
func (c *ReverseCmd) Run(s *session) error {
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		opts := &creditkit.ReverseOpts{Reason: c.Reason, IdempotencyKey: c.IdempotencyKey, Actor: actor}
		if c.Amount != "" {
			// Amounts are read in the default currency's unit; a charge in
			// another currency takes its amount in that currency's unit,
			// which --json history shows.
			amount, err := parseAmount(s.cfg, c.Amount, "")
			if err != nil {
				return err
			}
			opts.Amount = &amount
		}
		e, err := b.Reverse(s.ctx, c.EntryID, opts)
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(e, func(w io.Writer) {
			printEntry(w, cfg, fmt.Sprintf("reversed %s of entry %s for %s", cfg.FormatAmount(e.Amount, e.Currency), c.EntryID, e.Customer), e)
		})
	})
}

// ExpiryCmd moves a grant's expiry.
type ExpiryCmd struct {
	GrantID string `arg:"" name:"grant-id" help:"ID of the grant."`
	At      string `name:"at" xor:"expiry" placeholder:"TIME" help:"The new expiry: RFC 3339, or a date."`
	Never   bool   `name:"never" xor:"expiry" help:"Remove the expiry: the grant never expires."`
	Reason  string `name:"reason" placeholder:"R" help:"Why, recorded on the entry."`
	writeFlags
}

// Run moves the expiry.
func (c *ExpiryCmd) Run(s *session) error {
	if c.At == "" && !c.Never {
		return invalid(creditkit.CodeInvalidRequest, "give --at TIME (the new expiry) or --never")
	}
	at, err := parseTime("at", c.At)
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		g, err := b.ChangeExpiry(s.ctx, c.GrantID, at, &creditkit.ChangeExpiryOpts{Reason: c.Reason, IdempotencyKey: c.IdempotencyKey, Actor: actor})
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(g, func(w io.Writer) {
			printGrant(w, cfg, fmt.Sprintf("grant %s now expires: %s", g.ID, fmtExpiry(g.ExpiresAt)), g)
		})
	})
}

// AlertsCmd shows a customer's own low-balance thresholds, or sets them.
type AlertsCmd struct {
	Customer   string   `arg:"" help:"Customer ID."`
	Thresholds []string `arg:"" optional:"" placeholder:"THRESHOLD" help:"New thresholds: amounts (100) or percents of the last refill (10%). With --clear, none."`
	Clear      bool     `name:"clear" help:"Remove the customer's own thresholds (the config's low_balance still applies)."`
	Currency   string   `name:"currency" placeholder:"C" help:"Currency; defaults to the first configured one."`
	writeFlags
}

// Run shows or sets the thresholds.
func (c *AlertsCmd) Run(s *session) error {
	if c.Clear && len(c.Thresholds) > 0 {
		return invalid(creditkit.CodeInvalidRequest, "give thresholds or --clear, not both")
	}
	// Amounts are in the backend's currencies: load its config first.
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	var set []creditkit.Threshold
	for _, arg := range c.Thresholds {
		t, err := parseThreshold(s.cfg, arg, c.Currency)
		if err != nil {
			return err
		}
		set = append(set, t)
	}
	return s.withBackend(func(b backend) error {
		var (
			a   *creditkit.BalanceAlerts
			err error
		)
		if len(set) > 0 || c.Clear {
			a, err = b.SetBalanceAlerts(s.ctx, c.Customer, set, &creditkit.SetAlertsOpts{Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor})
		} else {
			a, err = b.GetBalanceAlerts(s.ctx, c.Customer, c.Currency)
		}
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(a, func(w io.Writer) { printAlerts(w, cfg, a) })
	})
}

// parseThreshold reads "100" (an amount) or "10%" (of the last refill).
func parseThreshold(cfg *creditkit.Config, arg, currency string) (creditkit.Threshold, error) {
	if p, ok := strings.CutSuffix(arg, "%"); ok {
		n, err := strconv.Atoi(p)
		if err != nil {
			return creditkit.Threshold{}, invalid(creditkit.CodeInvalidRequest, "threshold %q: give a whole percent such as 10%%", arg)
		}
		return creditkit.Threshold{Percent: n}, nil
	}
	a, err := parseAmount(cfg, arg, currency)
	if err != nil {
		return creditkit.Threshold{}, err
	}
	return creditkit.Threshold{Amount: a}, nil
}

// printAlerts prints a wallet's thresholds and their state.
func printAlerts(w io.Writer, cfg *creditkit.Config, a *creditkit.BalanceAlerts) {
	fmt.Fprintf(w, "low-balance alerts of %s (%s)\n", a.Customer, a.Currency)
	t := newTable(w)
	var own []string
	for _, th := range a.Thresholds {
		if th.Percent > 0 {
			own = append(own, th.String()+" of the last refill")
		} else {
			own = append(own, cfg.FormatAmount(th.Amount, a.Currency))
		}
	}
	if len(own) == 0 {
		own = []string{"none"}
	}
	t.row("own thresholds", strings.Join(own, ", "))
	if a.Global > 0 {
		t.row("config low_balance", cfg.FormatAmount(a.Global, a.Currency))
	}
	if a.LastRefill > 0 {
		t.row("last refill", cfg.FormatAmount(a.LastRefill, a.Currency))
	}
	var low []string
	for _, l := range a.Low {
		low = append(low, cfg.FormatAmount(l, a.Currency))
	}
	if len(low) > 0 {
		t.row("under now", strings.Join(low, ", "))
	}
	t.flush()
}
