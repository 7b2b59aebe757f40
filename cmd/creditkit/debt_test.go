package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// overageScript runs the overage verbs with run and returns what each
// printed: the scenario from the command line.
func overageScript(t *testing.T, run cliRun) []string {
	t.Helper()
	var outs []string
	ok := func(args ...string) string {
		t.Helper()
		r := run(t, args...)
		if r.code != ExitOK {
			t.Fatalf("creditkit %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
		}
		if args[0] == "overage" || args[0] == "settle" {
			// Other verbs print IDs, which differ between runs.
			outs = append(outs, r.stdout)
		}
		return r.stdout
	}
	ok("grant", "ov", "1000")
	if out := ok("overage", "ov", "5000", "--idempotency-key", "ov-1"); !strings.Contains(out, "limit 5000 credits, debt 0 credits") {
		t.Fatalf("set overage:\n%s", out)
	}
	ok("debit", "ov", "3500")
	var b creditkit.Balance
	if err := json.Unmarshal([]byte(ok("--json", "balance", "ov")), &b); err != nil || b.Available != -2500 || b.Debt != 2500 {
		t.Fatalf("balance: %v %+v", err, b)
	}
	e := requireError(t, run(t, "--json", "debit", "ov", "3000"), ExitError)
	if e.Code != "insufficient_credits" || !strings.Contains(e.Message, "overage limit of 5000 credits") {
		t.Fatalf("past the limit: %+v", e)
	}
	if out := ok("overage", "ov"); !strings.Contains(out, "limit 5000 credits, debt 2500 credits") {
		t.Fatalf("show overage:\n%s", out)
	}
	if e := requireError(t, run(t, "--json", "settle", "ov", "--price", "1 USD for 100"), ExitError); e.Code != "invalid_request" {
		t.Fatalf("bad price: %+v", e)
	}
	if out := ok("settle", "ov", "--price", "1 USD per 100 credits"); out != "settled 2500 credits of ov's debt: 25.00 USD billed\n" {
		t.Fatalf("settle:\n%q", out)
	}
	if out := ok("settle", "ov"); !strings.Contains(out, "nothing to settle") {
		t.Fatalf("settle again:\n%s", out)
	}
	ok("grant", "ov", "1000")
	if err := json.Unmarshal([]byte(ok("--json", "balance", "ov")), &b); err != nil || b.Available != 1000 || b.Debt != 0 {
		t.Fatalf("balance after the grant: %v %+v", err, b)
	}
	return outs
}

// TestOverageCommands runs the overage verbs on --db and on --server: they
// print the same.
func TestOverageCommands(t *testing.T) {
	t.Parallel()
	runOnDBAndServer(t, overageScript)
}
