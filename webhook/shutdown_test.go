package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/scheduler"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// startScheduler runs a scheduler delivering 10 deliveries due at t0 to
// one endpoint at recv (so 4, its cap, are in flight at once and 6 wait),
// with a grace for shutdown. It returns the scheduler's cancel and a
// channel closed when Run returns.
func startScheduler(t *testing.T, st serverStore, recv string, grace time.Duration) (cancel func(), stopped <-chan struct{}) {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := creditkit.NewManualClock(t0)
	addEndpoint(t, st, "we_1", recv, nil, t0)
	addEvents(t, st, creditkit.EventCreditsGranted, 10, t0)
	cfg := creditkit.DefaultConfig()
	cfg.Clock = clock
	l, err := creditkit.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	wh, err := webhook.New(st, &webhook.Options{Client: webhook.NewClient(10*time.Second, true), Now: clock.Now,
		Jitter: -1, PerEndpoint: 4})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := scheduler.New(l, &scheduler.Options{Interval: 20 * time.Millisecond, Webhooks: wh, Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sch.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return stop, done
}

// checkUnclaimed fails unless the deliveries of we_1 other than sent were
// never claimed (pending, no attempt, still due at t0).
func checkUnclaimed(t *testing.T, ds map[string]*store.Delivery, sent []string) {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if len(ds) != 10 {
		t.Fatalf("%d deliveries, want 10", len(ds))
	}
	for id, d := range ds {
		if slices.Contains(sent, id) {
			continue
		}
		if d.Status != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(t0) {
			t.Fatalf("%s (not in flight at shutdown): %s, %d attempts, next %s; want it never claimed (pending, due %s)",
				id, d.Status, d.Attempts, d.NextAttemptAt, t0)
		}
	}
}

// TestShutdownFinishesDeliveriesInFlight: the scheduler's context is
// cancelled while 4 deliveries are in flight to a receiver that answers
// after about a second. Within the grace they finish and are recorded as
// succeeded with one attempt (not left pending with none, to be sent a
// second time after a restart), and nothing more is claimed after the
// cancel: the 6 others stay due and unclaimed.
func TestShutdownFinishesDeliveriesInFlight(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st serverStore) {
		arrived := make(chan string, 100)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- r.Header.Get("webhook-id")
			// A slow receiver: it answers after about a second, unless
			// the request is cut off first.
			select {
			case <-time.After(time.Second):
				w.WriteHeader(http.StatusNoContent)
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		cancel, stopped := startScheduler(t, st, srv.URL+"/hook", 10*time.Second)

		inflight := arrivals(t, arrived, 4, 5*time.Second, "first requests")
		cancel()
		start := time.Now()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("the scheduler did not stop within its 10 s grace")
		}
		t.Logf("stopped %s after the cancel", time.Since(start))
		if len(arrived) != 0 {
			t.Fatalf("%d more requests after the cancel; want none claimed", len(arrived))
		}
		ds := byEvent(t, st, "we_1")
		for _, id := range inflight {
			d := ds[id]
			if d.Status != store.DeliverySucceeded || d.Attempts != 1 || d.LastStatus != http.StatusNoContent {
				t.Fatalf("%s, in flight at shutdown: %s, %d attempts, status %d; want succeeded after 1 attempt (204)",
					id, d.Status, d.Attempts, d.LastStatus)
			}
		}
		checkUnclaimed(t, ds, inflight)
	})
}

// TestShutdownGraceIsBounded: past the grace, requests to a receiver that
// never answers are cut off, so shutdown cannot hang; they are not
// recorded and stay leased, to be sent again when the lease runs out.
func TestShutdownGraceIsBounded(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	eachStore(t, func(t *testing.T, st serverStore) {
		recv, arrived := hungReceiver(t)
		cancel, stopped := startScheduler(t, st, recv, grace)

		inflight := arrivals(t, arrived, 4, 5*time.Second, "first requests")
		cancel()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Fatalf("the scheduler did not stop within 5 s, with a grace of %s", grace)
		}
		if len(arrived) != 0 {
			t.Fatalf("%d more requests after the cancel; want none claimed", len(arrived))
		}
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		ds := byEvent(t, st, "we_1")
		for _, id := range inflight {
			d := ds[id]
			if d.Status != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.After(t0) {
				t.Fatalf("%s, cut off after the grace: %s, %d attempts, next %s; want pending, unrecorded, leased",
					id, d.Status, d.Attempts, d.NextAttemptAt)
			}
		}
		checkUnclaimed(t, ds, inflight)
	})
}
