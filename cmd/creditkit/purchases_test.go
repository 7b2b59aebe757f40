package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// purchaseScript runs the purchase verbs with run and returns what the
// refund verbs printed: a pack bought, replayed, half spent and refunded
// in three steps.
func purchaseScript(t *testing.T, run cliRun) []string {
	t.Helper()
	var outs []string
	ok := func(args ...string) string {
		t.Helper()
		r := run(t, args...)
		if r.code != ExitOK {
			t.Fatalf("creditkit %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
		}
		if args[0] == "refund" {
			// Other verbs print IDs, which differ between runs.
			outs = append(outs, r.stdout)
		}
		return r.stdout
	}
	if out := ok("purchase", "pat", "starter", "--external-id", "inv_1", "--meta", "order=7"); !strings.HasPrefix(out, "purchased starter for pat: 1000 credits for 10.00 USD (manual/inv_1, purchase pur_") {
		t.Fatalf("purchase:\n%s", out)
	}
	if out := ok("purchase", "pat", "starter", "--external-id", "inv_1"); !strings.HasPrefix(out, "already fulfilled, nothing moved: starter for pat") {
		t.Fatalf("replay:\n%s", out)
	}
	if e := requireError(t, run(t, "--json", "purchase", "sam", "starter", "--external-id", "inv_1"), ExitError); e.Code != string(creditkit.CodePurchaseConflict) {
		t.Fatalf("conflict: %+v", e)
	}
	if e := requireError(t, run(t, "--json", "purchase", "pat", "jumbo", "--external-id", "inv_2"), ExitError); e.Code != "invalid_request" || !strings.Contains(e.Message, "starter") {
		t.Fatalf("unknown pack: %+v", e)
	}
	var ps []creditkit.Purchase
	if err := json.Unmarshal([]byte(ok("--json", "purchases", "pat")), &ps); err != nil || len(ps) != 1 || ps[0].Metadata["order"] != "7" {
		t.Fatalf("purchases: %v %+v", err, ps)
	}
	ok("debit", "pat", "500")
	if out := ok("refund", "inv_1", "250", "--refund-id", "re_1"); out != "2.50 USD of 10.00 USD refunded on manual/inv_1: clawed back 250 credits\n" {
		t.Fatalf("first refund:\n%q", out)
	}
	if out := ok("refund", "inv_1", "250", "--refund-id", "re_1"); out != "2.50 USD of 10.00 USD refunded on manual/inv_1: nothing more to claw back\n" {
		t.Fatalf("redelivered refund:\n%q", out)
	}
	if out := ok("refund", "inv_1", "1000", "--refund-id", "re_2", "--reason", "unhappy"); out != "10.00 USD of 10.00 USD refunded on manual/inv_1: clawed back 250 credits, 500 credits already spent recorded as debt\n" {
		t.Fatalf("full refund:\n%q", out)
	}
	var b creditkit.Balance
	if err := json.Unmarshal([]byte(ok("--json", "balance", "pat")), &b); err != nil || b.Available != -500 || b.Debt != 500 {
		t.Fatalf("balance: %v %+v", err, b)
	}
	if out := ok("purchases", "pat"); !strings.Contains(out, "10.00 USD refunded") {
		t.Fatalf("purchases after the refunds:\n%s", out)
	}
	return outs
}

// TestPurchaseCommands runs the purchase verbs on --db and on --server:
// they print the same.
func TestPurchaseCommands(t *testing.T) {
	t.Parallel()
	runOnDBAndServer(t, purchaseScript)
}
