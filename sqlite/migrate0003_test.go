package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/internal/migratetest"
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
	for i, e := range migratetest.OldEntries {
		if _, err := db.Exec(`INSERT INTO entries (id, customer, currency, category, amount, balance_after, operation, metadata, at, recorded_at)
			VALUES (?, 'alice', 'credits', ?, ?, 0, '', ?, ?, ?)`, e.ID, e.Category, e.Amount, e.Metadata, 1000+i, 2000+i); err != nil {
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
	migratetest.CheckMigratedEntries(t, s)
	// Still append-only.
	err = s.Update(context.Background(), func(ctx context.Context, tx store.WriteTx) error {
		_, err := tx.(*txn).q.ExecContext(ctx, `UPDATE entries SET type = 'grant' WHERE id = 'ent_2'`)
		return err
	})
	if err == nil {
		t.Fatal("an UPDATE of entries succeeded after migration 0003")
	}
}
