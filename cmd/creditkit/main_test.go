package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/testnet"
)

// testConfig is the config every test ledger runs with: a whole-credit
// currency and a cents currency, and a few priced operations.
const testConfig = `# test config
currencies:
  - { name: credits, decimals: 0 }
  - { name: usd_credits, decimals: 2 }
rounding: ceil
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  small_model: 1 credit per 10 tokens
  premium_call: 2.50 usd_credits
packs:
  starter: { gives: 1000 credits, costs: 10 USD }
`

// bundle is one test's world: a temp directory with a config file and a
// SQLite database, and optionally a manual clock.
type bundle struct {
	dir    string
	db     string
	config string
	clock  *creditkit.ManualClock
}

// setup returns a bundle on a fresh temp directory.
func setup(t *testing.T) *bundle {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "test.yaml")
	if err := os.WriteFile(cfg, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return &bundle{dir: dir, db: "sqlite:" + filepath.Join(dir, "ledger.db"), config: cfg}
}

// result is what one run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runMain runs m in-process with args.
func runMain(t *testing.T, m *Main, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m.Stdout, m.Stderr = &stdout, &stderr
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := m.Run(ctx, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// run runs the CLI on the bundle's database and config.
func (b *bundle) run(t *testing.T, args ...string) result {
	t.Helper()
	m := &Main{Dir: b.dir}
	if b.clock != nil {
		m.Clock = b.clock
	}
	return runMain(t, m, append([]string{"--db", b.db, "--config", b.config}, args...)...)
}

// ok runs args, requires success and returns stdout.
func (b *bundle) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := b.run(t, args...)
	if r.code != ExitOK {
		t.Fatalf("creditkit %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r.stdout
}

// okJSON runs args with --json, requires success and decodes stdout into v.
func (b *bundle) okJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := b.ok(t, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("creditkit %s: stdout is not the expected JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fail runs args with --json, requires exit code want and the error shape
// (only an error object on stdout, nothing on stderr), and returns the
// error object.
func (b *bundle) fail(t *testing.T, want int, args ...string) errorBody {
	t.Helper()
	return requireError(t, b.run(t, append([]string{"--json"}, args...)...), want)
}

// requireError checks a failed --json run's exit code and error output:
// one {"error": {...}} object on stdout and nothing on stderr.
func requireError(t *testing.T, r result, want int) errorBody {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code = %d, want %d\nstderr: %s\nstdout: %s", r.code, want, r.stderr, r.stdout)
	}
	if r.stderr != "" {
		t.Fatalf("with --json stderr should be empty, got %q", r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var out errorJSON
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("stdout is not an error object: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Fatalf("stdout has more than the error object:\n%s", r.stdout)
	}
	if out.Error.Code == "" || out.Error.Message == "" {
		t.Fatalf("error object lacks code or message: %s", r.stdout)
	}
	if strings.Contains(r.stdout, `\u003c`) || strings.Contains(r.stdout, `\u003e`) || strings.Contains(r.stdout, `\u0026`) {
		t.Fatalf("stdout escapes <, > or &: %s", r.stdout)
	}
	return out.Error
}

// requireTextError checks a failed run without --json: nothing on stdout,
// one "error: " line on stderr, whose message it returns.
func requireTextError(t *testing.T, r result, want int) string {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code = %d, want %d\nstderr: %s\nstdout: %s", r.code, want, r.stderr, r.stdout)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if r.stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") {
		t.Fatalf("want one \"error: \" line on stderr and nothing on stdout, got stdout %q, stderr %q", r.stdout, r.stderr)
	}
	return strings.TrimPrefix(lines[0], "error: ")
}

// balance returns a customer's balance in a currency ("" is the default).
func (b *bundle) balance(t *testing.T, customer, currency string) creditkit.Balance {
	t.Helper()
	args := []string{"balance", customer}
	if currency != "" {
		args = append(args, "--currency", currency)
	}
	var bal creditkit.Balance
	b.okJSON(t, &bal, args...)
	return bal
}

// grant grants credits and returns the grant.
func (b *bundle) grant(t *testing.T, customer, amount string, flags ...string) creditkit.Grant {
	t.Helper()
	var g creditkit.Grant
	b.okJSON(t, &g, append([]string{"grant", customer, amount}, flags...)...)
	return g
}

// requireAvailable checks a customer's available balance in the default currency.
func (b *bundle) requireAvailable(t *testing.T, customer string, want creditkit.Amount) {
	t.Helper()
	if got := b.balance(t, customer, "").Available; got != want {
		t.Fatalf("%s available = %d, want %d", customer, got, want)
	}
}

func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	r := runMain(t, &Main{}, "--help")
	if r.code != ExitOK {
		t.Fatalf("--help exit %d: %s", r.code, r.stderr)
	}
	for _, cmd := range []string{"migrate", "config check", "grant", "spend", "debit", "estimate", "balance", "grants",
		"history", "transfer", "void", "hold", "capture", "release", "run-due", "demo"} {
		if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
			t.Errorf("--help does not list %q:\n%s", cmd, r.stdout)
		}
	}
	for _, flag := range []string{"--db", "--config", "--json"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("--help does not list %s", flag)
		}
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.ok(t, "migrate")
	if want := "migrated " + b.db + "\n"; out != want {
		t.Fatalf("migrate printed %q, want %q", out, want)
	}
	if _, err := os.Stat(strings.TrimPrefix(b.db, "sqlite:")); err != nil {
		t.Fatalf("migrate did not create the database: %v", err)
	}
	// A second run finds the migrations applied and is fine.
	b.ok(t, "migrate")
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	env := map[string]string{"CREDITKIT_DB": "sqlite:env.db", "CREDITKIT_CONFIG": "test.yaml"}
	m := &Main{Dir: b.dir, Getenv: func(k string) string { return env[k] }}
	r := runMain(t, m, "--json", "estimate", "premium_call")
	if r.code != ExitOK {
		t.Fatalf("estimate with CREDITKIT_CONFIG: exit %d: %s", r.code, r.stderr)
	}
	var est estimateJSON
	if err := json.Unmarshal([]byte(r.stdout), &est); err != nil || est.Cost != 250 || est.Currency != "usd_credits" {
		t.Fatalf("estimate premium_call = %+v (%v), want 250 usd_credits", est, err)
	}
	r = runMain(t, &Main{Dir: b.dir, Getenv: m.Getenv}, "migrate")
	if r.code != ExitOK || r.stdout != "migrated sqlite:env.db\n" {
		t.Fatalf("migrate with CREDITKIT_DB: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(b.dir, "env.db")); err != nil {
		t.Fatalf("CREDITKIT_DB relative path not resolved in Main.Dir: %v", err)
	}
	// A flag wins over the environment.
	r = runMain(t, &Main{Dir: b.dir, Getenv: m.Getenv}, "--db", "sqlite:flag.db", "migrate")
	if r.code != ExitOK || r.stdout != "migrated sqlite:flag.db\n" {
		t.Fatalf("migrate with --db and CREDITKIT_DB: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestGrantThenBalance(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out := b.ok(t, "--json", "grant", "alice", "100", "--reason", "signup_bonus", "--meta", "campaign=spring", "--meta", "note=a=b")
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "customer", "currency", "amount", "remaining", "reason", "priority", "effective_at", "expires_at", "status", "metadata"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("grant JSON lacks %q: %s", k, out)
		}
	}
	var g creditkit.Grant
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.ID, "grt_") || g.Customer != "alice" || g.Currency != "credits" || g.Amount != 100 || g.Remaining != 100 ||
		g.Reason != "signup_bonus" || g.Priority != 10 || g.Status != creditkit.GrantActive || g.ExpiresAt != nil {
		t.Fatalf("unexpected grant: %+v", g)
	}
	if g.Metadata["campaign"] != "spring" || g.Metadata["note"] != "a=b" {
		t.Fatalf("grant metadata = %v", g.Metadata)
	}

	out = b.ok(t, "--json", "balance", "alice")
	raw = nil
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"customer": "alice", "currency": "credits", "available": 100.0, "held": 0.0, "debt": 0.0, "scheduled": 0.0}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("balance %s = %v, want %v (%s)", k, raw[k], v, out)
		}
	}

	human := b.ok(t, "balance", "alice")
	if !strings.Contains(human, "available  100 credits") {
		t.Fatalf("human balance lacks the formatted amount:\n%s", human)
	}
	// A customer never seen is customer_not_found, not an empty balance.
	if e := b.fail(t, ExitError, "balance", "nobody"); e.Code != "customer_not_found" {
		t.Fatalf("balance of an unknown customer: %+v", e)
	}
}

func TestGrantOptions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	b.clock = creditkit.NewManualClock(start)

	g := b.grant(t, "alice", "50", "--effective-at", "2030-01-02T12:00:00Z", "--expires-in", "30d", "--priority", "5")
	if g.Status != creditkit.GrantScheduled || g.Priority != 5 {
		t.Fatalf("scheduled grant = %+v", g)
	}
	if want := start.Add(24*time.Hour + 30*24*time.Hour); g.ExpiresAt == nil || !g.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want %v", g.ExpiresAt, want)
	}
	bal := b.balance(t, "alice", "")
	if bal.Available != 0 || bal.Scheduled != 50 {
		t.Fatalf("balance before effective = %+v, want 0 available, 50 scheduled", bal)
	}
	var future creditkit.Balance
	b.okJSON(t, &future, "balance", "alice", "--at", "2030-01-03T00:00:00Z")
	if future.Available != 50 {
		t.Fatalf("projected balance = %+v, want 50 available", future)
	}

	g = b.grant(t, "alice", "12.5", "--currency", "usd_credits", "--expires-at", "2031-01-01T00:00:00Z")
	if g.Amount != 1250 || g.Currency != "usd_credits" || g.ExpiresAt == nil || !g.ExpiresAt.Equal(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("usd grant = %+v", g)
	}
	if got := b.balance(t, "alice", "usd_credits").Available; got != 1250 {
		t.Fatalf("usd_credits available = %d, want 1250", got)
	}
	if human := b.ok(t, "balance", "alice", "--currency", "usd_credits"); !strings.Contains(human, "12.50 usd_credits") {
		t.Fatalf("human balance does not show 12.50 usd_credits:\n%s", human)
	}

	// --expires-at and --expires-in exclude each other: a usage error.
	requireError(t, b.run(t, "--json", "grant", "alice", "5", "--expires-at", "2031-01-01T00:00:00Z", "--expires-in", "1d"), ExitUsage)
	if e := b.fail(t, ExitError, "grant", "alice", "5", "--expires-in", "soon"); e.Code != "invalid_request" {
		t.Fatalf("bad --expires-in code = %s", e.Code)
	}
	if e := b.fail(t, ExitError, "grant", "alice", "5", "--effective-at", "tomorrow"); e.Code != "invalid_request" || !strings.Contains(e.Message, "RFC 3339") {
		t.Fatalf("bad --effective-at = %+v", e)
	}
	if e := b.fail(t, ExitError, "grant", "alice", "5", "--meta", "novalue"); e.Code != "invalid_request" {
		t.Fatalf("bad --meta code = %s", e.Code)
	}
	if e := b.fail(t, ExitError, "grant", "alice", "5", "--currency", "gold"); e.Code != "invalid_request" || !strings.Contains(e.Message, "gold") {
		t.Fatalf("unknown currency = %+v", e)
	}
}

func TestSpendWithParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "100")

	var e creditkit.Entry
	b.okJSON(t, &e, "spend", "alice", "process_image", "mb=5.2", "--meta", "job=j1")
	if !strings.HasPrefix(e.ID, "ent_") || e.Category != creditkit.CategoryOperationCharge || e.Amount != -16 || e.BalanceAfter != 84 || e.Actor != "cli" {
		t.Fatalf("spend entry = %+v", e)
	}
	if e.Operation != "process_image" {
		t.Fatalf("entry operation = %v", e.Operation)
	}
	// A numeric param is recorded as a number, as the API records
	// {"mb": 5.2}; a non-numeric one stays a string.
	if p, _ := e.Details["params"].(map[string]any); p["mb"] != 5.2 {
		t.Fatalf("entry details params = %#v, want the number 5.2", e.Details["params"])
	}
	if e.Metadata["job"] != "j1" {
		t.Fatalf("entry metadata = %v", e.Metadata)
	}
	b.requireAvailable(t, "alice", 84)

	out := b.ok(t, "spend", "alice", "small_model", "tokens=25")
	if !strings.Contains(out, "charged alice 3 credits for small_model") {
		t.Fatalf("human spend output:\n%s", out)
	}
	b.requireAvailable(t, "alice", 81)
	var h creditkit.Hold
	b.okJSON(t, &h, "hold", "alice", "small_model", "tokens=20")
	if h.Params["tokens"] != 20.0 {
		t.Fatalf("hold params = %#v, want the number 20", h.Params)
	}
	var last []creditkit.Entry
	b.okJSON(t, &last, "history", "alice", "--limit", "1", "--category", "operation_charge")
	if p, _ := last[0].Details["params"].(map[string]any); p["tokens"] != 25.0 {
		t.Fatalf("history params = %#v, want the number 25", last[0].Details["params"])
	}
	b.ok(t, "release", h.ID)

	if e := b.fail(t, ExitError, "spend", "alice", "process_image"); e.Code != "invalid_params" {
		t.Fatalf("missing param code = %s (%s)", e.Code, e.Message)
	}
	if e := b.fail(t, ExitError, "spend", "alice", "process_image", "mb"); e.Code != "invalid_params" {
		t.Fatalf("param without = code = %s (%s)", e.Code, e.Message)
	}
	b.requireAvailable(t, "alice", 81)
}

func TestDebit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "10", "--currency", "usd_credits")
	var e creditkit.Entry
	b.okJSON(t, &e, "debit", "alice", "2.25", "--currency", "usd_credits", "--reason", "refund_fee")
	if e.Amount != -225 || e.Category != "refund_fee" || e.Currency != "usd_credits" || e.BalanceAfter != 775 {
		t.Fatalf("debit entry = %+v", e)
	}
	if got := b.balance(t, "alice", "usd_credits").Available; got != 775 {
		t.Fatalf("available = %d, want 775", got)
	}
}

func TestEstimate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var est estimateJSON
	b.okJSON(t, &est, "estimate", "process_image", "mb=5.2")
	if est.Operation != "process_image" || est.Cost != 16 || est.Currency != "credits" {
		t.Fatalf("estimate = %+v", est)
	}
	out := b.ok(t, "estimate", "small_model", "tokens=25")
	if !strings.Contains(out, "costs 3 credits") {
		t.Fatalf("human estimate: %q", out)
	}
	if _, err := os.Stat(strings.TrimPrefix(b.db, "sqlite:")); !os.IsNotExist(err) {
		t.Fatalf("estimate should not touch the database, stat: %v", err)
	}
	if e := b.fail(t, ExitError, "estimate", "teleport"); e.Code != "unknown_operation" || !strings.Contains(e.Message, "process_image") {
		t.Fatalf("unknown operation = %+v", e)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "100", "--reason", "signup_bonus")
	b.ok(t, "spend", "alice", "send_email")
	b.ok(t, "debit", "alice", "7")

	out := b.ok(t, "--json", "history", "alice")
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3 {
		t.Fatalf("history has %d entries, want 3: %s", len(raw), out)
	}
	for _, k := range []string{"id", "customer", "currency", "category", "amount", "balance_after", "metadata", "allocations", "at", "recorded_at"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("history entry lacks %q", k)
		}
	}
	var entries []creditkit.Entry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	type row struct {
		cat     string
		amount  creditkit.Amount
		balance creditkit.Amount
	}
	var got []row
	for _, e := range entries {
		got = append(got, row{e.Category, e.Amount, e.BalanceAfter})
	}
	want := []row{{"signup_bonus", 100, 100}, {"operation_charge", -1, 99}, {"debit", -7, 92}}
	if !slices.Equal(got, want) {
		t.Fatalf("history = %+v, want %+v (oldest first)", got, want)
	}

	var debits []creditkit.Entry
	b.okJSON(t, &debits, "history", "alice", "--category", "debit")
	if len(debits) != 1 || debits[0].Amount != -7 {
		t.Fatalf("history --category debit = %+v", debits)
	}
	var last2 []creditkit.Entry
	b.okJSON(t, &last2, "history", "alice", "--limit", "2")
	if len(last2) != 2 || last2[0].ID != entries[1].ID || last2[1].ID != entries[2].ID {
		t.Fatalf("history --limit 2 should be the last two, oldest first: %+v", last2)
	}
	if e := b.fail(t, ExitError, "history", "nobody"); e.Code != "customer_not_found" {
		t.Fatalf("history of an unknown customer: %+v", e)
	}

	human := b.ok(t, "history", "alice")
	for _, s := range []string{"signup_bonus", "+100 credits", "-1 credit", "send_email", "92 credits"} {
		if !strings.Contains(human, s) {
			t.Errorf("human history lacks %q:\n%s", s, human)
		}
	}
}

func TestGrantsStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g1 := b.grant(t, "alice", "10")
	g2 := b.grant(t, "alice", "20")
	b.ok(t, "void", g1.ID)

	ids := func(args ...string) []string {
		t.Helper()
		var gs []creditkit.Grant
		b.okJSON(t, &gs, append([]string{"grants", "alice"}, args...)...)
		var out []string
		for _, g := range gs {
			out = append(out, g.ID+":"+string(g.Status))
		}
		return out
	}
	if got, want := ids(), []string{g1.ID + ":voided", g2.ID + ":active"}; !slices.Equal(got, want) {
		t.Fatalf("grants = %v, want %v", got, want)
	}
	if got, want := ids("--status", "active"), []string{g2.ID + ":active"}; !slices.Equal(got, want) {
		t.Fatalf("grants --status active = %v, want %v", got, want)
	}
	if got, want := ids("--status", "voided"), []string{g1.ID + ":voided"}; !slices.Equal(got, want) {
		t.Fatalf("grants --status voided = %v, want %v", got, want)
	}
	if got := ids("--status", "expired"); len(got) != 0 {
		t.Fatalf("grants --status expired = %v, want none", got)
	}
	if e := b.fail(t, ExitError, "grants", "alice", "--status", "bogus"); e.Code != "invalid_request" {
		t.Fatalf("bad status code = %s", e.Code)
	}
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "100", "--expires-in", "30d")

	out := b.ok(t, "--json", "transfer", "alice", "bob", "30", "--evergreen")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"out", "in", "grants"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("transfer JSON lacks %q: %s", k, out)
		}
	}
	var res creditkit.TransferResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Out.Customer != "alice" || res.Out.Amount != -30 || res.Out.Category != creditkit.CategoryTransferOut {
		t.Fatalf("out entry = %+v", res.Out)
	}
	if res.In.Customer != "bob" || res.In.Amount != 30 || res.In.Category != creditkit.CategoryTransferIn {
		t.Fatalf("in entry = %+v", res.In)
	}
	if len(res.Grants) != 1 || res.Grants[0].Customer != "bob" || res.Grants[0].Amount != 30 || res.Grants[0].ExpiresAt != nil {
		t.Fatalf("new grants = %+v, want one evergreen grant of 30 to bob", res.Grants)
	}
	b.requireAvailable(t, "alice", 70)
	b.requireAvailable(t, "bob", 30)

	// Without --evergreen the credits keep their expiry.
	b.okJSON(t, &res, "transfer", "alice", "carol", "5")
	if len(res.Grants) != 1 || res.Grants[0].ExpiresAt == nil {
		t.Fatalf("transfer without --evergreen should keep the expiry: %+v", res.Grants)
	}

	e := b.fail(t, ExitError, "transfer", "bob", "alice", "31")
	if e.Code != "insufficient_credits" || e.Needed == nil || *e.Needed != 31 || e.Available == nil || *e.Available != 30 {
		t.Fatalf("over-transfer error = %+v", e)
	}
	if e := b.fail(t, ExitError, "transfer", "bob", "bob", "1"); e.Code != "invalid_request" {
		t.Fatalf("self transfer code = %s", e.Code)
	}
	b.requireAvailable(t, "alice", 65)
	b.requireAvailable(t, "bob", 30)
}

func TestVoid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.grant(t, "alice", "40")
	b.ok(t, "spend", "alice", "send_email")

	var e creditkit.Entry
	b.okJSON(t, &e, "void", g.ID, "--reason", "granted by mistake")
	if e.Category != creditkit.CategoryVoid || e.Amount != -39 || e.BalanceAfter != 0 || e.Details["reason"] != "granted by mistake" {
		t.Fatalf("void entry = %+v", e)
	}
	b.requireAvailable(t, "alice", 0)
	if e := b.fail(t, ExitError, "void", g.ID); e.Code != "grant_not_active" || !strings.Contains(e.Message, "was voided") {
		t.Fatalf("second void = %+v", e)
	}
}

func TestHoldCaptureRelease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "100")

	var h creditkit.Hold
	b.okJSON(t, &h, "hold", "alice", "process_image", "mb=5")
	if !strings.HasPrefix(h.ID, "hld_") || h.Amount != 15 || h.Status != creditkit.HoldActive || h.Operation != "process_image" {
		t.Fatalf("hold = %+v", h)
	}
	bal := b.balance(t, "alice", "")
	if bal.Available != 85 || bal.Held != 15 {
		t.Fatalf("balance with hold = %+v, want 85 available, 15 held", bal)
	}

	var e creditkit.Entry
	b.okJSON(t, &e, "capture", h.ID, "--amount", "10")
	if e.Amount != -10 || e.Category != creditkit.CategoryOperationCharge || e.Details["hold_id"] != h.ID {
		t.Fatalf("capture entry = %+v", e)
	}
	bal = b.balance(t, "alice", "")
	if bal.Available != 90 || bal.Held != 0 {
		t.Fatalf("balance after capture = %+v, want 90 available, 0 held", bal)
	}
	if e := b.fail(t, ExitError, "capture", h.ID); e.Code != "hold_not_active" {
		t.Fatalf("second capture code = %s", e.Code)
	}

	var h2 creditkit.Hold
	b.okJSON(t, &h2, "hold", "alice", "batch_job", "--amount", "20", "--ttl", "1h")
	if h2.Amount != 20 || h2.ExpiresAt.Sub(h2.CreatedAt) != time.Hour {
		t.Fatalf("raw hold = %+v", h2)
	}
	b.requireAvailable(t, "alice", 70)
	var released creditkit.Hold
	b.okJSON(t, &released, "release", h2.ID)
	if released.ID != h2.ID || released.Status != creditkit.HoldReleased {
		t.Fatalf("released hold = %+v", released)
	}
	b.requireAvailable(t, "alice", 90)
	if e := b.fail(t, ExitError, "release", "hld_missing"); e.Code != "not_found" {
		t.Fatalf("release unknown hold code = %s", e.Code)
	}
	e2 := b.fail(t, ExitError, "hold", "alice", "process_image", "mb=100")
	if e2.Code != "insufficient_credits" || *e2.Needed != 110 || *e2.Available != 90 {
		t.Fatalf("over-hold error = %+v", e2)
	}
}

func TestRunDue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock = creditkit.NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	b.grant(t, "alice", "50", "--expires-in", "1h")
	b.grant(t, "alice", "10")
	var h creditkit.Hold
	b.okJSON(t, &h, "hold", "alice", "send_email", "--ttl", "10m")

	var res creditkit.DueResult
	b.okJSON(t, &res, "run-due")
	if res != (creditkit.DueResult{}) {
		t.Fatalf("run-due before anything is due = %+v", res)
	}

	b.clock.Advance(2 * time.Hour)
	b.okJSON(t, &res, "run-due")
	if res.ExpiredGrants != 1 || res.ExpiredHolds != 1 {
		t.Fatalf("run-due = %+v, want 1 expired grant and 1 expired hold", res)
	}
	var expirations []creditkit.Entry
	b.okJSON(t, &expirations, "history", "alice", "--category", "expiration")
	// The grant's own 49 credits expire at its expiry; the held credit
	// expires as the lapsed hold gives it back.
	var expired creditkit.Amount
	for _, e := range expirations {
		expired += e.Amount
	}
	if expired != -50 {
		t.Fatalf("expiration entries sum to %d, want -50: %+v", expired, expirations)
	}
	bal := b.balance(t, "alice", "")
	if bal.Available != 10 || bal.Held != 0 {
		t.Fatalf("balance after run-due = %+v, want 10 available", bal)
	}
	// Nothing is due twice.
	b.okJSON(t, &res, "run-due")
	if res != (creditkit.DueResult{}) {
		t.Fatalf("second run-due = %+v", res)
	}
}

func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g1 := b.grant(t, "alice", "100", "--idempotency-key", "grant-1")
	g2 := b.grant(t, "alice", "100", "--idempotency-key", "grant-1")
	if g1.ID != g2.ID {
		t.Fatalf("grant replay returned %s, first was %s", g2.ID, g1.ID)
	}
	b.requireAvailable(t, "alice", 100)

	var e1, e2 creditkit.Entry
	b.okJSON(t, &e1, "spend", "alice", "process_image", "mb=5", "--idempotency-key", "spend-1")
	b.okJSON(t, &e2, "spend", "alice", "process_image", "mb=5", "--idempotency-key", "spend-1")
	if e1.ID == "" || e1.ID != e2.ID {
		t.Fatalf("spend replay returned %q, first was %q", e2.ID, e1.ID)
	}
	b.requireAvailable(t, "alice", 85)

	e := b.fail(t, ExitError, "spend", "alice", "process_image", "mb=6", "--idempotency-key", "spend-1")
	if e.Code != "idempotency_conflict" {
		t.Fatalf("key reuse code = %s", e.Code)
	}
	b.requireAvailable(t, "alice", 85)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "10")

	tests := []struct {
		name     string
		args     []string
		exit     int
		code     string
		contains string
	}{
		{"unknown operation", []string{"spend", "alice", "teleport"}, ExitError, "unknown_operation", "teleport"},
		{"amount not a number", []string{"grant", "alice", "abc"}, ExitError, "invalid_amount", `"abc"`},
		{"amount zero", []string{"grant", "alice", "0"}, ExitError, "invalid_amount", "greater than zero"},
		{"negative amount", []string{"grant", "alice", "-5"}, ExitError, "invalid_amount", "-5"},
		{"negative decimal amount", []string{"debit", "alice", "-5.5"}, ExitError, "invalid_amount", "-5.5"},
		{"negative amount after --", []string{"grant", "alice", "--", "-5"}, ExitError, "invalid_amount", "-5"},
		{"too many decimals", []string{"grant", "alice", "1.5"}, ExitError, "invalid_amount", "decimal"},
		{"debit not a number", []string{"debit", "alice", "ten"}, ExitError, "invalid_amount", `"ten"`},
		{"unknown grant", []string{"void", "grt_doesnotexist"}, ExitError, "not_found", "grt_doesnotexist"},
		{"unknown hold", []string{"capture", "hld_doesnotexist"}, ExitError, "not_found", "hld_doesnotexist"},
		{"unknown flag", []string{"grant", "alice", "5", "--bogus"}, ExitUsage, "invalid_request", "--bogus"},
		{"missing argument", []string{"grant", "alice"}, ExitUsage, "invalid_request", "amount"},
		{"unknown command", []string{"refund", "alice"}, ExitUsage, "invalid_request", "refund"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := b.fail(t, tt.exit, tt.args...)
			if e.Code != tt.code || !strings.Contains(e.Message, tt.contains) {
				t.Fatalf("error = %+v, want code %s and a message containing %q", e, tt.code, tt.contains)
			}
		})
	}

	t.Run("insufficient credits", func(t *testing.T) {
		t.Parallel()
		e := b.fail(t, ExitError, "spend", "alice", "process_image", "mb=5.2")
		if e.Code != "insufficient_credits" || e.Needed == nil || *e.Needed != 16 || e.Available == nil || *e.Available != 10 {
			t.Fatalf("error = %+v, want insufficient_credits with needed 16, available 10", e)
		}
		if !strings.Contains(e.Message, "needs 16 credits but has 10 credits available") {
			t.Fatalf("message = %q", e.Message)
		}
	})

	t.Run("without --json only stderr", func(t *testing.T) {
		t.Parallel()
		if msg := requireTextError(t, b.run(t, "spend", "alice", "teleport"), ExitError); !strings.HasPrefix(msg, "unknown operation") {
			t.Fatalf("message %q", msg)
		}
		if msg := requireTextError(t, b.run(t, "grant", "alice", "5", "--bogus"), ExitUsage); !strings.Contains(msg, "--bogus") {
			t.Fatalf("message %q", msg)
		}
		if msg := requireTextError(t, b.run(t, "grant", "alice", "-5"), ExitError); !strings.Contains(msg, "negative") {
			t.Fatalf("message %q", msg)
		}
	})

	t.Run("JSON keeps < and > as they are", func(t *testing.T) {
		t.Parallel()
		e := b.fail(t, ExitError, "grant", "alice", "5", "--currency", "<gold>")
		if !strings.Contains(e.Message, `"<gold>"`) {
			t.Fatalf("message %q", e.Message)
		}
	})
}

// TestExitCodesForEveryVerb: for every ledger verb, a command line that
// does not parse exits 2 and a refusal exits 1, both in the one error
// shape.
func TestExitCodesForEveryVerb(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "10")
	for _, tc := range []struct {
		verb    string
		refused []string // runs, and is refused
	}{
		{"grant", []string{"grant", "alice", "0"}},
		{"spend", []string{"spend", "alice", "teleport"}},
		{"debit", []string{"debit", "alice", "0"}},
		{"estimate", []string{"estimate", "teleport"}},
		{"balance", []string{"balance", "alice", "--currency", "gold"}},
		{"grants", []string{"grants", "alice", "--status", "bogus"}},
		{"history", []string{"history", "", "--limit", "5"}},
		{"transfer", []string{"transfer", "alice", "bob", "11"}},
		{"void", []string{"void", "grt_missing"}},
		{"reverse", []string{"reverse", "ent_missing", "--reason", "x"}},
		{"expiry", []string{"expiry", "grt_missing", "--never"}},
		{"alerts", []string{"alerts", "alice", "150%"}},
		{"hold", []string{"hold", "alice", "send_email", "--ttl", "soon"}},
		{"capture", []string{"capture", "hld_missing"}},
		{"release", []string{"release", "hld_missing"}},
		{"run-due", []string{"run-due", "--db", "mysql://x"}},
		{"migrate", []string{"migrate", "--db", "mysql://x"}},
		{"config check", []string{"config", "check", "--config", "missing.yaml"}},
	} {
		t.Run(tc.verb, func(t *testing.T) {
			t.Parallel()
			usage := append(strings.Fields(tc.verb), "--no-such-flag")
			if e := b.fail(t, ExitUsage, usage...); e.Code != "invalid_request" {
				t.Errorf("%v: code %s", usage, e.Code)
			}
			b.fail(t, ExitError, tc.refused...)
		})
	}
}

func TestErrorsNothingMoved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.grant(t, "alice", "10")
	b.fail(t, ExitError, "spend", "alice", "process_image", "mb=5.2")
	b.fail(t, ExitError, "debit", "alice", "11")
	b.requireAvailable(t, "alice", 10)
	var entries []creditkit.Entry
	b.okJSON(t, &entries, "history", "alice")
	if len(entries) != 1 {
		t.Fatalf("failed writes left entries: %+v", entries)
	}
}

func TestMalformedConfig(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := filepath.Join(b.dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("operations:\n  send_email: 1 credit\n  resize: banana\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.config = bad
	for _, args := range [][]string{{"config", "check"}, {"grant", "alice", "5"}, {"balance", "alice"}} {
		e := b.fail(t, ExitError, args...)
		if e.Code != "invalid_config" || !strings.Contains(e.Message, "bad.yaml:3") {
			t.Fatalf("%v: error = %+v, want invalid_config naming bad.yaml:3", args, e)
		}
	}
	if _, err := os.Stat(strings.TrimPrefix(b.db, "sqlite:")); !os.IsNotExist(err) {
		t.Fatalf("a bad config should fail before the database is opened, stat: %v", err)
	}

	b.config = filepath.Join(b.dir, "missing.yaml")
	if e := b.fail(t, ExitError, "config", "check"); e.Code != "invalid_config" || !strings.Contains(e.Message, "missing.yaml") {
		t.Fatalf("missing config = %+v", e)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.ok(t, "config", "check")
	for _, s := range []string{"test.yaml is valid", "credits (0 decimals)", "usd_credits (2 decimals)", "process_image", "10 credits + 1 credit per mb"} {
		if !strings.Contains(out, s) {
			t.Errorf("config check lacks %q:\n%s", s, out)
		}
	}
	var sum configSummary
	b.okJSON(t, &sum, "config", "check")
	var ops []string
	for _, o := range sum.Operations {
		ops = append(ops, o.Name+"="+o.Formula)
	}
	want := []string{"premium_call=2.50 usd_credits", "process_image=10 credits + 1 credit per mb", "send_email=1 credit", "small_model=1 credit per 10 tokens"}
	if !slices.Equal(ops, want) || sum.Path != b.config || len(sum.Currencies) != 2 {
		t.Fatalf("config summary = %+v, operations %v", sum, ops)
	}

	// The example config names plans and packs.
	example := filepath.Join(b.dir, "example.yaml")
	if err := os.WriteFile(example, exampleConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	b.config = example
	out = b.ok(t, "config", "check")
	for _, s := range []string{"free (default)", "500 credits every month", "starter", "1000 credits for 49.00 USD"} {
		if !strings.Contains(out, s) {
			t.Errorf("config check of the example lacks %q:\n%s", s, out)
		}
	}

	// Without --config and without ./creditkit.yaml: the built-in defaults.
	r := runMain(t, &Main{Dir: t.TempDir()}, "config", "check")
	if r.code != ExitOK || !strings.Contains(r.stdout, "built-in defaults") || !strings.Contains(r.stdout, "operations: none") {
		t.Fatalf("config check without a file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// ./creditkit.yaml in the working directory is picked up.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "creditkit.yaml"), []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runMain(t, &Main{Dir: dir}, "--json", "estimate", "premium_call")
	if r.code != ExitOK || !strings.Contains(r.stdout, `"cost": 250`) {
		t.Fatalf("./creditkit.yaml not used: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestNoSilentEmptyConfig: without --config, CREDITKIT_CONFIG or
// ./creditkit.yaml, a command that needs an operation says that no config
// was loaded and how to give one; serve says which config it loaded.
func TestNoSilentEmptyConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runMain(t, &Main{Dir: dir}, "--json", "spend", "alice", "process_image")
	e := requireError(t, r, ExitError)
	for _, want := range []string{"unknown operation", "no config file loaded", "--config FILE", "CREDITKIT_CONFIG", filepath.Join(dir, "creditkit.yaml")} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message lacks %q: %s", want, e.Message)
		}
	}
	if e.Code != "unknown_operation" {
		t.Errorf("code %s", e.Code)
	}
	r = runMain(t, &Main{Dir: dir}, "config", "check")
	if r.code != ExitOK || !strings.Contains(r.stdout, "no config file loaded") || !strings.Contains(r.stdout, "--config FILE") {
		t.Errorf("config check without a file: %s", r.stdout)
	}

	b := setup(t)
	_, out, stop := startServe(t, &Main{Dir: dir}, "serve", "--addr", "127.0.0.1:0")
	stop()
	if !strings.Contains(out.String(), "no config file loaded") {
		t.Errorf("serve without a config does not say so:\n%s", out)
	}
	_, out, stop = startServe(t, &Main{Dir: b.dir}, "--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0")
	stop()
	if !strings.Contains(out.String(), "config "+b.config) {
		t.Errorf("serve does not name its config:\n%s", out)
	}
}

func TestDatabaseErrors(t *testing.T) {
	t.Parallel()
	t.Run("unreachable postgres", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		r := runMain(t, &Main{Dir: t.TempDir()}, "--json", "--db", "postgres://127.0.0.1:1/x", "balance", "alice")
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Fatalf("unreachable database took %s to fail", elapsed)
		}
		e := requireError(t, r, ExitError)
		if !strings.Contains(e.Message, "127.0.0.1:1") {
			t.Fatalf("error does not name the database: %+v", e)
		}
	})
	t.Run("silent server", func(t *testing.T) {
		t.Parallel()
		// A server that accepts connections and never answers.
		addr := testnet.SilentListener(t)
		start := time.Now()
		m := &Main{Dir: t.TempDir(), OpenTimeout: 300 * time.Millisecond}
		r := runMain(t, m, "--json", "--db", "postgres://u@"+addr+"/x?sslmode=disable", "balance", "alice")
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Fatalf("silent database took %s to fail", elapsed)
		}
		e := requireError(t, r, ExitError)
		if !strings.Contains(e.Message, "did not answer within 300ms") {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("unsupported URL", func(t *testing.T) {
		t.Parallel()
		r := runMain(t, &Main{Dir: t.TempDir()}, "--json", "--db", "mysql://localhost/x", "migrate")
		e := requireError(t, r, ExitError)
		if e.Code != "invalid_request" || !strings.Contains(e.Message, "mysql://localhost/x") || !strings.Contains(e.Message, "sqlite:") {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		r := runMain(t, &Main{Dir: t.TempDir()}, "--json", "--db", "sqlite:no/such/dir/x.db", "migrate")
		e := requireError(t, r, ExitError)
		if !strings.Contains(e.Message, "does not exist") {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("password is not printed", func(t *testing.T) {
		t.Parallel()
		r := runMain(t, &Main{Dir: t.TempDir()}, "--db", "postgres://admin:hunter2@127.0.0.1:1/x", "migrate")
		if r.code != ExitError || strings.Contains(r.stderr+r.stdout, "hunter2") {
			t.Fatalf("exit %d, output leaks the password: %s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runMain(t, &Main{Dir: dir}, "demo")
	if r.code != ExitOK {
		t.Fatalf("demo: exit %d: %s", r.code, r.stderr)
	}
	for _, s := range []string{"granted 100 credits to alice", "send_email", "process_image mb=5.2", "available  583 credits", "signup_bonus", "-16 credits"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("demo output lacks %q:\n%s", s, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "creditkit.db")); err != nil {
		t.Fatalf("demo did not create creditkit.db in the working directory: %v", err)
	}

	// A second run on the same database adds to alice's balance.
	r = runMain(t, &Main{Dir: dir}, "--json", "demo")
	var out demoJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != ExitOK {
		t.Fatalf("demo --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	// alice is on the example's default plan (500 credits a month), given
	// when the first demo named her.
	if out.Balance.Available != 666 || len(out.History) != 7 || out.Config != exampleConfigName {
		t.Fatalf("second demo: available %d, %d history entries, config %q", out.Balance.Available, len(out.History), out.Config)
	}
}

func TestExampleConfigMatchesRoot(t *testing.T) {
	t.Parallel()
	root, err := os.ReadFile(filepath.Join("..", "..", "creditkit.example.yaml"))
	if err != nil {
		t.Skipf("no root example config: %v", err)
	}
	if !bytes.Equal(root, exampleConfig) {
		t.Fatalf("cmd/creditkit/example.yaml differs from creditkit.example.yaml: copy it again")
	}
}
