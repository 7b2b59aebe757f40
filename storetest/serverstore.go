package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

// RunServer runs the conformance cases of store.ServerStore against stores
// made by newStore, which must also implement store.ServerStore:
//
//	func TestServerStore(t *testing.T) {
//		storetest.RunServer(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
func RunServer(t *testing.T, newStore func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b *serverBundle)
	}{
		{"APIKeys", testAPIKeys},
		{"Secret", testSecret},
		{"SecretConcurrent", testSecretConcurrent},
		{"SetSecret", testSetSecret},
		{"WebhookEndpoints", testWebhookEndpoints},
		{"DeleteEndpointFailsPendingDeliveries", testDeleteEndpointFailsDeliveries},
		{"DispatchEvents", testDispatchEvents},
		{"DispatchWithoutEndpoints", testDispatchWithoutEndpoints},
		{"DispatchConcurrent", testDispatchConcurrent},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimConcurrent", testClaimConcurrent},
		{"FinishDelivery", testFinishDelivery},
		{"FinishAfterEndpointDeleted", testFinishAfterEndpointDeleted},
		{"DeliveriesQuery", testDeliveriesQuery},
		{"ReplayDelivery", testReplayDelivery},
		{"NotifyExpiring", testNotifyExpiring},
		{"NotifyExpiringConcurrent", testNotifyExpiringConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			defer guard(t)
			c.fn(t, setupServer(t, newStore))
		})
	}
}

// serverBundle is what each ServerStore case gets: a fresh store, seen both
// as a store.Store (to write outbox events and grants through the ledger's
// write path) and as a store.ServerStore.
type serverBundle struct {
	store  store.Store
	server store.ServerStore
	// newID makes delivery IDs that sort in the order they were made, so
	// that "newest first" is checkable. Safe for concurrent use.
	newID func() string
}

func setupServer(t *testing.T, newStore func(t *testing.T) store.Store) *serverBundle {
	t.Helper()
	s := newStore(t)
	ss, ok := s.(store.ServerStore)
	if !ok {
		t.Fatalf("%T does not implement store.ServerStore", s)
	}
	var n atomic.Int64
	return &serverBundle{store: s, server: ss, newID: func() string { return fmt.Sprintf("dlv_%06d", n.Add(1)) }}
}

// insertEvents writes outbox events through the one write path, in order.
func (b *serverBundle) insertEvents(t *testing.T, events ...*store.Event) {
	t.Helper()
	err := b.store.Update(ctx(t), func(c context.Context, tx store.WriteTx) error {
		return tx.Apply(c, &store.Changes{Events: events})
	})
	if err != nil {
		t.Fatalf("insert events: %v", err)
	}
}

// insertGrants writes grant rows through the one write path, locking their
// wallets first as the domain does.
func (b *serverBundle) insertGrants(t *testing.T, now time.Time, grants ...*store.Grant) {
	t.Helper()
	keys := map[store.WalletKey]bool{}
	for _, g := range grants {
		keys[store.WalletKey{Customer: g.Customer, Currency: g.Currency}] = true
	}
	sorted := slices.SortedFunc(maps.Keys(keys), func(a, b store.WalletKey) int {
		return strings.Compare(a.Customer+"\x00"+a.Currency, b.Customer+"\x00"+b.Currency)
	})
	err := b.store.Update(ctx(t), func(c context.Context, tx store.WriteTx) error {
		if _, err := tx.LockWallets(c, sorted, now); err != nil {
			return err
		}
		return tx.Apply(c, &store.Changes{NewGrants: grants})
	})
	if err != nil {
		t.Fatalf("insert grants: %v", err)
	}
}

// outbox returns every outbox event.
func (b *serverBundle) outbox(t *testing.T) []*store.Event {
	t.Helper()
	var out []*store.Event
	err := b.store.View(ctx(t), func(c context.Context, tx store.ReadTx) error {
		var err error
		out, err = tx.Events(c, 0, 100000)
		return err
	})
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return out
}

// deliveries lists every delivery matching q (its Limit ignored).
func (b *serverBundle) deliveries(t *testing.T, q store.DeliveryQuery) []*store.Delivery {
	t.Helper()
	q.Limit = 100000
	return must(b.server.Deliveries(ctx(t), q))
}

// delivery reads one delivery and fails when there is none.
func (b *serverBundle) delivery(t *testing.T, id string) *store.Delivery {
	t.Helper()
	d := must(b.server.Delivery(ctx(t), id))
	if d == nil {
		t.Fatalf("delivery %s not found", id)
	}
	return d
}

func (b *serverBundle) createEndpoint(t *testing.T, id string, types []string, at time.Time) *store.WebhookEndpoint {
	t.Helper()
	e := &store.WebhookEndpoint{
		ID: id, URL: "https://example.com/hooks/" + id, Description: "endpoint " + id,
		Secret: "whsec_" + id, EventTypes: types, CreatedAt: at,
	}
	if err := b.server.CreateWebhookEndpoint(ctx(t), e); err != nil {
		t.Fatalf("create endpoint %s: %v", id, err)
	}
	return e
}

func newEvent(id, typ, customer string, at time.Time) *store.Event {
	return &store.Event{
		ID: id, Type: typ, Customer: customer, Currency: "credits",
		Data: []byte(`{"customer":"` + customer + `","n":1}`), At: at,
	}
}

// pair names a delivery by what it delivers where.
type pair struct{ endpoint, event string }

func pairsOf(ds []*store.Delivery) map[pair]int {
	out := map[pair]int{}
	for _, d := range ds {
		out[pair{d.EndpointID, d.EventID}]++
	}
	return out
}

func idsOf(ds []*store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// sameJSON reports whether two JSON documents hold the same value, whatever
// their spacing and key order (PostgreSQL's jsonb rewrites both).
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func fmtAPIKey(k *store.APIKey) string {
	if k == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{%s %q scope=%s hash=%s prefix=%s created=%s revoked=%s}",
		k.ID, k.Name, k.Scope, k.Hash, k.Prefix, fmtPtr(&k.CreatedAt), fmtPtr(k.RevokedAt))
}

func fmtEndpoint(e *store.WebhookEndpoint) string {
	if e == nil {
		return "<nil>"
	}
	types := e.EventTypes
	if len(types) == 0 {
		types = nil // an empty list and no list mean the same: every event
	}
	return fmt.Sprintf("{%s %s %q secret=%s types=%q created=%s deleted=%s}",
		e.ID, e.URL, e.Description, e.Secret, types, fmtPtr(&e.CreatedAt), fmtPtr(e.DeletedAt))
}

// checkEvent fails unless got is the event want.
func checkEvent(t *testing.T, what string, got, want *store.Event) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no event, want %s", what, want.ID)
	}
	if got.ID != want.ID || got.Type != want.Type || got.Customer != want.Customer || got.Currency != want.Currency ||
		!got.At.Equal(want.At) || !sameJSON(got.Data, want.Data) {
		t.Fatalf("%s: event {%s %s %s %s %s %s}, want {%s %s %s %s %s %s}", what,
			got.ID, got.Type, got.Customer, got.Currency, got.Data, fmtPtr(&got.At),
			want.ID, want.Type, want.Customer, want.Currency, want.Data, fmtPtr(&want.At))
	}
}

// checkState fails unless a delivery has this status and attempt count and
// is due at next.
func checkState(t *testing.T, d *store.Delivery, status string, attempts int, next time.Time) {
	t.Helper()
	if d.Status != status || d.Attempts != attempts || !d.NextAttemptAt.Equal(next) {
		t.Fatalf("delivery %s: status %s, %d attempts, next attempt %s; want %s, %d, %s",
			d.ID, d.Status, d.Attempts, fmtPtr(&d.NextAttemptAt), status, attempts, fmtPtr(&next))
	}
}

// drainConcurrently runs step on workers goroutines until it reports 0
// (nothing left) and returns the sum of what it reported; ok is false when
// a step failed (the test is marked failed). A store that never reports 0
// would loop forever: each worker stops once more than max was reported.
func drainConcurrently(t *testing.T, workers int, max int64, what string, step func() (int, error)) (total int64, ok bool) {
	t.Helper()
	var sum atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sum.Load() <= max {
				n, err := step()
				if err != nil {
					t.Errorf("%s: %v", what, err)
					return
				}
				if n == 0 {
					return
				}
				sum.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	return sum.Load(), !t.Failed()
}
