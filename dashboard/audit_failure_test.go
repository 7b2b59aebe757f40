package dashboard_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/dashboard"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
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
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "creditkit.db")
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	clock := creditkit.NewManualClock(time.Now().UTC().Truncate(time.Second))
	cfg.Clock = clock
	l, err := creditkit.Open(ctx, "sqlite:"+path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	reg := httpapi.NewRegistry()
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1, Registry: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h, err := dashboard.New(ctx, l, &dashboard.Options{KeyCacheTTL: -1, Audit: srv.AuditLog(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(dashboard.Path+"/", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, testGrace) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	})
	e := &env{t: t, l: l, st: l.Store().(store.ServerStore), clock: clock, base: "http://" + ln.Addr().String()}
	_, e.admin = e.key("Ada Admin", store.ScopeAdmin)
	if _, err := l.Grant(ctx, "alice", 100, &creditkit.GrantOpts{Actor: "seed"}); err != nil {
		t.Fatal(err)
	}
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
	if got := e.available("alice"); got != 125 {
		t.Fatalf("alice has %d, want 125: the grant stands", got)
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
