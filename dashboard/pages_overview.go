package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// chartDays is how many days the usage charts cover, today included.
const chartDays = 30

// maxCounted caps the customers the overview counts.
const maxCounted = 100_000

// overviewData is the overview page's data.
type overviewData struct {
	Currency    string
	PeriodStart time.Time
	Now         time.Time
	// Customers is how many customers there are (at most maxCounted;
	// CustomersMore says there are more).
	Customers     int
	CustomersMore bool
	// Granted and Expired are the credits of the period, over every
	// customer (the revenue report's credit columns; Granted before
	// refunds, so a refunded pack still counts); TotalsErr says why they
	// are missing when the report failed.
	Granted, Expired creditkit.Amount
	TotalsErr        string
	// Spent is what was charged in the period (as Usage counts it: not
	// overage settled at a boundary, which was charged when spent), Debt
	// the debt outstanding now, TopOps the operations charged the most in
	// the last chartDays days, and Chart their daily usage, over the
	// first Sampled customers (SampledAll when that is every one).
	Spent      creditkit.Amount
	Debt       creditkit.Amount
	Sampled    int
	SampledAll bool
	TopOps     []opUsage
	Chart      *chart
	// FailedDeliveries are the latest webhook deliveries that failed, then
	// those still retrying after a failed attempt.
	FailedDeliveries []*store.Delivery
}

// opUsage is one operation's usage.
type opUsage struct {
	Name   string
	Count  int64
	Amount creditkit.Amount
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, u *user) {
	ctx := r.Context()
	cfg := h.l.Config()
	cur := cfg.DefaultCurrency()
	now := h.l.Now()
	d := &overviewData{Currency: cur.Name, PeriodStart: startOfMonth(now), Now: now}

	// A report that fails leaves the page up: the tiles say why.
	rep, err := h.l.Revenue(ctx, &creditkit.RevenueOpts{From: d.PeriodStart, To: now.Add(time.Second)})
	if err != nil {
		if creditkit.ErrorCodeOf(err) == creditkit.CodeInternal {
			h.failErr(w, r, u, err)
			return
		}
		d.TotalsErr = err.Error()
	} else {
		for _, uc := range rep.Uncosted {
			if uc.Currency == cur.Name {
				d.Granted += uc.Granted
				d.Expired += uc.Expired
			}
		}
		for _, m := range rep.Money {
			// Sold is net of refunds; the tile shows what was granted, so
			// the refunds' credits are added back.
			d.Granted += m.Sold.Credits[cur.Name] + m.Refunds.Credits[cur.Name]
			d.Expired += m.Breakage.Credits[cur.Name]
		}
	}

	// One usage query per customer serves the month's spending and the
	// chart's days, from whichever starts first.
	since := startOfDay(now).AddDate(0, 0, 1-chartDays)
	from := since
	if d.PeriodStart.Before(since) {
		from = d.PeriodStart
	}
	var rows []creditkit.UsageRow
	ops := map[string]*opUsage{}
	err = h.eachCustomer(ctx, func(c *creditkit.Customer) error {
		d.Customers++
		if d.Customers > h.overviewCap {
			return nil
		}
		d.Sampled++
		b, err := h.l.Balance(ctx, c.ID, &creditkit.BalanceOpts{Currency: cur.Name})
		if err != nil && creditkit.ErrorCodeOf(err) != creditkit.CodeCustomerNotFound {
			return err
		}
		if b != nil {
			d.Debt += b.Debt
		}
		us, err := h.l.Usage(ctx, c.ID, &creditkit.UsageQuery{Currency: cur.Name, Since: from, Interval: creditkit.IntervalDay, ByOperation: true})
		if err != nil && creditkit.ErrorCodeOf(err) != creditkit.CodeCustomerNotFound {
			return err
		}
		for _, row := range us {
			if !row.Start.Before(d.PeriodStart) {
				d.Spent += row.Amount
			}
			if row.Start.Before(since) {
				continue
			}
			rows = append(rows, row)
			name := usageLabel(row)
			if ops[name] == nil {
				ops[name] = &opUsage{Name: name}
			}
			ops[name].Count += row.Count
			ops[name].Amount += row.Amount
		}
		return nil
	})
	if err != nil {
		h.failErr(w, r, u, err)
		return
	}
	d.CustomersMore = d.Customers >= maxCounted
	d.SampledAll = d.Sampled == d.Customers
	for _, o := range ops {
		d.TopOps = append(d.TopOps, *o)
	}
	slices.SortFunc(d.TopOps, func(a, b opUsage) int { return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Name, b.Name)) })
	if len(d.TopOps) > 8 {
		d.TopOps = d.TopOps[:8]
	}
	d.Chart = dailyChart("overview-usage", "Credits used per day, by operation", cur, rows, since, startOfDay(now).AddDate(0, 0, 1))

	// Failing: given up on, or still retrying after an error (a receiver
	// that is down shows here within a minute, not after the last retry).
	if d.FailedDeliveries, err = h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.DeliveryFailed, Limit: 5}); err != nil {
		h.failErr(w, r, u, err)
		return
	}
	pending, err := h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.DeliveryPending, Limit: 100})
	if err != nil {
		h.failErr(w, r, u, err)
		return
	}
	for _, dl := range pending {
		if len(d.FailedDeliveries) >= 10 {
			break
		}
		if dl.Attempts > 0 && (dl.LastError != "" || dl.LastStatus >= 300) {
			d.FailedDeliveries = append(d.FailedDeliveries, dl)
		}
	}
	d.FailedDeliveries = deliveriesFor(u, d.FailedDeliveries) // URLs: admin only
	h.render(w, r, http.StatusOK, "overview", "", &view{Title: "Overview", Nav: "overview", User: u, Data: d})
}

// eachCustomer calls fn for every customer by ID, up to maxCounted.
func (h *Handler) eachCustomer(ctx context.Context, fn func(c *creditkit.Customer) error) error {
	after := ""
	n := 0
	for n < maxCounted {
		page, err := h.l.Customers(ctx, &creditkit.CustomerFilter{After: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
			if n++; n >= maxCounted {
				return nil
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].ID
	}
	return nil
}
