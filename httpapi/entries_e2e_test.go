package httpapi_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestEntriesOverHTTP checks what entries carry over the API: a type the
// ledger can be filtered by, available_after, a usage event's time as its
// occurred_at (summed by usage), the caller's metadata without nesting, and
// raw charges named by their reason in usage.
func TestEntriesOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		clock := creditkit.NewManualClock(timeZero())
		e := newEnv(t, dbURL, func(cfg *creditkit.Config, _ *httpapi.Options) { cfg.Clock = clock })
		w, rd := e.write, e.read
		now := clock.Now()

		e.must(201, "POST", "/v1/customers/alice/grants", w, map[string]any{"amount": 100})
		e.must(201, "POST", "/v1/customers/alice/grants", w, map[string]any{"amount": 50, "effective_at": now.Add(time.Hour)})
		h := e.must(201, "POST", "/v1/customers/alice/holds", w, map[string]any{"amount": 5})
		e.must(200, "POST", "/v1/holds/"+str(h.body, "id")+"/capture", w, nil)
		e.must(200, "POST", "/v1/customers/alice/spend", w, map[string]any{"amount": 4, "reason": "storage"})
		e.must(200, "POST", "/v1/customers/alice/spend", w, map[string]any{"amount": 3})

		// Events: the timestamp is the entry's occurred_at, the metadata is
		// the caller's, and times out of the window are refused.
		then := now.Add(-48 * time.Hour)
		ev := e.must(200, "POST", "/v1/events", w, []map[string]any{
			{"customer": "alice", "operation": "send_email", "idempotency_key": "ev-1", "timestamp": then,
				"metadata": map[string]string{"job": "j1", "timestamp": "mine"}, "description": "weekly digest"},
			{"customer": "alice", "operation": "send_email", "idempotency_key": "ev-2", "timestamp": now.Add(time.Hour)},
			{"customer": "alice", "operation": "send_email", "idempotency_key": "ev-3", "timestamp": now.Add(-40 * 24 * time.Hour)},
		})
		res := ev.body["results"].([]any)
		first := res[0].(map[string]any)
		if str(first, "status") != "ok" {
			t.Fatalf("event 0: %s", ev.raw)
		}
		ent := first["entry"].(map[string]any)
		md := ent["metadata"].(map[string]any)
		if str(ent, "occurred_at") != then.Format(time.RFC3339) || str(ent, "at") != now.Format(time.RFC3339) ||
			len(md) != 2 || md["job"] != "j1" || md["timestamp"] != "mine" || str(ent, "description") != "weekly digest" ||
			str(ent, "operation") != "send_email" || str(ent, "type") != "charge" {
			t.Fatalf("event entry: %v", ent)
		}
		for _, i := range []int{1, 2} {
			r := res[i].(map[string]any)
			p, _ := r["error"].(map[string]any)
			if p == nil || num(p, "status") != 422 || str(p, "code") != "invalid_request" ||
				!strings.Contains(str(p, "detail"), "5m0s ahead") || !strings.Contains(str(p, "detail"), "35 days back") {
				t.Fatalf("event %d out of the window: %s", i, ev.raw)
			}
		}

		// The ledger: types, available_after, filtered by type.
		all := e.must(200, "GET", "/v1/customers/alice/ledger", rd, nil).list
		var types []string
		var avail []int64
		for _, x := range all {
			m := x.(map[string]any)
			types = append(types, str(m, "type"))
			avail = append(avail, num(m, "available_after"))
		}
		if want := []string{"grant", "grant", "charge", "charge", "charge", "charge"}; !slices.Equal(types, want) {
			t.Fatalf("types = %v, want %v", types, want)
		}
		if want := []int64{100, 100, 95, 91, 88, 87}; !slices.Equal(avail, want) {
			t.Fatalf("available_after = %v, want %v", avail, want)
		}
		if b := num(all[1].(map[string]any), "balance_after"); b != 150 {
			t.Fatalf("balance_after of the scheduled grant = %d, want 150", b)
		}
		charges := e.must(200, "GET", "/v1/customers/alice/ledger?type=charge", rd, nil).list
		grants := e.must(200, "GET", "/v1/customers/alice/ledger?type=grant&order=desc&limit=1", rd, nil).list
		if len(charges) != 4 || len(grants) != 1 || num(grants[0].(map[string]any), "amount") != 50 {
			t.Fatalf("filtered by type: %d charges, grants %v", len(charges), grants)
		}
		bad := e.must(422, "GET", "/v1/customers/alice/ledger?type=refundish", rd, nil)
		for _, typ := range creditkit.EntryTypes() {
			if !strings.Contains(string(bad.raw), string(typ)) {
				t.Errorf("bad type answer does not list %s: %s", typ, bad.raw)
			}
		}

		// Usage: raw charges under their reason; the event on its day.
		u := e.must(200, "GET", "/v1/customers/alice/usage?by=operation", rd, nil).list
		var rows []string
		for _, x := range u {
			m := x.(map[string]any)
			rows = append(rows, str(m, "operation")+"/"+str(m, "reason")+" "+strconv.FormatInt(num(m, "count"), 10)+"x"+strconv.FormatInt(num(m, "amount"), 10))
		}
		if want := []string{"/debit 2x8", "/storage 1x4", "send_email/ 1x1"}; !slices.Equal(rows, want) {
			t.Fatalf("usage by operation = %v, want %v", rows, want)
		}
		q := url.Values{"interval": {"day"}, "since": {then.Add(-time.Hour).Format(time.RFC3339)}, "until": {then.Add(time.Hour).Format(time.RFC3339)}}
		d := e.must(200, "GET", "/v1/customers/alice/usage?"+q.Encode(), rd, nil).list
		if len(d) != 1 || num(d[0].(map[string]any), "count") != 1 || num(d[0].(map[string]any), "amount") != 1 {
			t.Fatalf("usage around the event's time = %v, want the event", d)
		}
	})
}
