package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// openStores opens n stores on one fresh database, each with its own pool,
// as n server processes would.
func openStores(t *testing.T, n int) []*Store {
	t.Helper()
	url := pgtest.NewDatabaseURL(t, cluster)
	stores := make([]*Store, n)
	for i := range stores {
		s, err := Open(t.Context(), url, &Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}

func createEndpoint(t *testing.T, s *Store, id string) {
	t.Helper()
	err := s.CreateWebhookEndpoint(t.Context(), &store.WebhookEndpoint{
		ID: id, URL: "https://example.com/" + id, Secret: "whsec_" + id, CreatedAt: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fanoutAll sends every event to every endpoint, pending and due at now,
// as webhook.Fanout does for endpoints without a filter (this package's
// tests cannot import package webhook, which imports the root package,
// which imports this one).
func fanoutAll(now time.Time, newID func() string) store.Fanout {
	return func(events []*store.Event, endpoints []*store.WebhookEndpoint) []*store.Delivery {
		var out []*store.Delivery
		for _, ev := range events {
			for _, ep := range endpoints {
				out = append(out, &store.Delivery{ID: newID(), EndpointID: ep.ID, EventID: ev.ID,
					Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now})
			}
		}
		return out
	}
}

// failPending deletes an endpoint at t as webhook.DeleteEndpoint does.
func failPending(t time.Time) store.EndpointDeletion {
	return store.EndpointDeletion{At: t, PendingStatus: store.DeliveryFailed, PendingError: "endpoint deleted"}
}

func spentEvent(i int) *store.Event {
	return &store.Event{ID: fmt.Sprintf("evt_%04d", i), Type: "credits.spent", Customer: "amy", Currency: "credits",
		Data: []byte(`{}`), At: t0}
}

// Three processes dispatch and claim while a fourth writes events: every
// event reaches every endpoint through exactly one delivery, claimed once.
func TestServerProcessesShareWebhooks(t *testing.T) {
	t.Parallel()
	const (
		processes = 3
		events    = 300
		endpoints = 2
	)
	stores := openStores(t, processes+1)
	writer := stores[processes]
	for i := range endpoints {
		createEndpoint(t, writer, fmt.Sprintf("we_%d", i))
	}

	// The writer commits events in small transactions, so that dispatchers
	// run while the outbox grows and commits land out of seq order.
	var written atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer written.Store(true)
		var inner sync.WaitGroup
		for w := range 3 {
			inner.Go(func() {
				for i := w; i < events; i += 3 {
					if err := writer.Update(t.Context(), func(ctx context.Context, tx store.WriteTx) error {
						return tx.Apply(ctx, &store.Changes{Events: []*store.Event{spentEvent(i)}})
					}); err != nil {
						t.Errorf("write event %d: %v", i, err)
						return
					}
				}
			})
		}
		inner.Wait()
	})

	var mu sync.Mutex
	claims := map[string]int{} // delivery ID: times claimed
	var dispatched atomic.Int64
	for p, s := range stores[:processes] {
		var n atomic.Int64
		newID := func() string { return fmt.Sprintf("dlv_%d_%06d", p, n.Add(1)) }
		wg.Go(func() {
			for {
				// Read before working: when the writer was done before
				// this round and the round found nothing, nothing is left.
				done := written.Load()
				d, err := s.DispatchEvents(t.Context(), t0, 7, fanoutAll(t0, newID))
				if err != nil {
					t.Errorf("process %d: dispatch: %v", p, err)
					return
				}
				dispatched.Add(int64(d))
				claimed, err := s.ClaimDeliveries(t.Context(), t0, time.Hour, 5)
				if err != nil {
					t.Errorf("process %d: claim: %v", p, err)
					return
				}
				mu.Lock()
				for _, c := range claimed {
					claims[c.ID]++
				}
				mu.Unlock()
				if done && d == 0 && len(claimed) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	if got := dispatched.Load(); got != events {
		t.Errorf("the processes dispatched %d events, want %d", got, events)
	}
	if n, err := stores[0].DispatchEvents(t.Context(), t0, 1000, fanoutAll(t0, func() string { return "late" })); err != nil || n != 0 {
		t.Errorf("a last dispatch found %d events (err %v), want 0", n, err)
	}
	all, err := stores[0].Deliveries(t.Context(), store.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[[2]string]int{}
	for _, d := range all {
		pairs[[2]string{d.EndpointID, d.EventID}]++
		if claims[d.ID] != 1 {
			t.Errorf("delivery %s (%s to %s) was claimed %d times, want once", d.ID, d.EventID, d.EndpointID, claims[d.ID])
		}
	}
	if len(all) != events*endpoints || len(pairs) != events*endpoints {
		t.Errorf("%d deliveries for %d (endpoint, event) pairs, want %d of each", len(all), len(pairs), events*endpoints)
	}
	if len(claims) != len(all) {
		t.Errorf("%d deliveries were claimed, of %d", len(claims), len(all))
	}
}

// Deleting an endpoint while other processes dispatch to it leaves none of
// its deliveries pending.
func TestDeleteEndpointWhileDispatching(t *testing.T) {
	t.Parallel()
	const events = 200
	stores := openStores(t, 3)
	createEndpoint(t, stores[0], "we_1")
	var batch []*store.Event
	for i := range events {
		batch = append(batch, spentEvent(i))
	}
	apply(t, stores[0], &store.Changes{Events: batch})

	// Delete once the dispatchers are under way.
	started := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for p, s := range stores[1:] {
		var n atomic.Int64
		newID := func() string { return fmt.Sprintf("dlv_%d_%06d", p, n.Add(1)) }
		wg.Go(func() {
			defer once.Do(func() { close(started) })
			for {
				d, err := s.DispatchEvents(t.Context(), t0, 3, fanoutAll(t0, newID))
				if err != nil {
					t.Errorf("dispatch: %v", err)
				}
				if err != nil || d == 0 {
					return
				}
				once.Do(func() { close(started) })
			}
		})
	}
	<-started
	if ok, err := stores[0].DeleteWebhookEndpoint(t.Context(), "we_1", failPending(t0)); err != nil || !ok {
		t.Fatalf("delete endpoint: %v, %v", ok, err)
	}
	wg.Wait()

	pending, err := stores[0].Deliveries(t.Context(), store.DeliveryQuery{Status: store.DeliveryPending})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("%d deliveries to the deleted endpoint are pending, want 0", len(pending))
	}
}

// A database made before webhooks existed gets migration 0002 on Open, and
// its old events count as dispatched: an endpoint created now is not sent
// the history.
func TestMigrateServerTables(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.NewDatabaseURL(t, cluster)
	initSQL, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		string(initSQL),
		"CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
		"INSERT INTO schema_migrations VALUES (1, 0)",
		`INSERT INTO events (id, type, customer, currency, data, at) VALUES ('evt_old', 'credits.spent', 'amy', 'credits', '{}', 0)`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)

	s, err := Open(ctx, url, &Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	createEndpoint(t, s, "we_1")
	apply(t, s, &store.Changes{Events: []*store.Event{spentEvent(1)}})
	var n atomic.Int64
	if got, err := s.DispatchEvents(ctx, t0, 10, fanoutAll(t0, func() string { return fmt.Sprintf("dlv_%d", n.Add(1)) })); err != nil || got != 1 {
		t.Fatalf("dispatched %d events (err %v), want the 1 written after the migration", got, err)
	}
	ds, err := s.Deliveries(ctx, store.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].EventID != spentEvent(1).ID {
		t.Errorf("deliveries %v, want one of %s", ds, spentEvent(1).ID)
	}
}
