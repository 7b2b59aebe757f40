package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/store"
)

// Migration 0003 gives entries written before it a type (from category and
// sign), an occurred_at (their at), and splits their metadata: the caller's
// metadata out of its "metadata" nesting, the library's facts into details.
// The ledger stays append-only afterwards.
func TestMigration0003TypesOldEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_server.sql"} {
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	old := []struct {
		id, category string
		amount       int64
		meta         string
	}{
		{"ent_1", "signup_bonus", 100, `{"grant_id":"grt_1","source":"bonus","metadata":{"campaign":"spring"}}`},
		{"ent_2", "operation_charge", -3, `{"operation":"send_email","cost":3,"params":{},"executed_at":"2025-01-01T00:00:00Z","metadata":{"job":"j1"}}`},
		{"ent_3", "storage", -2, `{"executed_at":"2025-01-01T00:00:00Z"}`},
		{"ent_4", "transfer_out", -5, `{"from":"a","to":"b"}`},
		{"ent_5", "transfer_in", 5, `{"from":"a","to":"b"}`},
		{"ent_6", "void", -10, `{"grant_id":"grt_2","reason":"fraud"}`},
		{"ent_7", "expiration", -20, `{"grant_id":"grt_3"}`},
		{"ent_8", "manual_adjustment", 7, `{}`},
	}
	for i, e := range old {
		if _, err := db.Exec(`INSERT INTO entries (id, customer, currency, category, amount, balance_after, operation, metadata, at, recorded_at)
			VALUES (?, 'alice', 'credits', ?, ?, 0, '', ?, ?, ?)`, e.id, e.category, e.amount, e.meta, 1000+i, 2000+i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
		INSERT INTO schema_migrations VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []*store.Entry
	if err := s.View(context.Background(), func(ctx context.Context, tx store.ReadTx) error {
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
		if r.Type != want[i].typ || !sameJSON(t, r.Metadata, want[i].meta) || !sameJSON(t, r.Details, want[i].details) {
			t.Errorf("%s: type %q metadata %s details %s, want %q %s %s", r.ID, r.Type, r.Metadata, r.Details, want[i].typ, want[i].meta, want[i].details)
		}
		if !r.OccurredAt.Equal(r.At) || r.AvailableAfter != nil {
			t.Errorf("%s: occurred_at %s (at %s), available_after %v; want at and unknown", r.ID, r.OccurredAt, r.At, r.AvailableAfter)
		}
	}
	// Still append-only.
	err = s.Update(context.Background(), func(ctx context.Context, tx store.WriteTx) error {
		_, err := tx.(*txn).q.ExecContext(ctx, `UPDATE entries SET type = 'grant' WHERE id = 'ent_2'`)
		return err
	})
	if err == nil {
		t.Fatal("an UPDATE of entries succeeded after migration 0003")
	}
}

func sameJSON(t *testing.T, got []byte, want string) bool {
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
