package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/audit"
)

// TestAuditCLIFillsCustomerAndTarget: the CLI's audit rows on the database
// carry the ID the command made (grant.create's grant) and the customer of
// what it acted on (a voided or updated grant's, a reversed entry's, a
// captured or released hold's), so `creditkit audit --customer carol`
// finds every admin write on carol's objects; a failed void of carol's
// grant is filed under carol too.
func TestAuditCLIFillsCustomerAndTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.grant(t, "carol", "100")
	b.grant(t, "dan", "50")
	var spend, h1, h2 struct{ ID string }
	b.okJSON(t, &spend, "spend", "carol", "send_email")
	b.okJSON(t, &h1, "hold", "carol", "send_email")
	b.okJSON(t, &h2, "hold", "carol", "send_email")
	b.ok(t, "void", g.ID, "--amount", "5", "--reason", "over-issued")
	b.ok(t, "reverse", spend.ID, "--reason", "refund")
	b.ok(t, "expiry", g.ID, "--never")
	b.ok(t, "capture", h1.ID)
	b.ok(t, "release", h2.ID)
	b.fail(t, ExitError, "void", g.ID, "--amount", "100000")

	var rs []*audit.Record
	b.okJSON(t, &rs, "audit", "--customer", "carol")
	want := []struct{ action, target, outcome string }{
		{audit.ActionGrantVoid, g.ID, "insufficient_balance"},
		{audit.ActionHoldRelease, h2.ID, "ok"},
		{audit.ActionHoldCapture, h1.ID, "ok"},
		{"grant.update", g.ID, "ok"},
		{"entry.reverse", spend.ID, "ok"},
		{audit.ActionGrantVoid, g.ID, "ok"},
		{audit.ActionGrantCreate, g.ID, "ok"},
	}
	if len(rs) != len(want) {
		t.Fatalf("carol's records = %d, want %d: %+v", len(rs), len(want), rs)
	}
	for i, w := range want {
		r := rs[i]
		if r.Action != w.action || r.Target != w.target || r.Customer != "carol" || (w.outcome == "ok") != (r.Outcome == "ok") {
			t.Errorf("record %d = %+v, want %+v on carol", i, r, w)
		}
	}
	if rs[5].Details["result_id"] == nil || rs[4].Details["result_id"] == nil {
		t.Errorf("void and reverse records lack the entry they made: %v, %v", rs[5].Details, rs[4].Details)
	}
}

// TestAuditCLIFailureReported: when the audit insert fails (a trigger
// refuses it), the command's write stands, a warning names the action and
// its target, and the error log line is the API's, with every field.
func TestAuditCLIFailureReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.grant(t, "carol", "100")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER block_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'blocked'); END;`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := b.run(t, "void", g.ID, "--reason", "duplicate")
	if r.code != ExitOK {
		t.Fatalf("void with a failing audit log: exit %d\n%s", r.code, r.stderr)
	}
	for _, s := range []string{
		"warning: the audit log did not record grant.void " + g.ID,
		`msg="` + audit.FailureMessage + `"`, "blocked", "actor_kind=cli", "action=grant.void", "customer=carol",
		"target=" + g.ID, "reason=duplicate", "outcome=ok", "details=", "result_id",
	} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
	if got := b.balance(t, "carol", "").Available; got != 0 {
		t.Errorf("carol has %d after the void, want 0: the write stands", got)
	}
}
