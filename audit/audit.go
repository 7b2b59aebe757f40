// Package audit is creditkit's audit log: who did which admin action, when,
// in which request, on what, why, and how it ended. The HTTP API records
// every admin write by itself; the CLI records the key and webhook commands
// it runs on the database; the dashboard records its own actions. Rows are
// append-only, like the ledger: the database refuses to update or delete
// them.
//
// The audit log complements the ledger, it does not replace it: every
// ledger entry written through the API already carries its actor, so an
// audit row that could not be written (the log says so loudly) never hides
// who moved credits.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Actor kinds: who acted.
const (
	// ActorAPIKey is a caller of the HTTP API with an API key.
	ActorAPIKey = "api_key"
	// ActorDashboard is a user of the admin dashboard; ActorID is the key
	// the dashboard session was opened with.
	ActorDashboard = "dashboard"
	// ActorCLI is someone running creditkit on the database directly.
	ActorCLI = "cli"
	// ActorSystem is creditkit itself (the scheduler, a config reload).
	ActorSystem = "system"
)

// Actions: stable dotted names, "<object>.<verb>". The HTTP API derives the
// action of an endpoint it has no name for from its operation ID
// ("create-webhook-endpoint" is "webhook_endpoint.create"); these are the
// names every recorder shares.
const (
	ActionGrantCreate           = "grant.create"
	ActionGrantVoid             = "grant.void"
	ActionCreditsAdjust         = "credits.adjust"
	ActionHoldCapture           = "hold.capture"
	ActionHoldRelease           = "hold.release"
	ActionSubscriptionChange    = "subscription.change"
	ActionWebhookEndpointCreate = "webhook_endpoint.create"
	ActionWebhookEndpointDelete = "webhook_endpoint.delete"
	ActionAPIKeyCreate          = "api_key.create"
	ActionAPIKeyRevoke          = "api_key.revoke"
	ActionTokenKeyRotate        = "token_key.rotate"
	ActionConfigReload          = "config.reload"
	ActionCustomerCreate        = "customer.create"
)

// OutcomeOK is the Outcome of an action that succeeded; any other outcome
// is the error code it failed with (such as "not_found").
const OutcomeOK = "ok"

// Paging defaults of List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Record is one audit log row.
type Record struct {
	// ID is "aud_" and a sortable unique suffix; Record sets it.
	ID string `json:"id" doc:"aud_ and a sortable unique suffix."`
	// At is when the action happened; Record sets it from the clock when
	// zero.
	At time.Time `json:"at" doc:"When the action happened."`
	// ActorKind is ActorAPIKey, ActorDashboard, ActorCLI or ActorSystem.
	ActorKind string `json:"actor_kind" enum:"api_key,dashboard,cli,system" doc:"Who acted: an API key, a dashboard user, the CLI on the database, or creditkit itself."`
	// ActorID is the API key ID (for the dashboard: the key the session
	// was opened with; for the CLI: the operating system user).
	ActorID string `json:"actor_id,omitempty" doc:"The API key ID (the dashboard: the key its session was opened with; the CLI: the operating system user)."`
	// ActorName is the API key's name.
	ActorName string `json:"actor_name,omitempty" doc:"The API key's name."`
	// RequestID is the HTTP request's X-Request-Id, if any.
	RequestID string `json:"request_id,omitempty" doc:"The X-Request-Id of the HTTP request."`
	// Action is a stable dotted name such as "grant.void".
	Action string `json:"action" doc:"What was done, as object.verb, such as grant.void."`
	// Customer is the customer concerned, if any.
	Customer string `json:"customer,omitempty" doc:"The customer concerned, if any."`
	// Target is the object acted on: a grant, hold, endpoint or key ID.
	Target string `json:"target,omitempty" doc:"The object acted on: a grant, hold, endpoint or key ID."`
	// Reason is why, as the actor said.
	Reason string `json:"reason,omitempty" doc:"Why, as the actor said."`
	// Outcome is OutcomeOK or the error code the action failed with.
	// Record sets OutcomeOK when empty.
	Outcome string `json:"outcome" doc:"ok, or the error code the action failed with."`
	// Details are further facts (amounts, the HTTP status, the
	// idempotency key), as a JSON object.
	Details map[string]any `json:"details,omitempty" doc:"Further facts: method, path, status, idempotency key, the request body (secrets redacted), the id of what it made."`
}

// Filter selects records; empty fields select everything.
type Filter struct {
	// Actor matches the actor's ID or name exactly.
	Actor string
	// Action matches exactly; "grant.*" matches every grant action.
	Action string
	// Customer matches exactly.
	Customer string
	// From (inclusive) and To (exclusive) bound At.
	From, To time.Time
	// After is the cursor List returned with the previous page.
	After string
	// Limit is the page size: DefaultLimit when zero, at most MaxLimit.
	Limit int
}

// Log records and lists audit records on a store. It is safe for
// concurrent use.
type Log struct {
	st       store.AuditStore
	now      func() time.Time
	ids      *creditkit.IDGenerator
	failures Counter // see WithFailures; nil counts nothing
}

// New returns the audit log kept in st, stamping records with now (the
// ledger's clock: pass Ledger.Now). A nil now means time.Now.
func New(st store.AuditStore, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{st: st, now: now, ids: &creditkit.IDGenerator{}}
}

// Of returns the audit log of a store that keeps one (both creditkit stores
// do), or ErrNoAuditStore.
func Of(st any, now func() time.Time) (*Log, error) {
	as, ok := st.(store.AuditStore)
	if !ok {
		return nil, ErrNoAuditStore
	}
	return New(as, now), nil
}

// ErrNoAuditStore is returned by Of for a store that keeps no audit log.
var ErrNoAuditStore = errors.New("audit: the store does not implement store.AuditStore")

// Record appends r to the log and returns it as stored, with its ID, time
// and outcome set. It refuses a record without an action or with an
// unknown actor kind. The details are stored as Redact leaves them: no
// secret-named field and no URL beyond its scheme and host.
func (l *Log) Record(ctx context.Context, r Record) (*Record, error) {
	switch r.ActorKind {
	case ActorAPIKey, ActorDashboard, ActorCLI, ActorSystem:
	default:
		return nil, invalid("audit: actor kind must be %s, %s, %s or %s, got %q", ActorAPIKey, ActorDashboard, ActorCLI, ActorSystem, r.ActorKind)
	}
	if strings.TrimSpace(r.Action) == "" {
		return nil, invalid("audit: a record needs an action, such as %q", ActionGrantVoid)
	}
	if r.At.IsZero() {
		r.At = l.now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	if r.Outcome == "" {
		r.Outcome = OutcomeOK
	}
	r.ID = l.ids.New("aud")
	// A reason is the actor's prose: a URL in it loses what Redact drops.
	r.Reason = RedactURLsInText(r.Reason)
	details := []byte("{}")
	if len(r.Details) > 0 {
		r.Details, _ = Redact(map[string]any(r.Details)).(map[string]any)
		var err error
		if details, err = json.Marshal(r.Details); err != nil {
			return nil, fmt.Errorf("audit: encode the details of %s: %w", r.Action, err)
		}
	}
	row := &store.AuditRow{ID: r.ID, At: r.At, ActorKind: r.ActorKind, ActorID: plainText(r.ActorID), ActorName: plainText(r.ActorName),
		RequestID: plainText(r.RequestID), Action: plainText(r.Action), Customer: plainText(r.Customer), Target: plainText(r.Target),
		Reason: plainText(r.Reason), Outcome: plainText(r.Outcome), Details: plainJSON(details)}
	if err := l.st.AppendAudit(ctx, row); err != nil {
		return nil, fmt.Errorf("audit: record %s: %w", r.Action, err)
	}
	return &r, nil
}

// List returns one page of records, newest first, and the cursor of the
// next page ("" on the last page).
func (l *Log) List(ctx context.Context, f Filter) ([]*Record, string, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, "", invalid("audit: limit must not be negative, got %d", limit)
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, "", invalid("audit: from (%s) must be before to (%s)", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	if f.After != "" && !validCursor(f.After) {
		return nil, "", invalid("audit: cursor %q is not an audit record ID (aud_ and 26 letters and digits): give the next_cursor of the previous page, or none for the first page", f.After)
	}
	q := store.AuditQuery{Actor: f.Actor, Customer: f.Customer, From: f.From, To: f.To, After: f.After, Limit: limit + 1}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		q.ActionPrefix = prefix
	} else {
		q.Action = f.Action
	}
	rows, err := l.st.AuditRows(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("audit: list: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]*Record, len(rows))
	for i, row := range rows {
		r := &Record{ID: row.ID, At: row.At, ActorKind: row.ActorKind, ActorID: row.ActorID, ActorName: row.ActorName,
			RequestID: row.RequestID, Action: row.Action, Customer: row.Customer, Target: row.Target, Reason: row.Reason,
			Outcome: row.Outcome}
		if len(row.Details) > 0 && string(row.Details) != "{}" {
			if err := json.Unmarshal(row.Details, &r.Details); err != nil {
				return nil, "", fmt.Errorf("audit: decode the details of %s: %w", row.ID, err)
			}
		}
		out[i] = r
	}
	return out, next, nil
}

// validCursor reports whether s has the form of an audit record ID, as
// IDGenerator makes them: "aud_" and 26 Crockford base32 digits.
func validCursor(s string) bool {
	suffix, ok := strings.CutPrefix(s, "aud_")
	if !ok || len(suffix) != 26 {
		return false
	}
	for _, c := range suffix {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", c) {
			return false
		}
	}
	return true
}

func invalid(format string, args ...any) error {
	return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}
