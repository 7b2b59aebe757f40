package dashboard

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/creditkit/creditkit"
)

// customersPage is how many customers a page of the list shows.
const customersPage = 25

// maxSorted caps the customers read to sort the list by a balance.
const maxSorted = 1000

// customerRow is one line of the customers list.
type customerRow struct {
	ID, Name, Email string
	Balance         *creditkit.Balance
	Plan            string
}

// customersData is the customers page's data.
type customersData struct {
	Query    string
	Sort     string
	Currency string
	Rows     []customerRow
	// Next is the cursor of the next page when sorted by ID; Page and
	// More page the list when sorted by a balance.
	Next       string
	Page       int
	More       bool
	Truncated  bool
	IsFirst    bool
	SortLabels []sortOption
}

type sortOption struct{ Value, Label string }

var customerSorts = []sortOption{
	{"id", "ID"},
	{"-available", "Available, most first"},
	{"available", "Available, least first"},
	{"-debt", "Debt, most first"},
}

// customers lists customers by ID prefix, with their balances: by ID with
// a cursor, or by a balance (reading at most maxSorted customers).
func (h *Handler) customers(w http.ResponseWriter, r *http.Request, u *user) {
	ctx := r.Context()
	q := r.URL.Query()
	d := &customersData{Query: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Currency: h.l.Config().DefaultCurrency().Name, SortLabels: customerSorts}
	if !slices.ContainsFunc(customerSorts, func(s sortOption) bool { return s.Value == d.Sort }) {
		d.Sort = "id"
	}
	load := func(c *creditkit.Customer) (customerRow, error) {
		full, err := h.l.GetCustomer(ctx, c.ID)
		if err != nil {
			return customerRow{}, err
		}
		row := customerRow{ID: c.ID, Name: c.Name, Email: c.Email}
		for _, b := range full.Balances {
			if b.Currency == d.Currency {
				row.Balance = b
			}
		}
		if full.Subscription != nil {
			row.Plan = full.Subscription.Plan + " (" + string(full.Subscription.Status) + ")"
		}
		return row, nil
	}
	if d.Sort == "id" {
		after := q.Get("after")
		d.IsFirst = after == ""
		page, err := h.l.Customers(ctx, &creditkit.CustomerFilter{Prefix: d.Query, After: after, Limit: customersPage + 1})
		if err != nil {
			h.failErr(w, r, u, err)
			return
		}
		if len(page) > customersPage {
			page = page[:customersPage]
			d.Next = page[len(page)-1].ID
		}
		for _, c := range page {
			row, err := load(c)
			if err != nil {
				h.failErr(w, r, u, err)
				return
			}
			d.Rows = append(d.Rows, row)
		}
	} else {
		d.Page, _ = strconv.Atoi(q.Get("page"))
		d.Page = max(d.Page, 1)
		d.IsFirst = d.Page == 1
		all, err := h.l.Customers(ctx, &creditkit.CustomerFilter{Prefix: d.Query, Limit: maxSorted + 1})
		if err != nil {
			h.failErr(w, r, u, err)
			return
		}
		if len(all) > maxSorted {
			all, d.Truncated = all[:maxSorted], true
		}
		rows := make([]customerRow, 0, len(all))
		for _, c := range all {
			row, err := load(c)
			if err != nil {
				h.failErr(w, r, u, err)
				return
			}
			rows = append(rows, row)
		}
		key := func(r customerRow) creditkit.Amount {
			if r.Balance == nil {
				return 0
			}
			if strings.HasSuffix(d.Sort, "debt") {
				return r.Balance.Debt
			}
			return r.Balance.Available
		}
		slices.SortStableFunc(rows, func(a, b customerRow) int {
			c := cmp.Compare(key(a), key(b))
			if strings.HasPrefix(d.Sort, "-") {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(a.ID, b.ID))
		})
		start := min((d.Page-1)*customersPage, len(rows))
		end := min(start+customersPage, len(rows))
		d.Rows, d.More = rows[start:end], end < len(rows)
	}
	h.render(w, r, http.StatusOK, "customers", "", &view{Title: "Customers", Nav: "customers", User: u, Data: d})
}
