package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// TestTopUpCommands sets, shows and turns off a customer's auto top-up
// from the command line, with a config whose auto_topup gives the
// defaults.
func TestTopUpCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := testConfig + "auto_topup: { threshold: 100 credits, pack: starter, enabled: false }\n"
	if err := os.WriteFile(b.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := b.ok(t, "topup", "show", "alice"); !strings.Contains(out, "auto top-up of alice (credits): off (config settings)") {
		t.Fatalf("show before:\n%s", out)
	}
	out := b.ok(t, "topup", "set", "alice", "--target", "500", "--cap", "100 USD", "--cooldown", "30m")
	for _, want := range []string{"auto top-up of alice (credits): on (customer settings)",
		"under 100 credits: buy up to 500 credits at pack starter's unit price; cooldown 30m0s", "this month: 0.00 USD spent, cap 100.00 USD"} {
		if !strings.Contains(out, want) {
			t.Fatalf("set: missing %q in\n%s", want, out)
		}
	}
	var st creditkit.AutoTopUpStatus
	if err := json.Unmarshal([]byte(b.ok(t, "--json", "topup", "show", "alice")), &st); err != nil || !st.Enabled || st.MonthlyCapCents != 10000 || st.TargetBalance != 500 {
		t.Fatalf("show --json: %v %+v", err, st)
	}
	if e := requireError(t, b.run(t, "--json", "topup", "set", "alice", "--cap", "100 EUR"), ExitError); !strings.Contains(e.Message, "give it in USD") {
		t.Fatalf("cap in another currency: %+v", e)
	}
	if e := requireError(t, b.run(t, "--json", "topup", "set", "alice", "--pack", "big"), ExitError); e.Code != "invalid_request" || !strings.Contains(e.Message, `pack "big" is not in the config`) {
		t.Fatalf("unknown pack: %+v", e)
	}
	if out := b.ok(t, "topup", "off", "alice"); !strings.Contains(out, "off (customer settings)") {
		t.Fatalf("off:\n%s", out)
	}
}

// topUpScript sets, shows and turns off an auto top-up with every setting
// given, and returns what each topup verb printed.
func topUpScript(t *testing.T, run cliRun) []string {
	t.Helper()
	var outs []string
	for _, args := range [][]string{
		{"topup", "show", "alice"},
		{"topup", "set", "alice", "--threshold", "100", "--pack", "starter", "--cap", "100 USD", "--cooldown", "30m"},
		{"topup", "show", "alice"},
		{"topup", "off", "alice"},
	} {
		r := run(t, args...)
		if r.code != ExitOK {
			t.Fatalf("creditkit %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		outs = append(outs, r.stdout)
	}
	if !strings.Contains(outs[1], "under 100 credits: buy pack starter; cooldown 30m0s") || !strings.Contains(outs[3], "off (customer settings)") {
		t.Fatalf("outputs:\n%s", strings.Join(outs, ""))
	}
	return outs
}

// TestTopUpCommandsOnDBAndServer: the topup verbs print the same on --db
// and on --server.
func TestTopUpCommandsOnDBAndServer(t *testing.T) {
	t.Parallel()
	runOnDBAndServer(t, topUpScript)
}
