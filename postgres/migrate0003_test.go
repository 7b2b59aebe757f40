package postgres

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// Migration 0003 gives entries written before it a type (from category and
// sign), an occurred_at (their at), and splits their metadata: the caller's
// metadata out of its "metadata" nesting, the library's facts into details.
// The ledger stays append-only afterwards.
func TestMigration0003TypesOldEntries(t *testing.T) {
	url := pgtest.NewDatabaseURL(t, cluster)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_server.sql"} {
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	old := []struct {
		id, category string
		amount       int64
		meta         string
	}{
		{"ent_1", "signup_bonus", 100, `{"grant_id":"grt_1","source":"bonus","metadata":{"campaign":"spring"}}`},
		{"ent_2", "operation_charge", -3, `{"operation":"send_email","cost":3,"params":{},"metadata":{"job":"j1"}}`},
		{"ent_3", "storage", -2, `{"executed_at":"2025-01-01T00:00:00Z"}`},
		{"ent_4", "transfer_out", -5, `{"from":"a","to":"b"}`},
		{"ent_5", "transfer_in", 5, `{"from":"a","to":"b"}`},
		{"ent_6", "void", -10, `{"grant_id":"grt_2","reason":"fraud"}`},
		{"ent_7", "expiration", -20, `{"grant_id":"grt_3"}`},
		{"ent_8", "manual_adjustment", 7, `{}`},
	}
	for i, e := range old {
		if _, err := conn.Exec(t.Context(), `INSERT INTO entries (id, customer, currency, category, amount, balance_after, operation, metadata, at, recorded_at)
			VALUES ($1, 'alice', 'credits', $2, $3, 0, '', $4::jsonb, $5, $6)`, e.id, e.category, e.amount, e.meta, 1000+i, 2000+i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(t.Context(), `CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL);
		INSERT INTO schema_migrations VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())

	s, err := Open(t.Context(), url, &Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []*store.Entry
	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		rows, err = tx.Entries(ctx, store.EntryQuery{Customer: "alice", Limit: 100})
		return err
	})
	want := []struct{ typ, meta, details string }{
		{"grant", `{"campaign":"spring"}`, `{"grant_id":"grt_1","source":"bonus"}`},
		{"charge", `{"job":"j1"}`, `{"cost":3,"params":{}}`},
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
	if err := exec(t, s, `UPDATE entries SET type = 'grant' WHERE id = 'ent_2'`); err == nil {
		t.Fatal("an UPDATE of entries succeeded after migration 0003")
	}
}

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
