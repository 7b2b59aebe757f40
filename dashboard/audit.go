package dashboard

import (
	"context"
	"net/http"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
)

// Auditor records the dashboard's actions and lists the audit log;
// *audit.Log is one.
type Auditor interface {
	// Record appends one record.
	Record(ctx context.Context, r audit.Record) (*audit.Record, error)
	// List lists records newest first, with the next page's cursor.
	List(ctx context.Context, f audit.Filter) ([]*audit.Record, string, error)
}

// defaultAuditor is the audit log of the ledger's store, or nil when the
// store keeps none.
func defaultAuditor(l *creditkit.Ledger) Auditor {
	lg, err := audit.Of(l.Store(), l.Now)
	if err != nil {
		return nil
	}
	return lg
}

// Audit actions of the dashboard: the audit package's names, and for the
// others the names the HTTP API gives the same calls (derived from their
// operation IDs).
const (
	actionGrant   = audit.ActionGrantCreate
	actionVoid    = audit.ActionGrantVoid
	actionAdjust  = audit.ActionCreditsAdjust
	actionPlan    = audit.ActionSubscriptionChange
	actionReverse = "entry.reverse"
	actionToken   = "customer_token.create"
	actionReplay  = "webhook_delivery.replay"
)

// actionRecord is what an action tells the audit log.
type actionRecord struct {
	Action   string
	Customer string
	Target   string
	Reason   string
	// ResultID is the ID of what the action made (a grant, an entry, a
	// subscription), recorded in the details as result_id, as the HTTP
	// API records it.
	ResultID string
	// Idem is the form's idempotency key.
	Idem string
	// Err is the action's error, nil when it succeeded.
	Err error
	// Outcome, when set, is the outcome recorded whatever Err is (such as
	// "forbidden").
	Outcome string
	Details map[string]any
}

// record appends an action to the audit log, with the signed-in user as
// its actor and the outcome (ok, or the error's code). A failure to record
// is reported as the API reports its own (audit.ReportFailure: the same
// error log line, counted in the server's creditkit_audit_failures_total
// when the auditor is the server's audit log), not shown: the ledger entry
// the action wrote carries the actor too. A form mistake (errForm) moved nothing and is not recorded.
func (h *Handler) record(ctx context.Context, w http.ResponseWriter, u *user, a actionRecord) {
	if h.audit == nil || isFormErr(a.Err) {
		return
	}
	outcome := audit.OutcomeOK
	if a.Err != nil {
		outcome = string(creditkit.ErrorCodeOf(a.Err))
		if outcome == "" {
			outcome = string(creditkit.CodeInternal)
		}
	}
	if a.Outcome != "" {
		outcome = a.Outcome
	}
	if a.ResultID != "" || a.Idem != "" {
		if a.Details == nil {
			a.Details = map[string]any{}
		}
		if a.ResultID != "" {
			a.Details["result_id"] = a.ResultID
		}
		if a.Idem != "" {
			a.Details["idempotency_key"] = a.Idem
		}
	}
	rec := audit.Record{ActorKind: audit.ActorDashboard, ActorID: u.KeyID, ActorName: u.KeyName,
		RequestID: requestID(w), Action: a.Action, Customer: a.Customer, Target: a.Target, Reason: a.Reason, Outcome: outcome, Details: a.Details}
	if _, err := h.audit.Record(context.WithoutCancel(ctx), rec); err != nil {
		var failures audit.Counter
		if c, ok := h.audit.(interface{ Failures() audit.Counter }); ok {
			failures = c.Failures() // in serve: creditkit_audit_failures_total
		}
		audit.ReportFailure(ctx, h.log, failures, rec, err)
	}
}

// OutcomeForbidden is the outcome of an action the session's key may not
// do, as the HTTP API records a call refused for its key's scope.
const OutcomeForbidden = "forbidden"

// actionsByRoute are the dashboard's actions by their route pattern, for
// recording a refused one.
var actionsByRoute = map[string]string{
	"POST " + Path + "/customers/{customer}/grant":   actionGrant,
	"POST " + Path + "/customers/{customer}/void":    actionVoid,
	"POST " + Path + "/customers/{customer}/adjust":  actionAdjust,
	"POST " + Path + "/customers/{customer}/reverse": actionReverse,
	"POST " + Path + "/customers/{customer}/plan":    actionPlan,
	"POST " + Path + "/customers/{customer}/token":   actionToken,
	"POST " + Path + "/webhooks/{delivery}/replay":   actionReplay,
}

// recordForbidden records an action the session's key may not do (a form
// posted by hand from a read-only session, with its valid CSRF token), with
// outcome forbidden, as the API records a key's refused call: someone
// signed in with a valid key tried. Nothing moved. A post with a bad CSRF
// token is not recorded: it may come from another site, not the user.
func (h *Handler) recordForbidden(w http.ResponseWriter, r *http.Request, u *user) {
	action, ok := actionsByRoute[r.Pattern]
	if !ok {
		return
	}
	a := actionRecord{Action: action, Customer: r.PathValue("customer"), Target: r.PathValue("delivery"),
		Reason: r.PostFormValue("reason"), Idem: r.PostFormValue("idem"), Outcome: OutcomeForbidden,
		Details: map[string]any{"method": r.Method, "path": r.URL.Path, "scope": u.Scope}}
	for _, field := range []string{"grant", "entry"} {
		if v := r.PostFormValue(field); v != "" && a.Target == "" {
			a.Target = v
		}
	}
	if v := r.PostFormValue("plan"); v != "" {
		a.Details["plan"] = v
	}
	if v := r.PostFormValue("amount"); v != "" {
		a.Details["amount"] = v
	}
	if !creditkit.IsText(a.Customer + a.Target + a.Reason + a.Idem) {
		a.Customer, a.Target, a.Reason, a.Idem = "", "", "", "" // not text a database keeps
	}
	h.record(r.Context(), w, u, a)
}

// actor is what the ledger records as the actor of a dashboard action.
func (u *user) actor() string { return "dashboard:" + u.KeyID }
