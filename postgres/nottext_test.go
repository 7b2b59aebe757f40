package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/creditkit/creditkit/store"
)

// TestTextPostgreSQLRefusesIsNotText: a NUL in a JSON column (22P05) or in
// a text column (22021 here: PostgreSQL refuses a 0x00 byte in UTF-8 text)
// is translated to store.ErrNotText, which the ledger answers as an invalid
// request, not an internal error; nothing is written.
func TestTextPostgreSQLRefusesIsNotText(t *testing.T) {
	t.Parallel()
	s := setup(t)
	for name, c := range map[string]*store.Changes{
		"jsonb metadata": {
			NewGrants: []*store.Grant{{ID: "g", Customer: "c", Currency: "x", Amount: 1, Remaining: 1, CreatedAt: t0, EffectiveAt: t0,
				Metadata: []byte(`{"k":"v\u0000"}`)}},
		},
		"text description": {
			Entries: []*store.Entry{{ID: "e", Customer: "c", Currency: "x", Category: "grant", Amount: 1, BalanceAfter: 1, At: t0, RecordedAt: t0,
				Description: "a\x00b"}},
		},
	} {
		err := s.Update(t.Context(), func(ctx context.Context, tx store.WriteTx) error { return tx.Apply(ctx, c) })
		if !errors.Is(err, store.ErrNotText) {
			t.Errorf("%s: %v, want store.ErrNotText", name, err)
		}
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		if g, err := tx.Grant(ctx, "g"); g != nil || err != nil {
			t.Errorf("grant %+v, %v: want none written", g, err)
		}
		if e, err := tx.Entry(ctx, "e"); e != nil || err != nil {
			t.Errorf("entry %+v, %v: want none written", e, err)
		}
		return nil
	})
}
