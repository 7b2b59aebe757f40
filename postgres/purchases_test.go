package postgres_test

import (
	"testing"

	"github.com/creditkit/creditkit/storetest"
)

// TestPurchases runs the purchase conformance cases on PostgreSQL.
func TestPurchases(t *testing.T) {
	t.Parallel()
	storetest.RunPurchases(t, openStore)
}
