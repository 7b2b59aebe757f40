package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// seedRevenue writes a small history on l: 1000 credits bought at 0.01
// USD, 25.00 usd_credits at 0.9 EUR each, 50 free credits; 300 credits
// spent (50 free, 250 bought), and 5.00 usd_credits voided.
func seedRevenue(t *testing.T, l *creditkit.Ledger, clock *creditkit.ManualClock) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Grant(ctx, "alice", 1000, &creditkit.GrantOpts{Reason: "pack", CostBasis: &creditkit.CostBasis{PerCredit: "0.01", Currency: "USD"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Grant(ctx, "alice", 50, &creditkit.GrantOpts{Reason: "signup_bonus"}); err != nil {
		t.Fatal(err)
	}
	g, err := l.Grant(ctx, "bob", 2500, &creditkit.GrantOpts{Currency: "usd_credits", Reason: "pack", CostBasis: &creditkit.CostBasis{PerCredit: "0.9", Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := l.Debit(ctx, "alice", 300, nil); err != nil {
		t.Fatal(err)
	}
	five := creditkit.Amount(500)
	if _, err := l.Void(ctx, g.ID, &creditkit.VoidOpts{Amount: &five}); err != nil {
		t.Fatal(err)
	}
}

// revenueCSV is the CSV of the seeded history over March 2026.
const revenueCSV = `kind,currency,line,value,exact,credits
money,EUR,opening_deferred,0.00,0,
money,EUR,sold,22.50,22.5,usd_credits=2500
money,EUR,overage_billed,0.00,0,
money,EUR,transferred_in,0.00,0,
money,EUR,recognized,0.00,0,
money,EUR,breakage,0.00,0,
money,EUR,voided,4.50,4.5,usd_credits=500
money,EUR,transferred_out,0.00,0,
money,EUR,closing_deferred,18.00,18,usd_credits=2000
money,EUR,refunds,0.00,0,
money,USD,opening_deferred,0.00,0,
money,USD,sold,10.00,10,credits=1000
money,USD,overage_billed,0.00,0,
money,USD,transferred_in,0.00,0,
money,USD,recognized,2.50,2.5,credits=250
money,USD,breakage,0.00,0,
money,USD,voided,0.00,0,
money,USD,transferred_out,0.00,0,
money,USD,closing_deferred,7.50,7.5,credits=750
money,USD,refunds,0.00,0,
uncosted,credits,opening,,,credits=0
uncosted,credits,granted,,,credits=50
uncosted,credits,transferred_in,,,credits=0
uncosted,credits,consumed,,,credits=50
uncosted,credits,expired,,,credits=0
uncosted,credits,voided,,,credits=0
uncosted,credits,transferred_out,,,credits=0
uncosted,credits,closing,,,credits=0
`

// `report revenue` on --db and on --server prints the same report, as
// CSV, JSON and a table; bad ranges are refused.
func TestReportRevenue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock = creditkit.NewManualClock(remoteStart)
	cfg, err := creditkit.LoadConfig(b.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = b.clock
	l, err := creditkit.Open(context.Background(), b.db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	seedRevenue(t, l, b.clock)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	w := newRemoteWorld(t)
	seedRevenue(t, w.l, w.clock)

	march := []string{"report", "revenue", "--from", "2026-03-01", "--to", "2026-04-01"}
	modes := map[string]cliRun{
		"db":     b.run,
		"server": func(t *testing.T, args ...string) result { return w.run(t, w.read, args...) },
	}
	tables := map[string]string{}
	for name, run := range modes {
		ok := func(args ...string) string {
			t.Helper()
			r := run(t, args...)
			if r.code != ExitOK {
				t.Fatalf("%s: creditkit %s: exit %d\n%s%s", name, strings.Join(args, " "), r.code, r.stderr, r.stdout)
			}
			return r.stdout
		}
		if got := ok(append(march, "--format", "csv")...); got != revenueCSV {
			t.Errorf("%s: csv:\n%s\nwant:\n%s", name, got, revenueCSV)
		}
		for _, args := range [][]string{append(march, "--format", "json"), append([]string{"--json"}, march...)} {
			var rep creditkit.RevenueReport
			if err := json.Unmarshal([]byte(ok(args...)), &rep); err != nil {
				t.Fatalf("%s: json: %v", name, err)
			}
			if len(rep.Money) != 2 || rep.Money[1].Currency != "USD" || rep.Money[1].Recognized.Value != "2.50" || !rep.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("%s: json report: %+v", name, rep)
			}
		}
		table := ok(march...)
		tables[name] = table
		for _, want := range []string{"revenue from 2026-03-01T00:00:00Z to 2026-04-01T00:00:00Z, every customer", "USD", "sold", "10.00", "1000 credits",
			"closing deferred", "20.00 usd_credits", "credits without a cost basis", "granted          50 credits"} {
			if !strings.Contains(table, want) {
				t.Errorf("%s: the table lacks %q:\n%s", name, want, table)
			}
		}
		alice := ok(append(march, "--customer", "alice", "--format", "csv")...)
		if strings.Contains(alice, "EUR") || !strings.Contains(alice, "money,USD,recognized,2.50,2.5,credits=250") {
			t.Errorf("%s: alice's report:\n%s", name, alice)
		}

		for _, bad := range [][]string{
			{"report", "revenue", "--from", "2026-04-01", "--to", "2026-03-01"},
			{"report", "revenue", "--from", "March", "--to", "2026-03-01"},
		} {
			r := run(t, append([]string{"--json"}, bad...)...)
			if body := requireError(t, r, ExitError); body.Code != string(creditkit.CodeInvalidRequest) {
				t.Errorf("%s: %v: %+v", name, bad, body)
			}
		}
		if r := run(t, "report", "revenue", "--from", "2026-03-01"); r.code != ExitUsage || !strings.Contains(r.stderr, "--to") {
			t.Errorf("%s: without --to: exit %d %s", name, r.code, r.stderr)
		}
	}
	if tables["db"] != tables["server"] {
		t.Errorf("--server printed otherwise than --db:\n--- db\n%s\n--- server\n%s", tables["db"], tables["server"])
	}
}
