package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// customersScript runs the customer verbs with run and returns what each
// printed, checking exit codes and error codes on the way.
func customersScript(t *testing.T, run cliRun) []string {
	t.Helper()
	var outs []string
	ok := func(args ...string) string {
		t.Helper()
		r := run(t, args...)
		if r.code != ExitOK {
			t.Fatalf("creditkit %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
		}
		outs = append(outs, r.stdout)
		return r.stdout
	}
	fails := func(code string, args ...string) {
		t.Helper()
		e := requireError(t, run(t, append([]string{"--json"}, args...)...), ExitError)
		if e.Code != code {
			t.Fatalf("creditkit %s: error %+v, want %s", strings.Join(args, " "), e, code)
		}
		outs = append(outs, e.Code+": "+e.Message)
	}

	var cu creditkit.Customer
	out := ok("--json", "customers", "create", "cus_ada", "--name", "Ada Lovelace", "--email", "ada@example.com", "--meta", "team=engines", "--idempotency-key", "c-1")
	if err := json.Unmarshal([]byte(out), &cu); err != nil || cu.ID != "cus_ada" || cu.Name != "Ada Lovelace" || cu.Metadata["team"] != "engines" {
		t.Fatalf("create: %v %s", err, out)
	}
	ok("--json", "customers", "create", "cus_ada", "--name", "Ada Lovelace", "--email", "ada@example.com", "--meta", "team=engines")
	fails("customer_exists", "customers", "create", "cus_ada", "--name", "Ada King")
	fails("invalid_request", "customers", "create", "cus_bad", "--email", "not-an-address")
	fails("customer_not_found", "customers", "show", "nobody")
	fails("customer_not_found", "balance", "nobody")
	if r := run(t, "grant", "cus_bob", "10"); r.code != ExitOK {
		t.Fatalf("grant: exit %d: %s", r.code, r.stderr)
	}

	var list []creditkit.Customer
	out = ok("--json", "customers", "list", "--prefix", "cus_", "--limit", "1", "--after", "cus_ada")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].ID != "cus_bob" {
		t.Fatalf("list: %v %s", err, out)
	}
	if human := ok("customers", "list"); !strings.Contains(human, "cus_ada") || !strings.Contains(human, "Ada Lovelace") || !strings.Contains(human, "cus_bob") {
		t.Fatalf("human list:\n%s", human)
	}
	var shown creditkit.Customer
	out = ok("--json", "customers", "show", "cus_bob")
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown.Balances) == 0 || shown.Balances[0].Available != 10 {
		t.Fatalf("show: %v %s", err, out)
	}
	if human := ok("customers", "show", "cus_ada"); !strings.Contains(human, "ada@example.com") || !strings.Contains(human, "meta team") || !strings.Contains(human, "available credits") {
		t.Fatalf("human show:\n%s", human)
	}
	return outs
}

// TestCustomersCommands runs the customer verbs on --db and on --server:
// they succeed and fail alike and print the same.
func TestCustomersCommands(t *testing.T) {
	t.Parallel()
	runOnDBAndServer(t, customersScript)
}
