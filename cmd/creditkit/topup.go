package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// topUpBackend is what the topup verbs call, on --db or --server.
type topUpBackend interface {
	SetAutoTopUp(ctx context.Context, customer string, a creditkit.AutoTopUp, opts *creditkit.AutoTopUpOpts) (*creditkit.AutoTopUpStatus, error)
	GetAutoTopUp(ctx context.Context, customer, currency string) (*creditkit.AutoTopUpStatus, error)
	DisableAutoTopUp(ctx context.Context, customer, currency string) (*creditkit.AutoTopUpStatus, error)
}

var (
	_ topUpBackend = (*creditkit.Ledger)(nil)
	_ topUpBackend = (*httpapi.Client)(nil)
)

// TopUpCmd shows and sets a customer's auto top-up.
type TopUpCmd struct {
	Show TopUpShowCmd `cmd:"" help:"Show a customer's auto top-up settings and state."`
	Set  TopUpSetCmd  `cmd:"" help:"Buy a pack off-session when a spend leaves the customer under a threshold."`
	Off  TopUpOffCmd  `cmd:"" help:"Turn a customer's auto top-up off (the config's default too)."`
}

// TopUpShowCmd shows a wallet's auto top-up.
type TopUpShowCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Currency string `name:"currency" placeholder:"C" help:"Currency; defaults to the first configured one."`
}

// Run shows the settings and state.
func (c *TopUpShowCmd) Run(s *session) error {
	return s.withTopUp(func(b topUpBackend) (*creditkit.AutoTopUpStatus, error) {
		return b.GetAutoTopUp(s.ctx, c.Customer, c.Currency)
	})
}

// TopUpSetCmd sets a wallet's auto top-up.
type TopUpSetCmd struct {
	Customer  string `arg:"" help:"Customer ID."`
	Threshold string `name:"threshold" placeholder:"N" help:"A spend that leaves the available balance under this buys credits. Defaults to the config's auto_topup."`
	Pack      string `name:"pack" placeholder:"PACK" help:"The config's pack to buy. Defaults to the config's auto_topup."`
	Target    string `name:"target" placeholder:"N" help:"Buy the credits up to this balance at the pack's unit price, instead of the pack."`
	Cap       string `name:"cap" placeholder:"MONEY" help:"Most money spent per calendar month, such as \"200 USD\" (in the pack's price currency); 0 for no cap."`
	Cooldown  string `name:"cooldown" placeholder:"DURATION" help:"Least time between two attempts, such as 1h (at least 1m). Defaults to 1h."`
	Currency  string `name:"currency" placeholder:"C" help:"Currency; defaults to the first configured one."`
}

// Run saves the settings.
func (c *TopUpSetCmd) Run(s *session) error {
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	a := cfg.AutoTopUpDefault()
	a.Enabled = true
	if c.Threshold != "" {
		if a.Threshold, err = parseAmount(cfg, c.Threshold, c.Currency); err != nil {
			return fmt.Errorf("--threshold: %w", err)
		}
	}
	if c.Pack != "" {
		a.Pack = c.Pack
	}
	if c.Target != "" {
		if a.TargetBalance, err = parseAmount(cfg, c.Target, c.Currency); err != nil {
			return fmt.Errorf("--target: %w", err)
		}
	}
	switch c.Cap {
	case "":
	case "0":
		a.MonthlyCapCents = 0
	default:
		cents, code, err := creditkit.ParseMoney(c.Cap)
		if err != nil {
			return fmt.Errorf("--cap: %w", err)
		}
		if p, ok := cfg.Packs[a.Pack]; ok && p.PriceCurrency != code {
			return fmt.Errorf("--cap: give it in %s, the currency of pack %s's price", p.PriceCurrency, a.Pack)
		}
		a.MonthlyCapCents = cents
	}
	if c.Cooldown != "" {
		var d time.Duration
		if d, err = creditkit.ParseDuration(c.Cooldown); err != nil {
			return fmt.Errorf("--cooldown: %w", err)
		}
		a.Cooldown = d
	}
	return s.withTopUp(func(b topUpBackend) (*creditkit.AutoTopUpStatus, error) {
		return b.SetAutoTopUp(s.ctx, c.Customer, a, &creditkit.AutoTopUpOpts{Currency: c.Currency})
	})
}

// TopUpOffCmd turns a wallet's auto top-up off.
type TopUpOffCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Currency string `name:"currency" placeholder:"C" help:"Currency; defaults to the first configured one."`
}

// Run turns it off.
func (c *TopUpOffCmd) Run(s *session) error {
	return s.withTopUp(func(b topUpBackend) (*creditkit.AutoTopUpStatus, error) {
		return b.DisableAutoTopUp(s.ctx, c.Customer, c.Currency)
	})
}

// withTopUp runs fn on the backend and prints the status it returns.
func (s *session) withTopUp(fn func(b topUpBackend) (*creditkit.AutoTopUpStatus, error)) error {
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		tb, ok := b.(topUpBackend)
		if !ok {
			return fmt.Errorf("this backend cannot manage auto top-up")
		}
		st, err := fn(tb)
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(st, func(w io.Writer) { printTopUp(w, cfg, st) })
	})
}

// printTopUp writes a status for people.
func printTopUp(w io.Writer, cfg *creditkit.Config, st *creditkit.AutoTopUpStatus) {
	state := "off"
	if st.Enabled {
		state = "on"
	}
	fmt.Fprintf(w, "auto top-up of %s (%s): %s (%s settings)\n", st.Customer, st.Currency, state, st.Source)
	if st.Pack == "" {
		return
	}
	buys := "pack " + st.Pack
	if st.TargetBalance > 0 {
		buys = "up to " + cfg.FormatAmount(st.TargetBalance, st.Currency) + " at pack " + st.Pack + "'s unit price"
	}
	fmt.Fprintf(w, "  under %s: buy %s; cooldown %s\n", cfg.FormatAmount(st.Threshold, st.Currency), buys, st.Cooldown)
	capText := "no cap"
	if st.MonthlyCapCents > 0 {
		capText = "cap " + creditkit.FormatMoney(st.MonthlyCapCents, st.MoneyCurrency)
	}
	fmt.Fprintf(w, "  this month: %s spent, %s\n", creditkit.FormatMoney(st.MonthSpentCents, st.MoneyCurrency), capText)
	if st.InFlight != nil {
		fmt.Fprintf(w, "  in flight: %s since %s\n", st.InFlight.ID, st.InFlight.StartedAt.Format(time.RFC3339))
	}
	if st.LastPurchaseAt != nil {
		fmt.Fprintf(w, "  last purchase: %s\n", st.LastPurchaseAt.Format(time.RFC3339))
	}
	if st.LastFailure != "" && st.LastFailureAt != nil {
		fmt.Fprintf(w, "  last failure: %s: %s\n", st.LastFailureAt.Format(time.RFC3339), st.LastFailure)
	}
	if st.NextAttemptAfter != nil {
		fmt.Fprintf(w, "  next attempt after: %s\n", st.NextAttemptAfter.Format(time.RFC3339))
	}
}
