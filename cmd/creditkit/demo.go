package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/creditkit/creditkit"
)

// exampleConfig is creditkit.example.yaml, so that demo works on a machine
// with no files at all.
//
//go:embed example.yaml
var exampleConfig []byte

// exampleConfigName names the embedded config in messages and errors.
const exampleConfigName = "creditkit.example.yaml (embedded)"

// demoCustomer is the customer the demo grants to and spends from.
const demoCustomer = "alice"

// DemoCmd shows the ledger at work on a sample customer.
type DemoCmd struct{}

// demoJSON is the --json output of demo.
type demoJSON struct {
	Config  string             `json:"config"`
	Grant   *creditkit.Grant   `json:"grant"`
	Spends  []*creditkit.Entry `json:"spends"`
	Balance *creditkit.Balance `json:"balance"`
	History []*creditkit.Entry `json:"history"`
	// Plans are the plan customers with months of history, as serve
	// --demo seeds them.
	Plans []demoSeeded `json:"plans"`
}

// Run grants alice 100 credits, spends send_email and process_image mb=5.2,
// and prints her balance and history. Like serve --demo, it first seeds
// the plan customers' months of history (once per database). It uses
// --config, else ./creditkit.yaml, else the embedded example config.
func (c *DemoCmd) Run(s *session) error {
	cfg, err := s.loadConfig(func() (*creditkit.Config, error) {
		return creditkit.ParseConfig(exampleConfigName, exampleConfig)
	})
	if err != nil {
		return err
	}
	return s.withLedger(func(l *creditkit.Ledger) error {
		out := demoJSON{Config: cfg.Path}
		if out.Plans, err = seedPlanHistory(s.ctx, l); err != nil {
			return fmt.Errorf("demo plan customers: %w", err)
		}
		out.Grant, err = l.Grant(s.ctx, demoCustomer, 100, &creditkit.GrantOpts{Reason: "signup_bonus", Actor: actor})
		if err != nil {
			return fmt.Errorf("demo grant: %w", err)
		}
		spends := []struct {
			op     string
			params creditkit.Params
		}{
			{"send_email", nil},
			{"process_image", creditkit.Params{"mb": "5.2"}},
		}
		for _, sp := range spends {
			e, err := l.Spend(s.ctx, demoCustomer, sp.op, sp.params, &creditkit.SpendOpts{Actor: actor})
			if err != nil {
				return fmt.Errorf("demo spend %s: %w", sp.op, err)
			}
			out.Spends = append(out.Spends, e)
		}
		if out.Balance, err = l.Balance(s.ctx, demoCustomer, nil); err != nil {
			return err
		}
		if out.History, err = l.History(s.ctx, demoCustomer, &creditkit.HistoryFilter{Limit: 20, Newest: true}); err != nil {
			return err
		}
		slices.Reverse(out.History)
		return s.output(out, func(w io.Writer) {
			fmt.Fprintf(w, "demo on %s with %s\n\n", s.redactedDB(), cfg.Path)
			g := out.Grant
			fmt.Fprintf(w, "granted %s to %s (%s, grant %s)\n", cfg.FormatAmount(g.Amount, g.Currency), g.Customer, g.Reason, g.ID)
			for i, e := range out.Spends {
				what := spends[i].op
				if len(spends[i].params) > 0 {
					what += " " + fmtPairs(spends[i].params)
				}
				fmt.Fprintf(w, "%s spent %s on %s\n", e.Customer, cfg.FormatAmount(-e.Amount, e.Currency), what)
			}
			fmt.Fprintln(w)
			printBalance(w, cfg, out.Balance)
			fmt.Fprintln(w)
			fmt.Fprintln(w, "history:")
			printEntries(w, cfg, out.History)
			if len(out.Plans) > 0 {
				fmt.Fprintln(w)
				fmt.Fprintln(w, "plan customers, with months of history (see them with balance, history and report revenue):")
				printDemoPlans(w, "  ", out.Plans)
			}
		})
	})
}

// demoMonths is how many whole periods of history the plan customers of
// the demo get before the current one.
const demoMonths = 3

// demoSpend is one operation a demo plan customer spends on, on a day of
// a period (0 is the period's first day).
type demoSpend struct {
	day    int
	op     string
	params creditkit.Params
}

// demoPlanCustomer is a customer the demo puts on a plan of the example
// config, with what it spends in each period; the last period's list
// repeats for any later period.
type demoPlanCustomer struct {
	id, name, email, plan string
	periods               [][]demoSpend
}

// demoPlanCustomers are the demo's plan customers: one on the free default
// plan (500 credits a month, unused credits expire), one on pro (10,000 a
// month, rollover, overage up to 10,000 credits billed at 1 USD per 100).
// Priya's second month spends past her credits into debt, which the
// boundary settles before the refill.
var demoPlanCustomers = []demoPlanCustomer{
	{id: "frida", name: "Frida Lund", email: "frida@example.com", plan: "free", periods: [][]demoSpend{
		{{2, "small_model", creditkit.Params{"tokens": "1500"}}, {9, "process_image", creditkit.Params{"mb": "70"}},
			{16, "send_email", nil}, {23, "small_model", creditkit.Params{"tokens": "900"}}}, // 321: 179 expire
		{{3, "small_model", creditkit.Params{"tokens": "2500"}}, {12, "process_image", creditkit.Params{"mb": "140"}},
			{21, "small_model", creditkit.Params{"tokens": "990"}}}, // 499: 1 expires
		{{5, "small_model", creditkit.Params{"tokens": "2000"}}, {14, "analyze_data", nil}},                          // 220
		{{1, "small_model", creditkit.Params{"tokens": "1200"}}, {8, "process_image", creditkit.Params{"mb": "30"}}}, // 160
	}},
	{id: "priya", name: "Priya Nair", email: "priya@example.com", plan: "pro", periods: [][]demoSpend{
		{{2, "generate_video", creditkit.Params{"seconds": "120"}}, {6, "small_model", creditkit.Params{"tokens": "25000"}},
			{13, "process_image", creditkit.Params{"mb": "190"}}, {20, "generate_video", creditkit.Params{"seconds": "240"}}}, // 6,500: 4,500 roll over
		{{4, "generate_video", creditkit.Params{"seconds": "600"}}, {11, "small_model", creditkit.Params{"tokens": "40000"}},
			{18, "generate_video", creditkit.Params{"seconds": "300"}}, {25, "analyze_data", nil},
			{26, "small_model", creditkit.Params{"tokens": "30000"}}}, // 16,220: 1,720 of debt, settled at the boundary
		{{3, "generate_video", creditkit.Params{"seconds": "350"}}, {9, "small_model", creditkit.Params{"tokens": "20000"}},
			{19, "process_image", creditkit.Params{"mb": "490"}}}, // 6,100: 3,900 roll over
		{{2, "generate_video", creditkit.Params{"seconds": "150"}}, {6, "small_model", creditkit.Params{"tokens": "10000"}},
			{10, "analyze_data", nil}}, // 2,620
	}},
}

// demoStep is a spend of the todo[i] of seedPlanHistory.
type demoStep struct {
	i int
	demoSpend
}

// demoSeeded says what seedPlanHistory did for one customer.
type demoSeeded struct {
	Customer string `json:"customer"`
	Plan     string `json:"plan"`
	// Since is the subscription's start.
	Since time.Time `json:"since"`
	// Refills (the first one included) and Spends count what was
	// written; both are 0 when the customer existed already (a restart
	// of the demo).
	Refills int `json:"refills"`
	Spends  int `json:"spends"`
	// Existed is true when the customer was there before, so nothing was
	// seeded.
	Existed bool `json:"existed,omitempty"`
	// Skipped says why the customer was not seeded: the config's plan or
	// operations are not the example config's, which its history is
	// written for.
	Skipped string `json:"skipped,omitempty"`
}

// demoMisfit says why a config of the user's own cannot play c's history
// (its plan or an operation it spends on is missing or differs from the
// example config's), or "" when it can.
func demoMisfit(cfg *creditkit.Config, c demoPlanCustomer) string {
	example, err := creditkit.ParseConfig(exampleConfigName, exampleConfig)
	if err != nil {
		return err.Error()
	}
	p, ok := cfg.Plans[c.plan]
	if !ok || p == nil {
		return "the config has no plan " + c.plan
	}
	if describePlan(cfg, p) != describePlan(example, example.Plans[c.plan]) {
		return "the config's plan " + c.plan + " is not the example config's"
	}
	for _, period := range c.periods {
		for _, sp := range period {
			got, _, err := cfg.Price(sp.op, sp.params)
			want, _, _ := example.Price(sp.op, sp.params)
			if err != nil || got != want {
				return "the config's operation " + sp.op + " is not the example config's"
			}
		}
	}
	return ""
}

// seedPlanHistory puts each of demoPlanCustomers on its plan, about
// demoMonths months and a half before l's now, and plays its history:
// spends on their days, and at every period boundary the refill (with the
// plan's expiry or rollover, and the settlement of overage debt) as the
// scheduler writes it. It writes through a second ledger over l's store
// whose clock it steps through that past, so every entry carries the time
// it would have had; l's own clock is never touched. It stops before l's
// now, with the current period under way, so l's scheduler finds nothing
// due. A customer that exists already is left as it is: a restart seeds
// nothing twice. Run it before l serves anything.
func seedPlanHistory(ctx context.Context, l *creditkit.Ledger) ([]demoSeeded, error) {
	now := l.Now()
	// Periods anchor on a midnight no later than the 28th, so that every
	// month has each seeded day of a period.
	start := now.AddDate(0, -demoMonths, -12).Truncate(24 * time.Hour)
	if d := start.Day(); d > 28 {
		start = start.AddDate(0, 0, 28-d)
	}
	var todo []demoPlanCustomer
	out := make([]demoSeeded, 0, len(demoPlanCustomers))
	for _, c := range demoPlanCustomers {
		if why := demoMisfit(l.Config(), c); why != "" {
			out = append(out, demoSeeded{Customer: c.id, Plan: c.plan, Skipped: why})
			continue
		}
		cust, err := l.GetCustomer(ctx, c.id)
		switch {
		case err == nil:
			s := demoSeeded{Customer: c.id, Plan: c.plan, Since: cust.CreatedAt, Existed: true}
			if cust.Subscription != nil {
				s.Plan, s.Since = cust.Subscription.Plan, cust.Subscription.CreatedAt
			}
			out = append(out, s)
			continue
		case creditkit.ErrorCodeOf(err) != creditkit.CodeCustomerNotFound:
			return nil, err
		}
		todo = append(todo, c)
	}
	if len(todo) == 0 {
		return out, nil
	}
	clock := creditkit.NewManualClock(start)
	cfg := *l.Config()
	cfg.Clock = clock
	cfg.Writes = creditkit.WriteConfig{NoBatching: true}
	past, err := creditkit.New(l.Store(), &cfg)
	if err != nil {
		return nil, err
	}
	defer past.Close()

	seeded := make([]demoSeeded, len(todo))
	for i, c := range todo {
		seeded[i] = demoSeeded{Customer: c.id, Plan: c.plan, Since: start, Refills: 1}
		if _, err := past.CreateCustomer(ctx, c.id, &creditkit.CustomerOpts{Name: c.name, Email: c.email, Plan: c.plan,
			Metadata: map[string]string{"demo": "true"}, IdempotencyKey: "demo-create-" + c.id, Actor: "demo"}); err != nil {
			return nil, fmt.Errorf("demo customer %s: %w", c.id, err)
		}
	}
	// One timeline for all customers, so that the clock only moves
	// forward: period k starts at the k-th monthly boundary, where the
	// scheduler's work (RunDue) comes first, then the period's spends.
	for k := 0; ; k++ {
		boundary := start.AddDate(0, k, 0)
		if !boundary.Before(now) {
			break
		}
		if k > 0 {
			clock.Set(boundary)
			if _, err := past.RunDue(ctx); err != nil {
				return nil, fmt.Errorf("demo refills at %s: %w", boundary.Format(time.DateOnly), err)
			}
			for i := range seeded {
				seeded[i].Refills++
			}
		}
		var spends []demoStep
		for i, c := range todo {
			for _, sp := range c.periods[min(k, len(c.periods)-1)] {
				spends = append(spends, demoStep{i, sp})
			}
		}
		slices.SortStableFunc(spends, func(a, b demoStep) int { return a.day - b.day })
		for n, sp := range spends {
			at := boundary.AddDate(0, 0, sp.day).Add(time.Duration(9+n%8) * time.Hour)
			if !at.Before(now) {
				break
			}
			clock.Set(at)
			c := todo[sp.i]
			if _, err := past.Spend(ctx, c.id, sp.op, sp.params, &creditkit.SpendOpts{Actor: "demo",
				IdempotencyKey: fmt.Sprintf("demo-spend-%s-%d-%d", c.id, k, n)}); err != nil {
				return nil, fmt.Errorf("demo spend of %s on %s at %s: %w", c.id, sp.op, at.Format(time.RFC3339), err)
			}
			seeded[sp.i].Spends++
		}
	}
	return append(out, seeded...), nil
}

// demoSeed is what serve --demo seeded.
type demoSeed struct {
	// AdminKey is the secret of the admin API key created for this run.
	AdminKey string
	// Plans are the plan customers and their history.
	Plans []demoSeeded
	// Now is the ledger's time when the seeding ended.
	Now time.Time
}

// defaultDB is --db's default (cli.go's tag says the same).
const defaultDB = "sqlite:creditkit.db"

// print tells what the demo seeded and how to try it, for a server on base
// over the database db.
func (d *demoSeed) print(w io.Writer, base, db string) {
	fmt.Fprintf(w, "  admin API key (demo): %s\n", d.AdminKey)
	fmt.Fprintf(w, "  try: curl -H 'Authorization: Bearer %s' %s/v1/customers/alice/balance\n", d.AdminKey, base)
	fmt.Fprintln(w, "  demo customers: alice, bob and carol (a grant and a few spends each)")
	fmt.Fprintf(w, "  customer widgets, as alice sees them: %s/widgets/demo\n", base)
	printDemoPlans(w, "    ", d.Plans)
	for _, p := range d.Plans {
		if p.Skipped == "" {
			// The hint names the database unless it is the default one,
			// so that running it as printed reads what was seeded.
			dbFlag := ""
			if db != defaultDB {
				dbFlag = "--db '" + db + "' "
			}
			fmt.Fprintf(w, "  try: creditkit %sreport revenue --from %s --to %s\n", dbFlag, p.Since.Format(time.DateOnly),
				d.Now.AddDate(0, 0, 1).Format(time.DateOnly))
			break
		}
	}
}

// printDemoPlans prints a line per plan customer of the demo.
func printDemoPlans(w io.Writer, indent string, plans []demoSeeded) {
	for _, p := range plans {
		switch {
		case p.Skipped != "":
			fmt.Fprintf(w, "%s%-6s on %-5s not seeded: %s\n", indent, p.Customer, p.Plan, p.Skipped)
		case p.Existed:
			fmt.Fprintf(w, "%s%-6s on %-5s since %s: seeded before, left as it is\n", indent, p.Customer, p.Plan, p.Since.Format(time.DateOnly))
		default:
			fmt.Fprintf(w, "%s%-6s on %-5s since %s: %d refills and %d spends seeded\n", indent, p.Customer, p.Plan,
				p.Since.Format(time.DateOnly), p.Refills, p.Spends)
		}
	}
}
