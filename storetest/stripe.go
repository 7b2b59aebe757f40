package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

// RunProvider runs the conformance cases of store.ProviderStore: customer
// links (one each way, the first link wins, also under concurrency),
// provider events claimed once under concurrency, and a cursor that only
// moves forward.
func RunProvider(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, st store.ProviderStore)
	}{
		{"CustomerLinks", testProviderCustomerLinks},
		{"CustomerLinkRace", testProviderCustomerLinkRace},
		{"EventClaims", testProviderEventClaims},
		{"Cursor", testProviderCursor},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ps, ok := s.(store.ProviderStore)
			if !ok {
				t.Fatalf("%T does not implement store.ProviderStore", s)
			}
			c.fn(t, ps)
		})
	}
}

func testProviderCustomerLinks(t *testing.T, st store.ProviderStore) {
	c := context.Background()
	if got := must(st.ProviderCustomer(c, "stripe", "alice")); got != "" {
		t.Fatalf("unlinked customer has %q", got)
	}
	if got := must(st.LinkProviderCustomer(c, "stripe", "alice", "cus_A", Epoch)); got != "cus_A" {
		t.Fatalf("link = %q, want cus_A", got)
	}
	// A second link of the same customer answers the first.
	if got := must(st.LinkProviderCustomer(c, "stripe", "alice", "cus_B", Epoch)); got != "cus_A" {
		t.Fatalf("second link = %q, want the first, cus_A", got)
	}
	if got := must(st.ProviderCustomer(c, "stripe", "alice")); got != "cus_A" {
		t.Fatalf("ProviderCustomer = %q", got)
	}
	if got := must(st.ProviderCustomerOf(c, "stripe", "cus_A")); got != "alice" {
		t.Fatalf("ProviderCustomerOf = %q", got)
	}
	if got := must(st.ProviderCustomerOf(c, "stripe", "cus_B")); got != "" {
		t.Fatalf("cus_B was linked to %q", got)
	}
	// The provider's customer belongs to one creditkit customer.
	if _, err := st.LinkProviderCustomer(c, "stripe", "bob", "cus_A", Epoch); !errors.Is(err, store.ErrLinkedElsewhere) {
		t.Fatalf("linking alice's cus_A to bob: %v, want ErrLinkedElsewhere", err)
	}
	// Providers are separate.
	if got := must(st.LinkProviderCustomer(c, "paddle", "alice", "cus_A", Epoch)); got != "cus_A" {
		t.Fatalf("paddle link = %q", got)
	}
}

func testProviderCustomerLinkRace(t *testing.T, st store.ProviderStore) {
	c := context.Background()
	const n = 8
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := st.LinkProviderCustomer(c, "stripe", "carol", fmt.Sprintf("cus_%d", i), Epoch)
			if err != nil {
				t.Errorf("link %d: %v", i, err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == "" {
			t.Fatalf("concurrent links answered %v: want one link for all", got)
		}
	}
}

func testProviderEventClaims(t *testing.T, st store.ProviderStore) {
	c := context.Background()
	const n = 8
	var wins sync.WaitGroup
	var mu sync.Mutex
	claimed := 0
	for range n {
		wins.Add(1)
		go func() {
			defer wins.Done()
			ok, _, err := st.ClaimProviderEvent(c, &store.ProviderEvent{Provider: "stripe", ID: "evt_1", Type: "checkout.session.completed", ReceivedAt: Epoch})
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			if ok {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
		}()
	}
	wins.Wait()
	if claimed != 1 {
		t.Fatalf("%d concurrent claims of one event won, want 1", claimed)
	}
	ok, ex, err := st.ClaimProviderEvent(c, &store.ProviderEvent{Provider: "stripe", ID: "evt_1", Type: "x", ReceivedAt: Epoch.Add(time.Hour)})
	if err != nil || ok || ex == nil || ex.ProcessedAt != nil || ex.Type != "checkout.session.completed" || !ex.ReceivedAt.Equal(Epoch) {
		t.Fatalf("reclaim = %v %+v %v, want the unfinished first claim", ok, ex, err)
	}
	done := Epoch.Add(time.Minute)
	if err := st.FinishProviderEvent(c, "stripe", "evt_1", done, "purchase pur_1"); err != nil {
		t.Fatal(err)
	}
	e := must(st.GetProviderEvent(c, "stripe", "evt_1"))
	if e == nil || e.ProcessedAt == nil || !e.ProcessedAt.Equal(done) || e.Outcome != "purchase pur_1" {
		t.Fatalf("finished event = %+v", e)
	}
	if e := must(st.GetProviderEvent(c, "stripe", "evt_2")); e != nil {
		t.Fatalf("unknown event = %+v", e)
	}
}

func testProviderCursor(t *testing.T, st store.ProviderStore) {
	c := context.Background()
	if got := must(st.ProviderCursor(c, "stripe", "overage")); got != 0 {
		t.Fatalf("new cursor = %d", got)
	}
	for _, seq := range []int64{5, 3, 9} {
		if err := st.SetProviderCursor(c, "stripe", "overage", seq); err != nil {
			t.Fatal(err)
		}
	}
	if got := must(st.ProviderCursor(c, "stripe", "overage")); got != 9 {
		t.Fatalf("cursor = %d, want 9 (it never moves back)", got)
	}
}
