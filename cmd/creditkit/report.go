package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// ReportCmd groups the reports.
type ReportCmd struct {
	Revenue ReportRevenueCmd `cmd:"" help:"Money sold, recognized, broken, voided and deferred over a range, per money currency."`
}

// ReportRevenueCmd prints the revenue report.
type ReportRevenueCmd struct {
	From     string `name:"from" required:"" placeholder:"T" help:"Start of the range, inclusive: RFC 3339 or a date such as 2026-01-01 (UTC midnight)."`
	To       string `name:"to" required:"" placeholder:"T" help:"End of the range, exclusive: RFC 3339 or a date."`
	Customer string `name:"customer" placeholder:"ID" help:"Only this customer. Defaults to every customer."`
	Format   string `name:"format" enum:"table,csv,json" default:"table" help:"table (for people), csv or json. --json means json."`
}

// revenueReporter is what the report reads: the ledger on --db, the client
// of --server.
type revenueReporter interface {
	Revenue(ctx context.Context, opts *creditkit.RevenueOpts) (*creditkit.RevenueReport, error)
}

var (
	_ revenueReporter = (*creditkit.Ledger)(nil)
	_ revenueReporter = (*httpapi.Client)(nil)
)

// Run prints the report.
func (c *ReportRevenueCmd) Run(s *session) error {
	from, err := parseTime("from", c.From)
	if err != nil {
		return err
	}
	to, err := parseTime("to", c.To)
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		rr, ok := b.(revenueReporter)
		if !ok {
			return fmt.Errorf("this backend cannot report revenue")
		}
		rep, err := rr.Revenue(s.ctx, &creditkit.RevenueOpts{From: from, To: to, Customer: c.Customer})
		if err != nil {
			return err
		}
		switch {
		case s.globals.JSON || c.Format == "json":
			return writeJSON(s.stdout, rep)
		case c.Format == "csv":
			return writeRevenueCSV(s.stdout, rep)
		}
		printRevenue(s.stdout, s.cfg, rep)
		return nil
	})
}

// revenueLines are a money currency's lines in the order of the
// reconciliation, with the sign each takes in it (0: not part of it).
func revenueLines(m *creditkit.MoneyRevenue) []struct {
	name string
	sign string
	line creditkit.RevenueLine
} {
	type nl = struct {
		name string
		sign string
		line creditkit.RevenueLine
	}
	return []nl{
		{"opening_deferred", "", m.OpeningDeferred}, {"sold", "+", m.Sold}, {"overage_billed", "+", m.OverageBilled},
		{"transferred_in", "+", m.TransferredIn}, {"recognized", "-", m.Recognized}, {"breakage", "-", m.Breakage},
		{"voided", "-", m.Voided}, {"transferred_out", "-", m.TransferredOut}, {"closing_deferred", "=", m.ClosingDeferred},
		{"refunds", "", m.Refunds},
	}
}

// uncostedLines are the uncosted credits' lines, in the same order.
func uncostedLines(u *creditkit.UncostedCredits) []struct {
	name   string
	amount creditkit.Amount
} {
	type nl = struct {
		name   string
		amount creditkit.Amount
	}
	return []nl{{"opening", u.Opening}, {"granted", u.Granted}, {"transferred_in", u.TransferredIn}, {"consumed", u.Consumed},
		{"expired", u.Expired}, {"voided", u.Voided}, {"transferred_out", u.TransferredOut}, {"closing", u.Closing}}
}

// writeRevenueCSV prints one row per line: kind (money or uncosted), the
// money or credit currency, the line, the rounded and the exact value
// (money only), and the credits behind it as currency=smallest_units pairs.
func writeRevenueCSV(w io.Writer, rep *creditkit.RevenueReport) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"kind", "currency", "line", "value", "exact", "credits"}}
	for _, m := range rep.Money {
		for _, l := range revenueLines(m) {
			var credits []string
			for _, cur := range slices.Sorted(maps.Keys(l.line.Credits)) {
				credits = append(credits, fmt.Sprintf("%s=%d", cur, l.line.Credits[cur]))
			}
			rows = append(rows, []string{"money", m.Currency, l.name, l.line.Value, l.line.Exact, strings.Join(credits, ";")})
		}
	}
	for _, u := range rep.Uncosted {
		for _, l := range uncostedLines(u) {
			rows = append(rows, []string{"uncosted", u.Currency, l.name, "", "", fmt.Sprintf("%s=%d", u.Currency, l.amount)})
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// printRevenue prints the report for people.
func printRevenue(w io.Writer, cfg *creditkit.Config, rep *creditkit.RevenueReport) {
	who := "every customer"
	if rep.Customer != "" {
		who = rep.Customer
	}
	fmt.Fprintf(w, "revenue from %s to %s, %s\n", fmtTime(rep.From), fmtTime(rep.To), who)
	if len(rep.Money) == 0 && len(rep.Uncosted) == 0 {
		fmt.Fprintln(w, "nothing moved")
		return
	}
	for _, m := range rep.Money {
		fmt.Fprintf(w, "\n%s\n", m.Currency)
		t := newTable(w)
		for _, l := range revenueLines(m) {
			var credits []string
			for _, cur := range slices.Sorted(maps.Keys(l.line.Credits)) {
				credits = append(credits, cfg.FormatAmount(l.line.Credits[cur], cur))
			}
			t.row("  "+l.sign, strings.ReplaceAll(l.name, "_", " "), l.line.Value, strings.Join(credits, ", "))
		}
		t.flush()
	}
	for _, u := range rep.Uncosted {
		fmt.Fprintf(w, "\n%s without a cost basis (worth 0)\n", u.Currency)
		t := newTable(w)
		for _, l := range uncostedLines(u) {
			t.row("  "+strings.ReplaceAll(l.name, "_", " "), cfg.FormatAmount(l.amount, u.Currency))
		}
		t.flush()
	}
}
