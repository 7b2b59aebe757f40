package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
)

func TestAuditStore(t *testing.T) {
	storetest.RunAudit(t, openStore)
}

// The audit log is append-only at the database level too: even raw SQL
// cannot change or delete a row.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.AppendAudit(context.Background(), &store.AuditRow{ID: "aud_1", At: time.Unix(1, 0), ActorKind: "cli", Action: "api_key.create",
		Reason: "onboarding", Outcome: "ok"})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`UPDATE audit_log SET reason = 'nothing to see'`, `DELETE FROM audit_log`} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	var reason string
	if err := db.QueryRow(`SELECT reason FROM audit_log WHERE id = 'aud_1'`).Scan(&reason); err != nil || reason != "onboarding" {
		t.Fatalf("row after refused writes: reason %q, err %v", reason, err)
	}
}
