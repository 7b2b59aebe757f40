package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

const endpointCols = `id, url, description, secret, event_types, created_at, deleted_at`

func scanEndpoint(r scanner) (*store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	var types string
	var created int64
	var deleted sql.NullInt64
	if err := r.Scan(&e.ID, &e.URL, &e.Description, &e.Secret, &types, &created, &deleted); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("endpoint %s: event types %q: %w", e.ID, types, err)
	}
	e.CreatedAt, e.DeletedAt = fromMicros(created), fromNullMicros(deleted)
	return &e, nil
}

// CreateWebhookEndpoint stores a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *store.WebhookEndpoint) error {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	encoded, err := json.Marshal(types)
	if err != nil {
		return fmt.Errorf("sqlite: encode event types of endpoint %s: %w", e.ID, err)
	}
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "create webhook endpoint", `INSERT INTO webhook_endpoints (`+endpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			[]any{e.ID, e.URL, e.Description, e.Secret, string(encoded), micros(e.CreatedAt), microsPtr(e.DeletedAt)})
	})
}

// WebhookEndpoint returns an endpoint that is not deleted, or nil.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (*store.WebhookEndpoint, error) {
	var e *store.WebhookEndpoint
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		e, err = queryOne(ctx, rtx.(*txn), "read webhook endpoint", scanEndpoint,
			`SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL`, id)
		return err
	})
	return e, err
}

// WebhookEndpoints lists endpoints that are not deleted, by ID, after the ID
// cursor, at most limit (zero or less: all).
func (s *Store) WebhookEndpoints(ctx context.Context, after string, limit int) ([]*store.WebhookEndpoint, error) {
	var es []*store.WebhookEndpoint
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		es, err = queryAll(ctx, rtx.(*txn), "list webhook endpoints", scanEndpoint,
			`SELECT `+endpointCols+` FROM webhook_endpoints WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
			after, sqlLimit(limit))
		return err
	})
	return es, err
}

// DeleteWebhookEndpoint marks an endpoint deleted and gives its pending
// deliveries the deletion's status and error; it reports false when no
// endpoint that is not deleted has this ID.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string, d store.EndpointDeletion) (bool, error) {
	var n int64
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		var err error
		n, err = tx.execCount(ctx, "delete webhook endpoint",
			`UPDATE webhook_endpoints SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, micros(d.At), id)
		if err != nil || n == 0 {
			return err
		}
		return tx.exec(ctx, "update deliveries of deleted endpoint",
			`UPDATE webhook_deliveries SET status = ?, last_error = ? WHERE endpoint_id = ? AND status = ?`,
			[]any{d.PendingStatus, d.PendingError, id, store.DeliveryPending})
	})
	return n > 0, err
}

// DispatchEvents hands up to limit undispatched outbox events, oldest
// first, and the endpoints to fanout, inserts the deliveries it returns,
// and marks the events dispatched.
func (s *Store) DispatchEvents(ctx context.Context, now time.Time, limit int, fanout store.Fanout) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var dispatched int
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		events, err := queryAll(ctx, tx, "read undispatched events", func(r scanner) (*store.Event, error) {
			var e store.Event
			return &e, r.Scan(&e.Seq, &e.ID, &e.Type)
		}, `SELECT seq, id, type FROM events INDEXED BY events_undispatched WHERE dispatched_at IS NULL ORDER BY seq LIMIT ?`, limit)
		if err != nil || len(events) == 0 {
			return err
		}
		endpoints, err := queryAll(ctx, tx, "read webhook endpoints", scanEndpoint,
			`SELECT `+endpointCols+` FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY id`)
		if err != nil {
			return err
		}
		const width = 6
		var rows []any
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			err := tx.exec(ctx, "create deliveries",
				`INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, next_attempt_at, created_at) VALUES `+
					placeholders(len(rows)/width, width), rows)
			rows = rows[:0]
			return err
		}
		for _, d := range fanout(events, endpoints) {
			rows = append(rows, d.ID, d.EndpointID, d.EventID, d.Status, micros(d.NextAttemptAt), micros(d.CreatedAt))
			if len(rows) == insertChunk*width {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		// The events taken are exactly the undispatched ones up to the
		// last seq taken: this transaction is the only writer.
		n, err := tx.execCount(ctx, "mark events dispatched",
			`UPDATE events SET dispatched_at = ? WHERE dispatched_at IS NULL AND seq <= ?`, micros(now), events[len(events)-1].Seq)
		if err != nil {
			return err
		}
		if n != int64(len(events)) {
			return fmt.Errorf("sqlite %s: marked %d events dispatched, want %d", s.path, n, len(events))
		}
		dispatched = len(events)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return dispatched, nil
}

// deliveryQuery selects deliveries with their endpoint's URL (and secret,
// withSecret) and their event; where, if any, starts with " AND ".
func deliveryQuery(withSecret bool, index, where, order string) string {
	secret := `''`
	if withSecret {
		secret = `ep.secret`
	}
	return `SELECT d.id, d.endpoint_id, d.event_id, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
		d.last_status, d.last_error, d.created_at, ep.url, ` + secret + `,
		ev.seq, ev.id, ev.type, ev.customer, ev.currency, ev.data, ev.at
		FROM webhook_deliveries AS d ` + index + `
		JOIN webhook_endpoints AS ep ON ep.id = d.endpoint_id
		JOIN events AS ev ON ev.id = d.event_id
		WHERE 1 = 1` + where + ` ` + order
}

func scanDelivery(r scanner) (*store.Delivery, error) {
	var d store.Delivery
	var e store.Event
	var next, created, at int64
	var last sql.NullInt64
	var data string
	if err := r.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.Status, &d.Attempts, &next, &last,
		&d.LastStatus, &d.LastError, &created, &d.URL, &d.Secret,
		&e.Seq, &e.ID, &e.Type, &e.Customer, &e.Currency, &data, &at); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt = fromMicros(next), fromNullMicros(last), fromMicros(created)
	e.Data, e.At = []byte(data), fromMicros(at)
	d.Event = &e
	return &d, nil
}

// ClaimDeliveries takes up to limit pending deliveries due at now, oldest
// due first, except those to the endpoints in skipEndpoints, and leases
// them until now+lease.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, skipEndpoints ...string) ([]*store.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	where := ` AND d.status = 'pending' AND d.next_attempt_at <= ? AND ep.deleted_at IS NULL`
	args := []any{micros(now)}
	if len(skipEndpoints) > 0 {
		where += ` AND d.endpoint_id NOT IN (?` + strings.Repeat(`, ?`, len(skipEndpoints)-1) + `)`
		for _, id := range skipEndpoints {
			args = append(args, id)
		}
	}
	args = append(args, limit)
	var ds []*store.Delivery
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		var err error
		ds, err = queryAll(ctx, tx, "read due deliveries", scanDelivery,
			deliveryQuery(true, "INDEXED BY webhook_deliveries_due", where, `ORDER BY d.next_attempt_at, d.id LIMIT ?`),
			args...)
		if err != nil {
			return err
		}
		until := now.Add(lease)
		for _, d := range ds {
			if err := tx.exec(ctx, "lease delivery", `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`,
				[]any{micros(until), d.ID}); err != nil {
				return err
			}
			d.NextAttemptAt = until
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// FinishDelivery records one attempt of a claimed delivery, with the
// status the attempt asks for, or the one it gives should the endpoint be
// deleted by now.
func (s *Store) FinishDelivery(ctx context.Context, id string, a store.DeliveryAttempt) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		n, err := wtx.(*txn).execCount(ctx, "finish delivery",
			`UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = ?,
			 status = CASE WHEN (SELECT deleted_at FROM webhook_endpoints AS ep WHERE ep.id = webhook_deliveries.endpoint_id) IS NULL
			               THEN ? ELSE ? END,
			 next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?`,
			micros(a.At), a.HTTPStatus, a.Error, a.Status, a.StatusIfEndpointDeleted, microsPtr(a.NextAttemptAt), id)
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("sqlite %s: finish delivery %s: no such delivery", s.path, id)
		}
		return nil
	})
}

// Deliveries lists deliveries newest first (by ID, descending), without
// their endpoint's secret.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]*store.Delivery, error) {
	var where strings.Builder
	var args []any
	add := func(cond string, v any) {
		where.WriteString(" AND " + cond)
		args = append(args, v)
	}
	if q.Status != "" {
		add("d.status = ?", q.Status)
	}
	if q.EndpointID != "" {
		add("d.endpoint_id = ?", q.EndpointID)
	}
	if q.EventID != "" {
		add("d.event_id = ?", q.EventID)
	}
	if q.Before != "" {
		add("d.id < ?", q.Before)
	}
	args = append(args, sqlLimit(q.Limit))
	var ds []*store.Delivery
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		ds, err = queryAll(ctx, rtx.(*txn), "list deliveries", scanDelivery,
			deliveryQuery(false, "", where.String(), `ORDER BY d.id DESC LIMIT ?`), args...)
		return err
	})
	return ds, err
}

// Delivery returns one delivery with its event, without its endpoint's
// secret, or nil.
func (s *Store) Delivery(ctx context.Context, id string) (*store.Delivery, error) {
	var d *store.Delivery
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		d, err = readDelivery(ctx, rtx.(*txn), id)
		return err
	})
	return d, err
}

func readDelivery(ctx context.Context, tx *txn, id string) (*store.Delivery, error) {
	return queryOne(ctx, tx, "read delivery", scanDelivery, deliveryQuery(false, "", " AND d.id = ?", ""), id)
}

// ReplayDelivery makes a delivery pending again, due at now. It returns nil
// when there is no such delivery or its endpoint is deleted.
func (s *Store) ReplayDelivery(ctx context.Context, id string, now time.Time) (*store.Delivery, error) {
	var d *store.Delivery
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		n, err := tx.execCount(ctx, "replay delivery",
			`UPDATE webhook_deliveries SET status = ?, next_attempt_at = ? WHERE id = ?
			 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL)`,
			store.DeliveryPending, micros(now), id)
		if err != nil || n == 0 {
			return err
		}
		d, err = readDelivery(ctx, tx, id)
		return err
	})
	return d, err
}
