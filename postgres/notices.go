package postgres

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

// noticeExpiring is the grant_notices kind of NotifyExpiring.
const noticeExpiring = "expiring"

// expiringQuery must use its indexes whatever the history's length;
// TestIndexes checks its generic plan.
const (
	// expiringQuery reads grants_due (expires_at > $1 implies expires_at IS
	// NOT NULL) and the primary key of grant_notices.
	expiringQuery = "SELECT " + grantColumns + " FROM grants AS g WHERE expires_at > $1 AND expires_at <= $2" +
		" AND remaining > 0 AND voided_at IS NULL AND expired_at IS NULL" +
		" AND NOT EXISTS (SELECT 1 FROM grant_notices AS n WHERE n.grant_id = g.id AND n.kind = '" + noticeExpiring + "')" +
		" ORDER BY expires_at, id LIMIT $3"
)

// NotifyExpiring reads the grants expiring in (now, until] that were never
// notified, then, in one statement, records their notices and inserts the
// events of the grants whose notice it inserted. A notice inserted
// concurrently by another caller makes the insert wait for it, then skip
// the grant, so that only one caller writes its event.
func (s *Store) NotifyExpiring(ctx context.Context, now, until time.Time, limit int, mk func(g *store.Grant) *store.Event) (int, error) {
	rows, err := s.pool.Query(ctx, expiringQuery, now.UnixMicro(), until.UnixMicro(), limitArg(limit))
	grants, err := collect(rows, err, scanGrant, "read expiring grants")
	if err != nil || len(grants) == 0 {
		return 0, err
	}
	grantIDs := column(grants, func(g *store.Grant) string { return g.ID })
	events := make([]*store.Event, 0, len(grants))
	eventGrants := make([]string, 0, len(grants))
	for _, g := range grants {
		if ev := mk(g); ev != nil {
			events = append(events, ev)
			eventGrants = append(eventGrants, g.ID)
		}
	}
	// The events columns are those Apply writes; WITH ORDINALITY keeps
	// their seq in the order of the grants.
	var notified int
	err = s.pool.QueryRow(ctx, `WITH n AS (
    INSERT INTO grant_notices (grant_id, kind, created_at)
    SELECT grant_id, '`+noticeExpiring+`', $1 FROM unnest($2::text[]) AS t(grant_id)
    ON CONFLICT (grant_id, kind) DO NOTHING
    RETURNING grant_id
), ev AS (
    INSERT INTO events (id, type, customer, currency, data, at)
    SELECT id, type, customer, currency, data::jsonb, at
    FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[]) WITH ORDINALITY
         AS t(id, type, customer, currency, data, at, grant_id, ord)
    WHERE t.grant_id IN (SELECT n.grant_id FROM n)
    ORDER BY ord
)
SELECT count(*) FROM n`,
		now.UnixMicro(), grantIDs,
		column(events, func(v *store.Event) string { return v.ID }),
		column(events, func(v *store.Event) string { return v.Type }),
		column(events, func(v *store.Event) string { return v.Customer }),
		column(events, func(v *store.Event) string { return v.Currency }),
		column(events, func(v *store.Event) *string { return jsonText(v.Data) }),
		column(events, func(v *store.Event) int64 { return v.At.UnixMicro() }),
		eventGrants,
	).Scan(&notified)
	if err != nil {
		return 0, translate("notify expiring grants", err)
	}
	return notified, nil
}
