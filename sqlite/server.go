package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

// The server's rows live beside the ledger's and are written through the
// same write connection: every method below is one Update or one View, so
// that claims and notices are exclusive across processes sharing the file
// (BEGIN IMMEDIATE makes each write transaction the only one).

var _ store.ServerStore = (*Store)(nil)

// errorDeliveryEndpointDeleted is the last error of the pending deliveries
// of an endpoint when it is deleted.
const errorDeliveryEndpointDeleted = "endpoint deleted"

// execCount runs one statement through the prepared-statement cache and
// returns how many rows it changed.
func (t *txn) execCount(ctx context.Context, what, query string, args ...any) (int64, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return 0, t.s.translate(what, err)
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, t.s.translate(what, err)
	}
	n, err := res.RowsAffected()
	return n, t.s.translate(what, err)
}

// sqlLimit turns a limit where zero or less means none into SQLite's, where
// -1 means none.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

const apiKeyCols = `id, name, scope, hash, prefix, created_at, revoked_at`

func scanAPIKey(r scanner) (*store.APIKey, error) {
	var k store.APIKey
	var created int64
	var revoked sql.NullInt64
	if err := r.Scan(&k.ID, &k.Name, &k.Scope, &k.Hash, &k.Prefix, &created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = fromMicros(created), fromNullMicros(revoked)
	return &k, nil
}

// CreateAPIKey stores a new key.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "create api key", `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			[]any{k.ID, k.Name, k.Scope, k.Hash, k.Prefix, micros(k.CreatedAt), microsPtr(k.RevokedAt)})
	})
}

// APIKeyByHash returns the key with this hash, revoked or not, or nil.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	var k *store.APIKey
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		k, err = queryOne(ctx, rtx.(*txn), "read api key", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash)
		return err
	})
	return k, err
}

// APIKeys lists every key, revoked ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]*store.APIKey, error) {
	var ks []*store.APIKey
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		ks, err = queryAll(ctx, rtx.(*txn), "list api keys", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created_at, id`)
		return err
	})
	return ks, err
}

// RevokeAPIKey marks a key revoked at t; it reports false when no unrevoked
// key has this ID.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, t time.Time) (bool, error) {
	var n int64
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		var err error
		n, err = wtx.(*txn).execCount(ctx, "revoke api key",
			`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(t), id)
		return err
	})
	return n > 0, err
}

// Secret returns the secret stored under name, first storing generated when
// there is none.
func (s *Store) Secret(ctx context.Context, name string, generated []byte) ([]byte, error) {
	var value []byte
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		t := wtx.(*txn)
		st, err := t.stmt(ctx, `SELECT value FROM secrets WHERE name = ?`)
		if err != nil {
			return s.translate("read secret", err)
		}
		switch err := st.QueryRowContext(ctx, name).Scan(&value); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return s.translate("read secret", err)
		}
		value = generated
		return t.exec(ctx, "store secret", `INSERT INTO secrets (name, value) VALUES (?, ?)`, []any{name, generated})
	})
	if err != nil {
		return nil, err
	}
	return value, nil
}

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

// DeleteWebhookEndpoint marks an endpoint deleted at t and fails its pending
// deliveries; it reports false when no endpoint that is not deleted has
// this ID.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string, t time.Time) (bool, error) {
	var n int64
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		var err error
		n, err = tx.execCount(ctx, "delete webhook endpoint",
			`UPDATE webhook_endpoints SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, micros(t), id)
		if err != nil || n == 0 {
			return err
		}
		return tx.exec(ctx, "fail deliveries of deleted endpoint",
			`UPDATE webhook_deliveries SET status = ?, last_error = ? WHERE endpoint_id = ? AND status = ?`,
			[]any{store.DeliveryFailed, errorDeliveryEndpointDeleted, id, store.DeliveryPending})
	})
	return n > 0, err
}

// DispatchEvents creates the deliveries of up to limit undispatched outbox
// events, oldest first, and marks them dispatched.
func (s *Store) DispatchEvents(ctx context.Context, now time.Time, limit int, newID func() string) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var dispatched int
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		type pending struct {
			seq     int64
			id, typ string
		}
		events, err := queryAll(ctx, tx, "read undispatched events", func(r scanner) (*pending, error) {
			var p pending
			return &p, r.Scan(&p.seq, &p.id, &p.typ)
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
		for _, e := range events {
			for _, ep := range endpoints {
				if !store.MatchEventType(ep.EventTypes, e.typ) {
					continue
				}
				rows = append(rows, newID(), ep.ID, e.id, store.DeliveryPending, micros(now), micros(now))
				if len(rows) == insertChunk*width {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		// The events taken are exactly the undispatched ones up to the
		// last seq taken: this transaction is the only writer.
		n, err := tx.execCount(ctx, "mark events dispatched",
			`UPDATE events SET dispatched_at = ? WHERE dispatched_at IS NULL AND seq <= ?`, micros(now), events[len(events)-1].seq)
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
// due first, and leases them until now+lease.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*store.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ds []*store.Delivery
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		var err error
		ds, err = queryAll(ctx, tx, "read due deliveries", scanDelivery,
			deliveryQuery(true, "INDEXED BY webhook_deliveries_due",
				` AND d.status = 'pending' AND d.next_attempt_at <= ? AND ep.deleted_at IS NULL`,
				`ORDER BY d.next_attempt_at, d.id LIMIT ?`),
			micros(now), limit)
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

// FinishDelivery records one attempt of a claimed delivery. A delivery whose
// endpoint was deleted while it was being attempted stays failed rather than
// waiting for a retry that would never be claimed.
func (s *Store) FinishDelivery(ctx context.Context, id string, a store.DeliveryAttempt) error {
	status := store.DeliveryFailed
	switch {
	case a.Succeeded:
		status = store.DeliverySucceeded
	case a.NextAttemptAt != nil:
		status = store.DeliveryPending
	}
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn)
		var deleted bool
		st, err := tx.stmt(ctx, `SELECT ep.deleted_at IS NOT NULL FROM webhook_deliveries AS d
			JOIN webhook_endpoints AS ep ON ep.id = d.endpoint_id WHERE d.id = ?`)
		if err != nil {
			return s.translate("read delivery", err)
		}
		switch err := st.QueryRowContext(ctx, id).Scan(&deleted); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite %s: finish delivery %s: no such delivery", s.path, id)
		case err != nil:
			return s.translate("read delivery", err)
		}
		if deleted && status == store.DeliveryPending {
			status = store.DeliveryFailed
		}
		return tx.exec(ctx, "finish delivery",
			`UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = ?,
			 next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?`,
			[]any{status, micros(a.At), a.Status, a.Error, microsPtr(a.NextAttemptAt), id})
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
