package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

// Endpoints and deliveries are locked in one order: an endpoint first (FOR
// SHARE by those that create or revive pending deliveries, by UPDATE when it
// is deleted), then its deliveries. That way a deleted endpoint never keeps
// a pending delivery: whoever makes a delivery pending either sees the
// deletion or is waited for by it.

// Column lists, in the order the scan functions read them.
const (
	endpointColumns = "id, url, description, secret, event_types, created_at, deleted_at"
	// deliveryColumns reads a delivery d with the URL of its endpoint w and
	// its event e.
	deliveryColumns = "d.id, d.endpoint_id, d.event_id, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, " +
		"d.last_status, d.last_error, d.created_at, w.url, " +
		"e.seq, e.id, e.type, e.customer, e.currency, e.data, e.at"
	// deliveryJoins completes a FROM webhook_deliveries AS d.
	deliveryJoins = " JOIN webhook_endpoints AS w ON w.id = d.endpoint_id JOIN events AS e ON e.id = d.event_id"
)

// The claiming queries, which must use their partial indexes whatever the
// history's length; TestIndexes checks their generic plans.
const (
	// undispatchedQuery reads events_undispatched. SKIP LOCKED leaves the
	// events another dispatcher is working on to it; one that it committed
	// in the meantime fails the recheck of dispatched_at IS NULL.
	undispatchedQuery = "SELECT seq, id, type FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"
	// claimQuery reads webhook_deliveries_due. It returns the claimed
	// deliveries oldest due first, remembering when each was due since the
	// claim moves them all to the end of the lease.
	claimQuery = `WITH due AS (
    SELECT id, next_attempt_at FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= $1 AND endpoint_id <> ALL($4::text[])
    ORDER BY next_attempt_at, id LIMIT $3
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE webhook_deliveries AS d SET next_attempt_at = $2
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.endpoint_id, d.event_id, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
              d.last_status, d.last_error, d.created_at, due.next_attempt_at AS due_at
)
SELECT ` + deliveryColumns + `, w.secret FROM claimed AS d` + deliveryJoins + `
ORDER BY d.due_at, d.id`
)

// CreateWebhookEndpoint stores a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *store.WebhookEndpoint) error {
	types := e.EventTypes
	if types == nil {
		// A nil slice would be sent as NULL; the column holds '{}'.
		types = []string{}
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO webhook_endpoints ("+endpointColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		e.ID, e.URL, e.Description, e.Secret, types, e.CreatedAt.UnixMicro(), microsPtr(e.DeletedAt))
	return translate("create webhook endpoint", err)
}

// WebhookEndpoint returns an endpoint that is not deleted, or nil.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (*store.WebhookEndpoint, error) {
	return poolQueryOne(ctx, s, scanEndpoint, "read webhook endpoint",
		"SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL", id)
}

// WebhookEndpoints lists the endpoints that are not deleted, by ID.
func (s *Store) WebhookEndpoints(ctx context.Context, after string, limit int) ([]*store.WebhookEndpoint, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints"+
		" WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2", after, limitArg(limit))
	return collect(rows, err, scanEndpoint, "list webhook endpoints")
}

// DeleteWebhookEndpoint marks an endpoint deleted and gives its pending
// deliveries the deletion's status and error, in one round trip. The update
// of the endpoint waits for any dispatch or replay holding it (FOR SHARE);
// the update of the deliveries, a later statement with a later snapshot,
// then sees what they wrote.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string, d store.EndpointDeletion) (bool, error) {
	b := &pgx.Batch{}
	b.Queue("UPDATE webhook_endpoints SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL", id, d.At.UnixMicro())
	// Unconditional: a deleted or unknown endpoint has no pending delivery.
	b.Queue("UPDATE webhook_deliveries SET status = $2, last_error = $3"+
		" WHERE endpoint_id = $1 AND status = '"+store.DeliveryPending+"'", id, d.PendingStatus, d.PendingError)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	tag, err := br.Exec()
	if err != nil {
		return false, translate("delete webhook endpoint", err)
	}
	if _, err := br.Exec(); err != nil {
		return false, translate("update the deleted endpoint's deliveries", err)
	}
	if err := br.Close(); err != nil {
		return false, translate("delete webhook endpoint", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DispatchEvents hands undispatched events and the endpoints to fanout, in
// one transaction: it locks up to limit events (skipping those another
// dispatcher holds), shares the endpoints, then inserts the deliveries
// fanout returns and marks the events dispatched in one round trip. With
// nothing to dispatch, it locks no endpoint and writes nothing.
func (s *Store) DispatchEvents(ctx context.Context, now time.Time, limit int, fanout store.Fanout) (int, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return 0, translate("dispatch events: begin", err)
	}
	defer rollback(ctx, tx)

	rows, err := tx.Query(ctx, undispatchedQuery, limitArg(limit))
	events, err := collect(rows, err, func(row pgx.Row) (*store.Event, error) {
		var e store.Event
		return &e, row.Scan(&e.Seq, &e.ID, &e.Type)
	}, "dispatch events: read events")
	if err != nil {
		return 0, err
	}
	if len(events) == 0 {
		return 0, nil
	}

	// FOR SHARE: a concurrent delete waits until the deliveries made here
	// are committed, then fails them; a delete committed first is seen.
	rows, err = tx.Query(ctx, "SELECT id, event_types FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY id FOR SHARE")
	endpoints, err := collect(rows, err, func(row pgx.Row) (*store.WebhookEndpoint, error) {
		var e store.WebhookEndpoint
		return &e, row.Scan(&e.ID, &e.EventTypes)
	}, "dispatch events: read endpoints")
	if err != nil {
		return 0, err
	}

	deliveries := fanout(events, endpoints)
	seqs := column(events, func(e *store.Event) int64 { return e.Seq })
	b := &pgx.Batch{}
	if len(deliveries) > 0 {
		// The events are locked, so no other dispatcher can be creating
		// these deliveries; ON CONFLICT is a belt over those braces.
		b.Queue(`INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, next_attempt_at, created_at)
SELECT id, endpoint_id, event_id, status, next_attempt_at, created_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
     WITH ORDINALITY AS t(id, endpoint_id, event_id, status, next_attempt_at, created_at, ord)
ORDER BY ord
ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
			column(deliveries, func(d *store.Delivery) string { return d.ID }),
			column(deliveries, func(d *store.Delivery) string { return d.EndpointID }),
			column(deliveries, func(d *store.Delivery) string { return d.EventID }),
			column(deliveries, func(d *store.Delivery) string { return d.Status }),
			column(deliveries, func(d *store.Delivery) int64 { return d.NextAttemptAt.UnixMicro() }),
			column(deliveries, func(d *store.Delivery) int64 { return d.CreatedAt.UnixMicro() }))
	}
	b.Queue("UPDATE events SET dispatched_at = $1 WHERE seq = ANY($2::bigint[])", now.UnixMicro(), seqs)
	marked, err := func() (int64, error) {
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		if len(deliveries) > 0 {
			if _, err := br.Exec(); err != nil {
				return 0, translate("dispatch events: create deliveries", err)
			}
		}
		tag, err := br.Exec()
		if err != nil {
			return 0, translate("dispatch events: mark dispatched", err)
		}
		return tag.RowsAffected(), translate("dispatch events", br.Close())
	}()
	if err != nil {
		return 0, err
	}
	if marked != int64(len(seqs)) {
		return 0, fmt.Errorf("postgres: dispatch events: marked %d events of %d", marked, len(seqs))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, translate("dispatch events: commit", err)
	}
	return len(events), nil
}

// ClaimDeliveries claims up to limit due deliveries in one statement: it
// locks them (skipping those another worker is claiming, and those to the
// endpoints in skipEndpoints), moves them to now+lease and returns them
// with their endpoint and event.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, skipEndpoints ...string) ([]*store.Delivery, error) {
	if skipEndpoints == nil {
		// A nil slice is sent as NULL, and "<> ALL(NULL)" holds for no row.
		skipEndpoints = []string{}
	}
	rows, err := s.pool.Query(ctx, claimQuery, now.UnixMicro(), now.Add(lease).UnixMicro(), limitArg(limit), skipEndpoints)
	return collect(rows, err, scanClaimedDelivery, "claim deliveries")
}

// FinishDelivery records one attempt of a claimed delivery. It shares the
// endpoint first, so that an attempt recorded after its endpoint was
// deleted takes the status the attempt gives for that case.
func (s *Store) FinishDelivery(ctx context.Context, id string, a store.DeliveryAttempt) error {
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries AS d SET
    attempts = d.attempts + 1, last_attempt_at = $2, last_status = $3, last_error = $4,
    status = CASE WHEN w.deleted_at IS NULL THEN $5::text ELSE $6::text END,
    next_attempt_at = COALESCE($7::bigint, d.next_attempt_at)
FROM (SELECT id, deleted_at FROM webhook_endpoints
      WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1) FOR SHARE) AS w
WHERE d.id = $1 AND d.endpoint_id = w.id`,
		id, a.At.UnixMicro(), int64(a.HTTPStatus), a.Error, a.Status, a.StatusIfEndpointDeleted, microsPtr(a.NextAttemptAt))
	if err != nil {
		return translate("finish delivery", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("postgres: finish delivery: there is no delivery %q", id)
	}
	return nil
}

// Deliveries lists deliveries newest first, with their endpoint's URL and
// their event.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]*store.Delivery, error) {
	w := where{conds: []string{"true"}}
	if q.Status != "" {
		w.add("d.status = ", q.Status)
	}
	if q.EndpointID != "" {
		w.add("d.endpoint_id = ", q.EndpointID)
	}
	if q.EventID != "" {
		w.add("d.event_id = ", q.EventID)
	}
	if q.Before != "" {
		w.add("d.id < ", q.Before)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+deliveryColumns+" FROM webhook_deliveries AS d"+deliveryJoins+
		" WHERE "+w.sql()+" ORDER BY d.id DESC LIMIT "+w.arg(limitArg(q.Limit)), w.args...)
	return collect(rows, err, scanDelivery, "list deliveries")
}

// Delivery returns one delivery with its endpoint's URL and its event, or
// nil.
func (s *Store) Delivery(ctx context.Context, id string) (*store.Delivery, error) {
	return poolQueryOne(ctx, s, scanDelivery, "read delivery",
		"SELECT "+deliveryColumns+" FROM webhook_deliveries AS d"+deliveryJoins+" WHERE d.id = $1", id)
}

// ReplayDelivery makes a delivery pending again, due at now, unless its
// endpoint is deleted. It shares the endpoint, so that a concurrent delete
// either comes first (and the replay finds the endpoint deleted) or waits
// and then fails the replayed delivery.
func (s *Store) ReplayDelivery(ctx context.Context, id string, now time.Time) (*store.Delivery, error) {
	return poolQueryOne(ctx, s, scanDelivery, "replay delivery", `UPDATE webhook_deliveries AS d
SET status = '`+store.DeliveryPending+`', next_attempt_at = $2
FROM (SELECT id, url FROM webhook_endpoints
      WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1) AND deleted_at IS NULL FOR SHARE) AS w,
     events AS e
WHERE d.id = $1 AND d.endpoint_id = w.id AND e.id = d.event_id
RETURNING `+deliveryColumns, id, now.UnixMicro())
}

func scanEndpoint(row pgx.Row) (*store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	var created int64
	var deleted *int64
	if err := row.Scan(&e.ID, &e.URL, &e.Description, &e.Secret, &e.EventTypes, &created, &deleted); err != nil {
		return nil, err
	}
	if len(e.EventTypes) == 0 {
		e.EventTypes = nil
	}
	e.CreatedAt, e.DeletedAt = fromMicros(created), fromMicrosPtr(deleted)
	return &e, nil
}

// scanDelivery reads deliveryColumns.
func scanDelivery(row pgx.Row) (*store.Delivery, error) {
	return scanDeliveryWith(row)
}

// scanClaimedDelivery reads deliveryColumns and the endpoint's secret.
func scanClaimedDelivery(row pgx.Row) (*store.Delivery, error) {
	var secret string
	d, err := scanDeliveryWith(row, &secret)
	if err != nil {
		return nil, err
	}
	d.Secret = secret
	return d, nil
}

// scanDeliveryWith reads deliveryColumns, then the extra columns into extra.
func scanDeliveryWith(row pgx.Row, extra ...any) (*store.Delivery, error) {
	var d store.Delivery
	var e store.Event
	var next, created, at int64
	var last *int64
	var lastStatus int64
	dest := []any{&d.ID, &d.EndpointID, &d.EventID, &d.Status, &d.Attempts, &next, &last, &lastStatus, &d.LastError,
		&created, &d.URL, &e.Seq, &e.ID, &e.Type, &e.Customer, &e.Currency, &e.Data, &at}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt = fromMicros(next), fromMicrosPtr(last), fromMicros(created)
	d.LastStatus = int(lastStatus)
	e.At = fromMicros(at)
	d.Event = &e
	return &d, nil
}
