package creditkit

import (
	"encoding/json"
	"fmt"

	"github.com/creditkit/creditkit/store"
)

// This file converts between domain values and the store's rows.

func grantFromRow(r *store.Grant) (*Grant, error) {
	g := &Grant{
		ID: r.ID, Customer: r.Customer, Currency: r.Currency, Amount: Amount(r.Amount), Remaining: Amount(r.Remaining),
		Reason: r.Reason, Source: Source(r.Source), Priority: r.Priority, CreatedAt: r.CreatedAt, EffectiveAt: r.EffectiveAt,
		ExpiresAt: r.ExpiresAt, VoidedAt: r.VoidedAt, ExpiredAt: r.ExpiredAt,
	}
	if len(r.CostBasis) > 0 {
		g.CostBasis = new(CostBasis)
		if err := json.Unmarshal(r.CostBasis, g.CostBasis); err != nil {
			return nil, fmt.Errorf("grant %s: decode cost basis: %w", r.ID, err)
		}
	}
	if err := unmarshalObject(r.Metadata, &g.Metadata); err != nil {
		return nil, fmt.Errorf("grant %s: decode metadata: %w", r.ID, err)
	}
	return g, nil
}

func grantToRow(g *Grant) *store.Grant {
	r := &store.Grant{
		ID: g.ID, Customer: g.Customer, Currency: g.Currency, Amount: int64(g.Amount), Remaining: int64(g.Remaining),
		Reason: g.Reason, Source: string(g.Source), Priority: g.Priority, CreatedAt: g.CreatedAt, EffectiveAt: g.EffectiveAt,
		ExpiresAt: g.ExpiresAt, VoidedAt: g.VoidedAt, ExpiredAt: g.ExpiredAt, Metadata: mustJSON(orEmpty(g.Metadata)),
	}
	if g.CostBasis != nil {
		r.CostBasis = mustJSON(g.CostBasis)
	}
	return r
}

func entryFromRow(r *store.Entry) (*Entry, error) {
	e := &Entry{
		ID: r.ID, Customer: r.Customer, Currency: r.Currency, Type: EntryType(r.Type), Category: r.Category,
		Description: r.Description, Amount: Amount(r.Amount), BalanceAfter: Amount(r.BalanceAfter), Operation: r.Operation,
		Actor: r.Actor, IdempotencyKey: r.IdempotencyKey, At: r.At, OccurredAt: r.OccurredAt, RecordedAt: r.RecordedAt, Seq: r.Seq,
	}
	if r.AvailableAfter != nil {
		a := Amount(*r.AvailableAfter)
		e.AvailableAfter = &a
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.At
	}
	if err := unmarshalObject(r.Details, &e.Details); err != nil {
		return nil, fmt.Errorf("entry %s: decode details: %w", r.ID, err)
	}
	if err := unmarshalObject(r.Metadata, &e.Metadata); err != nil {
		return nil, fmt.Errorf("entry %s: decode metadata: %w", r.ID, err)
	}
	if err := json.Unmarshal(orJSON(r.Allocations, "[]"), &e.Allocations); err != nil {
		return nil, fmt.Errorf("entry %s: decode allocations: %w", r.ID, err)
	}
	if e.Allocations == nil {
		e.Allocations = []Allocation{}
	}
	return e, nil
}

func entryToRow(e *Entry) *store.Entry {
	allocs := e.Allocations
	if allocs == nil {
		allocs = []Allocation{}
	}
	r := &store.Entry{
		ID: e.ID, Customer: e.Customer, Currency: e.Currency, Type: string(e.Type), Category: e.Category,
		Description: e.Description, Amount: int64(e.Amount), BalanceAfter: int64(e.BalanceAfter), Operation: e.Operation,
		Details: mustJSON(orEmpty(e.Details)), Metadata: mustJSON(orEmpty(e.Metadata)), Allocations: mustJSON(allocs),
		Actor: e.Actor, IdempotencyKey: e.IdempotencyKey, At: e.At, OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt,
	}
	if e.AvailableAfter != nil {
		a := int64(*e.AvailableAfter)
		r.AvailableAfter = &a
	}
	return r
}

func holdFromRow(r *store.Hold) (*Hold, error) {
	h := &Hold{
		ID: r.ID, Customer: r.Customer, Currency: r.Currency, Operation: r.Operation, Amount: Amount(r.Amount),
		Captured: Amount(r.Captured), Status: HoldStatus(r.Status), CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		ResolvedAt: r.ResolvedAt, EntryID: r.EntryID,
	}
	if len(r.Params) > 0 {
		if err := json.Unmarshal(r.Params, &h.Params); err != nil {
			return nil, fmt.Errorf("hold %s: decode params: %w", r.ID, err)
		}
	}
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &h.Metadata); err != nil {
			return nil, fmt.Errorf("hold %s: decode metadata: %w", r.ID, err)
		}
	}
	if err := json.Unmarshal(orJSON(r.Allocations, "[]"), &h.Allocations); err != nil {
		return nil, fmt.Errorf("hold %s: decode allocations: %w", r.ID, err)
	}
	h.Allocations, h.Debt = splitHoldDebt(h.Allocations)
	return h, nil
}

func holdToRow(h *Hold) *store.Hold {
	r := &store.Hold{
		ID: h.ID, Customer: h.Customer, Currency: h.Currency, Operation: h.Operation, Amount: int64(h.Amount),
		Captured: int64(h.Captured), Status: string(h.Status), CreatedAt: h.CreatedAt, ExpiresAt: h.ExpiresAt,
		ResolvedAt: h.ResolvedAt, Allocations: mustJSON(joinHoldDebt(h.Allocations, h.Debt)), EntryID: h.EntryID,
	}
	if h.Params != nil {
		r.Params = mustJSON(h.Params)
	}
	if h.Metadata != nil {
		r.Metadata = mustJSON(h.Metadata)
	}
	return r
}

func eventFromRow(r *store.Event) (*Event, error) {
	e := &Event{ID: r.ID, Type: r.Type, Customer: r.Customer, Currency: r.Currency, At: r.At, Seq: r.Seq}
	if err := unmarshalObject(r.Data, &e.Data); err != nil {
		return nil, fmt.Errorf("event %s: decode data: %w", r.ID, err)
	}
	return e, nil
}

func eventToRow(e *Event) *store.Event {
	return &store.Event{ID: e.ID, Type: e.Type, Customer: e.Customer, Currency: e.Currency, Data: mustJSON(orEmpty(e.Data)), At: e.At}
}

// mustJSON encodes values that are always encodable (maps of strings,
// numbers and slices of them).
func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("creditkit: encode %T: %v", v, err))
	}
	return data
}

func orEmpty[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}

func orJSON(b []byte, def string) []byte {
	if len(b) == 0 {
		return []byte(def)
	}
	return b
}

// unmarshalObject decodes a JSON object, leaving an empty (non-nil) map for
// an empty column.
func unmarshalObject[M ~map[string]V, V any](b []byte, m *M) error {
	if err := json.Unmarshal(orJSON(b, "{}"), m); err != nil {
		return err
	}
	if *m == nil {
		*m = M{}
	}
	return nil
}
