package dashboard_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// TestOverviewSpentIsThisMonthsCharges checks the overview's Spent tile:
// what was charged this month, not the overage of last month settled at a
// boundary this month (the revenue report recognizes that settlement, but
// nothing was spent by it).
func TestOverviewSpentIsThisMonthsCharges(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	ctx := context.Background()
	// Last month: a metered customer spends 150 of a 100-credit
	// allowance, 50 of it as debt.
	e.clock.Set(time.Date(2027, 1, 20, 12, 0, 0, 0, time.UTC))
	if _, err := e.l.StartSubscription(ctx, "meter", "metered", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.l.Debit(ctx, "meter", 150, nil); err != nil {
		t.Fatal(err)
	}
	// This month: the boundary (February 20) settles the debt, and 7
	// credits are spent.
	e.clock.Set(time.Date(2027, 2, 21, 12, 0, 0, 0, time.UTC))
	if _, err := e.l.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := e.l.History(ctx, "meter", &creditkit.HistoryFilter{Category: creditkit.CategoryOverageSettlement})
	if err != nil || len(es) != 1 || es[0].Amount != 50 {
		t.Fatalf("the boundary did not settle the debt: %+v %v", es, err)
	}
	if _, err := e.l.Debit(ctx, "meter", 7, nil); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.signIn(e.admin)
	p := c.get("/dashboard/")
	m := regexp.MustCompile(`id="stat-spent">([^<]*)<`).FindStringSubmatch(p.body)
	if m == nil || m[1] != "7" {
		t.Fatalf("Spent this month: %q, want 7 (the settled 50 is no spending)", m)
	}
}

// TestOverviewSurvivesAFailedReport: credit totals past 64 bits make the
// revenue report refuse (it says to narrow it); the overview still renders,
// says why the granted and expired tiles are missing, and shows the rest.
func TestOverviewSurvivesAFailedReport(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	ctx := context.Background()
	for _, c := range []string{"huge1", "huge2"} {
		if _, err := e.l.Grant(ctx, c, 9_000_000_000_000_000_000, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.l.Revenue(ctx, &creditkit.RevenueOpts{From: e.clock.Now().AddDate(0, -1, 0), To: e.clock.Now().Add(time.Second)}); creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
		t.Fatalf("the report over every customer: %v, want invalid_request", err)
	}
	c := e.client()
	c.signIn(e.admin)
	p := c.get("/dashboard/")
	if p.status != 200 {
		t.Fatalf("overview: %d", p.status)
	}
	p.mustContain(t, `id="stat-granted">—<`, `id="stat-expired">—<`, "the revenue report failed", `id="stat-customers">5<`)
}
