package postgres_test

import (
	"testing"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/storetest"
)

// init runs before TestMain: when MultiProcessRefills re-executes this
// test binary as a refilling child, it refills and exits here.
func init() { storetest.RunRefillChildIfAsked() }

// TestThreeProcessesRefillOnce: three processes on one PostgreSQL run
// RunDue while the clock has jumped three periods: one refill per
// (subscription, period), one event each.
func TestThreeProcessesRefillOnce(t *testing.T) {
	t.Parallel()
	storetest.MultiProcessRefills(t, pgtest.NewDatabaseURL(t, postgres.SharedCluster()))
}
