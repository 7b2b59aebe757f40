package creditkit

import (
	"context"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
)

// TestTextTheDatabaseRefusesFailsOnlyItsRequest: text the library does not
// check and PostgreSQL cannot store (an actor with a NUL, which only a Go
// caller can give) is invalid_request, not an internal error, and in a
// batch it fails its own request alone: the neighbours commit.
func TestTextTheDatabaseRefusesFailsOnlyItsRequest(t *testing.T) {
	t.Parallel()
	for _, batching := range []bool{true, false} {
		s, err := postgres.Open(context.Background(), pgtest.NewDatabaseURL(t, cluster), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		l := openEquivLedger(t, s, NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), batching)
		ctx := context.Background()
		if _, err := l.Grant(ctx, "ann", 100, nil); err != nil {
			t.Fatal(err)
		}
		var errs [3]error
		calls := []func(){
			func() { _, errs[0] = l.Debit(ctx, "ann", 10, nil) },
			func() { _, errs[1] = l.Grant(ctx, "bob", 5, &GrantOpts{Actor: "a\x00b"}) },
			func() { _, errs[2] = l.Debit(ctx, "ann", 20, nil) },
		}
		if batching {
			queueAsOneBatch(t, l.batcher, calls)
		} else {
			for _, call := range calls {
				call()
			}
		}
		if errs[0] != nil || errs[2] != nil {
			t.Fatalf("batching %v: neighbours of the refused request failed: %v, %v", batching, errs[0], errs[2])
		}
		if ErrorCodeOf(errs[1]) != CodeInvalidRequest {
			t.Fatalf("batching %v: actor with a NUL: %v (code %s), want invalid_request", batching, errs[1], ErrorCodeOf(errs[1]))
		}
		if bal, err := l.Balance(ctx, "ann", nil); err != nil || bal.Available != 70 {
			t.Fatalf("batching %v: ann has %v, %v; want 70", batching, bal, err)
		}
		if _, err := l.Balance(ctx, "bob", nil); ErrorCodeOf(err) != CodeCustomerNotFound {
			t.Fatalf("batching %v: bob: %v, want customer_not_found (nothing written)", batching, err)
		}
	}
}
