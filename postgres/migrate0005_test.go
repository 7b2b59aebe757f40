package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/migratetest"
	"github.com/creditkit/creditkit/internal/pgtest"
)

// Migration 0005 gives every customer that has a wallet a customer row,
// bare, created when its first wallet was.
func TestMigration0005CreatesCustomersOfWallets(t *testing.T) {
	url := pgtest.NewDatabaseURL(t, cluster)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_server.sql", "migrations/0003_entry_types.sql", "migrations/0004_balance_alerts.sql"} {
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO wallets (customer, currency, created_at) VALUES
		('alice', 'credits', 1000), ('alice', 'usd_credits', 500), ('bob', 'credits', 3000);
		CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL);
		INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0), (4, 0)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())

	s, err := Open(t.Context(), url, &Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migratetest.CheckCustomersOfWallets(t, s)
}
