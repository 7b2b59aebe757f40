package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/migratetest"
	"github.com/creditkit/creditkit/store"
)

// SumCharges reads whole hours from charge_totals, which the insert trigger
// of migration 0012 keeps, and the partial first hour from the entries: it
// answers what summing every charge answers, for times on, just before and
// just after hour boundaries (before 1970 too), and only charges with a
// negative amount count.
func TestSumChargesReadsHourlyTotals(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "totals.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries := migratetest.ChargeEntries()
	// In several transactions, so that the trigger adds to existing rows.
	for i := 0; i < len(entries); i += 100 {
		if err := s.Update(context.Background(), func(ctx context.Context, tx store.WriteTx) error {
			return tx.Apply(ctx, &store.Changes{Entries: entries[i:min(i+100, len(entries))]})
		}); err != nil {
			t.Fatal(err)
		}
	}
	migratetest.CheckChargeSums(t, s, entries)
	db := openRaw(t, path)
	checkTotalsRows(t, db, entries)

	// The query probes both indexes with the wallet.
	rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT
 (SELECT COALESCE(SUM(charged), 0) FROM charge_totals WHERE customer = ?1 AND currency = ?2 AND hour >= ?4)
 + (SELECT COALESCE(SUM(-amount), 0) FROM entries
    WHERE customer = ?1 AND currency = ?2 AND type = 'charge' AND occurred_at >= ?3 AND occurred_at < ?4 AND amount < 0)`,
		"alice", "credits", 0, 3600000000)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "SEARCH charge_totals USING PRIMARY KEY (customer=? AND currency=? AND hour>?)") ||
		!strings.Contains(text, "SEARCH entries USING INDEX entries_usage (customer=? AND currency=? AND occurred_at>? AND occurred_at<?)") {
		t.Errorf("the sum does not probe charge_totals' key and entries_usage:\n%s", text)
	}
}

// Migration 0012 fills charge_totals from the charges already written, so
// that a database migrated with charges in it sums them as before.
func TestMigration0012BackfillsChargeTotals(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	db := openRaw(t, path)
	var versions []string
	for i := 1; i <= 11; i++ {
		names, err := migrationFS.ReadDir("migrations")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.HasPrefix(n.Name(), fmt.Sprintf("%04d_", i)) {
				body, err := migrationFS.ReadFile("migrations/" + n.Name())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(string(body)); err != nil {
					t.Fatalf("%s: %v", n.Name(), err)
				}
			}
		}
		versions = append(versions, fmt.Sprintf("(%d, 0)", i))
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
		INSERT INTO schema_migrations VALUES ` + strings.Join(versions, ", ")); err != nil {
		t.Fatal(err)
	}
	entries := migratetest.ChargeEntries()
	for _, e := range entries {
		if _, err := db.Exec(`INSERT INTO entries (id, customer, currency, type, category, amount, balance_after, at, occurred_at, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`, e.ID, e.Customer, e.Currency, e.Type, e.Category, e.Amount,
			e.At.UnixMicro(), e.OccurredAt.UnixMicro(), e.RecordedAt.UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'charge_totals'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("charge_totals before migration 0012: %d tables, %v", n, err)
	}

	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migratetest.CheckChargeSums(t, s, entries)
	checkTotalsRows(t, db, entries)
}

// openRaw opens the database file at path outside the store.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkTotalsRows checks that charge_totals holds one row per wallet and
// hour with charges, and that together they hold every charge.
func checkTotalsRows(t *testing.T, db *sql.DB, entries []*store.Entry) {
	t.Helper()
	hours := map[string]bool{}
	var want int64
	for _, e := range entries {
		if e.Type == "charge" && e.Amount < 0 {
			us := e.OccurredAt.UnixMicro()
			hours[fmt.Sprint(e.Customer, e.Currency, us-((us%hourMicros)+hourMicros)%hourMicros)] = true
			want -= e.Amount
		}
	}
	var rows, sum int64
	if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(charged), 0) FROM charge_totals`).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(hours)) || sum != want {
		t.Errorf("charge_totals has %d rows summing %d, want %d rows summing %d", rows, sum, len(hours), want)
	}
}
