package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/internal/migratetest"
)

// Migration 0005 gives every customer that has a wallet a customer row,
// bare, created when its first wallet was.
func TestMigration0005CreatesCustomersOfWallets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_server.sql", "migrations/0003_entry_types.sql", "migrations/0004_balance_alerts.sql"} {
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO wallets (customer, currency, created_at) VALUES
		('alice', 'credits', 1000), ('alice', 'usd_credits', 500), ('bob', 'credits', 3000);
		CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
		INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0), (4, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migratetest.CheckCustomersOfWallets(t, s)
}
