package postgres_test

import (
	"testing"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/storetest"
)

// init runs before TestMain: when MultiProcessPurchases re-executes this
// test binary as a purchasing child, it purchases and exits here.
func init() { storetest.RunPurchaseChildIfAsked() }

// TestPurchases runs the purchase conformance cases on PostgreSQL.
func TestPurchases(t *testing.T) {
	t.Parallel()
	storetest.RunPurchases(t, openStore)
}

// TestThreeProcessesPurchaseOnce: three processes on one PostgreSQL
// database fulfil the same payments at once: one purchase each.
func TestThreeProcessesPurchaseOnce(t *testing.T) {
	t.Parallel()
	storetest.MultiProcessPurchases(t, pgtest.NewDatabaseURL(t, postgres.SharedCluster()))
}
