package dashboard_test

import (
	"bytes"
	"database/sql"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/httpapi"
)

// lockedBuffer is a log sink the server's goroutines write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDashboardAuditFailureReported: mounted in the server as serve mounts
// it (recording into srv.AuditLog()), a dashboard action whose audit row
// cannot be written (a trigger refuses the insert) still happens, is
// counted in creditkit_audit_failures_total and logged with the API's
// message and every field of the lost row.
func TestDashboardAuditFailureReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creditkit.db")
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	reg := httpapi.NewRegistry()
	e := newEnvWith(t, "sqlite:"+path, &httpapi.Options{Registry: reg, Logger: logger})
	before := e.available("alice")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER block_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'blocked'); END;`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	c := e.client()
	csrf := c.signIn(e.admin)
	p := c.post("/dashboard/customers/alice/grant", url.Values{"amount": {"25"}, "category": {"goodwill"}, "reason": {"outage"}, "idem": {idem(t, 1)}}, csrf)
	p.mustContain(t, "Granted 25 credits")
	if got := e.available("alice"); got != before+25 {
		t.Fatalf("alice has %d, want %d: the grant stands", got, before+25)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	failures := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "creditkit_audit_failures_total" {
			failures = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if failures != 1 {
		t.Errorf("creditkit_audit_failures_total = %v, want 1", failures)
	}
	out := logs.String()
	for _, s := range []string{`"msg":"` + audit.FailureMessage + `"`, `"actor_kind":"dashboard"`, `"action":"grant.create"`,
		`"customer":"alice"`, `"reason":"outage"`, `"outcome":"ok"`, `"details":"{`, `blocked`} {
		if !strings.Contains(out, s) {
			t.Errorf("log lacks %s:\n%s", s, out)
		}
	}
}
