package sqlite

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

// NotifyExpiring records an "expiring" notice and inserts the outbox event
// mk returns (none when it returns nil) for up to limit grants with credits
// left that expire in (now, until] and were never notified.
func (s *Store) NotifyExpiring(ctx context.Context, now, until time.Time, limit int, mk func(g *store.Grant) *store.Event) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var notified int
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		grants, err := queryAll(ctx, tx, "read expiring grants", scanGrant,
			`SELECT `+grantCols+` FROM grants INDEXED BY grants_due
			 WHERE expires_at > ? AND expires_at <= ? AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL
			 AND expires_at IS NOT NULL
			 AND NOT EXISTS (SELECT 1 FROM grant_notices AS n WHERE n.grant_id = grants.id AND n.kind = 'expiring')
			 ORDER BY expires_at, id LIMIT ?`, micros(now), micros(until), limit)
		if err != nil || len(grants) == 0 {
			return err
		}
		var events []*store.Event
		for _, g := range grants {
			if err := tx.exec(ctx, "record expiring notice",
				`INSERT INTO grant_notices (grant_id, kind, created_at) VALUES (?, 'expiring', ?)`,
				[]any{g.ID, micros(now)}); err != nil {
				return err
			}
			if e := mk(g); e != nil {
				events = append(events, e)
			}
		}
		if err := tx.Apply(ctx, &store.Changes{Events: events}); err != nil {
			return err
		}
		notified = len(grants)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return notified, nil
}
