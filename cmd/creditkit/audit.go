package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"reflect"
	"time"

	"github.com/alecthomas/kong"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/store"
)

// AuditCmd lists the audit log: who did which admin action, when, on what,
// why, and how it ended. It reads --db, or --server's GET /v1/audit.
type AuditCmd struct {
	Actor    string `name:"actor" placeholder:"KEY" help:"Only actions of this API key (its ID, key_..., or its name), or of this CLI user."`
	Action   string `name:"action" placeholder:"ACTION" help:"Only this action, such as grant.void; grant.* selects every grant action."`
	Customer string `name:"customer" placeholder:"ID" help:"Only actions concerning this customer."`
	From     string `name:"from" placeholder:"TIME" help:"Only actions at or after this time (RFC 3339 or a date)."`
	To       string `name:"to" placeholder:"TIME" help:"Only actions before this time (RFC 3339 or a date)."`
	Limit    int    `name:"limit" placeholder:"N" help:"List at most N actions (default 100, at most 1000)."`
	After    string `name:"after" placeholder:"ID" help:"Continue after this audit record ID (the last of the previous page)."`
}

// Run lists the audit log, newest first.
func (c *AuditCmd) Run(s *session) error {
	from, err := parseTime("from", c.From)
	if err != nil {
		return err
	}
	to, err := parseTime("to", c.To)
	if err != nil {
		return err
	}
	f := audit.Filter{Actor: c.Actor, Action: c.Action, Customer: c.Customer, From: from, To: to, After: c.After, Limit: c.Limit}
	list := func(rs []*audit.Record, next string) error {
		if rs == nil {
			rs = []*audit.Record{}
		}
		return s.output(rs, func(w io.Writer) { printAudit(w, rs, next) })
	}
	if s.isRemote() {
		cl, err := s.client()
		if err != nil {
			return err
		}
		rs, next, err := cl.Audit(s.ctx, f)
		if err != nil {
			return err
		}
		return list(rs, next)
	}
	return s.withLedger(func(l *creditkit.Ledger) error {
		log, err := audit.Of(l.Store(), l.Now)
		if err != nil {
			return err
		}
		rs, next, err := log.List(s.ctx, f)
		if err != nil {
			return err
		}
		return list(rs, next)
	})
}

// printAudit prints audit records as a table.
func printAudit(w io.Writer, rs []*audit.Record, next string) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "no audit records")
		return
	}
	t := newTable(w)
	t.row("AT", "ACTOR", "ACTION", "CUSTOMER", "TARGET", "OUTCOME", "REASON", "REQUEST")
	for _, r := range rs {
		t.row(fmtTime(r.At), auditActor(r), r.Action, orDash(r.Customer), orDash(r.Target), r.Outcome, orDash(r.Reason), orDash(r.RequestID))
	}
	t.flush()
	if next != "" {
		fmt.Fprintf(w, "more: add --after %s\n", next)
	}
}

// auditActor names who acted: "ops laptop (key_...)", "cli:alice".
func auditActor(r *audit.Record) string {
	switch {
	case r.ActorName != "" && r.ActorID != "":
		return r.ActorName + " (" + r.ActorID + ")"
	case r.ActorID != "":
		return r.ActorKind + ":" + r.ActorID
	}
	return r.ActorKind
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliUser names who runs the CLI, for its audit records: the operating
// system user, or "unknown".
func cliUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return "unknown"
}

// recordCLI records an admin action this command did on the database
// (actor kind cli, the operating system user as actor), with err's code
// as its outcome when it failed. The action is done by then: when the
// audit log cannot record it, a warning says so on stderr and the command
// still reports what it did, so that nobody repeats it.
func (s *session) recordCLI(l *creditkit.Ledger, r audit.Record, err error) {
	r.ActorKind, r.ActorID = audit.ActorCLI, cliUser()
	if err != nil {
		r.Outcome = string(creditkit.ErrorCodeOf(err))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer cancel()
	log, lerr := audit.Of(l.Store(), l.Now)
	if lerr == nil {
		_, lerr = log.RecordOrReport(ctx, s.logger, r)
	} else {
		audit.ReportFailure(ctx, s.logger, nil, r, lerr)
	}
	if lerr != nil {
		what := r.Action
		for _, w := range []string{r.Target, r.Customer} {
			if w != "" {
				what += " " + w
				break
			}
		}
		fmt.Fprintf(s.stderr, "warning: the audit log did not record %s: %v\n", what, lerr)
	}
}

// reasonFlag is the --reason of the admin commands the audit log records.
type reasonFlag struct {
	Reason string `name:"reason" placeholder:"TEXT" help:"Why, for the audit log."`
}

// keyID is a created key's ID, or "" when it was not created.
func keyID(k *store.APIKey) string {
	if k == nil {
		return ""
	}
	return k.ID
}

// commandOf returns the command kong selected (a pointer to its struct),
// for the audit log, or nil.
func commandOf(kctx *kong.Context) any {
	n := kctx.Selected()
	if n == nil || !n.Target.IsValid() {
		return nil
	}
	if n.Target.Kind() == reflect.Pointer {
		return n.Target.Interface()
	}
	if n.Target.CanAddr() {
		return n.Target.Addr().Interface()
	}
	return nil
}

// commandAudit returns the audit record of an admin write the command does
// on the database, and false for any other command: reads, usage (spend,
// hold), and the commands that record themselves (keys, webhooks replay).
// On --server the server records the call with the API key instead.
func commandAudit(cmd any) (audit.Record, bool) {
	switch c := cmd.(type) {
	case *GrantCmd:
		return audit.Record{Action: audit.ActionGrantCreate, Customer: c.Customer, Reason: c.Reason,
			Details: map[string]any{"amount": c.Amount, "currency": c.Currency}}, true
	case *VoidCmd:
		return audit.Record{Action: audit.ActionGrantVoid, Target: c.GrantID, Reason: c.Reason, Details: map[string]any{"amount": c.Amount}}, true
	case *DebitCmd:
		return audit.Record{Action: "credits.debit", Customer: c.Customer, Reason: c.Reason,
			Details: map[string]any{"amount": c.Amount, "currency": c.Currency}}, true
	case *ReverseCmd:
		return audit.Record{Action: "entry.reverse", Target: c.EntryID, Reason: c.Reason}, true
	case *ExpiryCmd:
		return audit.Record{Action: "grant.update", Target: c.GrantID, Reason: c.Reason}, true
	case *AlertsCmd:
		return audit.Record{Action: "balance_alerts.set", Customer: c.Customer,
			Details: map[string]any{"thresholds": c.Thresholds, "clear": c.Clear}}, len(c.Thresholds) > 0 || c.Clear
	case *TransferCmd:
		return audit.Record{Action: "credits.transfer", Customer: c.From, Target: c.To, Details: map[string]any{"amount": c.Amount}}, true
	case *CaptureCmd:
		return audit.Record{Action: audit.ActionHoldCapture, Target: c.HoldID, Details: map[string]any{"amount": c.Amount}}, true
	case *ReleaseCmd:
		return audit.Record{Action: audit.ActionHoldRelease, Target: c.HoldID}, true
	case *RunDueCmd:
		return audit.Record{Action: "admin.run_due"}, true
	case *CustomersCreateCmd:
		return audit.Record{Action: audit.ActionCustomerCreate, Customer: c.ID, Target: c.ID}, true
	case *SubscriptionStartCmd:
		return audit.Record{Action: audit.ActionSubscriptionChange, Customer: c.Customer, Details: map[string]any{"plan": c.Plan}}, true
	case *SubscriptionChangeCmd:
		return audit.Record{Action: audit.ActionSubscriptionChange, Customer: c.Customer, Details: map[string]any{"plan": c.Plan}}, true
	case *SubscriptionCancelCmd:
		return audit.Record{Action: "subscription.cancel", Customer: c.Customer, Details: map[string]any{"at_period_end": c.AtPeriodEnd}}, true
	case *SubscriptionPauseCmd:
		return audit.Record{Action: "subscription.pause", Customer: c.Customer}, true
	case *SubscriptionResumeCmd:
		return audit.Record{Action: "subscription.resume", Customer: c.Customer}, true
	case *OverageCmd:
		return audit.Record{Action: "overage.set", Customer: c.Customer, Details: map[string]any{"limit": c.Limit}}, c.Limit != ""
	case *SettleCmd:
		return audit.Record{Action: "debt.settle", Customer: c.Customer, Details: map[string]any{"price": c.Price, "at": c.At}}, true
	case *PurchaseCmd:
		return audit.Record{Action: "purchase.create", Customer: c.Customer, Target: c.Provider + "/" + c.ExternalID,
			Details: map[string]any{"pack": c.Pack, "credits": c.Credits, "amount_paid": c.AmountPaid, "currency": c.Currency}}, true
	case *RefundCmd:
		return audit.Record{Action: "purchase.refund", Target: c.Provider + "/" + c.ExternalID, Reason: c.Reason,
			Details: map[string]any{"refunded_total": c.RefundedTotal, "refund_id": c.RefundID}}, true
	case *TopUpSetCmd:
		return audit.Record{Action: "auto_topup.put", Customer: c.Customer,
			Details: map[string]any{"threshold": c.Threshold, "pack": c.Pack, "target": c.Target}}, true
	case *TopUpOffCmd:
		return audit.Record{Action: "auto_topup.delete", Customer: c.Customer}, true
	}
	return audit.Record{}, false
}

// recordCommand records the command's admin write, once, on the ledger it
// opened, with err as its outcome. withLedger calls it before it closes
// the ledger.
func (s *session) recordCommand(l *creditkit.Ledger, err error) {
	if s.commandRecorded || s.isRemote() {
		return
	}
	r, ok := commandAudit(s.command)
	if !ok {
		return
	}
	s.commandRecorded = true
	s.fillFromResult(l, &r)
	s.recordCLI(l, r, err)
}

// fillFromResult completes a command's audit record from what the command
// did, as the API's record is completed from its answer: the target is
// the ID of what the command made (a grant.create's grant) when the
// command names none, else that ID is the details' result_id; the
// customer is the customer of what it acted on (a voided grant's, a
// captured hold's, a reversed entry's). A command that failed printed
// nothing: the customer of the grant or hold it names is looked up.
func (s *session) fillFromResult(l *creditkit.Ledger, r *audit.Record) {
	id, customer := resultIDs(s.result)
	if r.Customer == "" {
		r.Customer = customer
	}
	switch {
	case id == "" || id == r.Target:
	case r.Target == "":
		r.Target = id
	default:
		if r.Details == nil {
			r.Details = map[string]any{}
		}
		r.Details["result_id"] = id
	}
	if r.Customer != "" || r.Target == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer cancel()
	switch r.Action {
	case audit.ActionGrantVoid, "grant.update":
		if g, err := l.GetGrant(ctx, r.Target); err == nil && g != nil {
			r.Customer = g.Customer
		}
	case audit.ActionHoldCapture, audit.ActionHoldRelease:
		if h, err := l.GetHold(ctx, r.Target); err == nil && h != nil {
			r.Customer = h.Customer
		}
	}
}

// resultIDs returns the ID and Customer fields of what a command printed
// (a grant, an entry, a hold, a subscription), or "" for each it lacks.
func resultIDs(v any) (id, customer string) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return "", ""
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return "", ""
	}
	field := func(name string) string {
		if f := rv.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	return field("ID"), field("Customer")
}
