package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/storetest"
)

// init runs before TestMain: when MultiProcessPurchases re-executes this
// test binary as a purchasing child, it purchases and exits here.
func init() { storetest.RunPurchaseChildIfAsked() }

// TestPurchases runs the purchase conformance cases on SQLite.
func TestPurchases(t *testing.T) {
	t.Parallel()
	storetest.RunPurchases(t, openStore)
}

// TestThreeProcessesPurchaseOnce: three processes on one SQLite file
// fulfil the same payments at once: one purchase each.
func TestThreeProcessesPurchaseOnce(t *testing.T) {
	t.Parallel()
	storetest.MultiProcessPurchases(t, "sqlite:"+filepath.Join(t.TempDir(), "purchases.db"))
}
