package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
)

// Page sizes of the customer page's tables.
const (
	grantsPage = 50
	ledgerPage = 25
)

// customerData is the customer page's data.
type customerData struct {
	Customer *creditkit.Customer
	Currency string
	Balance  *creditkit.Balance
	// Used is what the customer was charged in the current period (the
	// subscription's, else the calendar month) and Had what it could use:
	// Used plus what is available now.
	Used, Had   creditkit.Amount
	UsedPercent int
	PeriodStart time.Time
	PeriodEnd   time.Time

	Grants     []*creditkit.Grant
	GrantsNext string
	// GrantActors names who gave each grant, from its grant entry.
	GrantActors map[string]string

	Entries     []*creditkit.Entry
	EntriesNext string
	Filter      ledgerFilter
	EntryTypes  []string
	Operations  []string

	Chart *chart

	Subscription *creditkit.Subscription
	Plans        []string
	Packs        []*creditkit.Pack
	Sources      []string

	// Keys are fresh idempotency keys, one per form, so that a form sent
	// twice (a double click, a retry) moves credits once.
	Keys map[string]string
	// Form holds the values of a form sent with an error, to show it
	// again, and FormError says what was wrong with it; FormName names the
	// form.
	Form      url.Values
	FormName  string
	FormError string
	// Token is a customer token just minted.
	Token *mintedToken
}

// ledgerFilter is the ledger table's filter.
type ledgerFilter struct {
	Type, Operation, Category, After string
}

// mintedToken is a customer token shown once after it is minted.
type mintedToken struct {
	Token     string
	ExpiresAt time.Time
}

// customerState is what an action hands back to the page besides the
// customer: a message, a form error, a minted token.
type customerState struct {
	Flash     string
	FormName  string
	FormError string
	Form      url.Values
	Token     *mintedToken
}

func (h *Handler) customer(w http.ResponseWriter, r *http.Request, u *user) {
	h.showCustomer(w, r, u, r.PathValue("customer"), http.StatusOK, customerState{})
}

// showCustomer renders the customer page, or only its live part (balances,
// actions, grants and ledger) for htmx.
func (h *Handler) showCustomer(w http.ResponseWriter, r *http.Request, u *user, id string, status int, st customerState) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = url.Values{} // the ledger's filters are the page's, not the form's
	}
	d, err := h.loadCustomer(r.Context(), id, q)
	if err != nil {
		h.failErr(w, r, u, err)
		return
	}
	d.Form, d.FormName, d.FormError, d.Token = st.Form, st.FormName, st.FormError, st.Token
	v := &view{Title: "Customer " + id, Nav: "customers", User: u, Flash: st.Flash, Data: d, LiveMessages: true}
	block := ""
	if isHTMX(r) && r.Method == http.MethodPost {
		block = "live"
	}
	h.render(w, r, status, "customer", block, v)
}

// loadCustomer reads everything the customer page shows.
func (h *Handler) loadCustomer(ctx context.Context, id string, q url.Values) (*customerData, error) {
	cfg := h.l.Config()
	cur := cfg.DefaultCurrency()
	c, err := h.l.GetCustomer(ctx, id)
	if err != nil {
		return nil, err
	}
	now := h.l.Now()
	d := &customerData{Customer: c, Currency: cur.Name, Subscription: c.Subscription,
		Keys: map[string]string{}, Sources: []string{"manual_adjustment", "goodwill", "promotional", "bonus", "trial"}}
	for _, f := range []string{"grant", "adjust", "plan", "void", "reverse", "token"} {
		d.Keys[f] = "dash_" + auth.RandomToken(12)
	}
	for _, b := range c.Balances {
		if b.Currency == cur.Name {
			d.Balance = b
		}
	}
	if d.Balance == nil {
		d.Balance = &creditkit.Balance{Customer: id, Currency: cur.Name, At: now}
	}

	d.PeriodStart, d.PeriodEnd = startOfMonth(now), startOfMonth(now).AddDate(0, 1, 0)
	if s := c.Subscription; s != nil && s.Status != creditkit.SubscriptionCanceled && !s.PeriodStart.After(now) {
		d.PeriodStart, d.PeriodEnd = s.PeriodStart, s.PeriodEnd
	}
	used, err := h.l.Usage(ctx, id, &creditkit.UsageQuery{Currency: cur.Name, Since: d.PeriodStart})
	if err != nil {
		return nil, err
	}
	for _, u := range used {
		d.Used += u.Amount
	}
	d.Had = d.Used + max(d.Balance.Available, 0)
	if d.Had > 0 {
		d.UsedPercent = int(int64(d.Used) * 100 / int64(d.Had))
	}

	if d.Grants, err = h.l.Grants(ctx, id, &creditkit.GrantFilter{Limit: grantsPage + 1, After: q.Get("grants_after")}); err != nil {
		return nil, err
	}
	if len(d.Grants) > grantsPage {
		d.Grants = d.Grants[:grantsPage]
		d.GrantsNext = d.Grants[grantsPage-1].ID
	}

	d.GrantActors = map[string]string{}
	grantEntries, err := h.l.History(ctx, id, &creditkit.HistoryFilter{Type: creditkit.EntryGrant, Limit: 1000, Newest: true})
	if err != nil {
		return nil, err
	}
	for _, e := range grantEntries {
		if gid, ok := e.Details["grant_id"].(string); ok {
			d.GrantActors[gid] = e.Actor
		}
	}

	d.Filter = ledgerFilter{Type: q.Get("type"), Operation: q.Get("operation"), Category: q.Get("category"), After: q.Get("after")}
	for _, t := range []creditkit.EntryType{creditkit.EntryGrant, creditkit.EntryCharge, creditkit.EntryExpiration, creditkit.EntryVoid,
		creditkit.EntryTransfer, creditkit.EntryReversal, creditkit.EntryAdjustment, creditkit.EntryRepayment, creditkit.EntryOverageSettlement} {
		d.EntryTypes = append(d.EntryTypes, string(t))
	}
	for name := range cfg.Operations {
		d.Operations = append(d.Operations, name)
	}
	slices.Sort(d.Operations)
	d.Entries, err = h.l.History(ctx, id, &creditkit.HistoryFilter{Type: creditkit.EntryType(d.Filter.Type), Operation: d.Filter.Operation,
		Category: d.Filter.Category, After: d.Filter.After, Limit: ledgerPage + 1, Newest: true})
	if err != nil {
		return nil, err
	}
	if len(d.Entries) > ledgerPage {
		d.Entries = d.Entries[:ledgerPage]
		d.EntriesNext = d.Entries[ledgerPage-1].ID
	}

	since := startOfDay(now).AddDate(0, 0, 1-chartDays)
	rows, err := h.l.Usage(ctx, id, &creditkit.UsageQuery{Currency: cur.Name, Since: since, Interval: creditkit.IntervalDay, ByOperation: true})
	if err != nil {
		return nil, err
	}
	d.Chart = dailyChart("customer-usage", "Credits used per day, by operation", cur, rows, since, startOfDay(now).AddDate(0, 0, 1))

	for name := range cfg.Plans {
		d.Plans = append(d.Plans, name)
	}
	slices.Sort(d.Plans)
	for _, p := range cfg.Packs {
		d.Packs = append(d.Packs, p)
	}
	slices.SortFunc(d.Packs, func(a, b *creditkit.Pack) int { return compareStrings(a.Name, b.Name) })
	return d, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Value returns a form field sent with an error, to fill the form again.
func (d *customerData) Value(form, field string) string {
	if d.FormName != form || d.Form == nil {
		return ""
	}
	return d.Form.Get(field)
}

// ErrorFor returns the error of the named form.
func (d *customerData) ErrorFor(form string) string {
	if d.FormName != form {
		return ""
	}
	return d.FormError
}
