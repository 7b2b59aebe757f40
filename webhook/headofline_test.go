package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/scheduler"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

// serverStore is a ledger store that also keeps webhooks, as both stores do.
type serverStore interface {
	store.Store
	store.ServerStore
}

// eachStore runs f on a fresh SQLite store and a fresh PostgreSQL store.
func eachStore(t *testing.T, f func(t *testing.T, st serverStore)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wh.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		st, err := postgres.Open(t.Context(), pgtest.NewDatabaseURL(t, cluster), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// addEvents writes n events of a type to the outbox, at at.
func addEvents(t *testing.T, st serverStore, typ string, n int, at time.Time) {
	t.Helper()
	var evs []*store.Event
	for i := range n {
		evs = append(evs, &store.Event{ID: fmt.Sprintf("evt_%s_%03d", strings.ReplaceAll(typ, ".", "_"), i), Type: typ,
			Customer: "amy", Currency: "credits", Data: []byte(`{}`), At: at})
	}
	err := st.Update(t.Context(), func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Events: evs})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// addEndpoint stores an endpoint for some event types, without the
// registration checks (its URL is on 127.0.0.1).
func addEndpoint(t *testing.T, st serverStore, id, url string, types []string, at time.Time) {
	t.Helper()
	if err := st.CreateWebhookEndpoint(t.Context(), &store.WebhookEndpoint{ID: id, URL: url, Secret: webhook.NewSecret(),
		EventTypes: types, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
}

// hungReceiver answers nothing until the test ends (or the client gives
// up); it sends the webhook-id of every request it gets on arrived.
func hungReceiver(t *testing.T) (url string, arrived <-chan string) {
	release := make(chan struct{})
	ch := make(chan string, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ch <- r.Header.Get("webhook-id")
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv.URL + "/hook", ch
}

// arrivals waits for n more requests on arrived, up to within.
func arrivals(t *testing.T, arrived <-chan string, n int, within time.Duration, what string) []string {
	t.Helper()
	timeout := time.After(within)
	var got []string
	for len(got) < n {
		select {
		case id := <-arrived:
			got = append(got, id)
		case <-timeout:
			t.Fatalf("%s: %d requests within %s, want %d", what, len(got), within, n)
		}
	}
	return got
}

// byEvent lists an endpoint's deliveries by event ID.
func byEvent(t *testing.T, st serverStore, endpoint string) map[string]*store.Delivery {
	t.Helper()
	ds, err := st.Deliveries(t.Context(), store.DeliveryQuery{EndpointID: endpoint, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Delivery{}
	for _, d := range ds {
		out[d.EventID] = d
	}
	return out
}

// TestHungReceiverDoesNotBlockOthers: one endpoint's receiver hangs with
// 40 deliveries due before a healthy endpoint's one. The healthy webhook
// arrives well within the client timeout, since the hung endpoint holds at
// most its cap of workers and its other deliveries stay unclaimed; the
// hung ones are leased while in flight, recorded as retries on the backoff
// schedule when they time out, and never sent twice at once; and at
// shutdown the ones in flight are abandoned under their lease, to be
// claimed again when it runs out.
func TestHungReceiverDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	const timeout = 5 * time.Second
	eachStore(t, func(t *testing.T, st serverStore) {
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		clock := creditkit.NewManualClock(t0)
		hungURL, hung := hungReceiver(t)
		healthy := make(chan string, 10)
		okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			healthy <- r.Header.Get("webhook-id")
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(okSrv.Close)
		addEndpoint(t, st, "we_hung", hungURL, []string{creditkit.EventCreditsSpent}, t0)
		addEndpoint(t, st, "we_ok", okSrv.URL+"/hook", []string{creditkit.EventCreditsGranted}, t0)

		cfg := creditkit.DefaultConfig()
		cfg.Clock = clock
		l, err := creditkit.New(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		wh, err := webhook.New(st, &webhook.Options{Client: webhook.NewClient(timeout, true), Now: clock.Now, Jitter: -1,
			Schedule: []time.Duration{time.Hour, time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		// 40 deliveries to the hung endpoint due at t0, then the healthy
		// endpoint's due a second later, behind them all.
		addEvents(t, st, creditkit.EventCreditsSpent, 40, t0)
		if n, err := wh.Dispatch(t.Context()); err != nil || n != 40 {
			t.Fatalf("dispatched %d (err %v), want 40", n, err)
		}
		clock.Advance(time.Second)
		now := clock.Now()
		addEvents(t, st, creditkit.EventCreditsGranted, 1, now)

		sch, err := scheduler.New(l, &scheduler.Options{Interval: 50 * time.Millisecond, Webhooks: wh})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { defer close(stopped); _ = sch.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-stopped })

		start := time.Now()
		select {
		case <-healthy:
		case <-time.After(2 * time.Second):
			t.Fatalf("the healthy endpoint's webhook did not arrive within 2 s (client timeout %s): the hung receiver blocks it", timeout)
		}
		t.Logf("healthy webhook after %s", time.Since(start))

		// The hung endpoint has its cap of requests in flight (4), each
		// leased; its other deliveries are left unclaimed.
		first := arrivals(t, hung, 4, 2*time.Second, "hung endpoint, first round")
		ds := byEvent(t, st, "we_hung")
		var leased []string
		for id, d := range ds {
			switch {
			case d.Attempts != 0 || d.Status != store.DeliveryPending:
				t.Fatalf("%s: %s after %d attempts before any request timed out", id, d.Status, d.Attempts)
			case d.NextAttemptAt.After(now):
				leased = append(leased, id)
			case !d.NextAttemptAt.Equal(t0):
				t.Fatalf("%s: next attempt %s, want %s (unclaimed) or a lease", id, d.NextAttemptAt, t0)
			}
		}
		slices.Sort(leased)
		if slices.Sort(first); !slices.Equal(leased, first) {
			t.Fatalf("leased %v, want the 4 in flight %v", leased, first)
		}

		// When they time out they are recorded as retries an hour later
		// (the schedule), and freed workers take the next 4 at once.
		second := arrivals(t, hung, 4, timeout+10*time.Second, "hung endpoint, second round")
		ds = byEvent(t, st, "we_hung")
		for _, id := range first {
			d := ds[id]
			if d.Status != store.DeliveryPending || d.Attempts != 1 || d.LastStatus != 0 || d.LastError == "" ||
				!d.NextAttemptAt.Equal(now.Add(time.Hour)) {
				t.Fatalf("%s after its timeout: %s, %d attempts, status %d, error %q, next %s; want a retry at %s",
					id, d.Status, d.Attempts, d.LastStatus, d.LastError, d.NextAttemptAt, now.Add(time.Hour))
			}
		}
		seen := map[string]bool{}
		for _, id := range append(first, second...) {
			if seen[id] {
				t.Fatalf("%s was sent twice", id)
			}
			seen[id] = true
		}

		// Shutdown abandons the requests in flight without recording them:
		// they stay leased, so no one sends them before the lease runs out,
		// and then they are claimed again.
		cancel()
		select {
		case <-stopped:
		case <-time.After(timeout):
			t.Fatal("the scheduler did not stop within the client timeout")
		}
		ds = byEvent(t, st, "we_hung")
		var until time.Time
		for _, id := range second {
			d := ds[id]
			if d.Attempts != 0 || !d.NextAttemptAt.After(now) {
				t.Fatalf("%s abandoned at shutdown: %d attempts, next %s; want none, leased", id, d.Attempts, d.NextAttemptAt)
			}
			until = d.NextAttemptAt
		}
		claim := func(at time.Time) []string {
			got, err := st.ClaimDeliveries(t.Context(), at, time.Hour, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range got {
				ids = append(ids, d.EventID)
			}
			return ids
		}
		if got := claim(now); len(got) != 40-8 || slices.ContainsFunc(got, func(id string) bool { return seen[id] }) {
			t.Fatalf("claimed %v before the leases ran out; want the 32 never attempted", got)
		}
		got := claim(until)
		slices.Sort(got)
		if slices.Sort(second); !slices.Equal(got, second) {
			t.Fatalf("claimed %v when the leases ran out, want %v", got, second)
		}
	})
}

// TestLeaseShorterThanTimeoutSendsNothing: a delivery whose lease would run
// out before its request could time out is claimed but not sent, so that
// no other worker can claim it while the request may still be going.
func TestLeaseShorterThanTimeoutSendsNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st serverStore) {
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		clock := creditkit.NewManualClock(t0)
		var mu sync.Mutex
		received := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			received++
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		addEndpoint(t, st, "we_1", srv.URL+"/hook", nil, t0)
		addEvents(t, st, creditkit.EventCreditsSpent, 1, t0)
		wh, err := webhook.New(st, &webhook.Options{Client: webhook.NewClient(5*time.Second, true), Now: clock.Now,
			Lease: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wh.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n, err := wh.Deliver(t.Context()); err != nil || n != 1 {
			t.Fatalf("claimed %d (err %v), want 1", n, err)
		}
		mu.Lock()
		defer mu.Unlock()
		d := byEvent(t, st, "we_1")["evt_credits_spent_000"]
		if received != 0 || d.Attempts != 0 || d.Status != store.DeliveryPending || !d.NextAttemptAt.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("received %d; delivery %s, %d attempts, next %s; want nothing sent, the delivery leased until %s",
				received, d.Status, d.Attempts, d.NextAttemptAt, t0.Add(2*time.Second))
		}
	})
}

// TestClaimSkipsEndpoints: ClaimDeliveries leaves the deliveries of the
// endpoints it is told to skip, on both stores.
func TestClaimSkipsEndpoints(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st serverStore) {
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for _, id := range []string{"we_a", "we_b", "we_c"} {
			addEndpoint(t, st, id, "https://hooks.example.com/"+id, nil, t0)
		}
		addEvents(t, st, creditkit.EventCreditsSpent, 2, t0)
		wh, err := webhook.New(st, &webhook.Options{Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wh.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		endpoints := func(ds []*store.Delivery) []string {
			var out []string
			for _, d := range ds {
				out = append(out, d.EndpointID)
			}
			slices.Sort(out)
			return out
		}
		got, err := st.ClaimDeliveries(t.Context(), t0, time.Minute, 10, "we_a", "we_c")
		if err != nil || !slices.Equal(endpoints(got), []string{"we_b", "we_b"}) {
			t.Fatalf("skipping we_a and we_c: claimed for %v (err %v), want we_b's 2", endpoints(got), err)
		}
		got, err = st.ClaimDeliveries(t.Context(), t0, time.Minute, 10, "we_b")
		if err != nil || !slices.Equal(endpoints(got), []string{"we_a", "we_a", "we_c", "we_c"}) {
			t.Fatalf("skipping we_b (already claimed): claimed for %v (err %v), want we_a's and we_c's", endpoints(got), err)
		}
	})
}
