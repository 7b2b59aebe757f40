package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

var _ store.ProviderStore = (*Store)(nil)

func scanText(row pgx.Row) (*string, error) {
	var v string
	if err := row.Scan(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

func scanBigint(row pgx.Row) (*int64, error) {
	var v int64
	if err := row.Scan(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

func orEmpty(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// ProviderCustomer returns the provider's id of a creditkit customer, or "".
func (s *Store) ProviderCustomer(ctx context.Context, provider, customer string) (string, error) {
	v, err := poolQueryOne(ctx, s, scanText, "read provider customer",
		"SELECT external_id FROM provider_customers WHERE provider = $1 AND customer = $2", provider, customer)
	return orEmpty(v), err
}

// ProviderCustomerOf returns the creditkit customer of a provider's
// customer, or "".
func (s *Store) ProviderCustomerOf(ctx context.Context, provider, externalID string) (string, error) {
	v, err := poolQueryOne(ctx, s, scanText, "read provider customer",
		"SELECT customer FROM provider_customers WHERE provider = $1 AND external_id = $2", provider, externalID)
	return orEmpty(v), err
}

// LinkProviderCustomer links customer to externalID unless it is linked
// already, and returns the link that holds. The insert skips a conflict on
// either unique key; the read after it tells which link holds.
func (s *Store) LinkProviderCustomer(ctx context.Context, provider, customer, externalID string, at time.Time) (string, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO provider_customers (provider, customer, external_id, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`, provider, customer, externalID, at.UnixMicro()); err != nil {
		return "", translate("link provider customer", err)
	}
	cur, err := s.ProviderCustomer(ctx, provider, customer)
	if err != nil {
		return "", err
	}
	if cur == "" {
		other, err := s.ProviderCustomerOf(ctx, provider, externalID)
		if err != nil {
			return "", err
		}
		return "", fmt.Errorf("postgres: link %s customer %s to %q: it belongs to %q: %w", provider, externalID, customer, other, store.ErrLinkedElsewhere)
	}
	return cur, nil
}

const providerEventColumns = "provider, event_id, type, received_at, processed_at, outcome"

func scanProviderEvent(row pgx.Row) (*store.ProviderEvent, error) {
	var e store.ProviderEvent
	var received int64
	var processed *int64
	if err := row.Scan(&e.Provider, &e.ID, &e.Type, &received, &processed, &e.Outcome); err != nil {
		return nil, err
	}
	e.ReceivedAt, e.ProcessedAt = fromMicros(received), fromMicrosPtr(processed)
	return &e, nil
}

// ClaimProviderEvent records an event when it first arrives. Of several
// transactions inserting the same event at once, exactly one inserts (the
// others wait on the unique key, then skip).
func (s *Store) ClaimProviderEvent(ctx context.Context, e *store.ProviderEvent) (bool, *store.ProviderEvent, error) {
	tag, err := s.pool.Exec(ctx, "INSERT INTO provider_events ("+providerEventColumns+") VALUES ($1, $2, $3, $4, NULL, '') ON CONFLICT DO NOTHING",
		e.Provider, e.ID, e.Type, e.ReceivedAt.UnixMicro())
	if err != nil {
		return false, nil, translate("claim provider event", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil, nil
	}
	existing, err := s.GetProviderEvent(ctx, e.Provider, e.ID)
	return false, existing, err
}

// FinishProviderEvent marks an event processed.
func (s *Store) FinishProviderEvent(ctx context.Context, provider, id string, at time.Time, outcome string) error {
	_, err := s.pool.Exec(ctx, "UPDATE provider_events SET processed_at = COALESCE(processed_at, $1), outcome = $2 WHERE provider = $3 AND event_id = $4",
		at.UnixMicro(), outcome, provider, id)
	return translate("finish provider event", err)
}

// GetProviderEvent returns a received event, or nil.
func (s *Store) GetProviderEvent(ctx context.Context, provider, id string) (*store.ProviderEvent, error) {
	return poolQueryOne(ctx, s, scanProviderEvent, "read provider event",
		"SELECT "+providerEventColumns+" FROM provider_events WHERE provider = $1 AND event_id = $2", provider, id)
}

// ProviderCursor returns a provider worker's cursor, or 0.
func (s *Store) ProviderCursor(ctx context.Context, provider, name string) (int64, error) {
	v, err := poolQueryOne(ctx, s, scanBigint, "read provider cursor",
		"SELECT seq FROM provider_cursors WHERE provider = $1 AND name = $2", provider, name)
	if v == nil {
		return 0, err
	}
	return *v, err
}

// SetProviderCursor moves a provider worker's cursor forward.
func (s *Store) SetProviderCursor(ctx context.Context, provider, name string, seq int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO provider_cursors (provider, name, seq) VALUES ($1, $2, $3)
ON CONFLICT (provider, name) DO UPDATE SET seq = GREATEST(provider_cursors.seq, excluded.seq)`, provider, name, seq)
	return translate("save provider cursor", err)
}
