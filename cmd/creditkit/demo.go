package main

import (
	_ "embed"
	"fmt"
	"io"
	"slices"

	"github.com/creditkit/creditkit"
)

// exampleConfig is creditkit.example.yaml, so that demo works on a machine
// with no files at all.
//
//go:embed example.yaml
var exampleConfig []byte

// exampleConfigName names the embedded config in messages and errors.
const exampleConfigName = "creditkit.example.yaml (embedded)"

// demoCustomer is the customer the demo grants to and spends from.
const demoCustomer = "alice"

// DemoCmd shows the ledger at work on a sample customer.
type DemoCmd struct{}

// demoJSON is the --json output of demo.
type demoJSON struct {
	Config  string             `json:"config"`
	Grant   *creditkit.Grant   `json:"grant"`
	Spends  []*creditkit.Entry `json:"spends"`
	Balance *creditkit.Balance `json:"balance"`
	History []*creditkit.Entry `json:"history"`
}

// Run grants alice 100 credits, spends send_email and process_image mb=5.2,
// and prints her balance and history. It uses --config, else
// ./creditkit.yaml, else the embedded example config.
func (c *DemoCmd) Run(s *session) error {
	cfg, err := s.loadConfig(func() (*creditkit.Config, error) {
		return creditkit.ParseConfig(exampleConfigName, exampleConfig)
	})
	if err != nil {
		return err
	}
	return s.withLedger(func(l *creditkit.Ledger) error {
		out := demoJSON{Config: cfg.Path}
		out.Grant, err = l.Grant(s.ctx, demoCustomer, 100, &creditkit.GrantOpts{Reason: "signup_bonus", Actor: actor})
		if err != nil {
			return fmt.Errorf("demo grant: %w", err)
		}
		spends := []struct {
			op     string
			params creditkit.Params
		}{
			{"send_email", nil},
			{"process_image", creditkit.Params{"mb": "5.2"}},
		}
		for _, sp := range spends {
			e, err := l.Spend(s.ctx, demoCustomer, sp.op, sp.params, &creditkit.SpendOpts{Actor: actor})
			if err != nil {
				return fmt.Errorf("demo spend %s: %w", sp.op, err)
			}
			out.Spends = append(out.Spends, e)
		}
		if out.Balance, err = l.Balance(s.ctx, demoCustomer, nil); err != nil {
			return err
		}
		if out.History, err = l.History(s.ctx, demoCustomer, &creditkit.HistoryFilter{Limit: 20, Newest: true}); err != nil {
			return err
		}
		slices.Reverse(out.History)
		return s.output(out, func(w io.Writer) {
			fmt.Fprintf(w, "demo on %s with %s\n\n", s.redactedDB(), cfg.Path)
			g := out.Grant
			fmt.Fprintf(w, "granted %s to %s (%s, grant %s)\n", cfg.FormatAmount(g.Amount, g.Currency), g.Customer, g.Reason, g.ID)
			for i, e := range out.Spends {
				what := spends[i].op
				if len(spends[i].params) > 0 {
					what += " " + fmtPairs(spends[i].params)
				}
				fmt.Fprintf(w, "%s spent %s on %s\n", e.Customer, cfg.FormatAmount(-e.Amount, e.Currency), what)
			}
			fmt.Fprintln(w)
			printBalance(w, cfg, out.Balance)
			fmt.Fprintln(w)
			fmt.Fprintln(w, "history:")
			printEntries(w, cfg, out.History)
		})
	})
}
