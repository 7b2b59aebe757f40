package dashboard

import (
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/store"
)

// auditData is the audit page's data.
type auditData struct {
	// Available is false when the store keeps no audit log.
	Available bool
	Filter    audit.Filter
	FromText  string
	ToText    string
	Records   []*audit.Record
	Next      string
}

// auditPage lists the audit log with filters.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	d := &auditData{Available: h.audit != nil, FromText: q.Get("from"), ToText: q.Get("to"),
		Filter: audit.Filter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
			Customer: strings.TrimSpace(q.Get("customer")), After: q.Get("after"), Limit: 50}}
	var err error
	if d.Filter.From, err = parseDay("from", d.FromText); err != nil {
		h.fail(w, r, u, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if d.Filter.To, err = parseDay("to", d.ToText); err != nil {
		h.fail(w, r, u, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if d.Available {
		if d.Records, d.Next, err = h.audit.List(r.Context(), d.Filter); err != nil {
			h.failErr(w, r, u, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "audit", "", &view{Title: "Audit log", Nav: "audit", User: u, Data: d})
}

// parseDay reads a date (2026-12-01) or an RFC 3339 instant.
func parseDay(what, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s %q is not a date such as 2026-12-01 or an instant such as 2026-12-01T10:00:00Z", what, s)
}

// webhooksData is the webhook deliveries page's data.
type webhooksData struct {
	Status     string
	Deliveries []*store.Delivery
	Next       string
	Statuses   []string
}

// webhooks lists webhook deliveries, newest first.
func (h *Handler) webhooks(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	d := &webhooksData{Status: q.Get("status"), Statuses: []string{store.DeliveryFailed, store.DeliveryPending, store.DeliverySucceeded}}
	if d.Status != "" && !slices.Contains(d.Statuses, d.Status) {
		h.fail(w, r, u, http.StatusUnprocessableEntity, fmt.Sprintf("Status %q is not one of failed, pending, succeeded.", d.Status))
		return
	}
	const page = 50
	rows, err := h.st.Deliveries(r.Context(), store.DeliveryQuery{Status: d.Status, Before: q.Get("before"), Limit: page + 1})
	if err != nil {
		h.failErr(w, r, u, err)
		return
	}
	if len(rows) > page {
		rows = rows[:page]
		d.Next = rows[page-1].ID
	}
	d.Deliveries = deliveriesFor(u, rows)
	h.render(w, r, http.StatusOK, "webhooks", "", &view{Title: "Webhook deliveries", Nav: "webhooks", User: u, Data: d})
}

// deliveriesFor returns deliveries as u may see them. An endpoint's URL can
// be its secret (Slack, Discord and Zapier put it in the path), and the API
// shows endpoints and deliveries to admin keys only: a session of any
// other key sees each URL as scheme://host, also where the last error
// quotes it.
func deliveriesFor(u *user, ds []*store.Delivery) []*store.Delivery {
	if u.CanAdmin() {
		return ds
	}
	out := make([]*store.Delivery, len(ds))
	for i, d := range ds {
		c := *d
		c.URL = audit.RedactURL(d.URL)
		c.LastError = audit.RedactURLsInText(d.LastError)
		c.Secret = ""
		out[i] = &c
	}
	return out
}

// replayAction makes a delivery pending again, due now; the webhook worker
// sends it on its next round.
func (h *Handler) replayAction(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.PathValue("delivery")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		reason = "replayed from the dashboard"
	}
	if !creditkit.IsText(id) {
		// No delivery has such an id, and PostgreSQL refuses to look.
		h.failErr(w, r, u, &creditkit.Error{Code: creditkit.CodeNotFound, Message: fmt.Sprintf("no webhook delivery %q", id)})
		return
	}
	if !creditkit.IsText(reason) {
		h.failErr(w, r, u, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "The reason must be plain UTF-8 text."})
		return
	}
	rec := actionRecord{Action: actionReplay, Target: id, Reason: reason}
	d, err := h.st.ReplayDelivery(r.Context(), id, h.l.Now())
	if err == nil && d == nil {
		err = &creditkit.Error{Code: creditkit.CodeNotFound, Message: fmt.Sprintf("no webhook delivery %s, or its endpoint was deleted", id)}
	}
	rec.Err = err
	h.record(r.Context(), w, u, rec)
	if err != nil {
		h.failErr(w, r, u, err)
		return
	}
	v := &view{User: u, Data: d}
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, "webhooks", "delivery-row", v)
		return
	}
	http.Redirect(w, r, Path+"/webhooks", http.StatusSeeOther)
}

// operationRow is one operation with the price of a sample call.
type operationRow struct {
	Op     *creditkit.Operation
	Sample string
	Price  string
	Err    string
}

// operationsData is the operations page's data.
type operationsData struct {
	Rows []operationRow
	// ConfigPath is the file the config was read from.
	ConfigPath string
	// Try is a call priced from the form.
	TryOp, TryParams, TryPrice, TryErr string
}

// operations shows the configured operations with the price of a sample
// call each (every per-unit term at its own "per" amount), and prices a
// call from the form.
func (h *Handler) operations(w http.ResponseWriter, r *http.Request, u *user) {
	cfg := h.l.Config()
	d := &operationsData{ConfigPath: cfg.Path}
	names := make([]string, 0, len(cfg.Operations))
	for n := range cfg.Operations {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		op := cfg.Operations[n]
		params := creditkit.Params{}
		var sample []string
		for _, t := range op.Terms {
			v := ratString(t.Per)
			params[t.Unit] = v
			sample = append(sample, t.Unit+"="+v)
		}
		row := operationRow{Op: op, Sample: strings.Join(sample, " ")}
		if cost, _, err := cfg.Price(n, params); err != nil {
			row.Err = err.Error()
		} else {
			row.Price = cfg.FormatAmount(cost, op.Currency)
		}
		d.Rows = append(d.Rows, row)
	}
	q := r.URL.Query()
	if d.TryOp = strings.TrimSpace(q.Get("op")); d.TryOp != "" {
		d.TryParams = strings.TrimSpace(q.Get("params"))
		params := creditkit.Params{}
		for _, f := range strings.Fields(d.TryParams) {
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" {
				d.TryErr = fmt.Sprintf("%q is not name=value, such as mb=5.2", f)
				break
			}
			params[k] = v
		}
		if d.TryErr == "" {
			if cost, op, err := cfg.Price(d.TryOp, params); err != nil {
				d.TryErr = err.Error()
			} else {
				d.TryPrice = cfg.FormatAmount(cost, op.Currency)
			}
		}
	}
	h.render(w, r, http.StatusOK, "operations", "", &view{Title: "Operations", Nav: "operations", User: u, Data: d})
}

// ratString prints a rational as a decimal when it is a whole number, else
// as a fraction.
func ratString(r *big.Rat) string {
	if r == nil {
		return "1"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(6)
}

// plansData is the plans page's data.
type plansData struct {
	Plans []*creditkit.Plan
	Packs []*creditkit.Pack
}

// plans shows the configured plans and packs.
func (h *Handler) plans(w http.ResponseWriter, r *http.Request, u *user) {
	cfg := h.l.Config()
	d := &plansData{}
	for _, p := range cfg.Plans {
		d.Plans = append(d.Plans, p)
	}
	slices.SortFunc(d.Plans, func(a, b *creditkit.Plan) int { return compareStrings(a.Name, b.Name) })
	for _, p := range cfg.Packs {
		d.Packs = append(d.Packs, p)
	}
	slices.SortFunc(d.Packs, func(a, b *creditkit.Pack) int { return compareStrings(a.Name, b.Name) })
	h.render(w, r, http.StatusOK, "plans", "", &view{Title: "Plans and packs", Nav: "plans", User: u, Data: d})
}
