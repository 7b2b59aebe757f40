package httpapi_test

import (
	"testing"
	"time"
)

// Support's corrections over HTTP: reverse a charge in parts, void part of
// a grant, move an expiry, and closed grants answered with 409.
func TestCorrections(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		w, rd := e.write, e.read
		g := e.must(201, "POST", "/v1/customers/carl/grants", w, map[string]any{"amount": 100, "expires_in": "30d"})
		grantID := str(g.body, "id")
		sp := e.must(200, "POST", "/v1/customers/carl/spend", w, map[string]any{"operation": "process_image", "params": map[string]any{"mb": 10}})
		entryID := str(sp.body, "id")
		if e.available("carl") != 80 {
			t.Fatalf("available %d after a 20-credit charge", e.available("carl"))
		}

		// Reverse: a reason is required; part, then the rest; never more.
		e.must(422, "POST", "/v1/entries/"+entryID+"/reverse", w, map[string]any{"amount": 5})
		r1 := e.must(201, "POST", "/v1/entries/"+entryID+"/reverse", w, map[string]any{"amount": 5, "reason": "slow render"}, "Idempotency-Key", "rev-a")
		if num(r1.body, "amount") != 5 || str(r1.body, "category") != "reversal" || str(r1.body["details"].(map[string]any), "reversed_entry_id") != entryID {
			t.Fatalf("reversal: %s", r1.raw)
		}
		replay := e.must(201, "POST", "/v1/entries/"+entryID+"/reverse", w, map[string]any{"amount": 5, "reason": "slow render"}, "Idempotency-Key", "rev-a")
		if str(replay.body, "id") != str(r1.body, "id") {
			t.Fatalf("replay answered another entry: %s", replay.raw)
		}
		if p := e.must(422, "POST", "/v1/entries/"+entryID+"/reverse", w, map[string]any{"amount": 16, "reason": "too much"}); str(p.body, "code") != "invalid_amount" {
			t.Fatalf("over-reversal: %s", p.raw)
		}
		e.must(201, "POST", "/v1/entries/"+entryID+"/reverse", w, map[string]any{"reason": "the rest"})
		if e.available("carl") != 100 {
			t.Fatalf("available %d after reversing the whole charge, want 100", e.available("carl"))
		}
		e.must(404, "POST", "/v1/entries/ent_nope/reverse", w, map[string]any{"reason": "x"})
		e.must(403, "POST", "/v1/entries/"+entryID+"/reverse", rd, map[string]any{"reason": "x"})

		// Move the expiry, then remove it.
		later := time.Now().UTC().Add(90 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
		moved := e.must(200, "PATCH", "/v1/grants/"+grantID, w, map[string]any{"expires_at": later, "reason": "goodwill"})
		if str(moved.body, "expires_at") != later {
			t.Fatalf("moved expiry: %s", moved.raw)
		}
		e.must(422, "PATCH", "/v1/grants/"+grantID, w, map[string]any{"reason": "nothing to change"})
		never := e.must(200, "PATCH", "/v1/grants/"+grantID, w, map[string]any{"never_expires": true})
		if never.body["expires_at"] != nil {
			t.Fatalf("expiry not removed: %s", never.raw)
		}

		// Void part, then all; a second void is 409 grant_not_active.
		v := e.must(200, "POST", "/v1/grants/"+grantID+"/void", w, map[string]any{"amount": 30, "reason": "oops"})
		if num(v.body, "amount") != -30 || e.available("carl") != 70 {
			t.Fatalf("partial void: %s (available %d)", v.raw, e.available("carl"))
		}
		e.must(200, "POST", "/v1/grants/"+grantID+"/void", w, nil)
		if p := e.must(409, "POST", "/v1/grants/"+grantID+"/void", w, nil); str(p.body, "code") != "grant_not_active" {
			t.Fatalf("second void: %s", p.raw)
		}
		if p := e.must(409, "PATCH", "/v1/grants/"+grantID, w, map[string]any{"never_expires": true}); str(p.body, "code") != "grant_not_active" {
			t.Fatalf("patch of a voided grant: %s", p.raw)
		}
	})
}

// A wallet's own thresholds over HTTP.
func TestBalanceAlertsEndpoints(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		e.must(422, "PUT", "/v1/customers/dora/balance-alerts", e.write, map[string]any{"thresholds": []any{map[string]any{"percent": 150}}})
		set := e.must(200, "PUT", "/v1/customers/dora/balance-alerts", e.write, map[string]any{"thresholds": []any{map[string]any{"amount": 40}, map[string]any{"percent": 10}}})
		if th, _ := set.body["thresholds"].([]any); len(th) != 2 {
			t.Fatalf("set: %s", set.raw)
		}
		e.must(201, "POST", "/v1/customers/dora/grants", e.write, map[string]any{"amount": 50})
		e.must(200, "POST", "/v1/customers/dora/spend", e.write, map[string]any{"amount": 20, "reason": "call"})
		got := e.must(200, "GET", "/v1/customers/dora/balance-alerts", e.read, nil)
		if low, _ := got.body["low"].([]any); len(low) != 1 || low[0].(float64) != 40 {
			t.Fatalf("alert state after crossing 40: %s", got.raw)
		}
	})
}

// An explicit TTL of zero is refused like any other out-of-range TTL; only a
// missing TTL means the default.
func TestHoldTTLOutOfRange(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/ttl.db", nil)
	e.must(201, "POST", "/v1/customers/eva/grants", e.write, map[string]any{"amount": 100})
	for _, ttl := range []string{"0s", "-1m", "500ms", "8d"} {
		p := e.must(422, "POST", "/v1/customers/eva/holds", e.write, map[string]any{"amount": 5, "ttl": ttl})
		if str(p.body, "code") != "invalid_request" {
			t.Fatalf("ttl %s: %s", ttl, p.raw)
		}
	}
	h := e.must(201, "POST", "/v1/customers/eva/holds", e.write, map[string]any{"amount": 5})
	created, _ := time.Parse(time.RFC3339Nano, str(h.body, "created_at"))
	expires, _ := time.Parse(time.RFC3339Nano, str(h.body, "expires_at"))
	if expires.Sub(created) != 10*time.Minute {
		t.Fatalf("default ttl: %s", h.raw)
	}
	if e.available("eva") != 95 {
		t.Fatalf("available %d: refused holds must hold nothing", e.available("eva"))
	}
}

// The request that once crashed the server: an effective time at the end
// of year 9999 with a day of expiry is refused with 422 before it is
// queued, and the next spend goes through.
func TestInstantPastTheHorizonOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 10})
		p := e.must(422, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 1, "effective_at": "9999-12-31T23:59:59Z", "expires_in": "1d"})
		if str(p.body, "code") != "invalid_request" {
			t.Fatalf("far-future grant: %s", p.raw)
		}
		e.must(200, "POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "send_email"})
		if e.available("alice") != 9 {
			t.Fatalf("available %d, want 9", e.available("alice"))
		}
	})
}
