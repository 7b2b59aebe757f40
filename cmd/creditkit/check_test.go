package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// checkScript checks an operation and raw amounts, and refuses a check
// with both or neither; it returns what the checks printed.
func checkScript(t *testing.T, run cliRun) []string {
	t.Helper()
	var outs []string
	ok := func(args ...string) string {
		t.Helper()
		r := run(t, args...)
		if r.code != ExitOK {
			t.Fatalf("creditkit %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
		}
		if args[0] == "check" || args[1] == "check" {
			outs = append(outs, r.stdout)
		}
		return r.stdout
	}
	ok("grant", "chk", "100")
	ok("hold", "chk", "send_email", "--amount", "30")
	if out := ok("check", "chk", "process_image", "mb=5"); out != "allowed: process_image (15 credits) for chk; available 70 credits, held 30 credits\n" {
		t.Fatalf("check an operation:\n%q", out)
	}
	if out := ok("check", "chk", "--amount", "80"); out != "not allowed: 80 credits for chk; available 70 credits, held 30 credits\n" {
		t.Fatalf("check an amount:\n%q", out)
	}
	var c creditkit.Check
	if err := json.Unmarshal([]byte(ok("--json", "check", "chk", "--amount", "2.5", "--currency", "usd_credits")), &c); err != nil ||
		c.Allowed || c.Cost != 250 || c.Currency != "usd_credits" || c.Plan != nil {
		t.Fatalf("check usd_credits: %v %+v", err, c)
	}
	for _, args := range [][]string{
		{"--json", "check", "chk"},
		{"--json", "check", "chk", "send_email", "--amount", "1"},
		{"--json", "check", "chk", "send_email", "--currency", "credits"},
	} {
		if e := requireError(t, run(t, args...), ExitError); e.Code != "invalid_request" {
			t.Fatalf("%v: %+v", args, e)
		}
	}
	if e := requireError(t, run(t, "--json", "check", "chk", "--amount", "0"), ExitError); e.Code != "invalid_amount" {
		t.Fatalf("a check of 0: %+v", e)
	}
	return outs
}

// TestCheckCommand runs the check verb on --db and on --server: they print
// the same.
func TestCheckCommand(t *testing.T) {
	t.Parallel()
	runOnDBAndServer(t, checkScript)
}

// TestCheckCommandShowsThePlan: on a subscription, check prints the plan's
// allowance, what was used of it this period and the next refill.
func TestCheckCommandShowsThePlan(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock = creditkit.NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	config := testConfig + `plans:
  metered:
    gives: 1000 credits every month
    overage: up to 500 credits
`
	if err := os.WriteFile(b.config, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	b.ok(t, "subscription", "start", "acme", "metered")
	b.ok(t, "debit", "acme", "300")
	want := "allowed: 900 credits for acme; available 700 credits, held 0 credits\n" +
		"overage: 200 credits would be debt; debt 0 credits, limit 500 credits\n" +
		"plan metered (active): used 300 credits of 1000 credits this period (since 2026-03-01T00:00:00Z); next refill 2026-04-01T00:00:00Z\n"
	if out := b.ok(t, "check", "acme", "--amount", "900"); out != want {
		t.Fatalf("check:\n%s\nwant:\n%s", out, want)
	}
	var c creditkit.Check
	b.okJSON(t, &c, "check", "acme", "send_email")
	if c.Plan == nil || c.Plan.Used != 300 || c.Plan.Allowance != 1000 || c.Plan.NextRefillAt == nil {
		t.Fatalf("--json: %+v", c.Plan)
	}
}
