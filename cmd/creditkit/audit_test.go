package main

import (
	"strings"
	"testing"

	"github.com/creditkit/creditkit/audit"
)

// TestAuditCLI: keys create and revoke (and a failed revoke) on the
// database land in the audit log as the CLI user, with the reason given;
// `creditkit audit` lists them newest first, as a table or JSON, with
// filters and paging.
func TestAuditCLI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var key keyJSON
	b.okJSON(t, &key, "keys", "create", "--name", "ops", "--scope", "admin", "--reason", "on-call rotation")
	b.ok(t, "keys", "revoke", key.ID, "--reason", "leaked in a log")
	b.fail(t, ExitError, "keys", "revoke", "key_nope")
	b.ok(t, "keys", "rotate-token-key")

	var rs []*audit.Record
	b.okJSON(t, &rs, "audit")
	if len(rs) != 4 {
		t.Fatalf("audit records = %d, want 4: %+v", len(rs), rs)
	}
	want := []struct{ action, target, reason, outcome string }{
		{audit.ActionTokenKeyRotate, "", "", "ok"},
		{audit.ActionAPIKeyRevoke, "key_nope", "", "not_found"},
		{audit.ActionAPIKeyRevoke, key.ID, "leaked in a log", "ok"},
		{audit.ActionAPIKeyCreate, key.ID, "on-call rotation", "ok"},
	}
	for i, w := range want {
		r := rs[i]
		if r.Action != w.action || r.Target != w.target || r.Reason != w.reason || r.Outcome != w.outcome || r.ActorKind != audit.ActorCLI || r.ActorID == "" {
			t.Errorf("record %d = %+v, want %+v by the CLI user", i, r, w)
		}
	}
	if rs[3].Details["scope"] != "admin" || rs[3].Details["name"] != "ops" {
		t.Errorf("create details = %v", rs[3].Details)
	}

	// Filters and paging.
	b.okJSON(t, &rs, "audit", "--action", "api_key.*", "--limit", "2")
	if len(rs) != 2 || rs[0].Target != "key_nope" {
		t.Fatalf("page 1 = %+v", rs)
	}
	out := b.ok(t, "audit", "--action", "api_key.*", "--limit", "2")
	if !strings.Contains(out, "more: add --after "+rs[1].ID) {
		t.Errorf("table without the next page hint:\n%s", out)
	}
	b.okJSON(t, &rs, "audit", "--action", "api_key.*", "--limit", "2", "--after", rs[1].ID)
	if len(rs) != 1 || rs[0].Action != audit.ActionAPIKeyCreate {
		t.Fatalf("page 2 = %+v", rs)
	}
	b.okJSON(t, &rs, "audit", "--customer", "alice")
	if len(rs) != 0 {
		t.Errorf("customer filter: %+v", rs)
	}
	b.okJSON(t, &rs, "audit", "--from", "2999-01-01")
	if len(rs) != 0 {
		t.Errorf("from filter: %+v", rs)
	}
	if e := b.fail(t, ExitError, "audit", "--from", "soon"); e.Code != "invalid_request" {
		t.Errorf("bad --from: %+v", e)
	}

	out = b.ok(t, "audit")
	for _, s := range []string{"ACTION", "api_key.revoke", "leaked in a log", "not_found", "cli:"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

// TestAuditCLIOnServer: `creditkit audit --server` reads GET /v1/audit,
// where the server recorded the CLI's grant with the key's name.
func TestAuditCLIOnServer(t *testing.T) {
	t.Parallel()
	w := newRemoteWorld(t)
	if r := w.run(t, w.write, "grant", "alice", "10"); r.code != ExitOK {
		t.Fatalf("grant: %s", r.stderr)
	}
	r := w.run(t, w.read, "--json", "audit", "--customer", "alice")
	if r.code != ExitOK || !strings.Contains(r.stdout, `"action": "grant.create"`) || !strings.Contains(r.stdout, `"actor_name": "cli test write"`) {
		t.Fatalf("audit --server: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = w.run(t, w.read, "audit")
	if r.code != ExitOK || !strings.Contains(r.stdout, "cli test write (key_") || strings.Count(r.stdout, "grant.create") != 1 {
		t.Fatalf("audit --server table (want one grant.create): exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestAuditCLILedgerWrites: admin writes on the database (grant, void,
// transfer, run-due) are recorded as the CLI user, a failed void with its
// error code; reads and spends are not.
func TestAuditCLILedgerWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var g struct{ ID string }
	b.okJSON(t, &g, "grant", "alice", "100", "--reason", "signup_bonus")
	b.ok(t, "void", g.ID, "--amount", "10", "--reason", "over-issued")
	b.fail(t, ExitError, "void", "grt_nope")
	b.ok(t, "spend", "alice", "send_email")
	b.ok(t, "balance", "alice")
	b.ok(t, "transfer", "alice", "bob", "5")
	b.ok(t, "alerts", "alice")
	b.ok(t, "run-due")
	b.ok(t, "purchase", "carol", "starter", "--external-id", "inv_1")
	b.ok(t, "refund", "inv_1", "100", "--reason", "goodwill")
	b.ok(t, "topup", "set", "carol", "--threshold", "10", "--pack", "starter")
	b.ok(t, "topup", "off", "carol")

	var rs []*audit.Record
	b.okJSON(t, &rs, "audit")
	want := []struct{ action, customer, target, reason, outcome string }{
		{"auto_topup.delete", "carol", "", "", "ok"},
		{"auto_topup.put", "carol", "", "", "ok"},
		{"purchase.refund", "", "manual/inv_1", "goodwill", "ok"},
		{"purchase.create", "carol", "manual/inv_1", "", "ok"},
		{"admin.run_due", "", "", "", "ok"},
		{"credits.transfer", "alice", "bob", "", "ok"},
		{audit.ActionGrantVoid, "", "grt_nope", "", "not_found"},
		{audit.ActionGrantVoid, "alice", g.ID, "over-issued", "ok"},
		{audit.ActionGrantCreate, "alice", g.ID, "signup_bonus", "ok"},
	}
	if len(rs) != len(want) {
		t.Fatalf("records = %d, want %d: %+v", len(rs), len(want), rs)
	}
	for i, w := range want {
		r := rs[i]
		if r.Action != w.action || r.Customer != w.customer || r.Target != w.target || r.Reason != w.reason || r.Outcome != w.outcome || r.ActorKind != audit.ActorCLI {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}
}
