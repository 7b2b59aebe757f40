package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creditkit/creditkit"
)

// writeJSON prints v as indented JSON followed by a newline, with <, >
// and & as they are (not \u003c), since no browser reads it.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints aligned columns. Rows are added with row and printed by flush.
type table struct {
	tw *tabwriter.Writer
}

// newTable returns a table writing to w.
func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row adds one row of cells.
func (t *table) row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// flush prints the table.
func (t *table) flush() {
	_ = t.tw.Flush()
}

// fmtTime prints an instant for people, in UTC.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// fmtExpiry prints an optional expiry.
func fmtExpiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return fmtTime(*t)
}

// fmtSigned prints an amount with an explicit sign, for ledger movements.
func fmtSigned(cfg *creditkit.Config, a creditkit.Amount, currency string) string {
	s := cfg.FormatAmount(a, currency)
	if a > 0 {
		return "+" + s
	}
	return s
}

// fmtPairs prints a map as sorted key=value pairs.
func fmtPairs[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// entryDetails summarises what an entry is about, for the history table.
func entryDetails(e *creditkit.Entry) string {
	var parts []string
	if e.Operation != "" {
		p := e.Operation
		if params, ok := e.Details["params"].(map[string]any); ok && len(params) > 0 {
			p += " " + fmtPairs(params)
		}
		parts = append(parts, p)
	}
	for _, k := range []string{"grant_id", "hold_id", "from", "to", "reason"} {
		if v, ok := e.Details[k]; ok && v != "" {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	if len(e.Metadata) > 0 {
		parts = append(parts, fmtPairs(e.Metadata))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// printEntry prints one ledger entry as key-value lines under a summary.
func printEntry(w io.Writer, cfg *creditkit.Config, summary string, e *creditkit.Entry) {
	fmt.Fprintln(w, summary)
	t := newTable(w)
	t.row("entry", e.ID)
	t.row("customer", e.Customer)
	t.row("category", e.Category)
	t.row("amount", fmtSigned(cfg, e.Amount, e.Currency))
	t.row("balance after", cfg.FormatAmount(e.BalanceAfter, e.Currency))
	t.row("at", fmtTime(e.At))
	if d := entryDetails(e); d != "-" {
		t.row("details", d)
	}
	t.flush()
}

// printEntries prints entries as a table, in the order given.
func printEntries(w io.Writer, cfg *creditkit.Config, entries []*creditkit.Entry) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "no entries")
		return
	}
	t := newTable(w)
	t.row("AT", "CATEGORY", "AMOUNT", "BALANCE", "DETAILS", "ID")
	for _, e := range entries {
		t.row(fmtTime(e.At), e.Category, fmtSigned(cfg, e.Amount, e.Currency), cfg.FormatAmount(e.BalanceAfter, e.Currency), entryDetails(e), e.ID)
	}
	t.flush()
}

// printGrant prints one grant as key-value lines under a summary.
func printGrant(w io.Writer, cfg *creditkit.Config, summary string, g *creditkit.Grant) {
	fmt.Fprintln(w, summary)
	t := newTable(w)
	t.row("grant", g.ID)
	t.row("customer", g.Customer)
	t.row("amount", cfg.FormatAmount(g.Amount, g.Currency))
	t.row("remaining", cfg.FormatAmount(g.Remaining, g.Currency))
	t.row("reason", g.Reason)
	t.row("priority", fmt.Sprint(g.Priority))
	t.row("effective", fmtTime(g.EffectiveAt))
	t.row("expires", fmtExpiry(g.ExpiresAt))
	t.row("status", string(g.Status))
	if len(g.Metadata) > 0 {
		t.row("metadata", fmtPairs(g.Metadata))
	}
	t.flush()
}

// printGrants prints grants as a table.
func printGrants(w io.Writer, cfg *creditkit.Config, grants []*creditkit.Grant) {
	if len(grants) == 0 {
		fmt.Fprintln(w, "no grants")
		return
	}
	t := newTable(w)
	t.row("ID", "STATUS", "REMAINING", "AMOUNT", "REASON", "PRIORITY", "EFFECTIVE", "EXPIRES")
	for _, g := range grants {
		t.row(g.ID, string(g.Status), cfg.FormatAmount(g.Remaining, g.Currency), cfg.FormatAmount(g.Amount, g.Currency),
			g.Reason, fmt.Sprint(g.Priority), fmtTime(g.EffectiveAt), fmtExpiry(g.ExpiresAt))
	}
	t.flush()
}

// printBalance prints a balance as key-value lines.
func printBalance(w io.Writer, cfg *creditkit.Config, b *creditkit.Balance) {
	fmt.Fprintf(w, "%s (%s) at %s\n", b.Customer, b.Currency, fmtTime(b.At))
	t := newTable(w)
	t.row("available", cfg.FormatAmount(b.Available, b.Currency))
	t.row("held", cfg.FormatAmount(b.Held, b.Currency))
	t.row("scheduled", cfg.FormatAmount(b.Scheduled, b.Currency))
	t.row("debt", cfg.FormatAmount(b.Debt, b.Currency))
	t.flush()
}

// printHold prints a hold as key-value lines under a summary.
func printHold(w io.Writer, cfg *creditkit.Config, summary string, h *creditkit.Hold) {
	fmt.Fprintln(w, summary)
	t := newTable(w)
	t.row("hold", h.ID)
	t.row("customer", h.Customer)
	if h.Operation != "" {
		op := h.Operation
		if len(h.Params) > 0 {
			op += " " + fmtPairs(h.Params)
		}
		t.row("operation", op)
	}
	t.row("amount", cfg.FormatAmount(h.Amount, h.Currency))
	if h.Captured > 0 {
		t.row("captured", cfg.FormatAmount(h.Captured, h.Currency))
	}
	t.row("status", string(h.Status))
	t.row("expires", fmtTime(h.ExpiresAt))
	t.flush()
}
