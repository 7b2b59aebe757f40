package creditkit

import (
	"testing"
	"time"
)

// Monthly periods count from the anchor and clamp to a short month's end.
func TestPeriodBoundaries(t *testing.T) {
	t.Parallel()
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 9, 30, 0, 0, time.UTC) }
	cases := []struct {
		p      Period
		anchor time.Time
		want   []time.Time // boundaries 1, 2, 3...
	}{
		{Period{1, "month"}, d(2027, 1, 31), []time.Time{d(2027, 2, 28), d(2027, 3, 31), d(2027, 4, 30), d(2027, 5, 31)}},
		{Period{1, "month"}, d(2028, 1, 31), []time.Time{d(2028, 2, 29), d(2028, 3, 31)}},
		{Period{15, "day"}, d(2027, 1, 20), []time.Time{d(2027, 2, 4), d(2027, 2, 19), d(2027, 3, 6)}},
		{Period{2, "week"}, d(2027, 1, 1), []time.Time{d(2027, 1, 15), d(2027, 1, 29)}},
		{Period{3, "month"}, d(2027, 11, 30), []time.Time{d(2028, 2, 29), d(2028, 5, 30)}},
		{Period{1, "year"}, d(2028, 2, 29), []time.Time{d(2029, 2, 28), d(2030, 2, 28), d(2031, 2, 28), d(2032, 2, 29)}},
	}
	for _, c := range cases {
		for i, want := range c.want {
			if got := c.p.Boundary(c.anchor, i+1); !got.Equal(want) {
				t.Errorf("%s from %s: boundary %d = %s, want %s", c.p, c.anchor.Format(time.DateOnly), i+1, got.Format(time.DateOnly), want.Format(time.DateOnly))
			}
			if n := c.p.Index(c.anchor, want); n != i+1 {
				t.Errorf("%s from %s: index of boundary %d = %d", c.p, c.anchor.Format(time.DateOnly), i+1, n)
			}
			if n := c.p.Index(c.anchor, want.Add(-time.Second)); n != i {
				t.Errorf("%s from %s: index just before boundary %d = %d, want %d", c.p, c.anchor.Format(time.DateOnly), i+1, n, i)
			}
		}
	}
	if n := (Period{1, "month"}).Index(d(2027, 1, 31), d(2026, 1, 1)); n != -1 {
		t.Errorf("index before the anchor = %d, want -1", n)
	}
	// Far from the anchor the estimate still lands on the right period.
	p, a := Period{1, "month"}, d(2027, 1, 31)
	for n := 0; n < 600; n += 37 {
		if got := p.Index(a, p.Boundary(a, n)); got != n {
			t.Fatalf("index of boundary %d = %d", n, got)
		}
	}
}

// The plan keys of issue #9's config language parse into the plan, and a
// refill's cost basis divides the price over the credits of its interval.
func TestPlanPriceAndPolicies(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig("creditkit.yaml", []byte(`
plans:
  pro:
    gives: 10000 credits every month
    price: 1200 USD every year
    overage: up to 5000 credits
    overage_price: 1 USD per 100 credits
    on_upgrade: prorate
    catch_up: latest
  fortnight:
    gives: 300 credits every 15 days
    price: 10 USD every quarter
`))
	if err != nil {
		t.Fatal(err)
	}
	pro := cfg.Plans["pro"]
	if pro.Price == nil || *pro.Price != (Price{Cents: 120000, Currency: "USD", Every: Period{1, "year"}}) {
		t.Fatalf("price = %+v", pro.Price)
	}
	if pro.OveragePrice == nil || *pro.OveragePrice != (OveragePrice{Cents: 100, Currency: "USD", Per: 100}) {
		t.Fatalf("overage price = %+v", pro.OveragePrice)
	}
	if pro.OnUpgrade != UpgradeProrate || pro.CatchUp != CatchUpLatest {
		t.Fatalf("policies = %q, %q", pro.OnUpgrade, pro.CatchUp)
	}
	// 1200 USD a year over 12 refills of 10000 credits: 0.01 USD a credit.
	if cb := cfg.RefillCostBasis(pro); cb == nil || cb.PerCredit != "0.01" || cb.Currency != "USD" {
		t.Fatalf("pro cost basis = %+v", cb)
	}
	q := cfg.Plans["fortnight"]
	if q.Price.Every != (Period{3, "month"}) {
		t.Fatalf("a quarter = %+v", q.Price.Every)
	}
	// 10 USD per quarter (91.310625 days on average) over refills of 300
	// credits every 15 days: 10 / (300 × 91.310625 / 15) USD a credit.
	if cb := cfg.RefillCostBasis(q); cb == nil || cb.PerCredit[:10] != "0.00547581" {
		t.Fatalf("fortnight cost basis = %+v", cb)
	}
}

func TestPlanConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"plans:\n  p:\n    gives: 5 credits every month\n    price: 10 USD\n", `creditkit.yaml:4: plans.p.price: expected a price per billing interval`},
		{"plans:\n  p:\n    gives: 5 credits every fortnight\n", `creditkit.yaml:3: plans.p.gives: expected a period of day, week, month, quarter or year`},
		{"plans:\n  p:\n    gives: 5 credits every month\n    overage_price: 1 USD per 100 credits\n", `creditkit.yaml:2: plans.p.overage_price: the plan allows no overage`},
		{"plans:\n  p:\n    gives: 5 credits every month\n    on_upgrade: later\n", `creditkit.yaml:4: plans.p.on_upgrade: expected full or prorate, got "later"`},
		{"plans:\n  p:\n    gives: 5 credits every month\n    catch_up: some\n", `creditkit.yaml:4: plans.p.catch_up: expected all or latest, got "some"`},
		{"plans:\n  p:\n    gives: 5 credits every month\n    overage: up to 10 credits\n    overage_price: 1 USD per 0 credits\n", `creditkit.yaml:5: plans.p.overage_price: expected a price like "1 USD per 100 credits": the number of credits must be at least 1`},
	} {
		_, err := ParseConfig("creditkit.yaml", []byte(tc.src))
		if err == nil || len(err.Error()) < len(tc.want) || err.Error()[:len(tc.want)] != tc.want {
			t.Errorf("config:\n%s\ngot  %v\nwant %s…", tc.src, err, tc.want)
		}
	}
}
