package creditkit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
)

// FuzzLedgerMatchesModel decodes its input into a sequence of ledger
// operations (grants, debits, holds, captures, releases, transfers, voids,
// clock jumps, sweeps), runs it on a ledger over a fresh SQLite database and
// on the conformance suite's reference model, and fails at the first step
// where they disagree or the ledger's invariants break.
//
// A plain `go test` runs the seed inputs only. To fuzz:
//
//	go test -run XXX -fuzz FuzzLedgerMatchesModel -fuzztime 60s .
//
// Failing inputs are saved under testdata/fuzz/FuzzLedgerMatchesModel and
// rerun by every later `go test`.
func FuzzLedgerMatchesModel(f *testing.F) {
	// The bytes are decoded by storetest.DecodeOps, which documents them.
	f.Add([]byte{})
	// Grant 50 to pa, debit 20, hold 10 for 30m, capture 7 of it, then
	// release it (not active any more).
	f.Add([]byte{0x00, 50, 0x00, 0x01, 20, 0x02, 10, 30, 0x03, 0x00, 0x01, 7, 0x04, 0x00})
	// A grant expiring in 75m and a pack scheduled in 2h for 45m; the clock
	// goes to each deadline (exactly, 1s after, 1s before) with sweeps.
	f.Add([]byte{0x00, 80, 0x0c, 4, 0x00, 40, 0x1d, 2, 8, 0x08, 1, 0x08, 2, 0x09, 0x01, 70, 0x08, 0x00, 0x09})
	// Transfers pa->pb, pb->pc (evergreen) and pa->pa (refused), then a
	// void, the same void again (refused) and a debit.
	f.Add([]byte{0x00, 100, 0x04, 0x10, 60, 0x0c, 0x05, 0x05, 0x01, 30, 0x15, 0x12, 25, 0x05, 0x00, 5, 0x06, 0x06, 0x06, 0x01, 0x01, 40})
	// A hold on a grant that is voided, then lapses; a late capture is
	// refused.
	f.Add([]byte{0x00, 30, 0x08, 1, 0x02, 25, 60, 0x06, 0x00, 0x07, 0x3c, 0x00, 0x03, 0x01, 0x01, 5, 0x09, 0x01, 1})
	// A hold of a whole grant that expires while held; a partial capture
	// gives the rest back to the expired grant, which a sweep writes off.
	f.Add([]byte{0x00, 60, 0x0d, 1, 0x02, 60, 120, 0x07, 0x3c, 0x00, 0x03, 0x00, 0x01, 20, 0x01, 5, 0x09})
	// A grant scheduled for 10h from now is voided before it starts.
	f.Add([]byte{0x00, 37, 0x10, 40, 0x06, 0x00, 0x07, 0x3c, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := storetest.DecodeOps(data)
		b := storetest.Setup(t, func(t *testing.T) store.Store {
			// Not t.TempDir: its name holds the seed's "#", which
			// sqlite.Open does not escape in its file: URI.
			dir, err := os.MkdirTemp("", "creditkit-fuzz-")
			if err != nil {
				t.Fatalf("temp dir: %v", err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			s, err := sqlite.Open(context.Background(), filepath.Join(dir, "fuzz.db"), nil)
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
		storetest.RunOps(t, b, ops)
	})
}
