package store

import (
	"context"
	"time"
)

// AuditStore keeps the audit log: one append-only row per admin action.
// Both stores implement it; callers find it by type assertion on the
// store, as they find ServerStore. Every method is its own transaction.
// Rows are never updated or deleted: the database refuses both.
type AuditStore interface {
	// AppendAudit stores one audit row. Its ID must be new.
	AppendAudit(ctx context.Context, r *AuditRow) error
	// AuditRows lists audit rows newest first (by the order they were
	// appended), after the cursor of q.
	AuditRows(ctx context.Context, q AuditQuery) ([]*AuditRow, error)
}

// AuditRow is an audit log row. The package audit gives its fields their
// meaning.
type AuditRow struct {
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
	// Details is a JSON object.
	Details []byte
}

// AuditQuery selects audit rows. Empty fields select everything.
type AuditQuery struct {
	// Actor matches the actor's ID or its name, exactly.
	Actor string
	// Action matches the action exactly; ActionPrefix matches every action
	// that starts with it (such as "grant.").
	Action       string
	ActionPrefix string
	Customer     string
	// From and To bound At: From inclusive, To exclusive.
	From, To time.Time
	// After is the ID of the last row of the previous page: the rows
	// appended before it follow.
	After string
	// Limit bounds the rows returned; zero or less means no bound.
	Limit int
}
