package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

func testWebhookEndpoints(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	e1 := b.createEndpoint(t, "we_1", []string{"credits.spent", "credits.grant.*"}, Epoch)
	e2 := b.createEndpoint(t, "we_2", nil, Epoch.Add(time.Second))
	e3 := b.createEndpoint(t, "we_3", []string{}, Epoch.Add(2*time.Second))
	for _, e := range []*store.WebhookEndpoint{e1, e2, e3} {
		if got := must(s.WebhookEndpoint(c, e.ID)); fmtEndpoint(got) != fmtEndpoint(e) {
			t.Fatalf("endpoint = %s\nwant       %s", fmtEndpoint(got), fmtEndpoint(e))
		}
	}
	if got := must(s.WebhookEndpoint(c, "we_missing")); got != nil {
		t.Fatalf("unknown endpoint found: %s", fmtEndpoint(got))
	}
	list := func(after string, limit int) []string {
		var out []string
		for _, e := range must(s.WebhookEndpoints(c, after, limit)) {
			out = append(out, fmtEndpoint(e))
		}
		return out
	}
	if got, want := list("", 2), []string{fmtEndpoint(e1), fmtEndpoint(e2)}; !slices.Equal(got, want) {
		t.Fatalf("first page = %v\nwant %v", got, want)
	}
	if got, want := list("we_2", 10), []string{fmtEndpoint(e3)}; !slices.Equal(got, want) {
		t.Fatalf("page after we_2 = %v\nwant %v", got, want)
	}
	if got := list("we_3", 10); len(got) != 0 {
		t.Fatalf("page after the last = %v, want none", got)
	}

	deletedAt := Epoch.Add(time.Hour)
	if !must(webhook.DeleteEndpoint(c, s, "we_2", deletedAt)) {
		t.Fatal("deleting an endpoint reported false")
	}
	if must(webhook.DeleteEndpoint(c, s, "we_2", deletedAt)) {
		t.Fatal("deleting a deleted endpoint reported true")
	}
	if must(webhook.DeleteEndpoint(c, s, "we_missing", deletedAt)) {
		t.Fatal("deleting an unknown endpoint reported true")
	}
	if got := must(s.WebhookEndpoint(c, "we_2")); got != nil {
		t.Fatalf("deleted endpoint still found: %s", fmtEndpoint(got))
	}
	if got, want := list("", 10), []string{fmtEndpoint(e1), fmtEndpoint(e3)}; !slices.Equal(got, want) {
		t.Fatalf("endpoints after deleting we_2 = %v\nwant %v", got, want)
	}
}

// Deleting an endpoint fails its pending deliveries, and only those.
func testDeleteEndpointFailsDeliveries(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_keep", nil, Epoch)
	b.createEndpoint(t, "we_drop", nil, Epoch)
	b.insertEvents(t, newEvent("evt_1", "credits.spent", "amy", Epoch), newEvent("evt_2", "credits.spent", "amy", Epoch))
	if n := must(s.DispatchEvents(c, Epoch, 10, webhook.Fanout(Epoch, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events, want 2", n)
	}
	dropped := b.deliveries(t, store.DeliveryQuery{EndpointID: "we_drop"})
	if len(dropped) != 2 {
		t.Fatalf("%d deliveries to we_drop, want 2", len(dropped))
	}
	done := dropped[0]
	at := Epoch.Add(time.Minute)
	if err := s.FinishDelivery(c, done.ID, webhook.Succeeded(at, 200)); err != nil {
		t.Fatal(err)
	}
	if !must(webhook.DeleteEndpoint(c, s, "we_drop", Epoch.Add(time.Hour))) {
		t.Fatal("delete reported false")
	}
	for _, d := range b.deliveries(t, store.DeliveryQuery{}) {
		want, wantErr := store.DeliveryPending, ""
		switch {
		case d.ID == done.ID:
			want = store.DeliverySucceeded
		case d.EndpointID == "we_drop":
			want, wantErr = store.DeliveryFailed, "endpoint deleted"
		}
		if d.Status != want || d.LastError != wantErr {
			t.Fatalf("delivery %s to %s: status %s, error %q; want %s, %q", d.ID, d.EndpointID, d.Status, d.LastError, want, wantErr)
		}
	}
	claimed := must(s.ClaimDeliveries(c, Epoch.Add(2*time.Hour), time.Minute, 10))
	for _, d := range claimed {
		if d.EndpointID != "we_keep" {
			t.Fatalf("claimed delivery %s to the deleted endpoint", d.ID)
		}
	}
	if len(claimed) != 2 {
		t.Fatalf("claimed %d deliveries, want the 2 to we_keep", len(claimed))
	}
}

func testDispatchEvents(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_all", nil, Epoch)
	b.createEndpoint(t, "we_spent", []string{"credits.spent"}, Epoch)
	b.createEndpoint(t, "we_grant", []string{"credits.grant.*"}, Epoch)
	b.createEndpoint(t, "we_gone", nil, Epoch)
	if !must(webhook.DeleteEndpoint(c, s, "we_gone", Epoch)) {
		t.Fatal("delete reported false")
	}
	// The endpoints that are not deleted, and what they subscribed to.
	live := map[string][]string{"we_all": nil, "we_spent": {"credits.spent"}, "we_grant": {"credits.grant.*"}}
	events := []*store.Event{
		newEvent("evt_1", "credits.spent", "amy", Epoch),
		newEvent("evt_2", "credits.grant.expiring", "bob", Epoch.Add(time.Second)),
		newEvent("evt_3", "credits.granted", "amy", Epoch.Add(2*time.Second)),
		newEvent("evt_4", "credits.balance.low", "cy", Epoch.Add(3*time.Second)),
	}
	b.insertEvents(t, events[:2]...)
	b.insertEvents(t, events[2:]...)
	byID := map[string]*store.Event{}
	for _, e := range events {
		byID[e.ID] = e
	}
	expect := func(evs []*store.Event) map[pair]int {
		out := map[pair]int{}
		for _, e := range evs {
			for ep, types := range live {
				if webhook.MatchEventType(types, e.Type) {
					out[pair{ep, e.ID}]++
				}
			}
		}
		return out
	}

	now := Epoch.Add(time.Minute)
	if n := must(s.DispatchEvents(c, now, 2, webhook.Fanout(now, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events with limit 2, want 2", n)
	}
	if got, want := pairsOf(b.deliveries(t, store.DeliveryQuery{})), expect(events[:2]); !maps.Equal(got, want) {
		t.Fatalf("deliveries after the first 2 events = %v\nwant %v", got, want)
	}
	if n := must(s.DispatchEvents(c, now, 100, webhook.Fanout(now, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events, want the 2 left", n)
	}
	if n := must(s.DispatchEvents(c, now, 100, webhook.Fanout(now, b.newID))); n != 0 {
		t.Fatalf("dispatched %d events again, want 0", n)
	}
	all := b.deliveries(t, store.DeliveryQuery{})
	if got, want := pairsOf(all), expect(events); !maps.Equal(got, want) {
		t.Fatalf("deliveries = %v\nwant %v", got, want)
	}
	for _, d := range all {
		checkState(t, d, store.DeliveryPending, 0, now)
		if !d.CreatedAt.Equal(now) || d.LastAttemptAt != nil || d.LastStatus != 0 || d.LastError != "" {
			t.Fatalf("new delivery %s: created %s, last attempt %s, status %d, error %q", d.ID,
				fmtPtr(&d.CreatedAt), fmtPtr(d.LastAttemptAt), d.LastStatus, d.LastError)
		}
		if d.URL != "https://example.com/hooks/"+d.EndpointID {
			t.Fatalf("delivery %s: URL %q", d.ID, d.URL)
		}
		checkEvent(t, "delivery "+d.ID, d.Event, byID[d.EventID])
	}

	// A later event is dispatched alone.
	late := newEvent("evt_5", "credits.spent", "amy", Epoch.Add(time.Hour))
	b.insertEvents(t, late)
	if n := must(s.DispatchEvents(c, Epoch.Add(time.Hour), 100, webhook.Fanout(Epoch.Add(time.Hour), b.newID))); n != 1 {
		t.Fatalf("dispatched %d events, want the 1 new", n)
	}
	if got, want := pairsOf(b.deliveries(t, store.DeliveryQuery{})), expect(append(events, late)); !maps.Equal(got, want) {
		t.Fatalf("deliveries after a late event = %v\nwant %v", got, want)
	}
}

// Events dispatched while no endpoint listens are not delivered to an
// endpoint created later.
func testDispatchWithoutEndpoints(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.insertEvents(t, newEvent("evt_1", "credits.spent", "amy", Epoch), newEvent("evt_2", "credits.spent", "amy", Epoch))
	if n := must(s.DispatchEvents(c, Epoch, 10, webhook.Fanout(Epoch, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events, want 2", n)
	}
	b.createEndpoint(t, "we_late", nil, Epoch.Add(time.Minute))
	if n := must(s.DispatchEvents(c, Epoch.Add(time.Minute), 10, webhook.Fanout(Epoch.Add(time.Minute), b.newID))); n != 0 {
		t.Fatalf("dispatched %d events again, want 0", n)
	}
	if ds := b.deliveries(t, store.DeliveryQuery{}); len(ds) != 0 {
		t.Fatalf("%d deliveries for events dispatched before the endpoint existed, want 0", len(ds))
	}
}

// Dispatchers racing create exactly one delivery per event and endpoint.
func testDispatchConcurrent(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_a", nil, Epoch)
	b.createEndpoint(t, "we_b", nil, Epoch)
	const events = 200
	var batch []*store.Event
	for i := range events {
		batch = append(batch, newEvent(fmt.Sprintf("evt_%03d", i), "credits.spent", "amy", Epoch))
	}
	b.insertEvents(t, batch...)
	total, ok := drainConcurrently(t, 4, events, "dispatch", func() (int, error) {
		return s.DispatchEvents(c, Epoch, 7, webhook.Fanout(Epoch, b.newID))
	})
	if !ok {
		return
	}
	if total != events {
		t.Fatalf("dispatchers reported %d events in total, want %d", total, events)
	}
	if n := must(s.DispatchEvents(c, Epoch, 100, webhook.Fanout(Epoch, b.newID))); n != 0 {
		t.Fatalf("dispatched %d events after the race, want 0", n)
	}
	got := pairsOf(b.deliveries(t, store.DeliveryQuery{}))
	if len(got) != 2*events {
		t.Fatalf("%d distinct deliveries, want %d", len(got), 2*events)
	}
	for p, n := range got {
		if n != 1 {
			t.Fatalf("%d deliveries of %s to %s, want 1", n, p.event, p.endpoint)
		}
	}
}

func testClaimDeliveries(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	ep := b.createEndpoint(t, "we_1", nil, Epoch)
	events := []*store.Event{
		newEvent("evt_1", "credits.spent", "amy", Epoch),
		newEvent("evt_2", "credits.granted", "bob", Epoch),
		newEvent("evt_3", "credits.balance.low", "cy", Epoch),
	}
	b.insertEvents(t, events...)
	// One delivery per dispatch, each due at its own time.
	due := []time.Time{Epoch, Epoch.Add(time.Second), Epoch.Add(10 * time.Minute)}
	var ids []string
	for i, at := range due {
		if n := must(s.DispatchEvents(c, at, 1, webhook.Fanout(at, b.newID))); n != 1 {
			t.Fatalf("dispatch %d: %d events, want 1", i, n)
		}
		ds := b.deliveries(t, store.DeliveryQuery{EventID: events[i].ID})
		if len(ds) != 1 {
			t.Fatalf("%d deliveries of %s, want 1", len(ds), events[i].ID)
		}
		ids = append(ids, ds[0].ID)
	}
	lease := 5 * time.Minute
	claim := func(now time.Time, limit int) []*store.Delivery {
		t.Helper()
		return must(s.ClaimDeliveries(c, now, lease, limit))
	}

	now := Epoch.Add(time.Minute)
	first := claim(now, 1)
	if got := idsOf(first); !slices.Equal(got, ids[:1]) {
		t.Fatalf("claim with limit 1 = %v, want the oldest due %v", got, ids[:1])
	}
	d := first[0]
	checkState(t, d, store.DeliveryPending, 0, now.Add(lease))
	if d.EndpointID != ep.ID || d.EventID != "evt_1" || d.URL != ep.URL || d.Secret != ep.Secret {
		t.Fatalf("claimed delivery: endpoint %s, event %s, URL %q, secret %q", d.EndpointID, d.EventID, d.URL, d.Secret)
	}
	checkEvent(t, "claimed delivery", d.Event, events[0])
	checkState(t, b.delivery(t, d.ID), store.DeliveryPending, 0, now.Add(lease))

	second := claim(now, 10)
	if got := idsOf(second); !slices.Equal(got, ids[1:2]) {
		t.Fatalf("second claim = %v, want %v (the first is leased, the third not due)", got, ids[1:2])
	}
	checkEvent(t, "claimed delivery", second[0].Event, events[1])
	if second[0].Secret != ep.Secret {
		t.Fatalf("claimed delivery secret %q, want %q", second[0].Secret, ep.Secret)
	}
	if got := claim(now.Add(time.Minute), 10); len(got) != 0 {
		t.Fatalf("claim while leased = %v, want none", idsOf(got))
	}
	// The leases run out at now+lease; the third becomes due later.
	again := claim(now.Add(lease), 10)
	if got := idsOf(again); !slices.Equal(slices.Sorted(slices.Values(got)), ids[:2]) {
		t.Fatalf("claim after the lease = %v, want %v", got, ids[:2])
	}
	if got := idsOf(claim(due[2], 10)); !slices.Equal(got, ids[2:]) {
		t.Fatalf("claim at the third's due time = %v, want %v", got, ids[2:])
	}

	// Only pending deliveries are claimed.
	later := Epoch.Add(time.Hour)
	if err := s.FinishDelivery(c, ids[0], webhook.Succeeded(later, 204)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDelivery(c, ids[1], webhook.GiveUp(later, 410, "gone")); err != nil {
		t.Fatal(err)
	}
	if got := idsOf(claim(later.Add(time.Hour), 10)); !slices.Equal(got, ids[2:]) {
		t.Fatalf("claim after finishing two = %v, want %v", got, ids[2:])
	}
}

// Workers racing to claim never share a delivery, and together get all.
func testClaimConcurrent(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_a", nil, Epoch)
	b.createEndpoint(t, "we_b", nil, Epoch)
	const events = 60
	var batch []*store.Event
	for i := range events {
		batch = append(batch, newEvent(fmt.Sprintf("evt_%03d", i), "credits.spent", "amy", Epoch))
	}
	b.insertEvents(t, batch...)
	if n := must(s.DispatchEvents(c, Epoch, 1000, webhook.Fanout(Epoch, b.newID))); n != events {
		t.Fatalf("dispatched %d events, want %d", n, events)
	}
	now := Epoch.Add(time.Minute)
	var mu sync.Mutex
	claimed := map[string]int{}
	var claims atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A store that never leases would hand out deliveries
			// forever: stop once more were claimed than there are.
			for claims.Load() <= 2*events {
				ds, err := s.ClaimDeliveries(c, now, time.Hour, 3)
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(ds) == 0 {
					return
				}
				claims.Add(int64(len(ds)))
				mu.Lock()
				for _, d := range ds {
					claimed[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times during its lease", id, n)
		}
	}
	if len(claimed) != 2*events {
		t.Fatalf("claimed %d deliveries, want all %d", len(claimed), 2*events)
	}
}

func testFinishDelivery(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_1", nil, Epoch)
	b.insertEvents(t, newEvent("evt_ok", "credits.spent", "amy", Epoch), newEvent("evt_retry", "credits.spent", "amy", Epoch))
	if n := must(s.DispatchEvents(c, Epoch, 10, webhook.Fanout(Epoch, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events, want 2", n)
	}
	byEvent := map[string]string{}
	for _, d := range must(s.ClaimDeliveries(c, Epoch, time.Minute, 10)) {
		byEvent[d.EventID] = d.ID
	}
	if len(byEvent) != 2 {
		t.Fatalf("claimed %v, want both deliveries", byEvent)
	}

	at := Epoch.Add(10 * time.Second)
	if err := s.FinishDelivery(c, byEvent["evt_ok"], webhook.Succeeded(at, 200)); err != nil {
		t.Fatal(err)
	}
	ok := b.delivery(t, byEvent["evt_ok"])
	if ok.Status != store.DeliverySucceeded || ok.Attempts != 1 || ok.LastStatus != 200 || ok.LastError != "" ||
		ok.LastAttemptAt == nil || !ok.LastAttemptAt.Equal(at) {
		t.Fatalf("after success: status %s, %d attempts, last %s status %d error %q", ok.Status, ok.Attempts,
			fmtPtr(ok.LastAttemptAt), ok.LastStatus, ok.LastError)
	}

	retryAt := at.Add(5 * time.Minute)
	err := s.FinishDelivery(c, byEvent["evt_retry"], webhook.Retry(at, 503, "HTTP 503", retryAt))
	if err != nil {
		t.Fatal(err)
	}
	d := b.delivery(t, byEvent["evt_retry"])
	checkState(t, d, store.DeliveryPending, 1, retryAt)
	if d.LastStatus != 503 || d.LastError != "HTTP 503" || d.LastAttemptAt == nil || !d.LastAttemptAt.Equal(at) {
		t.Fatalf("after a failure: last %s status %d error %q", fmtPtr(d.LastAttemptAt), d.LastStatus, d.LastError)
	}
	if got := must(s.ClaimDeliveries(c, retryAt.Add(-time.Second), time.Minute, 10)); len(got) != 0 {
		t.Fatalf("claimed %v before the retry is due", idsOf(got))
	}
	if got := idsOf(must(s.ClaimDeliveries(c, retryAt, time.Minute, 10))); !slices.Equal(got, []string{d.ID}) {
		t.Fatalf("claim at the retry time = %v, want [%s]", got, d.ID)
	}

	last := retryAt.Add(time.Second)
	if err := s.FinishDelivery(c, d.ID, webhook.GiveUp(last, 0, "connection refused")); err != nil {
		t.Fatal(err)
	}
	d = b.delivery(t, d.ID)
	if d.Status != store.DeliveryFailed || d.Attempts != 2 || d.LastStatus != 0 || d.LastError != "connection refused" ||
		d.LastAttemptAt == nil || !d.LastAttemptAt.Equal(last) {
		t.Fatalf("after giving up: status %s, %d attempts, last %s status %d error %q", d.Status, d.Attempts,
			fmtPtr(d.LastAttemptAt), d.LastStatus, d.LastError)
	}
	if got := must(s.ClaimDeliveries(c, last.Add(24*time.Hour), time.Minute, 10)); len(got) != 0 {
		t.Fatalf("claimed %v, but every delivery is finished", idsOf(got))
	}
}

func testDeliveriesQuery(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	ep1 := b.createEndpoint(t, "we_1", nil, Epoch)
	b.createEndpoint(t, "we_2", []string{"credits.spent"}, Epoch)
	events := map[string]*store.Event{}
	for i, typ := range []string{"credits.spent", "credits.granted", "credits.spent", "credits.granted", "credits.spent"} {
		e := newEvent(fmt.Sprintf("evt_%d", i), typ, "amy", Epoch.Add(time.Duration(i)*time.Second))
		events[e.ID] = e
		b.insertEvents(t, e)
		// One event per dispatch, so that delivery IDs follow event order.
		if n := must(s.DispatchEvents(c, Epoch, 1, webhook.Fanout(Epoch, b.newID))); n != 1 {
			t.Fatalf("dispatch %s: %d events, want 1", e.ID, n)
		}
	}
	all := b.deliveries(t, store.DeliveryQuery{})
	if len(all) != 8 { // 5 to we_1, 3 spent events to we_2
		t.Fatalf("%d deliveries, want 8", len(all))
	}
	ids := idsOf(all)
	if !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatalf("deliveries %v are not newest first (by ID, descending)", ids)
	}
	for _, d := range all {
		checkEvent(t, "listed delivery "+d.ID, d.Event, events[d.EventID])
		if d.Secret != "" {
			t.Fatalf("listed delivery %s carries its endpoint's secret", d.ID)
		}
		if d.URL != "https://example.com/hooks/"+d.EndpointID {
			t.Fatalf("listed delivery %s: URL %q", d.ID, d.URL)
		}
	}
	// Give the deliveries of evt_1 (to we_1) and evt_2 (to both) other statuses.
	finished := map[string]string{}
	for _, d := range all {
		switch d.EventID {
		case "evt_1":
			must(0, s.FinishDelivery(c, d.ID, webhook.Succeeded(Epoch, 200)))
			finished[d.ID] = store.DeliverySucceeded
		case "evt_2":
			must(0, s.FinishDelivery(c, d.ID, webhook.GiveUp(Epoch, 500, "HTTP 500")))
			finished[d.ID] = store.DeliveryFailed
		}
	}
	filter := func(keep func(d *store.Delivery) bool) []string {
		var out []string
		for _, d := range all {
			if keep(d) {
				out = append(out, d.ID)
			}
		}
		return out
	}
	status := func(d *store.Delivery) string {
		if st, ok := finished[d.ID]; ok {
			return st
		}
		return store.DeliveryPending
	}
	queries := []struct {
		q    store.DeliveryQuery
		want []string
	}{
		{store.DeliveryQuery{Limit: 3}, ids[:3]},
		{store.DeliveryQuery{Before: ids[2], Limit: 3}, ids[3:6]},
		{store.DeliveryQuery{Before: ids[6], Limit: 3}, ids[7:]},
		{store.DeliveryQuery{EndpointID: "we_2", Limit: 100}, filter(func(d *store.Delivery) bool { return d.EndpointID == "we_2" })},
		{store.DeliveryQuery{EventID: "evt_2", Limit: 100}, filter(func(d *store.Delivery) bool { return d.EventID == "evt_2" })},
		{store.DeliveryQuery{Status: store.DeliveryPending, Limit: 100}, filter(func(d *store.Delivery) bool { return status(d) == store.DeliveryPending })},
		{store.DeliveryQuery{Status: store.DeliveryFailed, Limit: 100}, filter(func(d *store.Delivery) bool { return status(d) == store.DeliveryFailed })},
		{store.DeliveryQuery{Status: store.DeliveryPending, EndpointID: ep1.ID, Limit: 2}, filter(func(d *store.Delivery) bool {
			return status(d) == store.DeliveryPending && d.EndpointID == ep1.ID
		})[:2]},
		{store.DeliveryQuery{Status: store.DeliverySucceeded, EndpointID: "we_2", Limit: 100}, nil},
	}
	for _, qc := range queries {
		if got := idsOf(must(s.Deliveries(c, qc.q))); !slices.Equal(got, qc.want) {
			t.Fatalf("deliveries(%+v) = %v, want %v", qc.q, got, qc.want)
		}
	}
	if len(filter(func(d *store.Delivery) bool { return status(d) == store.DeliveryFailed })) != 2 {
		t.Fatal("the case expects two failed deliveries")
	}

	d := b.delivery(t, ids[0])
	if d.URL != "https://example.com/hooks/"+d.EndpointID || d.Secret != "" {
		t.Fatalf("delivery %s: URL %q, secret %q (want the URL, no secret)", d.ID, d.URL, d.Secret)
	}
	checkEvent(t, "delivery "+d.ID, d.Event, events[d.EventID])
	if got := must(s.Delivery(c, "dlv_missing")); got != nil {
		t.Fatalf("unknown delivery found: %s", got.ID)
	}
}

func testReplayDelivery(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_1", nil, Epoch)
	b.createEndpoint(t, "we_gone", nil, Epoch)
	b.insertEvents(t, newEvent("evt_1", "credits.spent", "amy", Epoch), newEvent("evt_2", "credits.spent", "amy", Epoch))
	if n := must(s.DispatchEvents(c, Epoch, 10, webhook.Fanout(Epoch, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events, want 2", n)
	}
	ds := b.deliveries(t, store.DeliveryQuery{EndpointID: "we_1"})
	failed, succeeded := ds[0], ds[1]
	must(0, s.FinishDelivery(c, failed.ID, webhook.GiveUp(Epoch, 500, "HTTP 500")))
	must(0, s.FinishDelivery(c, succeeded.ID, webhook.Succeeded(Epoch, 200)))

	// Deleting an endpoint fails its pending deliveries for good.
	gone := b.deliveries(t, store.DeliveryQuery{EndpointID: "we_gone"})[0]
	if !must(webhook.DeleteEndpoint(c, s, "we_gone", Epoch)) {
		t.Fatal("delete reported false")
	}

	now := Epoch.Add(time.Hour)
	for _, id := range []string{failed.ID, succeeded.ID} {
		r := must(s.ReplayDelivery(c, id, now))
		if r == nil || r.ID != id || r.Status != store.DeliveryPending || !r.NextAttemptAt.Equal(now) {
			t.Fatalf("replay %s returned %+v, want it pending, due at %s", id, r, fmtPtr(&now))
		}
		if d := b.delivery(t, id); d.Status != store.DeliveryPending || !d.NextAttemptAt.Equal(now) {
			t.Fatalf("replayed delivery %s: status %s, next attempt %s; want pending at %s", id, d.Status, fmtPtr(&d.NextAttemptAt), fmtPtr(&now))
		}
	}
	got := slices.Sorted(slices.Values(idsOf(must(s.ClaimDeliveries(c, now, time.Minute, 10)))))
	if want := slices.Sorted(slices.Values([]string{failed.ID, succeeded.ID})); !slices.Equal(got, want) {
		t.Fatalf("claim after replay = %v, want %v", got, want)
	}
	if got := must(s.ReplayDelivery(c, "dlv_missing", now)); got != nil {
		t.Fatalf("replaying an unknown delivery returned %s", got.ID)
	}
	if got := must(s.ReplayDelivery(c, gone.ID, now)); got != nil {
		t.Fatalf("replaying a delivery to a deleted endpoint returned %s", got.ID)
	}
	if d := b.delivery(t, gone.ID); d.Status != store.DeliveryFailed {
		t.Fatalf("delivery to a deleted endpoint is %s after a refused replay, want failed", d.Status)
	}
}

// An attempt recorded after its endpoint was deleted takes the status the
// attempt gives for that case: a retry becomes a failure, a success stays
// a success.
func testFinishAfterEndpointDeleted(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	b.createEndpoint(t, "we_1", nil, Epoch)
	b.insertEvents(t, newEvent("evt_retry", "credits.spent", "amy", Epoch), newEvent("evt_ok", "credits.spent", "amy", Epoch))
	if n := must(s.DispatchEvents(c, Epoch, 10, webhook.Fanout(Epoch, b.newID))); n != 2 {
		t.Fatalf("dispatched %d events, want 2", n)
	}
	byEvent := map[string]string{}
	for _, d := range must(s.ClaimDeliveries(c, Epoch, time.Minute, 10)) {
		byEvent[d.EventID] = d.ID
	}
	if !must(webhook.DeleteEndpoint(c, s, "we_1", Epoch)) {
		t.Fatal("delete reported false")
	}
	at := Epoch.Add(time.Second)
	must(0, s.FinishDelivery(c, byEvent["evt_retry"], webhook.Retry(at, 503, "HTTP 503 Service Unavailable", at.Add(time.Minute))))
	must(0, s.FinishDelivery(c, byEvent["evt_ok"], webhook.Succeeded(at, 200)))
	if d := b.delivery(t, byEvent["evt_retry"]); d.Status != store.DeliveryFailed || d.Attempts != 1 || d.LastError != "HTTP 503 Service Unavailable" {
		t.Fatalf("retry after the endpoint was deleted: %s, %d attempts, error %q; want failed, 1, HTTP 503 Service Unavailable", d.Status, d.Attempts, d.LastError)
	}
	if d := b.delivery(t, byEvent["evt_ok"]); d.Status != store.DeliverySucceeded || d.LastStatus != 200 {
		t.Fatalf("success after the endpoint was deleted: %s, status %d; want succeeded, 200", d.Status, d.LastStatus)
	}
	if err := s.FinishDelivery(c, "dlv_missing", webhook.Succeeded(at, 200)); err == nil {
		t.Fatal("finishing an unknown delivery succeeded")
	}
}
