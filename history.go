package creditkit

import (
	"context"

	"github.com/creditkit/creditkit/store"
)

// History lists a customer's ledger entries, oldest first (or newest first
// with f.Newest), a page at a time: pass the last entry's ID as f.After to
// get the next page.
func (l *Ledger) History(ctx context.Context, customer string, f *HistoryFilter) ([]*Entry, error) {
	if f == nil {
		f = &HistoryFilter{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	if f.Type != "" && !f.Type.Valid() {
		return nil, errorf(CodeInvalidRequest, "type %q is not an entry type: use one of %s", f.Type, entryTypeList())
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, errorf(CodeInvalidRequest, "until (%s) must be after since (%s)", fmtTime(f.Until), fmtTime(f.Since))
	}
	var out []*Entry
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		q := store.EntryQuery{Customer: customer, Currency: f.Currency, Type: string(f.Type), Category: f.Category, Operation: f.Operation,
			Since: f.Since, Until: f.Until, Desc: f.Newest, Limit: pageLimit(f.Limit)}
		if f.After != "" {
			r, err := tx.Entry(ctx, f.After)
			if err != nil {
				return err
			}
			if r == nil || r.Customer != customer {
				return errorf(CodeInvalidRequest, "cursor %q is not an entry of %s: pass the id of the last entry of the previous page", f.After, customer)
			}
			q.AfterSeq = r.Seq
		}
		rows, err := tx.Entries(ctx, q)
		if err != nil {
			return err
		}
		if len(rows) == 0 && f.After == "" {
			if err := requireCustomer(ctx, tx, customer); err != nil {
				return err
			}
		}
		out = make([]*Entry, 0, len(rows))
		for _, r := range rows {
			e, err := entryFromRow(r)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Events lists outbox events recorded after the given sequence number, in
// commit order, for delivery (webhooks) or replay.
func (l *Ledger) Events(ctx context.Context, afterSeq int64, limit int) ([]*Event, error) {
	var out []*Event
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		rows, err := tx.Events(ctx, afterSeq, pageLimit(limit))
		if err != nil {
			return err
		}
		for _, r := range rows {
			e, err := eventFromRow(r)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
