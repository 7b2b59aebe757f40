package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/migratetest"
	"github.com/creditkit/creditkit/internal/pgtest"
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
	for i, e := range migratetest.OldEntries {
		if _, err := conn.Exec(t.Context(), `INSERT INTO entries (id, customer, currency, category, amount, balance_after, operation, metadata, at, recorded_at)
			VALUES ($1, 'alice', 'credits', $2, $3, 0, '', $4::jsonb, $5, $6)`, e.ID, e.Category, e.Amount, e.Metadata, 1000+i, 2000+i); err != nil {
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
	migratetest.CheckMigratedEntries(t, s)
	if err := exec(t, s, `UPDATE entries SET type = 'grant' WHERE id = 'ent_2'`); err == nil {
		t.Fatal("an UPDATE of entries succeeded after migration 0003")
	}
}
