package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/pgtest"
)

// TestServeDemoSeedsPlanHistory starts serve --demo on a fresh database
// (SQLite and PostgreSQL) with the clock at a known instant, and checks
// that frida (free, the default plan) and priya (pro: rollover, overage)
// have three months of refills, spends, expiry, rollover and a settled
// overage, that balance, ledger, usage and the revenue report show them,
// and that a second start seeds nothing new.
func TestServeDemoSeedsPlanHistory(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := "sqlite:" + filepath.Join(dir, "creditkit.db")
			if name == "postgres" {
				db = pgtest.NewDatabaseURL(t, cluster)
			}
			now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
			clock := creditkit.NewManualClock(now)
			started := time.Now()
			base, out, stop := startServe(t, &Main{Dir: dir, Clock: clock}, "--db", db, "serve", "--demo", "--addr", "127.0.0.1:0")
			t.Logf("serve --demo was ready in %s", time.Since(started))
			for _, want := range []string{
				"frida  on free  since 2026-08-21: 4 refills and 11 spends seeded",
				"priya  on pro   since 2026-08-21: 4 refills and 15 spends seeded",
				"creditkit --db '" + db + "' report revenue --from 2026-08-21 --to 2026-12-03",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("serve --demo did not print %q:\n%s", want, out)
				}
			}
			key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())
			if key == nil {
				t.Fatalf("no admin key printed:\n%s", out)
			}
			client := &http.Client{Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			get := func(path string) map[string]any {
				t.Helper()
				status, body, err := call(client, "GET", base+path, key[1], nil)
				if err != nil || status != 200 {
					t.Fatalf("GET %s: %d %v %v", path, status, body, err)
				}
				return body
			}

			// The subscriptions are in their fourth period, which began on
			// the last monthly boundary before now.
			for customer, plan := range map[string]string{"frida": "free", "priya": "pro"} {
				sub, _ := get("/v1/customers/" + customer)["subscription"].(map[string]any)
				if sub["plan"] != plan || sub["status"] != "active" || sub["anchor"] != "2026-08-21T00:00:00Z" ||
					sub["period_start"] != "2026-11-21T00:00:00Z" || sub["period_end"] != "2026-12-21T00:00:00Z" {
					t.Errorf("%s's subscription = %v, want active on %s, period 2026-11-21 to 2026-12-21", customer, sub, plan)
				}
			}
			// frida: 500 a month, the unused part expiring at each
			// boundary; 160 spent this month. priya: 1,000 bonus and
			// 10,000 a month rolling over, 1,720 of debt settled on
			// 2026-10-21; 13,900 this month, 2,620 spent.
			for customer, want := range map[string]float64{"frida": 340, "priya": 11280, "alice": 1482, "bob": 728, "carol": 5499} {
				if bal := get("/v1/customers/" + customer + "/balance"); bal["available"] != want || bal["debt"] != 0.0 {
					t.Errorf("%s's balance = %v, want %v available and no debt", customer, bal, want)
				}
			}
			type entryList struct {
				Data []creditkit.Entry `json:"data"`
			}
			ledger := func(customer, query string) []creditkit.Entry {
				t.Helper()
				raw, _ := json.Marshal(get("/v1/customers/" + customer + "/ledger?limit=100&" + query))
				var l entryList
				if err := json.Unmarshal(raw, &l); err != nil {
					t.Fatal(err)
				}
				return l.Data
			}
			refills := ledger("priya", "category=subscription")
			if len(refills) != 4 {
				t.Fatalf("priya has %d refills, want 4: %+v", len(refills), refills)
			}
			for i, e := range refills {
				if want := time.Date(2026, time.Month(8+i), 21, 0, 0, 0, 0, time.UTC); !e.At.Equal(want) || e.Amount != 10000 {
					t.Errorf("priya's refill %d: %s %+d, want %s +10000", i, e.At, e.Amount, want)
				}
			}
			if s := ledger("priya", "category=overage_settlement"); len(s) != 1 || s[0].Amount != 1720 ||
				!s[0].At.Equal(time.Date(2026, 10, 21, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("priya's overage settlements = %+v, want one of 1720 on 2026-10-21", s)
			}
			var expired creditkit.Amount
			for _, e := range ledger("frida", "category=expiration") {
				expired -= e.Amount
			}
			if expired != 179+1+280 {
				t.Errorf("frida's expired credits = %d, want 460", expired)
			}
			if usage, _ := get("/v1/customers/priya/usage?by=operation")["data"].([]any); len(usage) < 4 {
				t.Errorf("priya's usage by operation = %v, want a row for each of her 4 operations", usage)
			}

			// The revenue report, from the CLI, as serve printed it.
			cfgPath := filepath.Join(dir, "example.yaml")
			if err := os.WriteFile(cfgPath, exampleConfig, 0o600); err != nil {
				t.Fatal(err)
			}
			r := runMain(t, &Main{Dir: dir, Clock: clock}, "--db", db, "--config", cfgPath, "--json",
				"report", "revenue", "--from", "2026-08-21", "--to", "2026-12-03")
			var rep creditkit.RevenueReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != ExitOK {
				t.Fatalf("report revenue: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
			}
			if len(rep.Money) != 1 || rep.Money[0].Currency != "USD" || rep.Money[0].Sold.Value != "400.00" ||
				rep.Money[0].OverageBilled.Value != "17.20" || rep.Money[0].ClosingDeferred.Value != "112.80" {
				t.Errorf("revenue report = %s", r.stdout)
			}

			// A second start, an hour later, on the same database seeds
			// nothing new.
			count := func() int {
				t.Helper()
				n := 0
				for _, c := range []string{"alice", "bob", "carol", "frida", "priya"} {
					n += len(ledger(c, ""))
				}
				return n
			}
			before := count()
			client.CloseIdleConnections()
			if code := stop(); code != ExitOK {
				t.Fatalf("serve exited %d", code)
			}
			clock.Advance(time.Hour)
			base, out, stop = startServe(t, &Main{Dir: dir, Clock: clock}, "--db", db, "serve", "--demo", "--addr", "127.0.0.1:0")
			defer stop()
			oldKey := key[1]
			if key = regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String()); key == nil {
				t.Fatalf("no admin key printed on the second start:\n%s", out)
			}
			// The first start's key is revoked, not left live beside the
			// new one, and both changes are in the audit log.
			if status, _, err := call(client, "GET", base+"/v1/customers/alice/balance", oldKey, nil); err != nil || status != 401 {
				t.Errorf("the first start's demo key after a restart: %d %v, want 401", status, err)
			}
			for _, action := range []string{"api_key.revoke", "api_key.create"} {
				recs, _ := get("/v1/audit?action=" + action)["data"].([]any)
				n := 0
				for _, r := range recs {
					if r.(map[string]any)["actor_kind"] == "system" {
						n++
					}
				}
				if want := map[string]int{"api_key.revoke": 1, "api_key.create": 2}[action]; n != want {
					t.Errorf("%d %s records by creditkit itself, want %d: %v", n, action, want, recs)
				}
			}
			for _, want := range []string{"frida  on free  since 2026-08-21: seeded before", "priya  on pro   since 2026-08-21: seeded before"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the second start did not print %q:\n%s", want, out)
				}
			}
			if after := count(); after != before {
				t.Fatalf("the second start changed the demo ledgers: %d entries, was %d", after, before)
			}
		})
	}
}

// TestSeedPlanHistoryIsFast times the plan customers' seeding alone on a
// fresh SQLite database: a demo must start at once.
func TestSeedPlanHistoryIsFast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig(exampleConfigName, exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	started := time.Now()
	seeded, err := seedPlanHistory(ctx, l)
	took := time.Since(started)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %+v in %s", seeded, took)
	if len(seeded) != 2 || seeded[0].Refills != 4 || seeded[1].Refills != 4 {
		t.Fatalf("seeded %+v, want frida and priya with 4 refills each", seeded)
	}
	// The target is well under 2 s; the bound leaves room for a busy
	// machine.
	if took > 10*time.Second {
		t.Fatalf("seeding took %s", took)
	}
	again, err := seedPlanHistory(ctx, l)
	if err != nil || len(again) != 2 || !again[0].Existed || !again[1].Existed {
		t.Fatalf("second seeding = %+v, %v; want both existing", again, err)
	}
}

// TestDemoCommandSeedsPlanCustomers: creditkit demo seeds the same plan
// customers as serve --demo, once per database, and skips them on a
// config whose plans are not the example's.
func TestDemoCommandSeedsPlanCustomers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := creditkit.NewManualClock(time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC))
	for i, want := range []bool{false, true} {
		r := runMain(t, &Main{Dir: dir, Clock: clock}, "--json", "demo")
		var out demoJSON
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != ExitOK {
			t.Fatalf("demo %d: exit %d, %v\n%s%s", i, r.code, err, r.stdout, r.stderr)
		}
		if len(out.Plans) != 2 || out.Plans[0].Customer != "frida" || out.Plans[1].Customer != "priya" ||
			out.Plans[0].Existed != want || out.Plans[1].Existed != want {
			t.Fatalf("demo %d plans = %+v, want frida and priya, existing: %v", i, out.Plans, want)
		}
		if !want && (out.Plans[1].Refills != 4 || out.Plans[1].Spends != 15) {
			t.Fatalf("demo %d: priya = %+v, want 4 refills and 15 spends", i, out.Plans[1])
		}
		clock.Advance(time.Minute)
	}
	r := runMain(t, &Main{Dir: dir, Clock: clock}, "demo")
	if !strings.Contains(r.stdout, "priya  on pro   since 2026-08-21: seeded before, left as it is") {
		t.Fatalf("demo's human output:\n%s", r.stdout)
	}
	var bal creditkit.Balance
	r = runMain(t, &Main{Dir: dir, Clock: clock}, "--json", "balance", "priya")
	if err := json.Unmarshal([]byte(r.stdout), &bal); err != nil || bal.Available != 11280 {
		t.Fatalf("priya after three demos: %+v %v %s", bal, err, r.stderr)
	}

	// A config of one's own, without the example's plans: the plan
	// customers are skipped, the rest of the demo runs.
	b := setup(t)
	var out demoJSON
	b.okJSON(t, &out, "demo")
	if len(out.Plans) != 2 || !strings.Contains(out.Plans[0].Skipped, "no plan free") || out.Balance == nil {
		t.Fatalf("demo on a config without plans: %+v", out)
	}
}
