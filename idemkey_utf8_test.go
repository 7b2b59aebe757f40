package creditkit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
)

// TestIdempotencyKeyNotUTF8: an idempotency key that is not valid UTF-8,
// or holds a NUL, is refused as invalid_request and moves nothing, on SQLite and
// PostgreSQL; so is a void's or reversal's reason holding a NUL. (FuzzActions found it: SQLite stored the key, its batched
// lookup did not find it again, and the second use failed as internal
// with a UNIQUE violation; PostgreSQL refuses the bytes outright.)
func TestIdempotencyKeyNotUTF8(t *testing.T) {
	for name, url := range map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "creditkit.db") },
		"postgres": func() string { return pgtest.NewDatabaseURL(t, cluster) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cfg := DefaultConfig()
			cfg.Clock = NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
			l, err := Open(ctx, url(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			for _, key := range []string{":\u051e\xf5", ":\u051e\xf5", "nul\x00"} {
				_, err := l.Grant(ctx, "ann", 10, &GrantOpts{IdempotencyKey: key})
				if ErrorCodeOf(err) != CodeInvalidRequest {
					t.Fatalf("grant under a key that is not UTF-8: %v (code %s), want invalid_request", err, ErrorCodeOf(err))
				}
			}
			if b, err := l.Balance(ctx, "ann", nil); err == nil && b.Available != 0 {
				t.Fatalf("ann has %d", b.Available)
			}
			g, err := l.Grant(ctx, "ann", 10, &GrantOpts{IdempotencyKey: "ключ-1"})
			if err != nil {
				t.Fatalf("a UTF-8 key: %v", err)
			}
			// A void's or reversal's reason with a NUL is refused too
			// (PostgreSQL failed the entry's insert as internal).
			e, err := l.Debit(ctx, "ann", 3, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Void(ctx, g.ID, &VoidOpts{Reason: "p\x00v"}); ErrorCodeOf(err) != CodeInvalidRequest {
				t.Fatalf("void with a NUL reason: %v", err)
			}
			if _, err := l.Reverse(ctx, e.ID, &ReverseOpts{Reason: "p\x00v"}); ErrorCodeOf(err) != CodeInvalidRequest {
				t.Fatalf("reverse with a NUL reason: %v", err)
			}
			if b, err := l.Balance(ctx, "ann", nil); err != nil || b.Available != 7 {
				t.Fatalf("ann: %+v %v, want 7 available", b, err)
			}
		})
	}
}
