package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCheckQueriesUseTheUsageIndex: a check's sum of the period's charges
// probes entries_usage with the wallet (the generic plan pgx's cached
// statements end up with), on a table with many customers' charges.
func TestCheckQueriesUseTheUsageIndex(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO entries (id, customer, currency, type, category, amount, balance_after, at, occurred_at, recorded_at)
		 SELECT 'e' || i, 'c' || (i % 1000), 'credits', CASE WHEN i % 3 = 0 THEN 'grant' ELSE 'charge' END, 'x',
		        CASE WHEN i % 3 = 0 THEN 10 ELSE -1 END, 0, i, i, i
		 FROM generate_series(0, 19999) AS i`,
		`INSERT INTO subscriptions (customer, currency, id, plan, status, anchor, period_start, period_end, created_at, updated_at)
		 SELECT 'c' || i, 'credits', 's' || i, 'p', 'active', 0, 5000, 100000, 0, 0 FROM generate_series(0, 999) AS i`,
		`ANALYZE entries`, `ANALYZE subscriptions`,
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
	for name, q := range map[string]struct{ sql, args string }{
		"sum_charges":    {sumChargesQuery, `'c1', 'credits', 5000`},
		"period_charges": {periodChargesQuery, `'c1', 'credits'`},
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
		if !strings.Contains(plan, " entries_usage ") || !strings.Contains(plan, "Index Cond") {
			t.Errorf("the generic plan of %s does not probe entries_usage:\n%s", name, plan)
		}
		// And the sums are right: c1 has charges at 1, 2, 4, 5, ... below
		// 20,000; those at or after 5,000 count.
		var sum int64
		if err := conn.QueryRow(ctx, "EXECUTE "+name+"("+q.args+")", pgx.QueryExecModeSimpleProtocol).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		var want int64
		for i := 5000; i < 20000; i++ {
			if i%1000 == 1 && i%3 != 0 {
				want++
			}
		}
		if sum != want {
			t.Errorf("%s = %d, want %d", name, sum, want)
		}
	}
}
