package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

func testNotifyExpiring(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	now := Epoch.Add(24 * time.Hour)
	until := now.Add(72 * time.Hour)
	grant := func(id, customer string, remaining int64, expires *time.Time) *store.Grant {
		return &store.Grant{
			ID: id, Customer: customer, Currency: "credits", Amount: 100, Remaining: remaining,
			Reason: "test", Source: "bonus", Priority: 10, CreatedAt: Epoch, EffectiveAt: Epoch,
			ExpiresAt: expires, Metadata: []byte("{}"),
		}
	}
	voided := grant("grt_voided", "amy", 100, ptr(now.Add(time.Hour)))
	voided.VoidedAt = ptr(Epoch.Add(time.Hour))
	expired := grant("grt_expired", "amy", 30, ptr(now.Add(time.Hour)))
	expired.ExpiredAt = ptr(Epoch.Add(time.Hour))
	b.insertGrants(t, Epoch,
		grant("grt_soon", "amy", 50, ptr(now.Add(time.Hour))),
		grant("grt_edge", "amy", 1, ptr(until)), // at until: inside
		grant("grt_other", "bob", 100, ptr(now.Add(48*time.Hour))),
		grant("grt_now", "amy", 100, ptr(now)), // at now: outside
		grant("grt_past", "amy", 100, ptr(now.Add(-time.Hour))),
		grant("grt_late", "amy", 100, ptr(until.Add(time.Second))),
		grant("grt_never", "amy", 100, nil),
		grant("grt_empty", "amy", 0, ptr(now.Add(time.Hour))),
		voided, expired,
	)
	var mu sync.Mutex
	calls := map[string]int{}
	mk := func(g *store.Grant) *store.Event {
		mu.Lock()
		defer mu.Unlock()
		calls[g.ID]++
		e := newEvent("evt_expiring_"+g.ID, "credits.grant.expiring", g.Customer, now)
		e.Data = []byte(fmt.Sprintf(`{"grant_id":%q,"remaining":%d}`, g.ID, g.Remaining))
		return e
	}
	if n := must(s.NotifyExpiring(c, now, until, 2, mk)); n != 2 {
		t.Fatalf("notified %d grants with limit 2, want 2", n)
	}
	if n := must(s.NotifyExpiring(c, now, until, 100, mk)); n != 1 {
		t.Fatalf("notified %d grants, want the 1 left", n)
	}
	if n := must(s.NotifyExpiring(c, now, until, 100, mk)); n != 0 {
		t.Fatalf("notified %d grants again, want 0", n)
	}
	want := map[string]int{"grt_soon": 1, "grt_edge": 1, "grt_other": 1}
	if !maps.Equal(calls, want) {
		t.Fatalf("mk called for %v, want %v", calls, want)
	}
	notice := map[string]struct {
		customer  string
		remaining int64
	}{"grt_soon": {"amy", 50}, "grt_edge": {"amy", 1}, "grt_other": {"bob", 100}}
	var notified []string
	for _, e := range b.outbox(t) {
		id, ok := strings.CutPrefix(e.ID, "evt_expiring_")
		if !ok {
			continue
		}
		notified = append(notified, id)
		wantEvent := newEvent(e.ID, "credits.grant.expiring", notice[id].customer, now)
		wantEvent.Data = []byte(fmt.Sprintf(`{"grant_id":%q,"remaining":%d}`, id, notice[id].remaining))
		checkEvent(t, "outbox", e, wantEvent)
	}
	if got := slices.Sorted(slices.Values(notified)); !slices.Equal(got, []string{"grt_edge", "grt_other", "grt_soon"}) {
		t.Fatalf("outbox holds expiring events for %v, want grt_edge, grt_other, grt_soon", got)
	}
	// The grant expiring just after the window is notified once the window
	// reaches it.
	if n := must(s.NotifyExpiring(c, now, until.Add(time.Second), 100, mk)); n != 1 || calls["grt_late"] != 1 {
		t.Fatalf("widened window notified %d grants (mk calls %v), want grt_late alone", n, calls)
	}
}

// Schedulers in several processes notify each grant exactly once.
func testNotifyExpiringConcurrent(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	now := Epoch.Add(time.Hour)
	const grants = 40
	var gs []*store.Grant
	for i := range grants {
		gs = append(gs, &store.Grant{
			ID: fmt.Sprintf("grt_%03d", i), Customer: fmt.Sprintf("cust_%d", i%5), Currency: "credits", Amount: 10, Remaining: 10,
			Reason: "test", Source: "bonus", Priority: 10, CreatedAt: Epoch, EffectiveAt: Epoch,
			ExpiresAt: ptr(now.Add(time.Duration(i+1) * time.Minute)), Metadata: []byte("{}"),
		})
	}
	b.insertGrants(t, Epoch, gs...)
	mk := func(g *store.Grant) *store.Event {
		return newEvent("evt_expiring_"+g.ID, "credits.grant.expiring", g.Customer, now)
	}
	total, ok := drainConcurrently(t, 4, grants, "notify", func() (int, error) {
		return s.NotifyExpiring(c, now, now.Add(24*time.Hour), 3, mk)
	})
	if !ok {
		return
	}
	if total != grants {
		t.Fatalf("notifiers reported %d grants in total, want %d", total, grants)
	}
	count := map[string]int{}
	for _, e := range b.outbox(t) {
		count[e.ID]++
	}
	for _, g := range gs {
		if n := count["evt_expiring_"+g.ID]; n != 1 {
			t.Fatalf("%d expiring events for %s, want 1", n, g.ID)
		}
	}
}
