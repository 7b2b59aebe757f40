package postgres

import (
	"strings"
	"testing"

	"github.com/creditkit/creditkit/store"
)

// The audit log is append-only at the database level too: even raw SQL
// cannot change, delete or truncate a row.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	s := setup(t)
	if err := s.AppendAudit(t.Context(), &store.AuditRow{ID: "aud_1", At: t0, ActorKind: "cli", Action: "api_key.create",
		Reason: "onboarding", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"UPDATE audit_log SET reason = 'nothing to see'",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
	} {
		if err := exec(t, s, sql); err == nil || !strings.Contains(err.Error(), "audit log rows are append-only") {
			t.Errorf("%s: err = %v, want audit log rows are append-only", sql, err)
		}
	}
	rows, err := s.AuditRows(t.Context(), store.AuditQuery{})
	if err != nil || len(rows) != 1 || rows[0].Reason != "onboarding" {
		t.Fatalf("rows after the attempts: %+v, %v", rows, err)
	}
}
