package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/store"
)

var _ store.ProviderStore = (*Store)(nil)

// ProviderCustomer returns the provider's id of a creditkit customer, or "".
func (s *Store) ProviderCustomer(ctx context.Context, provider, customer string) (string, error) {
	return s.providerString(ctx, "read provider customer",
		`SELECT external_id FROM provider_customers WHERE provider = ? AND customer = ?`, provider, customer)
}

// ProviderCustomerOf returns the creditkit customer of a provider's
// customer, or "".
func (s *Store) ProviderCustomerOf(ctx context.Context, provider, externalID string) (string, error) {
	return s.providerString(ctx, "read provider customer",
		`SELECT customer FROM provider_customers WHERE provider = ? AND external_id = ?`, provider, externalID)
}

func (s *Store) providerString(ctx context.Context, what, query string, args ...any) (string, error) {
	var out string
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		v, err := queryOne(ctx, rtx.(*txn), what, scanString, query, args...)
		if v != nil {
			out = *v
		}
		return err
	})
	return out, err
}

func scanString(r scanner) (*string, error) {
	var v string
	if err := r.Scan(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// LinkProviderCustomer links customer to externalID unless it is linked
// already, and returns the link that holds.
func (s *Store) LinkProviderCustomer(ctx context.Context, provider, customer, externalID string, at time.Time) (string, error) {
	var out string
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		t := wtx.(*txn)
		cur, err := queryOne(ctx, t, "read provider customer", scanString,
			`SELECT external_id FROM provider_customers WHERE provider = ? AND customer = ?`, provider, customer)
		if err != nil {
			return err
		}
		if cur != nil {
			out = *cur
			return nil
		}
		other, err := queryOne(ctx, t, "read provider customer", scanString,
			`SELECT customer FROM provider_customers WHERE provider = ? AND external_id = ?`, provider, externalID)
		if err != nil {
			return err
		}
		if other != nil {
			return fmt.Errorf("sqlite: link %s customer %s to %q: it belongs to %q: %w", provider, externalID, customer, *other, store.ErrLinkedElsewhere)
		}
		out = externalID
		return t.exec(ctx, "link provider customer", `INSERT INTO provider_customers (provider, customer, external_id, created_at) VALUES (?, ?, ?, ?)`,
			[]any{provider, customer, externalID, micros(at)})
	})
	return out, err
}

const providerEventCols = `provider, event_id, type, received_at, processed_at, outcome`

func scanProviderEvent(r scanner) (*store.ProviderEvent, error) {
	var e store.ProviderEvent
	var received int64
	var processed sql.NullInt64
	if err := r.Scan(&e.Provider, &e.ID, &e.Type, &received, &processed, &e.Outcome); err != nil {
		return nil, err
	}
	e.ReceivedAt, e.ProcessedAt = fromMicros(received), fromNullMicros(processed)
	return &e, nil
}

// ClaimProviderEvent records an event when it first arrives.
func (s *Store) ClaimProviderEvent(ctx context.Context, e *store.ProviderEvent) (bool, *store.ProviderEvent, error) {
	var claimed bool
	var existing *store.ProviderEvent
	err := s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		t := wtx.(*txn)
		n, err := t.execCount(ctx, "claim provider event", `INSERT INTO provider_events (`+providerEventCols+`) VALUES (?, ?, ?, ?, NULL, '')
ON CONFLICT (provider, event_id) DO NOTHING`, e.Provider, e.ID, e.Type, micros(e.ReceivedAt))
		if err != nil {
			return err
		}
		claimed = n == 1
		if claimed {
			existing = nil
			return nil
		}
		existing, err = queryOne(ctx, t, "read provider event", scanProviderEvent,
			`SELECT `+providerEventCols+` FROM provider_events WHERE provider = ? AND event_id = ?`, e.Provider, e.ID)
		return err
	})
	return claimed, existing, err
}

// FinishProviderEvent marks an event processed.
func (s *Store) FinishProviderEvent(ctx context.Context, provider, id string, at time.Time, outcome string) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "finish provider event",
			`UPDATE provider_events SET processed_at = COALESCE(processed_at, ?), outcome = ? WHERE provider = ? AND event_id = ?`,
			[]any{micros(at), outcome, provider, id})
	})
}

// GetProviderEvent returns a received event, or nil.
func (s *Store) GetProviderEvent(ctx context.Context, provider, id string) (*store.ProviderEvent, error) {
	var out *store.ProviderEvent
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		out, err = queryOne(ctx, rtx.(*txn), "read provider event", scanProviderEvent,
			`SELECT `+providerEventCols+` FROM provider_events WHERE provider = ? AND event_id = ?`, provider, id)
		return err
	})
	return out, err
}

// ProviderCursor returns a provider worker's cursor, or 0.
func (s *Store) ProviderCursor(ctx context.Context, provider, name string) (int64, error) {
	var out int64
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		v, err := queryOne(ctx, rtx.(*txn), "read provider cursor", scanInt64,
			`SELECT seq FROM provider_cursors WHERE provider = ? AND name = ?`, provider, name)
		if v != nil {
			out = *v
		}
		return err
	})
	return out, err
}

func scanInt64(r scanner) (*int64, error) {
	var v int64
	if err := r.Scan(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// SetProviderCursor moves a provider worker's cursor forward.
func (s *Store) SetProviderCursor(ctx context.Context, provider, name string, seq int64) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "save provider cursor", `INSERT INTO provider_cursors (provider, name, seq) VALUES (?, ?, ?)
ON CONFLICT (provider, name) DO UPDATE SET seq = MAX(seq, excluded.seq)`, []any{provider, name, seq})
	})
}
