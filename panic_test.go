package creditkit

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit/sqlite"
)

// openPanicLedger opens a ledger on a fresh SQLite file, batching or not.
func openPanicLedger(t *testing.T, batching bool) *Ledger {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "panic.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return openEquivLedger(t, s, NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), batching)
}

// openPanicLedgerWith opens a ledger with cfg on a fresh SQLite file.
func openPanicLedgerWith(t *testing.T, cfg *Config) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "cfg.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// The request that crashed the server once: an effective time at the end of
// year 9999 plus a day of expiry. It is refused before it is queued, and the
// ledger goes on.
func TestInstantsPastTheHorizonAreRefused(t *testing.T) {
	t.Parallel()
	l := openPanicLedger(t, true)
	ctx := context.Background()
	cases := []GrantOpts{
		{EffectiveAt: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ExpiresIn: 24 * time.Hour},
		{EffectiveAt: time.Date(8999, 12, 31, 0, 0, 0, 0, time.UTC), ExpiresIn: 48 * time.Hour},
		{ExpiresAt: time.Date(9500, 1, 1, 0, 0, 0, 0, time.UTC)},
		{EffectiveAt: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, opts := range cases {
		_, err := l.Grant(ctx, "alice", 1, &opts)
		if ErrorCodeOf(err) != CodeInvalidRequest {
			t.Fatalf("grant %+v: got %v, want invalid_request", opts, err)
		}
	}
	if _, err := l.Grant(ctx, "alice", 10, &GrantOpts{ExpiresAt: MaxTime}); err != nil {
		t.Fatalf("grant expiring at the horizon itself: %v", err)
	}
	if _, err := l.Debit(ctx, "alice", 3, nil); err != nil {
		t.Fatalf("debit after refused grants: %v", err)
	}
	bal, err := l.Balance(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != 7 {
		t.Fatalf("available %d, want 7: no refused grant moved a credit", bal.Available)
	}
}

// panicky is a request that panics, either inside its own apply (after it
// changed the write state) or later, while the batch turns its changes into
// rows (an event payload that cannot be encoded).
func panicky(customer string, inRows bool) *writeReq {
	key := walletKey(customer, "credits")
	return &writeReq{
		kind: "panicky", route: customer, wallets: staticWallets(key),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(key)
			if inRows {
				w.event("test.unencodable", ws.key, map[string]any{"bad": make(chan int)})
				return "ok", nil
			}
			if _, err := w.addEntry(ws, &Entry{Type: EntryAdjustment, Category: "test", Amount: 5}); err != nil {
				return nil, err
			}
			panic("boom")
		},
	}
}

// A panic in one request fails that request alone, batched or not, whether
// it happens while the request applies or while its rows are written; its
// neighbours in the batch commit, and the ledger keeps working.
func TestPanicInOneRequestFailsOnlyIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		batching bool
		inRows   bool
	}{
		{"batched/apply", true, false},
		{"batched/rows", true, true},
		{"unbatched/apply", false, false},
		{"unbatched/rows", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := openPanicLedger(t, tc.batching)
			ctx := context.Background()
			if _, err := l.Grant(ctx, "ann", 100, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Grant(ctx, "bob", 100, nil); err != nil {
				t.Fatal(err)
			}
			var errs [3]error
			calls := []func(){
				func() { _, errs[0] = l.Debit(ctx, "ann", 10, nil) },
				func() { _, errs[1] = l.exec(ctx, panicky("ann", tc.inRows)) },
				func() { _, errs[2] = l.Debit(ctx, "bob", 20, nil) },
			}
			if tc.batching {
				queueAsOneBatch(t, l.batcher, calls)
			} else {
				for _, call := range calls {
					call()
				}
			}
			if errs[0] != nil || errs[2] != nil {
				t.Fatalf("neighbours of the panicking request failed: %v, %v", errs[0], errs[2])
			}
			if ErrorCodeOf(errs[1]) != CodeInternal || !errors.Is(errs[1], errPanicked) {
				t.Fatalf("panicking request: got %v, want an internal error from a panic", errs[1])
			}
			for customer, want := range map[string]Amount{"ann": 90, "bob": 80} {
				bal, err := l.Balance(ctx, customer, nil)
				if err != nil {
					t.Fatal(err)
				}
				if bal.Available != want {
					t.Fatalf("%s has %d, want %d: the panicking request must write nothing", customer, bal.Available, want)
				}
			}
			entries, err := l.History(ctx, "ann", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Category == "test" {
					t.Fatalf("the panicking request's entry was committed: %+v", e)
				}
			}
			if _, err := l.Debit(ctx, "ann", 1, nil); err != nil {
				t.Fatalf("write after the panic: %v", err)
			}
		})
	}
}

// A subscriber that panics cannot take down the write path: the write has
// committed and its caller gets its result.
func TestPanickingSubscriberIsContained(t *testing.T) {
	t.Parallel()
	l := openPanicLedger(t, true)
	ctx := context.Background()
	l.Subscribe(func(Event) { panic("subscriber bug") })
	if _, err := l.Grant(ctx, "ann", 5, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Debit(ctx, "ann", 2, nil); err != nil {
		t.Fatal(err)
	}
	bal, err := l.Balance(ctx, "ann", nil)
	if err != nil || bal.Available != 3 {
		t.Fatalf("balance %v, %v: want 3", bal, err)
	}
}
