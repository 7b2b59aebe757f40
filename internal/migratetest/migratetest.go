// Package migratetest holds what the stores' migration tests share: the rows
// they write in an old schema, and the checks of what a migration made of
// them. It imports only store, so the stores' internal tests can use it.
package migratetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

// OldEntry is an entry as stored before migration 0003 (no type, the
// caller's metadata nested under "metadata"), for a store's migration test
// to insert with its own SQL.
type OldEntry struct {
	ID, Category string
	Amount       int64
	Metadata     string // JSON
}

// OldEntries are the entries of customer alice, currency credits, that the
// 0003 migration tests insert before migrating; CheckMigratedEntries checks
// what the migration made of them.
var OldEntries = []OldEntry{
	{"ent_1", "signup_bonus", 100, `{"grant_id":"grt_1","source":"bonus","metadata":{"campaign":"spring"}}`},
	{"ent_2", "operation_charge", -3, `{"operation":"send_email","cost":3,"params":{},"executed_at":"2025-01-01T00:00:00Z","metadata":{"job":"j1"}}`},
	{"ent_3", "storage", -2, `{"executed_at":"2025-01-01T00:00:00Z"}`},
	{"ent_4", "transfer_out", -5, `{"from":"a","to":"b"}`},
	{"ent_5", "transfer_in", 5, `{"from":"a","to":"b"}`},
	{"ent_6", "void", -10, `{"grant_id":"grt_2","reason":"fraud"}`},
	{"ent_7", "expiration", -20, `{"grant_id":"grt_3"}`},
	{"ent_8", "manual_adjustment", 7, `{}`},
}

// CheckMigratedEntries checks that migration 0003 gave OldEntries a type
// (from category and sign), an occurred_at (their at), no available_after
// (it cannot be rebuilt), and split their metadata: the caller's out of its
// nesting, the library's facts into details.
func CheckMigratedEntries(t *testing.T, s store.Store) {
	t.Helper()
	var rows []*store.Entry
	if err := s.View(context.Background(), func(ctx context.Context, tx store.ReadTx) (err error) {
		rows, err = tx.Entries(ctx, store.EntryQuery{Customer: "alice", Limit: 100})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, meta, details string }{
		{"grant", `{"campaign":"spring"}`, `{"grant_id":"grt_1","source":"bonus"}`},
		{"charge", `{"job":"j1"}`, `{"cost":3,"params":{},"executed_at":"2025-01-01T00:00:00Z"}`},
		{"charge", `{}`, `{"executed_at":"2025-01-01T00:00:00Z"}`},
		{"transfer", `{}`, `{"from":"a","to":"b"}`},
		{"transfer", `{}`, `{"from":"a","to":"b"}`},
		{"void", `{}`, `{"grant_id":"grt_2","reason":"fraud"}`},
		{"expiration", `{}`, `{"grant_id":"grt_3"}`},
		{"grant", `{}`, `{}`},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d entries after migration, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if r.Type != want[i].typ || !sameJSONText(t, r.Metadata, want[i].meta) || !sameJSONText(t, r.Details, want[i].details) {
			t.Errorf("%s: type %q metadata %s details %s, want %q %s %s", r.ID, r.Type, r.Metadata, r.Details, want[i].typ, want[i].meta, want[i].details)
		}
		if !r.OccurredAt.Equal(r.At) || r.AvailableAfter != nil {
			t.Errorf("%s: occurred_at %s (at %s), available_after %v; want at and unknown", r.ID, r.OccurredAt, r.At, r.AvailableAfter)
		}
	}
}

// sameJSONText reports whether got and want are the same JSON value.
func sameJSONText(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// CheckCustomersOfWallets checks that migration 0005 made a bare customer
// of every customer with a wallet, alice (first wallet at 500 µs) and bob
// (at 3000 µs), dated from its first wallet.
func CheckCustomersOfWallets(t *testing.T, s store.Store) {
	t.Helper()
	var got []*store.Customer
	if err := s.View(context.Background(), func(ctx context.Context, tx store.ReadTx) (err error) {
		got, err = tx.Customers(ctx, store.CustomerQuery{Limit: 10})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "alice" || got[1].ID != "bob" ||
		!got[0].CreatedAt.Equal(time.UnixMicro(500)) || !got[1].CreatedAt.Equal(time.UnixMicro(3000)) ||
		got[0].Name != "" || string(got[0].Metadata) != "{}" {
		t.Fatalf("customers after migration 0005: %+v", got)
	}
}
