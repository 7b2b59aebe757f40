package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/creditkit/creditkit"
)

// Auditor records the dashboard's actions and lists the audit log.
type Auditor interface {
	// RecordAction appends one record.
	RecordAction(ctx context.Context, r AuditRecord) error
	// ListActions lists records newest first, with the next page's cursor.
	ListActions(ctx context.Context, f AuditFilter) ([]AuditRecord, string, error)
}

// AuditRecord is one audit log row as the dashboard shows it.
type AuditRecord struct {
	ID        string
	At        time.Time
	ActorKind string
	ActorID   string
	ActorName string
	RequestID string
	Action    string
	Customer  string
	Target    string
	Reason    string
	Outcome   string
	Details   map[string]any
}

// AuditFilter selects audit records.
type AuditFilter struct {
	Actor, Action, Customer string
	From, To                time.Time
	After                   string
	Limit                   int
}

// defaultAuditor is the audit log of the ledger's store, or nil.
func defaultAuditor(l *creditkit.Ledger) Auditor { return nil }

// actionRecord is what an action tells the audit log.
type actionRecord struct {
	Action   string
	Customer string
	Target   string
	Reason   string
	// Err is the action's error, nil when it succeeded.
	Err     error
	Details map[string]any
}

// record appends an action to the audit log, with the signed-in user as
// its actor. A failure to record is logged, not shown: the ledger entry the
// action wrote carries the actor too.
func (h *Handler) record(ctx context.Context, w http.ResponseWriter, u *user, a actionRecord) {
	if h.audit == nil {
		return
	}
	outcome := "ok"
	if a.Err != nil {
		outcome = string(creditkit.ErrorCodeOf(a.Err))
		if outcome == "" {
			outcome = string(creditkit.CodeInternal)
		}
	}
	err := h.audit.RecordAction(context.WithoutCancel(ctx), AuditRecord{ActorKind: "dashboard", ActorID: u.KeyID, ActorName: u.KeyName,
		RequestID: requestID(w), Action: a.Action, Customer: a.Customer, Target: a.Target, Reason: a.Reason, Outcome: outcome, Details: a.Details})
	if err != nil {
		h.log.Error("dashboard: the audit log did not record an action", "action", a.Action, "customer", a.Customer,
			"target", a.Target, "actor", u.KeyID, "request_id", requestID(w), "err", err)
	}
}

// actor is what the ledger records as the actor of a dashboard action.
func (u *user) actor() string { return "dashboard:" + u.KeyID }
