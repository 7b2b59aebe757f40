package creditkit

import (
	"context"
	"errors"
	"time"

	"github.com/creditkit/creditkit/store"
)

// ErrNoServerStore is returned by features that need a store.ServerStore
// when the ledger's store does not implement it.
var ErrNoServerStore = errors.New("creditkit: the store does not implement store.ServerStore")

// NotifyExpiring writes a credits.grant.expiring event for each grant that
// still has credits and expires within lead from now, once per grant, at
// most limit grants per call (0 means 500). The events go to the outbox
// (and so to webhooks) and to subscribers. Several processes may call it at
// once: each grant is notified once. It returns how many grants it
// notified. notices keeps which grants were notified (the SQLite and
// PostgreSQL stores are also ExpiryNoticeStores, on the same database).
func (l *Ledger) NotifyExpiring(ctx context.Context, notices store.ExpiryNoticeStore, lead time.Duration, limit int) (int, error) {
	if notices == nil {
		return 0, ErrNoServerStore
	}
	if lead <= 0 {
		return 0, errorf(CodeInvalidRequest, "expiry notice lead time must be positive, got %s", showDuration(lead))
	}
	if limit <= 0 {
		limit = 500
	}
	now := l.Now()
	var events []Event
	n, err := notices.NotifyExpiring(ctx, now, now.Add(lead), limit, func(g *store.Grant) *store.Event {
		e := Event{ID: l.ids.New("evt"), Type: EventGrantExpiring, Customer: g.Customer, Currency: g.Currency, At: now,
			Data: map[string]any{"grant_id": g.ID, "remaining": g.Remaining, "expires_at": g.ExpiresAt.UTC(), "reason": g.Reason}}
		events = append(events, e)
		return eventToRow(&e)
	})
	if err != nil {
		return 0, err
	}
	l.publish(events)
	return n, nil
}
