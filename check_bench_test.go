package creditkit

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
)

// checkBenchConfig has one monthly plan and the operation checked; the
// benchmark's charges are raw 1-credit debits drawn from a large grant.
const checkBenchConfig = `
currencies:
  - { name: credits, decimals: 0 }
operations:
  work: 1 credit
plans:
  metered:
    gives: 1000 credits every month
`

// checkBenchCase is one subscribed customer of BenchmarkCheckWithPeriodCharges:
// how many 1-credit charges it made in the previous period and in the
// current one.
type checkBenchCase struct {
	name          string
	customer      string
	before, since int
}

var checkBenchCases = []checkBenchCase{
	{name: "period=0", customer: "c0"},
	{name: "period=10000", customer: "c10k", since: 10_000},
	{name: "period=100000", customer: "c100k", since: 100_000},
	{name: "before=100000,period=10", customer: "old100k", before: 100_000, since: 10},
}

// BenchmarkCheckWithPeriodCharges times Ledger.Check of a subscribed
// customer by how many charges it made in its subscription's current
// period (0, 10,000, 100,000), and of one with 100,000 charges in the
// previous period and 10 in this one, on both stores. Each store is filled
// once (through the library: batched debits from many goroutines), then
// each customer's check is timed. Run it with
//
//	CREDITKIT_REQUIRE_POSTGRES=1 go test -run '^$' -bench CheckWithPeriodCharges -benchtime 2s .
//
// On PostgreSQL the check is timed right after the fill and again after a
// VACUUM (ANALYZE) of entries, as autovacuum would leave an insert-only
// table (an index-only scan needs the visibility map).
func BenchmarkCheckWithPeriodCharges(b *testing.B) {
	open := map[string]func(b *testing.B) (store.Store, string){
		"sqlite": func(b *testing.B) (store.Store, string) {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			return s, ""
		},
		"postgres": func(b *testing.B) (store.Store, string) {
			url := pgtest.NewDatabaseURL(b, cluster)
			s, err := postgres.Open(context.Background(), url, nil)
			if err != nil {
				b.Fatal(err)
			}
			return s, url
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s, url := open[name](b)
			b.Cleanup(func() { s.Close() })
			l := fillCheckBench(b, s)
			timeChecks := func(b *testing.B) {
				for _, c := range checkBenchCases {
					b.Run(c.name, func(b *testing.B) {
						ctx := context.Background()
						for b.Loop() {
							chk, err := l.Check(ctx, c.customer, "work", nil)
							if err != nil {
								b.Fatal(err)
							}
							if chk.Plan == nil || chk.Plan.Used != Amount(c.since) {
								b.Fatalf("%s: check's plan %+v, want %d used", c.customer, chk.Plan, c.since)
							}
						}
					})
				}
			}
			if url == "" {
				timeChecks(b)
				return
			}
			b.Run("fresh", timeChecks)
			vacuumEntries(b, url)
			b.Run("vacuumed", timeChecks)
		})
	}
}

// fillCheckBench opens a ledger on s and writes checkBenchCases, spread
// over whole periods as a busy customer's charges would be: every customer
// subscribes and gets a large grant on January 10 at 00:17 (so that the
// periods start inside an hour), the "before" charges occur evenly over
// the January period, the February refill runs, and the "since" charges
// occur evenly from the February period's start to March 9, 23:00, when
// the checks are made. Each charge is backdated (OccurredAt) within the
// usage window.
func fillCheckBench(b *testing.B, s store.Store) *Ledger {
	b.Helper()
	ctx := context.Background()
	cfg, err := ParseConfig("creditkit.yaml", []byte(checkBenchConfig))
	if err != nil {
		b.Fatal(err)
	}
	jan := time.Date(2027, 1, 10, 0, 17, 0, 0, time.UTC)
	feb := jan.AddDate(0, 1, 0)
	clock := NewManualClock(jan)
	cfg.Clock = clock
	l, err := New(s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	began := time.Now()
	for _, c := range checkBenchCases {
		if _, err := l.StartSubscription(ctx, c.customer, "metered", nil); err != nil {
			b.Fatal(err)
		}
		if _, err := l.Grant(ctx, c.customer, 1_000_000_000, nil); err != nil {
			b.Fatal(err)
		}
	}
	clock.Set(feb.Add(-time.Hour))
	for _, c := range checkBenchCases {
		debitMany(b, l, c.customer, c.before, jan, feb.Add(-time.Hour))
	}
	clock.Set(feb.Add(24 * time.Hour))
	res, err := l.RunDue(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if res.Refills != len(checkBenchCases) {
		b.Fatalf("RunDue wrote %d refills, want %d", res.Refills, len(checkBenchCases))
	}
	now := time.Date(2027, 3, 9, 23, 0, 0, 0, time.UTC)
	clock.Set(now)
	for _, c := range checkBenchCases {
		debitMany(b, l, c.customer, c.since, feb, now)
	}
	b.Logf("filled in %s", time.Since(began).Round(time.Millisecond))
	return l
}

// debitMany makes n 1-credit debits of customer, occurring evenly from
// from to until, from 256 goroutines, so that group commit writes them in
// large batches.
func debitMany(b *testing.B, l *Ledger, customer string, n int, from, until time.Time) {
	b.Helper()
	const workers = 256
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	step := until.Sub(from) / time.Duration(max(n, 1))
	for range min(workers, n) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				at := from.Add(time.Duration(i) * step)
				if _, err := l.Debit(context.Background(), customer, 1, &DebitOpts{OccurredAt: at}); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("debit %s: %w", customer, err) })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// vacuumEntries vacuums and analyzes the entries table of the database at
// url.
func vacuumEntries(b *testing.B, url string) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) entries"); err != nil {
		b.Fatal(err)
	}
}
