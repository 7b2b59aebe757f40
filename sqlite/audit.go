package sqlite

import (
	"context"
	"strings"

	"github.com/creditkit/creditkit/store"
)

var _ store.AuditStore = (*Store)(nil)

const auditCols = `id, at, actor_kind, actor_id, actor_name, request_id, action, customer, target, reason, outcome, details`

func scanAudit(r scanner) (*store.AuditRow, error) {
	var a store.AuditRow
	var at int64
	var details string
	if err := r.Scan(&a.ID, &at, &a.ActorKind, &a.ActorID, &a.ActorName, &a.RequestID, &a.Action, &a.Customer, &a.Target,
		&a.Reason, &a.Outcome, &details); err != nil {
		return nil, err
	}
	a.At, a.Details = fromMicros(at), []byte(details)
	return &a, nil
}

// AppendAudit stores one audit row, in a transaction of its own on the
// write connection.
func (s *Store) AppendAudit(ctx context.Context, a *store.AuditRow) error {
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		return wtx.(*txn).exec(ctx, "append audit row", `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{a.ID, micros(a.At), a.ActorKind, a.ActorID, a.ActorName, a.RequestID, a.Action, a.Customer, a.Target,
				a.Reason, a.Outcome, string(orObject(a.Details))})
	})
}

// AuditRows lists audit rows newest first. Each filter adds its own
// condition, so that the indexes on actor, action and customer serve it.
func (s *Store) AuditRows(ctx context.Context, q store.AuditQuery) ([]*store.AuditRow, error) {
	var where []string
	var args []any
	add := func(cond string, vs ...any) { where, args = append(where, cond), append(args, vs...) }
	if q.Actor != "" {
		add(`(actor_id = ? OR actor_name = ?)`, q.Actor, q.Actor)
	}
	if q.Action != "" {
		add(`action = ?`, q.Action)
	}
	if q.ActionPrefix != "" {
		add(`action >= ?`, q.ActionPrefix)
		if end := store.PrefixEnd(q.ActionPrefix); end != "" {
			add(`action < ?`, end)
		}
	}
	if q.Customer != "" {
		add(`customer = ?`, q.Customer)
	}
	if !q.From.IsZero() {
		add(`at >= ?`, micros(q.From))
	}
	if !q.To.IsZero() {
		add(`at < ?`, micros(q.To))
	}
	if q.After != "" {
		// An unknown cursor compares with NULL and selects nothing.
		add(`seq < (SELECT seq FROM audit_log WHERE id = ?)`, q.After)
	}
	query := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, sqlLimit(q.Limit))
	var rows []*store.AuditRow
	err := s.View(ctx, func(ctx context.Context, rtx store.ReadTx) error {
		var err error
		rows, err = queryAll(ctx, rtx.(*txn), "list audit rows", scanAudit, query, args...)
		return err
	})
	return rows, err
}
