package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/migratetest"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// SumCharges and a check's period sum read whole hours from charge_totals,
// which the statement trigger of migration 0012 keeps, and the partial
// first hour from the entries: they answer what summing every charge
// answers, for times on, just before and just after hour boundaries
// (before 1970 too), and only charges with a negative amount count. The
// generic plans (what pgx's cached statements end up with) probe
// charge_totals' key and entries_usage with the wallet.
func TestSumChargesReadsHourlyTotals(t *testing.T) {
	t.Parallel()
	s := setup(t)
	entries := migratetest.ChargeEntries()
	// In several statements and transactions, so that the trigger adds to
	// existing rows.
	for i := 0; i < len(entries); i += 100 {
		apply(t, s, &store.Changes{Entries: entries[i:min(i+100, len(entries))]})
	}
	migratetest.CheckChargeSums(t, s, entries)
	checkTotalsRows(t, s, entries)

	ctx := t.Context()
	if err := exec(t, s, `INSERT INTO subscriptions (customer, currency, id, plan, status, anchor, period_start, period_end, created_at, updated_at)
		VALUES ('alice', 'credits', 'sub_alice', 'p', 'active', 0, $1, $2, 0, 0)`, int64(-3600000000+1), int64(7200000000)); err != nil {
		t.Fatal(err)
	}
	// Other customers' charges over many hours, so that the planner
	// weighs the indexes against big tables.
	for _, q := range []string{
		`INSERT INTO entries (id, customer, currency, type, category, amount, balance_after, at, occurred_at, recorded_at)
		 SELECT 'x' || i, 'c' || (i % 1000), 'credits', 'charge', 'x', -1, 0, i::bigint * 600000000, i::bigint * 600000000, 0
		 FROM generate_series(0, 29999) AS i`,
		`INSERT INTO subscriptions (customer, currency, id, plan, status, anchor, period_start, period_end, created_at, updated_at)
		 SELECT 'c' || i, 'credits', 's' || i, 'p', 'active', 0, 5000, 100000, 0, 0 FROM generate_series(0, 999) AS i`,
		`ANALYZE entries`, `ANALYZE charge_totals`, `ANALYZE subscriptions`,
	} {
		if err := exec(t, s, q); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "RESET plan_cache_mode")
	since := int64(-3600000000 + 1)
	var want int64
	for _, e := range entries {
		if e.Customer == "alice" && e.Currency == "credits" && e.Type == "charge" && e.Amount < 0 && e.OccurredAt.UnixMicro() >= since {
			want -= e.Amount
		}
	}
	for name, q := range map[string]struct{ sql, args string }{
		"totals_sum_charges":    {sumChargesQuery, fmt.Sprintf(`'alice', 'credits', %d`, since)},
		"totals_period_charges": {periodChargesQuery, `'alice', 'credits'`},
	} {
		if _, err := conn.Exec(ctx, "PREPARE "+name+" AS "+q.sql); err != nil {
			t.Fatal(err)
		}
		rows, _ := conn.Query(ctx, "EXPLAIN EXECUTE "+name+"("+q.args+")", pgx.QueryExecModeSimpleProtocol)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, " charge_totals_pkey ") || !strings.Contains(plan, " entries_usage ") ||
			strings.Contains(plan, "Seq Scan on charge_totals") || strings.Contains(plan, "Seq Scan on entries") {
			t.Errorf("the generic plan of %s does not probe charge_totals_pkey and entries_usage:\n%s", name, plan)
		}
		var sum int64
		if err := conn.QueryRow(ctx, "EXECUTE "+name+"("+q.args+")", pgx.QueryExecModeSimpleProtocol).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != want {
			t.Errorf("%s = %d, want %d", name, sum, want)
		}
	}
}

// Migration 0012 fills charge_totals from the charges already written, so
// that a database migrated with charges in it sums them as before.
func TestMigration0012BackfillsChargeTotals(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabaseURL(t, cluster)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range migrations {
		if m.version > 11 {
			continue
		}
		if _, err := conn.Exec(t.Context(), m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		versions = append(versions, fmt.Sprintf("(%d, 0)", m.version))
	}
	if _, err := conn.Exec(t.Context(), `CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL);
		INSERT INTO schema_migrations VALUES `+strings.Join(versions, ", ")); err != nil {
		t.Fatal(err)
	}
	entries := migratetest.ChargeEntries()
	for _, e := range entries {
		if _, err := conn.Exec(t.Context(), `INSERT INTO entries (id, customer, currency, type, category, amount, balance_after, at, occurred_at, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)`, e.ID, e.Customer, e.Currency, e.Type, e.Category, e.Amount,
			e.At.UnixMicro(), e.OccurredAt.UnixMicro(), e.RecordedAt.UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT to_regclass('charge_totals') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("charge_totals exists before migration 0012 (%v, %v)", exists, err)
	}
	conn.Close(t.Context())

	s, err := Open(t.Context(), url, &Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migratetest.CheckChargeSums(t, s, entries)
	checkTotalsRows(t, s, entries)
}

// checkTotalsRows checks that charge_totals holds one row per wallet and
// hour with charges, and that together they hold every charge.
func checkTotalsRows(t *testing.T, s *Store, entries []*store.Entry) {
	t.Helper()
	hour := int64(time.Hour / time.Microsecond)
	hours := map[string]bool{}
	var want int64
	for _, e := range entries {
		if e.Type == "charge" && e.Amount < 0 {
			us := e.OccurredAt.UnixMicro()
			hours[fmt.Sprint(e.Customer, e.Currency, us-((us%hour)+hour)%hour)] = true
			want -= e.Amount
		}
	}
	var rows, sum int64
	if err := s.pool.QueryRow(t.Context(), `SELECT COUNT(*), COALESCE(SUM(charged), 0)::bigint FROM charge_totals`).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(hours)) || sum != want {
		t.Errorf("charge_totals has %d rows summing %d, want %d rows summing %d", rows, sum, len(hours), want)
	}
}
