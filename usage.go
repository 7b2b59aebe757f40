package creditkit

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/creditkit/creditkit/store"
)

// Usage intervals.
const (
	IntervalHour  = "hour"
	IntervalDay   = "day"
	IntervalMonth = "month"
)

// UsageQuery narrows Usage. The zero value sums all usage in the default
// currency, in one row.
type UsageQuery struct {
	// Currency defaults to the config's default currency.
	Currency string
	// Since and Until bound when the usage happened (the entries'
	// OccurredAt): Since <= occurred_at < Until. Zero means unbounded.
	Since, Until time.Time
	// Interval splits usage into UTC hours, days or months; empty means one
	// period.
	Interval string
	// ByOperation splits usage by operation; raw charges (debits, and
	// holds placed for a raw amount without an operation) are grouped by
	// their reason instead, in UsageRow.Reason.
	ByOperation bool
}

// UsageRow is the usage of one period (and one operation, when split).
type UsageRow struct {
	// Start is the start of the period; zero when not split by interval.
	Start time.Time `json:"start,omitzero"`
	// Operation is the operation charged; empty for raw charges, or when
	// not split by operation.
	Operation string `json:"operation,omitempty"`
	// Reason is the category of raw charges (a debit's reason, "debit" by
	// default), which have no operation; empty for operation charges, or
	// when not split by operation.
	Reason string `json:"reason,omitempty"`
	// Count is the number of charges.
	Count int64 `json:"count"`
	// Amount is the credits charged, in smallest units (a positive number).
	Amount Amount `json:"amount"`
}

// usagePage is how many entries Usage reads per query.
const usagePage = 1000

// Usage sums what a customer was charged (entries of type charge:
// operation charges, captured holds and debits of any reason; not
// transfers, expiries or voids), by period and operation, oldest period
// first. Charges count when they happened (OccurredAt), which for usage
// events is the timestamp their sender gave. It reads the customer's
// charges in the range through the entries_usage index (customer,
// currency, occurred_at of charges), so keep ranges proportionate to the
// customer's activity.
func (l *Ledger) Usage(ctx context.Context, customer string, q *UsageQuery) ([]UsageRow, error) {
	if q == nil {
		q = &UsageQuery{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	switch q.Interval {
	case "", IntervalHour, IntervalDay, IntervalMonth:
	default:
		return nil, errorf(CodeInvalidRequest, "interval %q is not one of hour, day, month", q.Interval)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, errorf(CodeInvalidRequest, "until (%s) must be after since (%s)", fmtTime(q.Until), fmtTime(q.Since))
	}
	cur, err := l.currency(q.Currency)
	if err != nil {
		return nil, err
	}
	type key struct {
		start  time.Time
		op     string
		reason string
	}
	sums := map[key]*UsageRow{}
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		eq := store.EntryQuery{Customer: customer, Currency: cur.Name, Type: string(EntryCharge), Since: q.Since, Until: q.Until,
			ByOccurredAt: true, Limit: usagePage}
		for {
			rows, err := tx.Entries(ctx, eq)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if !isUsage(r) {
					continue
				}
				k := key{start: periodStart(r.OccurredAt, q.Interval)}
				if q.ByOperation {
					k.op = r.Operation
					if k.op == "" {
						k.reason = r.Category
					}
				}
				row := sums[k]
				if row == nil {
					row = &UsageRow{Start: k.start, Operation: k.op, Reason: k.reason}
					sums[k] = row
				}
				row.Count++
				row.Amount -= Amount(r.Amount)
			}
			if len(rows) < usagePage {
				if len(sums) == 0 {
					return requireCustomer(ctx, tx, customer)
				}
				return nil
			}
			eq.AfterSeq = rows[len(rows)-1].Seq
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]UsageRow, 0, len(sums))
	for _, r := range sums {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		if out[i].Operation != out[j].Operation {
			return out[i].Operation < out[j].Operation
		}
		return out[i].Reason < out[j].Reason
	})
	return out, nil
}

// isUsage reports whether an entry charged the customer: a charge that
// took credits (a capture of nothing moves none).
func isUsage(r *store.Entry) bool {
	return r.Type == string(EntryCharge) && r.Amount < 0
}

// periodStart returns the start of the UTC interval holding t, or the zero
// time when interval is empty.
func periodStart(t time.Time, interval string) time.Time {
	t = t.UTC()
	switch interval {
	case IntervalHour:
		return t.Truncate(time.Hour)
	case IntervalDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case IntervalMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

// UsageWindow bounds how far from now the time a charge says its usage
// happened (SpendOpts.OccurredAt, a usage event's timestamp) may lie.
type UsageWindow struct {
	// Ahead is how far in the future it may be, for clocks that run
	// ahead. Defaults to DefaultUsageAhead.
	Ahead time.Duration
	// Back is how far in the past it may be, for senders that buffer or
	// retry. Defaults to DefaultUsageBack.
	Back time.Duration
}

// Defaults of UsageWindow.
const (
	DefaultUsageAhead = 5 * time.Minute
	DefaultUsageBack  = 35 * 24 * time.Hour
)

// withDefaults fills the zero fields.
func (w UsageWindow) withDefaults() UsageWindow {
	if w.Ahead <= 0 {
		w.Ahead = DefaultUsageAhead
	}
	if w.Back <= 0 {
		w.Back = DefaultUsageBack
	}
	return w
}

// usageWindowSetting holds a ledger's UsageWindow; the zero value means
// the defaults.
type usageWindowSetting struct{ p atomic.Pointer[UsageWindow] }

// SetUsageWindow changes how far from now a charge's OccurredAt may lie.
// Zero fields mean the defaults (5 minutes ahead, 35 days back). It is
// safe to call while the ledger is in use.
func (l *Ledger) SetUsageWindow(w UsageWindow) {
	w = w.withDefaults()
	l.usageWindow.p.Store(&w)
}

// UsageWindow returns the ledger's window for charges' OccurredAt.
func (l *Ledger) UsageWindow() UsageWindow {
	if w := l.usageWindow.p.Load(); w != nil {
		return *w
	}
	return UsageWindow{}.withDefaults()
}

// checkOccurredAt refuses a usage time outside the ledger's window around
// now. Zero means now and is always accepted.
func (l *Ledger) checkOccurredAt(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	w := l.UsageWindow()
	now := l.Now()
	earliest, latest := now.Add(-w.Back), now.Add(w.Ahead)
	if t.Before(earliest) || t.After(latest) {
		return errorf(CodeInvalidRequest, "timestamp %s is outside the accepted window: usage may be at most %s ahead of now and %s back, between %s and %s",
			fmtTime(t), fmtWindow(w.Ahead), fmtWindow(w.Back), fmtTime(earliest), fmtTime(latest))
	}
	return nil
}

// fmtWindow prints a window bound in days when it is whole days.
func fmtWindow(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
