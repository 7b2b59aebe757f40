package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/sqlite"
)

// TestTwoLedgersOverOneStore checks that two ledgers over one Store (so
// one writer connection, whose commits do not change data_version) see
// each other's writes: the first ledger's wallet cache must not answer
// from before the second one wrote. It did: a spend the balance could no
// longer cover was allowed, and balances went wrong (a flaky
// RefundOnceAcrossNodes found it).
func TestTwoLedgersOverOneStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "creditkit.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, batching := range []bool{true, false} {
		cfg := &creditkit.Config{}
		cfg.Writes.NoBatching = !batching
		l1, err := creditkit.New(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := creditkit.New(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := "cust"
		if !batching {
			c = "cust_nobatch"
		}
		if _, err := l1.Grant(ctx, c, 100, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := l2.Debit(ctx, c, 30, nil); err != nil {
			t.Fatal(err)
		}
		// 70 left: l1 must not spend 80 from a cached 100.
		if _, err := l1.Debit(ctx, c, 80, nil); creditkit.ErrorCodeOf(err) != creditkit.CodeInsufficientCredits {
			t.Fatalf("batching %v: a debit of 80 from 70 through the other ledger: %v, want insufficient_credits", batching, err)
		}
		if _, err := l1.Debit(ctx, c, 70, nil); err != nil {
			t.Fatal(err)
		}
		for _, l := range []*creditkit.Ledger{l1, l2} {
			b, err := l.Balance(ctx, c, nil)
			if err != nil || b.Available != 0 {
				t.Fatalf("batching %v: balance %+v %v, want 0 available", batching, b, err)
			}
		}
		l1.Close()
		l2.Close()
	}
}
