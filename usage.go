package creditkit

import (
	"context"
	"sort"
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
	// Since and Until bound the entries' instants: Since <= at < Until.
	// Zero means unbounded.
	Since, Until time.Time
	// Interval splits usage into UTC hours, days or months; empty means one
	// period.
	Interval string
	// ByOperation splits usage by operation.
	ByOperation bool
}

// UsageRow is the usage of one period (and one operation, when split).
type UsageRow struct {
	// Start is the start of the period; zero when not split by interval.
	Start time.Time `json:"start,omitzero"`
	// Operation is the operation charged; empty for raw debits, or when
	// not split by operation.
	Operation string `json:"operation,omitempty"`
	// Count is the number of charges.
	Count int64 `json:"count"`
	// Amount is the credits charged, in smallest units (a positive number).
	Amount Amount `json:"amount"`
}

// usagePage is how many entries Usage reads per query.
const usagePage = 1000

// Usage sums what a customer was charged (operation charges and debits of
// any reason; not transfers, expiries or voids),
// by period and operation, oldest period first. It reads the customer's
// entries in the range through the (customer, currency, at) index, so keep
// ranges proportionate to the customer's activity.
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
		start time.Time
		op    string
	}
	sums := map[key]*UsageRow{}
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		eq := store.EntryQuery{Customer: customer, Currency: cur.Name, Since: q.Since, Until: q.Until, Limit: usagePage}
		for {
			rows, err := tx.Entries(ctx, eq)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if !isUsage(r) {
					continue
				}
				k := key{start: periodStart(r.At, q.Interval)}
				if q.ByOperation {
					k.op = r.Operation
				}
				row := sums[k]
				if row == nil {
					row = &UsageRow{Start: k.start, Operation: k.op}
					sums[k] = row
				}
				row.Count++
				row.Amount -= Amount(r.Amount)
			}
			if len(rows) < usagePage {
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
		return out[i].Operation < out[j].Operation
	})
	return out, nil
}

// isUsage reports whether an entry charged the customer: an operation
// charge or a debit (whatever its reason), not a transfer, an expiry or a
// void.
func isUsage(r *store.Entry) bool {
	if r.Amount >= 0 {
		return false
	}
	switch r.Category {
	case CategoryTransferOut, CategoryExpiration, CategoryVoid:
		return false
	}
	return true
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
