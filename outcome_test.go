package creditkit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/store"
)

// severingStore is a real PostgreSQL store whose next write transaction
// loses its connection just before COMMIT: another session terminates every
// other backend of the database, as a crash or a network cut would.
type severingStore struct {
	store.Store
	url   string
	sever atomic.Bool
}

func (s *severingStore) Update(ctx context.Context, fn func(ctx context.Context, tx store.WriteTx) error) error {
	return s.Store.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if !s.sever.CompareAndSwap(true, false) {
			return nil
		}
		conn, err := pgx.Connect(ctx, s.url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		return err
	})
}

// A write whose COMMIT fails on a broken connection is answered with
// outcome_unknown, not internal, and a retry under the same idempotency key
// settles it: the credits move exactly once.
func TestBrokenCommitIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabaseURL(t, cluster)
	pg, err := postgres.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	s := &severingStore{Store: pg, url: url}
	l := openEquivLedger(t, s, NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), true)
	if _, err := l.Grant(ctx, "ann", 100, nil); err != nil {
		t.Fatal(err)
	}
	s.sever.Store(true)
	_, err = l.Debit(ctx, "ann", 30, &DebitOpts{IdempotencyKey: "debit-1"})
	if ErrorCodeOf(err) != CodeOutcomeUnknown {
		t.Fatalf("debit whose commit lost its connection: got %v (code %s), want outcome_unknown", err, ErrorCodeOf(err))
	}
	// The client retries under the same key until it gets an answer.
	var e *Entry
	for range 20 {
		if e, err = l.Debit(ctx, "ann", 30, &DebitOpts{IdempotencyKey: "debit-1"}); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // the pool replaces the dead connections
	}
	if err != nil {
		t.Fatalf("retry under the same key: %v", err)
	}
	if e.Amount != -30 {
		t.Fatalf("retried debit: %+v", e)
	}
	if _, err := l.Debit(ctx, "ann", 30, &DebitOpts{IdempotencyKey: "debit-1"}); err != nil {
		t.Fatalf("replay: %v", err)
	}
	bal, err := l.Balance(ctx, "ann", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != 70 {
		t.Fatalf("available %d, want 70: the debit applied exactly once", bal.Available)
	}
}
