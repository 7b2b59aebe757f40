package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

// RunAudit runs the conformance cases of store.AuditStore against stores
// made by newStore, which must also implement store.AuditStore:
//
//	func TestAuditStore(t *testing.T) {
//		storetest.RunAudit(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
//
// That the database itself refuses to update or delete an audit row is
// each store's own test: it needs raw SQL.
func RunAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, st store.AuditStore)
	}{
		{"RoundTrip", testAuditRoundTrip},
		{"Filters", testAuditFilters},
		{"Paging", testAuditPaging},
		{"DuplicateID", testAuditDuplicateID},
		{"ConcurrentAppends", testAuditConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			defer guard(t)
			s := newStore(t)
			as, ok := s.(store.AuditStore)
			if !ok {
				t.Fatalf("%T does not implement store.AuditStore", s)
			}
			c.fn(t, as)
		})
	}
}

var auditT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// appendAudit appends rows, in order, and fails the test on an error.
func appendAudit(t *testing.T, st store.AuditStore, rows ...*store.AuditRow) {
	t.Helper()
	for _, r := range rows {
		if err := st.AppendAudit(t.Context(), r); err != nil {
			t.Fatalf("append %s: %v", r.ID, err)
		}
	}
}

// auditIDs lists the IDs a query returns.
func auditIDs(t *testing.T, st store.AuditStore, q store.AuditQuery) []string {
	t.Helper()
	rows, err := st.AuditRows(t.Context(), q)
	if err != nil {
		t.Fatalf("list %+v: %v", q, err)
	}
	ids := []string{}
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// Every field comes back as it was written; details are the same JSON
// object (PostgreSQL's jsonb may reorder keys and spacing).
func testAuditRoundTrip(t *testing.T, st store.AuditStore) {
	in := &store.AuditRow{ID: "aud_1", At: auditT0.Add(123 * time.Microsecond), ActorKind: "api_key", ActorID: "key_1", ActorName: "ops laptop",
		RequestID: "req_abc", Action: "grant.void", Customer: "alice", Target: "grt_9", Reason: "fraud, refunded",
		Outcome: "ok", Details: []byte(`{"amount": 100, "status": 200}`)}
	bare := &store.AuditRow{ID: "aud_2", At: auditT0.Add(time.Second), ActorKind: "cli", Action: "api_key.create", Outcome: "ok"}
	appendAudit(t, st, in, bare)
	rows, err := st.AuditRows(t.Context(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	got := rows[1]
	var gotDetails, wantDetails any
	if err := json.Unmarshal(got.Details, &gotDetails); err != nil {
		t.Fatalf("details %q: %v", got.Details, err)
	}
	_ = json.Unmarshal(in.Details, &wantDetails)
	if !reflect.DeepEqual(gotDetails, wantDetails) {
		t.Errorf("details = %s, want %s", got.Details, in.Details)
	}
	g, w := *got, *in
	g.Details, w.Details = nil, nil
	if !g.At.Equal(w.At) {
		t.Errorf("at = %s, want %s", g.At, w.At)
	}
	g.At, w.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("row = %+v\nwant  %+v", g, w)
	}
	// A row written without details has an empty object.
	var m map[string]any
	if err := json.Unmarshal(rows[0].Details, &m); err != nil || m == nil || len(m) != 0 {
		t.Errorf("details of a row written without = %q, want {}", rows[0].Details)
	}
}

// Each filter selects what it says, alone and combined; lists are newest
// first.
func testAuditFilters(t *testing.T, st store.AuditStore) {
	row := func(id string, min int, actorID, actorName, action, customer string) *store.AuditRow {
		return &store.AuditRow{ID: id, At: auditT0.Add(time.Duration(min) * time.Minute), ActorKind: "api_key", ActorID: actorID,
			ActorName: actorName, Action: action, Customer: customer, Outcome: "ok"}
	}
	appendAudit(t, st,
		row("aud_1", 0, "key_a", "ops", "grant.create", "alice"),
		row("aud_2", 1, "key_a", "ops", "grant.void", "alice"),
		row("aud_3", 2, "key_b", "billing", "grant.create", "bob"),
		row("aud_4", 3, "key_b", "billing", "hold.capture", "bob"),
		row("aud_5", 4, "key_a", "ops", "grants.export", ""),
		row("aud_6", 5, "key_c", "key_a", "webhook_endpoint.create", ""),
	)
	for _, c := range []struct {
		name string
		q    store.AuditQuery
		want []string
	}{
		{"all, newest first", store.AuditQuery{}, []string{"aud_6", "aud_5", "aud_4", "aud_3", "aud_2", "aud_1"}},
		{"actor by ID or name", store.AuditQuery{Actor: "key_a"}, []string{"aud_6", "aud_5", "aud_2", "aud_1"}},
		{"actor by name", store.AuditQuery{Actor: "billing"}, []string{"aud_4", "aud_3"}},
		{"action", store.AuditQuery{Action: "grant.create"}, []string{"aud_3", "aud_1"}},
		{"action prefix stops at the dot", store.AuditQuery{ActionPrefix: "grant."}, []string{"aud_3", "aud_2", "aud_1"}},
		{"customer", store.AuditQuery{Customer: "bob"}, []string{"aud_4", "aud_3"}},
		{"from inclusive", store.AuditQuery{From: auditT0.Add(4 * time.Minute)}, []string{"aud_6", "aud_5"}},
		{"to exclusive", store.AuditQuery{To: auditT0.Add(2 * time.Minute)}, []string{"aud_2", "aud_1"}},
		{"combined", store.AuditQuery{Actor: "key_a", ActionPrefix: "grant.", Customer: "alice", From: auditT0.Add(time.Minute)}, []string{"aud_2"}},
		{"nothing matches", store.AuditQuery{Customer: "carol"}, []string{}},
		{"limit", store.AuditQuery{Limit: 2}, []string{"aud_6", "aud_5"}},
		{"unknown cursor selects nothing", store.AuditQuery{After: "aud_404"}, []string{}},
	} {
		if got := auditIDs(t, st, c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// A cursor continues after its row, in append order, with the filters kept;
// rows appended after the first page do not shift the later pages.
func testAuditPaging(t *testing.T, st store.AuditStore) {
	for i := 1; i <= 7; i++ {
		cust := "alice"
		if i%2 == 0 {
			cust = "bob"
		}
		// Every row has the same time: order is append order, not time.
		appendAudit(t, st, &store.AuditRow{ID: fmt.Sprintf("aud_%d", i), At: auditT0, ActorKind: "api_key", Action: "grant.create",
			Customer: cust, Outcome: "ok"})
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		ids := auditIDs(t, st, store.AuditQuery{Customer: "alice", After: after, Limit: 2})
		if len(ids) == 0 {
			break
		}
		got = append(got, ids...)
		after = ids[len(ids)-1]
		if pages == 0 {
			appendAudit(t, st, &store.AuditRow{ID: "aud_late", At: auditT0, ActorKind: "api_key", Action: "grant.create", Customer: "alice", Outcome: "ok"})
		}
	}
	if want := []string{"aud_7", "aud_5", "aud_3", "aud_1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
}

// An ID is stored once.
func testAuditDuplicateID(t *testing.T, st store.AuditStore) {
	r := &store.AuditRow{ID: "aud_1", At: auditT0, ActorKind: "cli", Action: "api_key.revoke", Outcome: "ok"}
	appendAudit(t, st, r)
	if err := st.AppendAudit(t.Context(), r); err == nil {
		t.Fatal("a second row with the same ID was stored")
	}
	if ids := auditIDs(t, st, store.AuditQuery{}); len(ids) != 1 {
		t.Fatalf("rows = %v, want one", ids)
	}
}

// Concurrent appends all land, each once.
func testAuditConcurrent(t *testing.T, st store.AuditStore) {
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.AppendAudit(t.Context(), &store.AuditRow{ID: fmt.Sprintf("aud_%02d", i), At: auditT0, ActorKind: "api_key",
				Action: "grant.create", Outcome: "ok"})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := auditIDs(t, st, store.AuditQuery{})
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(ids) != n || len(seen) != n {
		t.Fatalf("got %d rows (%d distinct), want %d", len(ids), len(seen), n)
	}
}
