package creditkit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/sqlite"
)

// onBothStores runs fn on a fresh ledger over SQLite and over PostgreSQL,
// with a manual clock.
func onBothStores(t *testing.T, fn func(t *testing.T, l *Ledger, clock *ManualClock)) {
	t.Helper()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		clock := NewManualClock(start)
		fn(t, openEquivLedger(t, s, clock, true), clock)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		s, err := postgres.Open(context.Background(), pgtest.NewDatabaseURL(t, cluster), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		clock := NewManualClock(start)
		fn(t, openEquivLedger(t, s, clock, true), clock)
	})
}

func wantCode(t *testing.T, what string, err error, code ErrorCode) {
	t.Helper()
	if ErrorCodeOf(err) != code {
		t.Fatalf("%s: got %v (code %q), want %s", what, err, ErrorCodeOf(err), code)
	}
}

func wantAvailable(t *testing.T, l *Ledger, customer string, want Amount) {
	t.Helper()
	bal, err := l.Balance(context.Background(), customer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != want {
		t.Fatalf("%s has %d available, want %d", customer, bal.Available, want)
	}
	entries, err := l.History(context.Background(), customer, &HistoryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var sum Amount
	for _, e := range entries {
		sum += e.Amount
	}
	if sum != bal.Available+bal.Held {
		t.Fatalf("%s: entries sum to %d, balance says %d available + %d held", customer, sum, bal.Available, bal.Held)
	}
}

// Reversals give a charge back to the grants it came from, last drawn
// first, never more than was charged across several of them, and write off
// what returns to a grant that has since expired or been voided.
func TestReverse(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.Grant(ctx, "ann", 20, &GrantOpts{Reason: "signup_bonus", ExpiresIn: 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		pack, err := l.Grant(ctx, "ann", 100, &GrantOpts{Reason: "purchase"})
		if err != nil {
			t.Fatal(err)
		}
		// 50 credits: 20 from the bonus (priority 10), then 30 from the pack.
		charge, err := l.Debit(ctx, "ann", 50, &DebitOpts{Reason: "render"})
		if err != nil {
			t.Fatal(err)
		}
		wantAvailable(t, l, "ann", 70)

		_, err = l.Reverse(ctx, charge.ID, &ReverseOpts{Amount: ptrTo[Amount](10)})
		wantCode(t, "reversal without a reason", err, CodeInvalidRequest)

		// A partial reversal gives back the last credits drawn: the pack's.
		r1, err := l.Reverse(ctx, charge.ID, &ReverseOpts{Amount: ptrTo[Amount](10), Reason: "render failed halfway", IdempotencyKey: "rev-1", Actor: "support"})
		if err != nil {
			t.Fatal(err)
		}
		if r1.Amount != 10 || r1.Category != CategoryReversal || len(r1.Allocations) != 1 || r1.Allocations[0].GrantID != pack.ID {
			t.Fatalf("first reversal: %+v", r1)
		}
		again, err := l.Reverse(ctx, charge.ID, &ReverseOpts{Amount: ptrTo[Amount](10), Reason: "render failed halfway", IdempotencyKey: "rev-1", Actor: "support"})
		if err != nil || again.ID != r1.ID {
			t.Fatalf("idempotent replay: %v, %+v", err, again)
		}
		wantAvailable(t, l, "ann", 80)
		g, err := l.GetGrant(ctx, pack.ID)
		if err != nil || g.Remaining != 80 {
			t.Fatalf("pack after reversal: %+v, %v", g, err)
		}

		// More than is left to reverse is refused and moves nothing.
		_, err = l.Reverse(ctx, charge.ID, &ReverseOpts{Amount: ptrTo[Amount](41), Reason: "too much"})
		wantCode(t, "reversing more than is left", err, CodeInvalidAmount)

		// The bonus expires; the rest of the reversal reaches it and is
		// written off at once.
		clock.Advance(25 * time.Hour)
		r2, err := l.Reverse(ctx, charge.ID, &ReverseOpts{Reason: "customer complaint"})
		if err != nil {
			t.Fatal(err)
		}
		if r2.Amount != 40 {
			t.Fatalf("second reversal gave back %d, want the 40 left", r2.Amount)
		}
		// 80 + 20 from the pack; the bonus's 20 came back to an expired grant.
		wantAvailable(t, l, "ann", 100)
		entries, err := l.History(ctx, "ann", &HistoryFilter{Category: CategoryExpiration})
		if err != nil {
			t.Fatal(err)
		}
		var expiredBack Amount
		for _, e := range entries {
			if e.Details["reversal_entry_id"] == r2.ID {
				expiredBack -= e.Amount
			}
		}
		if expiredBack != 20 {
			t.Fatalf("credits written off on their way back to the expired bonus: %d, want 20", expiredBack)
		}

		_, err = l.Reverse(ctx, charge.ID, &ReverseOpts{Reason: "once more"})
		wantCode(t, "reversing a fully reversed charge", err, CodeInvalidAmount)
		_, err = l.Reverse(ctx, r1.ID, &ReverseOpts{Reason: "reverse a reversal"})
		wantCode(t, "reversing a reversal", err, CodeInvalidRequest)
		_, err = l.Reverse(ctx, "ent_missing", &ReverseOpts{Reason: "x"})
		wantCode(t, "reversing a missing entry", err, CodeNotFound)
	})
}

// Concurrent reversals of one charge never give back more than it charged.
func TestConcurrentReversalsNeverExceedTheCharge(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		if _, err := l.Grant(ctx, "bo", 100, nil); err != nil {
			t.Fatal(err)
		}
		charge, err := l.Debit(ctx, "bo", 30, nil)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 10)
		for range 10 {
			go func() {
				_, err := l.Reverse(ctx, charge.ID, &ReverseOpts{Amount: ptrTo[Amount](7), Reason: "refund"})
				errs <- err
			}()
		}
		ok := 0
		for range 10 {
			if err := <-errs; err == nil {
				ok++
			} else if ErrorCodeOf(err) != CodeInvalidAmount {
				t.Fatalf("reversal failed with %v", err)
			}
		}
		if ok != 4 {
			t.Fatalf("%d reversals of 7 succeeded on a charge of 30, want 4", ok)
		}
		wantAvailable(t, l, "bo", 98)
	})
}

// A void may take part of a grant and leave it active; a voided or expired
// grant refuses every change with grant_not_active.
func TestPartialVoidAndClosedGrants(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		g, err := l.Grant(ctx, "cy", 100, &GrantOpts{ExpiresIn: 48 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Debit(ctx, "cy", 30, nil); err != nil {
			t.Fatal(err)
		}
		_, err = l.Void(ctx, g.ID, &VoidOpts{Amount: ptrTo[Amount](71), Reason: "too much"})
		wantCode(t, "voiding more than remains", err, CodeInvalidAmount)
		e, err := l.Void(ctx, g.ID, &VoidOpts{Amount: ptrTo[Amount](20), Reason: "goodwill overshoot"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Amount != -20 || e.Category != CategoryVoid {
			t.Fatalf("partial void entry: %+v", e)
		}
		got, err := l.GetGrant(ctx, g.ID)
		if err != nil || got.Remaining != 50 || got.Status != GrantActive {
			t.Fatalf("after a partial void: %+v, %v", got, err)
		}
		wantAvailable(t, l, "cy", 50)
		if _, err := l.Void(ctx, g.ID, nil); err != nil {
			t.Fatal(err)
		}
		wantAvailable(t, l, "cy", 0)
		_, err = l.Void(ctx, g.ID, nil)
		wantCode(t, "voiding a voided grant", err, CodeGrantNotActive)
		_, err = l.ChangeExpiry(ctx, g.ID, clock.Now().Add(time.Hour), nil)
		wantCode(t, "moving the expiry of a voided grant", err, CodeGrantNotActive)

		h, err := l.Grant(ctx, "cy", 10, &GrantOpts{ExpiresIn: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)
		_, err = l.Void(ctx, h.ID, nil)
		wantCode(t, "voiding an expired grant", err, CodeGrantNotActive)
		_, err = l.ChangeExpiry(ctx, h.ID, clock.Now().Add(time.Hour), nil)
		wantCode(t, "moving the expiry of an expired grant", err, CodeGrantNotActive)
	})
}

// ChangeExpiry moves an expiry both ways with an entry of amount 0 and an
// event; the new expiry governs from then on.
func TestChangeExpiry(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, l *Ledger, clock *ManualClock) {
		ctx := context.Background()
		var events []Event
		l.Subscribe(func(e Event) {
			if e.Type == EventGrantUpdated {
				events = append(events, e)
			}
		})
		g, err := l.Grant(ctx, "di", 40, &GrantOpts{ExpiresIn: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		later := clock.Now().Add(72 * time.Hour)
		moved, err := l.ChangeExpiry(ctx, g.ID, later, &ChangeExpiryOpts{Reason: "support extension", Actor: "support", IdempotencyKey: "ext-1"})
		if err != nil {
			t.Fatal(err)
		}
		if moved.ExpiresAt == nil || !moved.ExpiresAt.Equal(later) {
			t.Fatalf("moved grant expires at %v, want %v", moved.ExpiresAt, later)
		}
		if _, err := l.ChangeExpiry(ctx, g.ID, later.Add(time.Hour), &ChangeExpiryOpts{Reason: "support extension", IdempotencyKey: "ext-1"}); ErrorCodeOf(err) != CodeIdempotencyConflict {
			t.Fatalf("same key, other expiry: %v", err)
		}
		_, err = l.ChangeExpiry(ctx, g.ID, clock.Now().Add(-time.Minute), nil)
		wantCode(t, "an expiry in the past", err, CodeInvalidRequest)
		_, err = l.ChangeExpiry(ctx, g.ID, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), nil)
		wantCode(t, "an expiry past the horizon", err, CodeInvalidRequest)

		// Past the old expiry the credits are still there.
		clock.Advance(2 * time.Hour)
		if _, err := l.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		wantAvailable(t, l, "di", 40)
		entries, err := l.History(ctx, "di", &HistoryFilter{Category: CategoryExpirationChange})
		if err != nil || len(entries) != 1 || entries[0].Amount != 0 || entries[0].Actor != "support" {
			t.Fatalf("expiration_change entries: %+v, %v", entries, err)
		}
		// Brought forward, the grant expires at the new time.
		sooner := clock.Now().Add(time.Hour)
		if _, err := l.ChangeExpiry(ctx, g.ID, sooner, nil); err != nil {
			t.Fatal(err)
		}
		clock.Advance(90 * time.Minute)
		if _, err := l.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		wantAvailable(t, l, "di", 0)
		if len(events) != 2 {
			t.Fatalf("%d credits.grant.updated events, want 2", len(events))
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
