package postgres_test

import (
	"testing"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/storetest"
)

// TestTopUp runs the auto top-up cases; several ledgers open one
// database, as several processes would.
func TestTopUp(t *testing.T) {
	storetest.RunTopUp(t, func(t *testing.T) string { return pgtest.NewDatabaseURL(t, postgres.SharedCluster()) })
}
