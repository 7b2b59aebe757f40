package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/creditkit/creditkit"
)

// MigrateCmd opens the database, which applies the migrations.
type MigrateCmd struct{}

// Run applies the migrations. Unlike other commands it sets no open
// timeout: a migration of a large database may rightly take long, and the
// stores bound the connection attempt themselves.
func (c *MigrateCmd) Run(s *session) error {
	return s.withLedgerTimeout(0, func(l *creditkit.Ledger) error {
		out := map[string]any{"migrated": true, "db": s.redactedDB()}
		return s.output(out, func(w io.Writer) { fmt.Fprintf(w, "migrated %s\n", s.redactedDB()) })
	})
}

// RunDueCmd settles what fell due.
type RunDueCmd struct{}

// Run refills due subscriptions, expires due grants and releases lapsed
// holds.
func (c *RunDueCmd) Run(s *session) error {
	return s.withBackend(func(b backend) error {
		res, err := b.RunDue(s.ctx)
		if err != nil {
			return err
		}
		return s.output(res, func(w io.Writer) {
			fmt.Fprintf(w, "refilled %s, expired %s and released %s\n", plural(res.Refills, "subscription period"),
				plural(res.ExpiredGrants, "grant"), plural(res.ExpiredHolds, "lapsed hold"))
		})
	})
}

// plural prints "1 grant" or "2 grants".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ConfigCheckCmd loads the config and summarises it.
type ConfigCheckCmd struct{}

// configSummary is what config check prints.
type configSummary struct {
	// Path is the file loaded; empty for the built-in defaults.
	Path       string             `json:"path"`
	Currencies []currencySummary  `json:"currencies"`
	Rounding   string             `json:"rounding"`
	LowBalance creditkit.Amount   `json:"low_balance"`
	Operations []operationSummary `json:"operations"`
	Plans      []planSummary      `json:"plans"`
	Packs      []packSummary      `json:"packs"`
}

type currencySummary struct {
	Name     string `json:"name"`
	Decimals int    `json:"decimals"`
}

type operationSummary struct {
	Name     string `json:"name"`
	Formula  string `json:"formula"`
	Currency string `json:"currency"`
}

type planSummary struct {
	Name        string           `json:"name"`
	Default     bool             `json:"default"`
	Gives       creditkit.Amount `json:"gives"`
	Currency    string           `json:"currency"`
	Description string           `json:"description"`
}

type packSummary struct {
	Name          string           `json:"name"`
	Gives         creditkit.Amount `json:"gives"`
	Currency      string           `json:"currency"`
	PriceMinor    int64            `json:"price_minor"`
	PriceCurrency string           `json:"price_currency"`
	Description   string           `json:"description"`
}

// Run prints the summary, or fails with the config error (which names the
// file and line).
func (c *ConfigCheckCmd) Run(s *session) error {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	sum := summarize(cfg)
	return s.output(sum, func(w io.Writer) {
		if sum.Path == "" {
			fmt.Fprintf(w, "%s; using the built-in defaults\n", noConfigHint(s.path(defaultConfigFile)))
		} else {
			fmt.Fprintf(w, "%s is valid\n", sum.Path)
		}
		t := newTable(w)
		var curs []string
		for _, c := range sum.Currencies {
			curs = append(curs, fmt.Sprintf("%s (%d decimals)", c.Name, c.Decimals))
		}
		t.row("currencies", strings.Join(curs, ", "))
		t.row("rounding", sum.Rounding)
		if sum.LowBalance > 0 {
			t.row("low balance", cfg.FormatAmount(sum.LowBalance, ""))
		}
		t.flush()
		section(w, "operations", len(sum.Operations), func(t *table) {
			for _, o := range sum.Operations {
				t.row("  "+o.Name, o.Formula)
			}
		})
		section(w, "plans", len(sum.Plans), func(t *table) {
			for _, p := range sum.Plans {
				name := p.Name
				if p.Default {
					name += " (default)"
				}
				t.row("  "+name, p.Description)
			}
		})
		section(w, "packs", len(sum.Packs), func(t *table) {
			for _, p := range sum.Packs {
				t.row("  "+p.Name, p.Description)
			}
		})
	})
}

// section prints a titled table, or "title: none".
func section(w io.Writer, title string, n int, rows func(t *table)) {
	if n == 0 {
		fmt.Fprintf(w, "%s: none\n", title)
		return
	}
	fmt.Fprintf(w, "%s:\n", title)
	t := newTable(w)
	rows(t)
	t.flush()
}

// summarize describes a config in plain words.
func summarize(cfg *creditkit.Config) configSummary {
	sum := configSummary{
		Path:       cfg.Path,
		Rounding:   string(cfg.Rounding),
		LowBalance: cfg.LowBalance,
		Operations: []operationSummary{},
		Plans:      []planSummary{},
		Packs:      []packSummary{},
	}
	if sum.Rounding == "" {
		sum.Rounding = string(creditkit.RoundCeil)
	}
	curs := cfg.Currencies
	if len(curs) == 0 {
		curs = []creditkit.Currency{cfg.DefaultCurrency()}
	}
	for _, c := range curs {
		sum.Currencies = append(sum.Currencies, currencySummary{Name: c.Name, Decimals: c.Decimals})
	}
	for _, name := range sortedKeys(cfg.Operations) {
		o := cfg.Operations[name]
		sum.Operations = append(sum.Operations, operationSummary{Name: name, Formula: o.Formula, Currency: o.Currency})
	}
	for _, name := range sortedKeys(cfg.Plans) {
		p := cfg.Plans[name]
		sum.Plans = append(sum.Plans, planSummary{Name: name, Default: p.Default, Gives: p.Gives, Currency: p.Currency, Description: describePlan(cfg, p)})
	}
	for _, name := range sortedKeys(cfg.Packs) {
		p := cfg.Packs[name]
		sum.Packs = append(sum.Packs, packSummary{Name: name, Gives: p.Gives, Currency: p.Currency, PriceMinor: p.PriceCents,
			PriceCurrency: p.PriceCurrency, Description: describePack(cfg, p)})
	}
	return sum
}

// describePlan says what a plan gives, in the config's words.
func describePlan(cfg *creditkit.Config, p *creditkit.Plan) string {
	amt := func(a creditkit.Amount) string { return cfg.FormatAmount(a, p.Currency) }
	var parts []string
	if p.Gives > 0 {
		every := p.Every.Unit
		if p.Every.Count > 1 {
			every = fmt.Sprintf("%d %ss", p.Every.Count, p.Every.Unit)
		}
		parts = append(parts, fmt.Sprintf("gives %s every %s", amt(p.Gives), every))
		switch {
		case p.UnusedCredits == "rollover" && p.RolloverCap > 0:
			parts = append(parts, "unused credits roll over up to "+amt(p.RolloverCap))
		case p.UnusedCredits == "rollover":
			parts = append(parts, "unused credits roll over")
		default:
			parts = append(parts, "unused credits expire")
		}
	} else {
		parts = append(parts, "gives no recurring credits")
	}
	if p.SignupBonus > 0 {
		parts = append(parts, "signup bonus "+amt(p.SignupBonus))
	}
	if p.TrialIncludes > 0 {
		parts = append(parts, "trial includes "+amt(p.TrialIncludes))
	}
	if !p.ExpireAfter.IsZero() {
		parts = append(parts, "credits expire "+p.ExpireAfter.Words()+" after cancellation")
	}
	if p.Price != nil {
		parts = append(parts, fmt.Sprintf("costs %s every %s", creditkit.FormatMoney(p.Price.Cents, p.Price.Currency), p.Price.Every))
	}
	if p.Overage > 0 {
		parts = append(parts, "overage up to "+amt(p.Overage))
	}
	if op := p.OveragePrice; op != nil {
		parts = append(parts, fmt.Sprintf("overage costs %s per %s", creditkit.FormatMoney(op.Cents, op.Currency), amt(op.Per)))
	}
	return strings.Join(parts, "; ")
}

// describePack says what a pack gives and costs.
func describePack(cfg *creditkit.Config, p *creditkit.Pack) string {
	s := fmt.Sprintf("gives %s for %s", cfg.FormatAmount(p.Gives, p.Currency),
		p.FormatPrice())
	if !p.ExpiresAfter.IsZero() {
		s += "; credits expire after " + p.ExpiresAfter.Words()
	}
	return s
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
