package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/storetest"
)

// TestTopUp runs the auto top-up cases; several ledgers open one file, as
// several processes would.
func TestTopUp(t *testing.T) {
	storetest.RunTopUp(t, func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "topup.db") })
}
